import FootfallCore
import FootfallIngest
import FootfallAggregate
import Metrics
import Prometheus
import Synchronization

/// Every metric `footfall run` exports, created once at start-up.
///
/// Only operational health is live: sources up, kernel and ring drops, malformed frames and
/// rejected datagrams by reason, key age and rotations, files and write errors, reloads.
/// Nothing that counts the frames or the devices of people is exported (no frames or probe
/// requests per sensor, no gate drops, no late observations, no devices present): a live
/// counter moves to the second when one person — or the one person who opted out — walks
/// in, which is exactly what k-suppression withholds from the hourly files (P7, P16). People
/// are counted in the hourly files, with k applied, and nowhere else.
///
/// Dimensions are bounded by the configuration (source name) or by a fixed list (reason);
/// nothing is ever labelled per device. The registry is injected, so tests read the same
/// text the endpoint serves.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    let malformed: [Metrics.Counter]
    let ringDroppedFull: Metrics.Counter
    let ringDroppedOversize: Metrics.Counter
    let keyAge: Metrics.Gauge
    let keyRotations: Metrics.Counter
    let lastFileWritten: Metrics.Gauge
    let hoursWritten: Metrics.Counter
    let writeErrors: Metrics.Counter
    /// Output files deleted because they were past `output.retention_days` (P17).
    let filesExpired: Metrics.Counter
    let pendingHours: Metrics.Gauge
    /// The chain's database: hours not yet acknowledged, when the last round succeeded,
    /// hours shipped, failed rounds.
    let chainPendingHours: Metrics.Gauge
    let chainLastSuccess: Metrics.Gauge
    let chainHoursShipped: Metrics.Counter
    let chainFailures: Metrics.Counter
    let reloadsApplied: Metrics.Counter
    let reloadsRejected: Metrics.Counter
    /// Wall-clock steps noticed (the wall clock moved unlike the monotonic clock), and
    /// whether the wall clock is taken as it is now (1) or corrected by the monotonic clock (0).
    let clockSteps: Metrics.Counter
    let clockAgrees: Metrics.Gauge
    /// 0 while `run` waits for a wall clock set after 2024 (a gateway booted in 1970), else 1.
    let clockSane: Metrics.Gauge
    let sourceUp: [Metrics.Gauge]
    let sourceOpenFailures: [Metrics.Counter]
    let kernelDrops: [Metrics.Counter]
    let unknownSenders: [Metrics.Counter]
    let tzspRejected: [[Metrics.Counter]]
    let tzspNotIPv4: [Metrics.Counter]
    let peekRemoteUnknownSenders: [Metrics.Counter]
    let peekRemoteRejected: [[Metrics.Counter]]
    let peekRemoteNotIPv4: [Metrics.Counter]

    /// - Parameters:
    ///   - registry: where the metrics live (the endpoint serves it).
    ///   - sensorIDs: the configuration's sensor ids, in order (kept for the callers; no
    ///     metric is labelled by sensor any more, as per-sensor counts were counts of people).
    ///   - sourceNames: the live sources' names, in order (see ``SourceSpec/name``).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), sensorIDs: [String], sourceNames: [String]) {
        self.registry = registry
        let factory = PrometheusMetricsFactory(registry: registry)
        func counter(_ name: String, _ dimensions: [(String, String)] = []) -> Metrics.Counter {
            Metrics.Counter(label: name, dimensions: dimensions, factory: factory)
        }
        func gauge(_ name: String, _ dimensions: [(String, String)] = []) -> Metrics.Gauge {
            Metrics.Gauge(label: name, dimensions: dimensions, factory: factory)
        }
        malformed = MalformedReason.allCases.map { counter("footfall_malformed_frames_total", [("reason", $0.description)]) }
        ringDroppedFull = counter("footfall_ring_dropped_total", [("reason", "full")])
        ringDroppedOversize = counter("footfall_ring_dropped_total", [("reason", "oversize")])
        keyAge = gauge("footfall_key_age_seconds")
        keyRotations = counter("footfall_key_rotations_total")
        lastFileWritten = gauge("footfall_last_file_written_timestamp_seconds")
        hoursWritten = counter("footfall_hours_written_total")
        writeErrors = counter("footfall_write_errors_total")
        filesExpired = counter("footfall_files_expired_total")
        pendingHours = gauge("footfall_pending_hours")
        chainPendingHours = gauge("footfall_chain_pending_hours")
        chainLastSuccess = gauge("footfall_chain_last_success_timestamp_seconds")
        chainHoursShipped = counter("footfall_chain_hours_shipped_total")
        chainFailures = counter("footfall_chain_failures_total")
        reloadsApplied = counter("footfall_config_reloads_total", [("result", "applied")])
        reloadsRejected = counter("footfall_config_reloads_total", [("result", "rejected")])
        clockSteps = counter("footfall_clock_steps_total")
        clockAgrees = gauge("footfall_clock_agrees")
        clockSane = gauge("footfall_clock_sane")
        sourceUp = sourceNames.map { gauge("footfall_source_up", [("source", $0)]) }
        sourceOpenFailures = sourceNames.map { counter("footfall_source_failures_total", [("source", $0)]) }
        kernelDrops = sourceNames.map { counter("footfall_kernel_dropped_total", [("source", $0)]) }
        unknownSenders = sourceNames.map { counter("footfall_tzsp_unknown_sender_total", [("source", $0)]) }
        tzspRejected = sourceNames.map { name in
            TZSP.DecodeError.allCases.map { counter("footfall_tzsp_rejected_total", [("source", name), ("reason", $0.description)]) }
        }
        tzspNotIPv4 = sourceNames.map { counter("footfall_tzsp_rejected_total", [("source", $0), ("reason", "not_ipv4_udp")]) }
        peekRemoteUnknownSenders = sourceNames.map { counter("footfall_peekremote_unknown_sender_total", [("source", $0)]) }
        peekRemoteRejected = sourceNames.map { name in
            PeekRemote.DecodeError.allCases.map { counter("footfall_peekremote_rejected_total", [("source", name), ("reason", $0.description)]) }
        }
        peekRemoteNotIPv4 = sourceNames.map { counter("footfall_peekremote_rejected_total", [("source", $0), ("reason", "not_ipv4_udp")]) }
        for up in sourceUp { up.record(0) }
        clockAgrees.record(1)
        clockSane.record(1)
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String { registry.emitToString() }

    // MARK: - Updates from the sources' threads

    func setSourceUp(_ source: Int, _ up: Bool) {
        guard sourceUp.indices.contains(source) else { return }
        sourceUp[source].record(up ? 1 : 0)
        upSources.withLock { if up { $0.insert(source) } else { $0.remove(source) } }
    }

    /// Sources up now (as `footfall_source_up` says).
    private let upSources = Mutex<Set<Int>>([])

    /// Whether some source is up: while none is, `run` hears nothing, and that time does not
    /// count as listened to (`listened_s`).
    public var anySourceUp: Bool { upSources.withLock { !$0.isEmpty } }

    func sourceFailed(_ source: Int) {
        guard sourceOpenFailures.indices.contains(source) else { return }
        sourceOpenFailures[source].increment()
    }

    func kernelDropped(source: Int, by count: Int) {
        guard count > 0, kernelDrops.indices.contains(source) else { return }
        kernelDrops[source].increment(by: count)
    }

    func unknownSenders(source: Int, by count: Int) {
        guard count > 0, unknownSenders.indices.contains(source) else { return }
        unknownSenders[source].increment(by: count)
    }

    func tzspRejected(source: Int, reason: TZSP.DecodeError, by count: Int) {
        guard count > 0, tzspRejected.indices.contains(source),
              let r = TZSP.DecodeError.allCases.firstIndex(of: reason) else { return }
        tzspRejected[source][r].increment(by: count)
    }

    func tzspNotIPv4(source: Int, by count: Int) {
        guard count > 0, tzspNotIPv4.indices.contains(source) else { return }
        tzspNotIPv4[source].increment(by: count)
    }

    func peekRemoteUnknownSenders(source: Int, by count: Int) {
        guard count > 0, peekRemoteUnknownSenders.indices.contains(source) else { return }
        peekRemoteUnknownSenders[source].increment(by: count)
    }

    func peekRemoteRejected(source: Int, reason: PeekRemote.DecodeError, by count: Int) {
        guard count > 0, peekRemoteRejected.indices.contains(source),
              let r = PeekRemote.DecodeError.allCases.firstIndex(of: reason) else { return }
        peekRemoteRejected[source][r].increment(by: count)
    }

    func peekRemoteNotIPv4(source: Int, by count: Int) {
        guard count > 0, peekRemoteNotIPv4.indices.contains(source) else { return }
        peekRemoteNotIPv4[source].increment(by: count)
    }
}
