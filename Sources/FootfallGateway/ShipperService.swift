import FootfallChain
import FootfallOutput
import Logging
import ServiceLifecycle
import Synchronization

/// Ships each hour to the chain's database as soon as the writer has put it on disk (the
/// files are the outbox, see ``FootfallChain/HourShipper``).
///
/// - At start it ships whatever is pending (the partial hour of the last shutdown, the hours
///   of an outage), oldest first.
/// - While the database is away it retries with doubling backoff (``initialBackoff`` up to
///   ``maximumBackoff``), so an outage of days costs one connection attempt every few
///   minutes and is caught up in one round when it ends. Capture is never held up.
/// - Retention keeps every unshipped hour meanwhile (``HourWriterCore`` asks the journal).
/// - Metrics: `footfall_chain_pending_hours`, `footfall_chain_last_success_timestamp_seconds`,
///   `footfall_chain_hours_shipped_total`, `footfall_chain_failures_total`.
///
/// It starts after the writer and stops before it (see ``Gateway``): the partial hour the
/// writer writes at shutdown is shipped at the next start.
public final class ShipperService: Service {
    private let shipper: HourShipper
    private let metrics: GatewayMetrics
    private let logger: Logger
    private let clock: any GatewayClock
    private let wake = Mutex(true)
    let initialBackoff: Duration
    let maximumBackoff: Duration
    /// How often the loop looks for work; a new hour or a due retry is acted on within it.
    let tick: Duration

    public init(shipper: HourShipper, metrics: GatewayMetrics, logger: Logger, clock: any GatewayClock = SystemGatewayClock(),
                initialBackoff: Duration = .seconds(2), maximumBackoff: Duration = .seconds(300), tick: Duration = .milliseconds(250)) {
        self.shipper = shipper
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.tick = tick
    }

    /// The writer calls this after each hour written: ship at the next tick.
    public func hourWritten() { wake.withLock { $0 = true } }

    public func run() async throws {
        try? ShippingJournal(directory: shipper.directory).compact()
        metrics.chainPendingHours.record(shipper.pendingCount())
        var backoff = initialBackoff
        var retryAt: ContinuousClock.Instant?
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = ContinuousClock.now
            let woken = wake.withLock { w in
                let was = w
                w = false
                return was
            }
            let due = retryAt.map { now >= $0 } ?? false
            if woken && retryAt == nil || due {
                do {
                    guard let report = try await roundUnlessShuttingDown() else { break }
                    metrics.chainHoursShipped.increment(by: report.shipped)
                    metrics.chainLastSuccess.record(Double(clock.wallNanos() / 1_000_000_000))
                    if failing {
                        logger.notice("the chain's database is reachable again; pending hours shipped", metadata: ["chain.shipped": "\(report.shipped)"])
                    } else if report.shipped > 0 {
                        logger.info("hours shipped to the chain's database", metadata: ["chain.shipped": "\(report.shipped)"])
                    }
                    failing = false
                    backoff = initialBackoff
                    retryAt = nil
                } catch {
                    metrics.chainFailures.increment()
                    if !failing || !error.isTransient {
                        logger.error("cannot ship to the chain's database; hours stay pending and are retried", metadata: ["chain.error": "\(error.message)", "chain.retry_seconds": "\(backoff.components.seconds)"])
                    }
                    failing = true
                    retryAt = ContinuousClock.now + backoff
                    backoff = min(backoff * 2, maximumBackoff)
                }
                metrics.chainPendingHours.record(shipper.pendingCount())
            }
            try? await Task.sleep(for: tick)
        }
    }

    /// One round of ``HourShipper/shipPending()``, given up when the service is asked to
    /// shut down (or cancelled): `nil` then.
    ///
    /// Why: a database that accepts the connection and never answers holds a round forever
    /// (postgres-nio waits for the server's reply to the startup message without a time
    /// limit), and awaiting it would hold up `run`'s shutdown, and the writing of the hour in
    /// progress, behind it. The round is cancelled and left behind; whatever it did not
    /// acknowledge stays pending in the journal and is shipped at the next start.
    private func roundUnlessShuttingDown() async throws(ChainError) -> HourShipper.Report? {
        let outcome = RoundOutcome()
        let shipper = self.shipper
        let round = Task {
            let result: Result<HourShipper.Report, ChainError>
            do throws(ChainError) { result = .success(try await shipper.shipPending()) } catch { result = .failure(error) }
            outcome.resume(with: result)
        }
        let result = await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await outcome.wait()
            } onGracefulShutdown: {
                outcome.resume(with: nil)
                round.cancel()
            }
        } onCancel: {
            outcome.resume(with: nil)
            round.cancel()
        }
        guard let result else { return nil }
        return try result.get()
    }
}

/// The result of a shipping round, handed over once: by the round when it ends, or as `nil`
/// by a shutdown that does not wait for it. The first to come wins.
private final class RoundOutcome: Sendable {
    private enum State {
        case pending
        case waiting(CheckedContinuation<Result<HourShipper.Report, ChainError>?, Never>)
        case done(Result<HourShipper.Report, ChainError>?)
    }
    private let state = Mutex<State>(.pending)

    func wait() async -> Result<HourShipper.Report, ChainError>? {
        await withCheckedContinuation { continuation in
            let ready: Result<HourShipper.Report, ChainError>?? = state.withLock { s in
                switch s {
                case .pending:
                    s = .waiting(continuation)
                    return .none
                case .done(let result):
                    return .some(result)
                case .waiting:
                    preconditionFailure("one waiter only")
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func resume(with result: Result<HourShipper.Report, ChainError>?) {
        let continuation: CheckedContinuation<Result<HourShipper.Report, ChainError>?, Never>? = state.withLock { s in
            switch s {
            case .pending:
                s = .done(result)
                return nil
            case .waiting(let continuation):
                s = .done(result)
                return continuation
            case .done:
                return nil
            }
        }
        continuation?.resume(returning: result)
    }
}
