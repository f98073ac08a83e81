import Logging
import Synchronization

/// A swift-log handler that keeps every line at every level, with all metadata, the error,
/// the source and the call site, so tests can check what is logged — and that nothing
/// identifying is (P14).
public final class RecordingLogHandler: LogHandler, @unchecked Sendable {
    /// One line per event: `level message key=value… [error=…] source file:line`.
    public let lines = Mutex<[String]>([])
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init() {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = all.map { "\($0)=\($1)" }.sorted().joined(separator: " ")
        let error = event.error.map { " error=\($0)" } ?? ""
        lines.withLock { $0.append("\(event.level) \(event.message) \(fields)\(error) \(event.source) \(event.file):\(event.line)") }
    }

    /// Everything logged so far, one event per line.
    public var text: String { lines.withLock { $0.joined(separator: "\n") } }

    /// A trace-level logger writing into a new handler.
    public static func logger(label: String = "test") -> (Logger, RecordingLogHandler) {
        let handler = RecordingLogHandler()
        var logger = Logger(label: label) { _ in handler }
        logger.logLevel = .trace
        return (logger, handler)
    }
}
