import ArgumentParser
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
