import ArgumentParser
import FootfallPlatform
import Foundation
import Logging
import Synchronization

/// Options every subcommand takes (`@OptionGroup var global: GlobalOptions`).
struct GlobalOptions: ParsableArguments {
    @Option(help: "How much to log on stderr.")
    var logLevel: Logger.Level = .info

    /// Sets up logging to stderr at the chosen level (once per process) and returns a logger.
    func makeLogger(label: String = "footfall") -> Logger {
        LogSetup.bootstrap(level: logLevel)
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }

    /// The logger of a command that reads captures (`stats`, `replay`, `evaluate`), with the
    /// process hardened first: raw frames and, for replay and evaluate, the key are in this
    /// process's memory, so it gets what `run` gets (P1, P3): no core dumps, not dumpable,
    /// `/proc/<pid>/mem` closed to other users. Problems are logged as warnings.
    func makeHardenedLogger(label: String = "footfall") -> Logger {
        let logger = makeLogger(label: label)
        let report = ProcessHardening.apply()
        for problem in report.problems { logger.warning("process hardening: \(problem)") }
        logger.debug("process hardening", metadata: [
            "hardening.core_dumps_disabled": "\(report.coreDumpsDisabled)",
            "hardening.not_dumpable": "\(report.notDumpable)",
        ])
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `LoggingSystem.bootstrap` may run only once per process.
private enum LogSetup {
    static let done = Mutex(false)

    static func bootstrap(level: Logger.Level) {
        done.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// Writes one line to stderr (messages for the operator, apart from the log).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
