import ArgumentParser
import FootfallCore

/// The one place an error becomes the process's exit status: its ``FootfallError/Code``
/// (named apart from ArgumentParser's own `exitCode(for:)`, which knows nothing of it).
func exitStatus(of error: some FootfallErrorConvertible) -> ExitCode {
    ExitCode(error.footfallError.code.exitStatus)
}

/// The exit status of a code without an error value (damaged input that was still counted,
/// audit findings).
func exitStatus(_ code: FootfallError.Code) -> ExitCode {
    ExitCode(code.exitStatus)
}
