import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallOutput
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Writes one published hour; ``FootfallOutput/HourFileWriter`` in production (atomic: a
/// failed write leaves no file behind), a failing stand-in in tests.
public protocol HourFileSink: Sendable {
    /// - Returns: the names of the files written.
    func write(_ hour: PublishedHour) throws(OutputError) -> [String]
}

// `write(_: PublishedHour)` is the witness.
extension HourFileWriter: HourFileSink {}

/// The writer's state: hours waiting to be written, oldest first. A write that fails (full
/// disk, read-only file system) keeps the hour in memory and it is tried again on the next
/// tick, so an outage loses nothing as long as the process lives. Only published (already
/// suppressed) hours are held: counts, no pseudonyms.
public final class HourWriterCore: @unchecked Sendable {
    private let sink: any HourFileSink
    private let metrics: GatewayMetrics
    private let logger: Logger
    private let clock: any GatewayClock
    // Touched by the writer's task only (one at a time).
    private var pending: [PublishedHour] = []
    private var failing = false
    /// Where expired output files are deleted (P17), and after how many days.
    private let retention: (directory: String, days: Int)?
    /// Names retention must keep (hours not yet in the chain's database); `nil` when no
    /// database is configured. When it fails, nothing is deleted this time.
    private let protectedFiles: (@Sendable () throws -> Set<String>)?
    /// Called after each hour is written (the shipper ships it).
    private let onHourWritten: (@Sendable () -> Void)?
    private var lastSweepSeconds: Int64?
    /// How often the output directory is swept for expired files.
    static let sweepIntervalSeconds: Int64 = 3600

    /// - Parameter retention: the output directory and `output.retention_days`; files past it
    ///   are deleted at start and then once an hour (P17). `nil` deletes nothing.
    /// - Parameters:
    ///   - protectedFiles: see ``protectedFiles``.
    ///   - onHourWritten: called after every hour written.
    public init(sink: any HourFileSink, metrics: GatewayMetrics, logger: Logger, clock: any GatewayClock = SystemGatewayClock(), retention: (directory: String, days: Int)? = nil,
                protectedFiles: (@Sendable () throws -> Set<String>)? = nil, onHourWritten: (@Sendable () -> Void)? = nil) {
        self.sink = sink
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        self.retention = retention
        self.protectedFiles = protectedFiles
        self.onHourWritten = onHourWritten
    }

    /// Deletes output files past retention, at most once per ``sweepIntervalSeconds``
    /// (the writer's tick calls it every second). Failures are logged and counted, and tried
    /// again at the next interval.
    public func sweepIfDue() {
        guard let retention else { return }
        let now = clock.wallNanos() / 1_000_000_000
        if let last = lastSweepSeconds, now - last < Self.sweepIntervalSeconds, now >= last { return }
        lastSweepSeconds = now
        do {
            let keep = try protectedFiles?() ?? []
            let result = try Retention.sweep(directory: retention.directory, olderThanDays: retention.days, now: now, keeping: keep)
            if !result.deleted.isEmpty {
                metrics.filesExpired.increment(by: result.deleted.count)
                logger.info("output files past retention deleted", metadata: ["output.deleted": "\(result.deleted.count)", "output.retention_days": "\(retention.days)"])
            }
        } catch {
            metrics.writeErrors.increment()
            logger.error("cannot delete output files past retention; trying again in an hour", metadata: ["output.error": "\(error)"])
        }
    }

    /// Hours waiting to be written.
    public var pendingCount: Int { pending.count }

    public func enqueue(_ hours: [PublishedHour]) {
        pending.append(contentsOf: hours)
        metrics.pendingHours.record(pending.count)
    }

    /// Writes the waiting hours in order, stopping at the first failure.
    /// - Returns: `true` when nothing is left waiting.
    @discardableResult
    public func flush() -> Bool {
        sweepIfDue()
        while let hour = pending.first {
            do {
                let names = try sink.write(hour)
                pending.removeFirst()
                if !hour.zones.isEmpty { metrics.hoursWritten.increment() }
                metrics.lastFileWritten.record(Double(clock.wallNanos() / 1_000_000_000))
                if failing {
                    failing = false
                    logger.notice("writing works again; the hours kept in memory are written")
                }
                for name in names where name.hasPrefix("heatmap-") {
                    logger.info("hourly file written", metadata: ["output.file": "\(name)", "output.partial": "\(hour.partial)"])
                }
                for name in names where name.hasPrefix("daily-") {
                    logger.info("day file written", metadata: ["output.file": "\(name)"])
                }
                if !names.isEmpty { onHourWritten?() }
            } catch {
                metrics.writeErrors.increment()
                if !failing {
                    // Once per outage; the metric counts every attempt.
                    logger.error("cannot write an hourly file; the hour is kept in memory and retried every second", metadata: ["output.error": "\(error.message)"])
                }
                failing = true
                break
            }
        }
        metrics.pendingHours.record(pending.count)
        return pending.isEmpty
    }
}

/// The writer service: receives published hours from the pipeline thread and writes them.
///
/// It ends after the pipeline closed its stream (the pipeline shuts down before it) and its
/// own graceful shutdown was signalled, so the hour in progress at shutdown is on disk
/// before the process exits.
public final class WriterService: Service, HourOutput {
    private enum Message: Sendable {
        case hours([PublishedHour])
        case tick
    }

    private let core: HourWriterCore
    private let logger: Logger
    private let stream: AsyncStream<Message>
    private let continuation: AsyncStream<Message>.Continuation
    /// Attempts at the end before giving up on hours that cannot be written.
    static let finalAttempts = 3

    public init(core: HourWriterCore, logger: Logger) {
        self.core = core
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: Message.self)
    }

    public func publish(_ hours: [PublishedHour]) { continuation.yield(.hours(hours)) }
    public func tick() { continuation.yield(.tick) }
    public func close() { continuation.finish() }

    public func run() async throws {
        for await message in stream {
            switch message {
            case .hours(let hours):
                core.enqueue(hours)
                core.flush()
            case .tick:
                if core.pendingCount > 0 { core.flush() } else { core.sweepIfDue() }
            }
        }
        var attempt = 1
        while !core.flush() && attempt < Self.finalAttempts {
            attempt += 1
            try? await Task.sleep(for: .seconds(1))
        }
        if core.pendingCount > 0 {
            logger.critical("hours could not be written before exit and are lost", metadata: ["output.lost_hours": "\(core.pendingCount)"])
            throw GatewayError("\(core.pendingCount) hour(s) could not be written; see the log for the reason")
        }
        // Stay until told to go, so the group sees this service end in its turn.
        try? await gracefulShutdown()
    }
}
