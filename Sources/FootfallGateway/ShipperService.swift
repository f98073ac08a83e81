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
                    let report = try await shipper.shipPending()
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
}
