import FootfallCapture
import FootfallConfig
import FootfallCore
import FootfallOutput
import FootfallPipeline
import Testing

/// Each module's error says which FootfallError it is, and the code carries the exit status
/// README's "Commands" promises (sysexits): the command line maps nothing itself.
@Suite("Exit statuses")
struct ExitStatusTests {
    @Test func everyModuleErrorMapsToTheExitStatusReadmePromises() {
        var configuration = ReplayError("bad config")
        configuration.isConfiguration = true
        var unreadable = ReplayError("no such file")
        unreadable.isUnreadableInput = true
        let cases: [(any FootfallErrorConvertible, Int32)] = [
            (configuration, 78),
            (unreadable, 66),
            (ReplayError("hours could not be written"), 1),
            (ConfigErrors([ConfigError(file: "f.yaml", line: 3, path: "zones", message: "x")]), 78),
            (CaptureError(code: .truncated, message: "ends mid-record", byteOffset: 24), 65),
            (CaptureError(code: .readFailed, message: "read failed"), 65),
            (CaptureError(code: .cannotOpen, message: "cannot open"), 66),
            (CaptureError(code: .unsupportedLinkType, message: "link type 1"), 66),
            (RenderError(code: .usage, message: "one file, several days"), 64),
            (RenderError(code: .cannotCreate, message: "read-only"), 73),
            (EvaluationError("no ground truth"), 1),
        ]
        for (error, status) in cases {
            #expect(error.footfallError.code.exitStatus == status, "\(error.footfallError.code) for \(error.footfallError.message)")
        }
    }
}
