#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallPipeline
import FootfallPlatform
import Logging
import Synchronization

/// Where the pipeline sends finished hours (the writer service in production).
public protocol HourOutput: Sendable {
    /// Hours closed by the tracker, already suppressed, oldest first.
    func publish(_ hours: [PublishedHour])
    /// Once a second, so the writer can retry a failed write.
    func tick()
    /// No more hours will come.
    func close()
}

/// The two clocks live mode needs. Injected so tests can step the wall clock back.
public protocol GatewayClock: Sendable {
    /// Wall-clock time, nanoseconds since the Unix epoch (`CLOCK_REALTIME`): may jump.
    func wallNanos() -> Int64
    /// Monotonic time, nanoseconds since an arbitrary start (`CLOCK_MONOTONIC`): never jumps.
    func monotonicNanos() -> Int64
}

public struct SystemGatewayClock: GatewayClock {
    public init() {}

    public func wallNanos() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    public func monotonicNanos() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}

/// The pipeline thread of `footfall run`: takes frames out of the ring, runs them through the
/// shared ``PipelineCore`` (parse → gate → pseudonymise → tracker), ticks the clock once a
/// second, applies reloads, and hands closed hours to the writer.
///
/// Everything except ``requestFinish()``, ``requestReload(_:)`` and the read-only
/// ``counters`` runs on the one pipeline thread (``run()``), which owns the key epoch and the
/// tracker; that is what makes the `@unchecked Sendable` sound.
///
/// Time: frames carry their capture time; with no frames the wall clock moves event time on.
/// Both are wall-clock times, so both are checked against the monotonic clock: when the wall
/// clock moves unlike the monotonic one (a step, forward or back), event time is the last
/// wall time that agreed plus the monotonic time since, and capture times get the same
/// correction, until the wall clock agrees again (a step that lasts
/// ``acceptStepAfterNanos`` is taken as a correction of the clock). So a step of a year for a
/// few seconds neither closes the hour early nor sends frames to a file a year ahead.
/// Event time never goes backwards for the tracker: a frame or tick earlier than the newest
/// event time is held at it. Intervals (the tick, the key's age) are measured on the
/// monotonic clock.
public final class LivePipeline: @unchecked Sendable {
    private var core: PipelineCore
    private let ring: FrameRing
    private let metrics: GatewayMetrics
    private let output: any HourOutput
    private let logger: Logger
    private let clock: any GatewayClock
    /// Whether some source is up (can hear frames) now; `nil`: always (tests of the parts).
    private let sourcesHearing: (@Sendable () -> Bool)?
    /// Whether ``PipelineCore/startListening(atNanos:)`` was called (on the first tick).
    private var listeningStarted = false
    /// Monotonic time of the last look at ``sourcesHearing``.
    private var lastHearingCheckMonotonic: Int64 = .min

    // Pipeline thread only.
    private var parse = ParseCounters()
    private var published = Published()
    private var framesPerSensor: [Int]
    private var probesPerSensor: [Int]
    private var eventNanos: Int64 = .min
    private var lastTickMonotonic: Int64 = .min
    private var keyStartMonotonic: Int64
    /// ``PipelineCore/keyGeneration`` when `keyStartMonotonic` was last set.
    private var keyGenerationSeen = 0
    private var lastOptOutCheckMonotonic: Int64
    private var optOutWatcher: OptOutFileWatcher?
    private var clockBehindLogged = false
    /// The last wall time that agreed with the monotonic clock, and the monotonic time then.
    private var anchorWallNanos: Int64 = .min
    private var anchorMonotonicNanos: Int64 = .min
    /// Added to wall-clock times (ticks and capture times) while the wall clock is stepped:
    /// 0 when it agrees with the monotonic clock.
    private var wallCorrectionNanos: Int64 = 0
    /// Monotonic time at which the current step was noticed; `.min` when the clocks agree.
    private var stepNoticedMonotonic: Int64 = .min
    /// Frames were parsed since the stack was last scrubbed, and when that was (monotonic ns).
    private var scrubPending = false
    private var lastScrubNanos: Int64 = .min / 2

    // Any thread.
    private let finishRequested = Atomic<Bool>(false)
    private let pendingReload = Mutex<Settings?>(nil)
    private let snapshot = Mutex(LivePipelineCounters())

    /// Metric values already published (the metrics take increments).
    private struct Published {
        var parse = ParseCounters()
        var ring = FrameRingCounters()
    }

    /// Tick interval: hours close and keys rotate within a second of the wall clock.
    static let tickNanos: Int64 = 1_000_000_000
    /// The longest a key may live in real time, whatever the wall clock says (P4): 24 h on
    /// the monotonic clock. Event time follows max(frame time, wall clock), so setting the
    /// clock back would otherwise hold the schedule (and the key) until it caught up.
    public static let maxKeyLifeNanos: Int64 = 24 * 3600 * 1_000_000_000
    /// The opt-out file is looked at this often (a `stat`, and a read when it changed).
    static let optOutCheckNanos: Int64 = 10_000_000_000
    /// How far the wall clock may move unlike the monotonic clock between two looks before
    /// it counts as stepped: 2 s (NTP slews by far less; a tick is 1 s).
    public static let stepToleranceNanos: Int64 = 2_000_000_000
    /// A step that lasts this long (10 min of monotonic time) is taken as a correction of
    /// the wall clock (NTP, an operator), and the wall clock is followed again.
    public static let acceptStepAfterNanos: Int64 = 600 * 1_000_000_000

    /// - Parameters:
    ///   - core: the shared core, built from the settings (its key is fresh).
    ///   - optOutWatcher: the watcher the opt-out list was loaded with, so later changes to
    ///     the file are picked up; `nil` when there is no opt-out file.
    ///   - sourcesHearing: whether some source is up now (``GatewayMetrics/anySourceUp`` in
    ///     `run`); while none is, the time is not counted as listened to (`listened_s`).
    public init(core: consuming PipelineCore, optOutWatcher: OptOutFileWatcher? = nil, ring: FrameRing, metrics: GatewayMetrics, output: any HourOutput, logger: Logger, clock: any GatewayClock = SystemGatewayClock(), sourcesHearing: (@Sendable () -> Bool)? = nil) {
        self.sourcesHearing = sourcesHearing
        let sensorCount = core.settings.sensors.count
        self.core = core
        self.ring = ring
        self.metrics = metrics
        self.output = output
        self.logger = logger
        self.clock = clock
        self.optOutWatcher = optOutWatcher
        self.framesPerSensor = Array(repeating: 0, count: sensorCount)
        self.probesPerSensor = Array(repeating: 0, count: sensorCount)
        let now = clock.monotonicNanos()
        self.keyStartMonotonic = now
        self.lastOptOutCheckMonotonic = now
    }

    // MARK: - Any thread

    /// Asks ``run()`` to drain the ring, write the hour in progress and return.
    public func requestFinish() {
        finishRequested.store(true, ordering: .releasing)
        ring.wake()
    }

    /// Hands new settings to the pipeline thread, which applies them at its next wake-up
    /// (or refuses them with a logged error and keeps the old ones).
    public func requestReload(_ settings: Settings) {
        pendingReload.withLock { $0 = settings }
        ring.wake()
    }

    /// Counts for the shutdown summary and tests, as of the last tick.
    public var counters: LivePipelineCounters { snapshot.withLock { $0 } }

    // MARK: - Pipeline thread

    /// The pipeline thread's loop: until ``requestFinish()``, then drain and finish.
    public func run() {
        while !finishRequested.load(ordering: .acquiring) {
            // Frames parsed and the ring empty: their addresses do not stay in this thread's
            // stack (P1); at most four times a second, the next idle wake-up does the rest.
            if drain(timeoutNanos: Self.tickNanos) > 0, ring.pending == 0 { scrubPending = true }
            if scrubPending, ring.pending == 0 {
                let before = lastScrubNanos
                StackScrubber.scrub(atMostEvery: 250_000_000, last: &lastScrubNanos)
                if lastScrubNanos != before { scrubPending = false }
            }
            applyPendingReload()
            let now = clock.monotonicNanos()
            if lastTickMonotonic == .min || now - lastTickMonotonic >= Self.tickNanos {
                lastTickMonotonic = now
                tick()
            }
        }
        // The captures have stopped (they shut down first): what is left in the ring is
        // the last of the input.
        while drain(timeoutNanos: 0) > 0 {}
        finish()
    }

    /// Takes every frame out of the ring (waiting up to `timeoutNanos` for the first).
    /// - Returns: how many frames were processed.
    @discardableResult
    public func drain(timeoutNanos: Int64) -> Int {
        ring.consume(timeoutNanos: timeoutNanos) { bytes, meta in
            self.process(bytes, meta: meta)
        }
    }

    /// The parse of a frame taken out of the ring: the one parse of every source, with the
    /// hints (signal, CRC error) the capture thread put beside the frame, reading the
    /// elements only as far as the pipeline hashes them. Tests of the stream formats call
    /// this after routing datagrams through ``TZSPDemux`` and a ``FrameRing``, so they check
    /// the path `run` takes.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer, meta: FrameMeta, timestampNanos: Int64, counters: inout ParseCounters, elements: ElementDetail) -> ParseResult {
        FrameParser.parse(bytes, linkType: meta.linkType, hints: meta.hints, timestampNanos: timestampNanos, counters: &counters, elements: elements)
    }

    /// One frame from the ring.
    func process(_ bytes: UnsafeRawBufferPointer, meta: FrameMeta) {
        let sensor = Int(meta.sensor)
        guard sensor >= 0, sensor < framesPerSensor.count else { return }
        framesPerSensor[sensor] += 1
        // Capture times are wall-clock times: corrected like the ticks while the wall clock
        // is stepped. A frame well ahead of event time (after a quiet spell, or stamped in a
        // step) has the clocks looked at first, and is never later than now; so has a frame
        // well behind it while a step is being corrected (the clock may have come back).
        var t = meta.timestampNanos &+ wallCorrectionNanos
        if eventNanos != .min, t > eventNanos &+ Self.stepToleranceNanos || (wallCorrectionNanos != 0 && t < eventNanos &- Self.stepToleranceNanos) {
            let now = checkWallClock(wall: clock.wallNanos(), monotonic: clock.monotonicNanos())
            t = min(meta.timestampNanos &+ wallCorrectionNanos, now)
        }
        // Event time never goes backwards (see the type's documentation).
        t = max(t, eventNanos)
        eventNanos = t
        let result = LivePipeline.parse(bytes, meta: meta, timestampNanos: t, counters: &parse, elements: core.elementDetail)
        switch consume result {
        case .probeRequest(let request):
            probesPerSensor[sensor] += 1
            core.process(request, sensor: sensor)
            if core.hasClosedHours { publish(core.takeClosedHours()) }
        case .other:
            break
        case .malformed:
            break
        }
    }

    /// Once a second: wall-clock time moves event time on (hours close, keys rotate even
    /// when nobody is around), the opt-out file is checked, metrics are brought up to date.
    public func tick() {
        let monotonic = clock.monotonicNanos()
        let wall = checkWallClock(wall: clock.wallNanos(), monotonic: monotonic)
        if eventNanos != .min, wall < eventNanos - 2_000_000_000 {
            if !clockBehindLogged {
                clockBehindLogged = true
                logger.warning(
                    "the wall clock is behind the newest event time (it was set back); event time is held until the clock catches up",
                    metadata: ["clock.behind_seconds": "\((eventNanos - wall) / 1_000_000_000)"]
                )
            }
        } else {
            clockBehindLogged = false
        }
        eventNanos = max(eventNanos, wall)
        // Listening starts now, not with the first frame: a restart at 10:20 heard nothing of
        // 10:00–10:20, and a quiet 10:20–10:30 was heard all the same.
        if !listeningStarted {
            listeningStarted = true
            core.startListening(atNanos: eventNanos)
        }
        // Time in which every source was down was not heard.
        if let sourcesHearing {
            if lastHearingCheckMonotonic != .min, !sourcesHearing() {
                core.noteUnheard(nanos: monotonic - lastHearingCheckMonotonic, endingAt: eventNanos)
            }
            lastHearingCheckMonotonic = monotonic
        }
        if core.advanceClock(toNanos: eventNanos) {
            logger.info("pseudonym key rotated; the old key is destroyed", metadata: ["key.generation": "\(core.keyGeneration)"])
        } else if monotonic - keyStartMonotonic >= Self.maxKeyLifeNanos {
            // The wall clock was set back (or stands still): the schedule has not come round,
            // but the key has lived 24 h of real time. It goes now, with its tables.
            core.rotateKeyNow(atNanos: eventNanos)
            logger.info("pseudonym key rotated after 24 h of real time (the wall clock is behind); the old key is destroyed", metadata: ["key.generation": "\(core.keyGeneration)"])
        }
        // Rotations on a frame's time happen inside the core; every new key restarts the
        // real-time age.
        if core.keyGeneration != keyGenerationSeen {
            metrics.keyRotations.increment(by: core.keyGeneration - keyGenerationSeen)
            keyGenerationSeen = core.keyGeneration
            keyStartMonotonic = monotonic
        }
        if core.hasClosedHours { publish(core.takeClosedHours()) }
        if optOutWatcher != nil, monotonic - lastOptOutCheckMonotonic >= Self.optOutCheckNanos {
            lastOptOutCheckMonotonic = monotonic
            checkOptOutFile()
        }
        metrics.keyAge.record(Double(max(0, monotonic - keyStartMonotonic)) / 1e9)
        publishMetrics()
        output.tick()
    }

    /// Compares the wall clock's advance with the monotonic clock's since the last time they
    /// agreed, notices steps (a warning once per step, `footfall_clock_steps_total`) and
    /// sets ``wallCorrectionNanos``.
    /// - Returns: the corrected wall time: what the wall clock would say had it not stepped.
    private func checkWallClock(wall: Int64, monotonic: Int64) -> Int64 {
        guard anchorMonotonicNanos != .min else {
            anchorWallNanos = wall
            anchorMonotonicNanos = monotonic
            return wall
        }
        let expected = anchorWallNanos &+ (monotonic &- anchorMonotonicNanos)
        let drift = wall &- expected
        let agrees = drift <= Self.stepToleranceNanos && drift >= -Self.stepToleranceNanos
        let accepted = !agrees && stepNoticedMonotonic != .min && monotonic &- stepNoticedMonotonic >= Self.acceptStepAfterNanos
        if agrees || accepted {
            if stepNoticedMonotonic != .min {
                logger.notice(accepted
                    ? "the wall clock has stayed stepped for 10 minutes; it is taken as corrected and followed again"
                    : "the wall clock agrees with the monotonic clock again; event time follows it again")
            }
            stepNoticedMonotonic = .min
            wallCorrectionNanos = 0
            anchorWallNanos = wall
            anchorMonotonicNanos = monotonic
            metrics.clockAgrees.record(1)
            return wall
        }
        if stepNoticedMonotonic == .min {
            stepNoticedMonotonic = monotonic
            metrics.clockSteps.increment()
            metrics.clockAgrees.record(0)
            logger.warning(
                "the wall clock stepped \(drift > 0 ? "forward" : "back") by \(abs(drift) / 1_000_000_000) s against the monotonic clock; event time and capture times follow the monotonic clock until the wall clock agrees again",
                metadata: ["clock.step_seconds": "\(drift / 1_000_000_000)"]
            )
        }
        wallCorrectionNanos = expected &- wall
        return expected
    }

    /// Applies settings handed over by ``requestReload(_:)``, if any.
    public func applyPendingReload() {
        guard let settings = pendingReload.withLock({ value -> Settings? in
            defer { value = nil }
            return value
        }) else { return }
        do throws(PipelineError) {
            var watcher = settings.privacy.optOutFile.map { OptOutFileWatcher(path: $0) }
            let list: OptOutList
            do {
                list = try watcher?.loadIfChanged() ?? .empty
            } catch {
                throw PipelineError("privacy.opt_out_file: \(error.message)")
            }
            try core.reload(settings: settings, optOut: list)
            optOutWatcher = watcher
            metrics.reloadsApplied.increment()
            logger.notice("configuration reloaded; counts and key kept", metadata: configurationMetadata(settings))
        } catch {
            metrics.reloadsRejected.increment()
            logger.error("configuration reload rejected: \(error.message)")
        }
    }

    /// End of input: the hour in progress is closed as partial and handed to the writer,
    /// the key is destroyed, the writer is told that nothing more comes.
    public func finish() {
        publish(core.finish())
        publishMetrics()
        output.close()
    }

    private func checkOptOutFile() {
        guard var watcher = optOutWatcher else { return }
        do {
            if let list = try watcher.loadIfChanged() {
                core.replaceOptOutList(list)
                logger.notice("opt-out list reloaded", metadata: ["opt_out.entries": "\(list.count)"])
            }
        } catch {
            logger.error("\(error.message)")
        }
        optOutWatcher = watcher
    }

    private func publish(_ reports: [HourReport]) {
        guard !reports.isEmpty else { return }
        let privacy = core.settings.privacy
        output.publish(reports.map { Suppression.publish($0, privacy: privacy) })
    }

    /// Brings the live metrics up to date: operational health only (see ``GatewayMetrics``).
    /// Frame, probe-request, gate and tracker counts stay in ``counters`` (tests, never
    /// exported), because each of them moves when one person's phone is heard.
    private func publishMetrics() {
        for (i, reason) in MalformedReason.allCases.enumerated() {
            let n = parse[reason] - published.parse[reason]
            if n > 0 { metrics.malformed[i].increment(by: n) }
        }
        published.parse = parse
        let gate = core.gateCounters
        let tracker = core.trackerCounters
        let ringNow = ring.statistics
        if ringNow.droppedFull > published.ring.droppedFull { metrics.ringDroppedFull.increment(by: Int(ringNow.droppedFull - published.ring.droppedFull)) }
        if ringNow.droppedOversize > published.ring.droppedOversize { metrics.ringDroppedOversize.increment(by: Int(ringNow.droppedOversize - published.ring.droppedOversize)) }
        if ringNow.droppedFull > published.ring.droppedFull || ringNow.droppedOversize > published.ring.droppedOversize {
            logger.warning("frames dropped between capture and pipeline (the pipeline fell behind)", metadata: [
                "ring.dropped_full": "\(ringNow.droppedFull)", "ring.dropped_oversize": "\(ringNow.droppedOversize)",
            ])
        }
        published.ring = ringNow
        let counters = LivePipelineCounters(
            parse: parse, gate: gate, tracker: tracker, ring: ringNow,
            framesPerSensor: framesPerSensor, probeRequestsPerSensor: probesPerSensor,
            activeDevices: core.trackedDevices, keyGeneration: core.keyGeneration,
            eventTimeNanos: eventNanos == .min ? nil : eventNanos,
            zoneThresholds: core.settings.zones.map(\.rssiThreshold)
        )
        snapshot.withLock { $0 = counters }
    }
}

/// What the pipeline counted; integers only, nothing per device.
public struct LivePipelineCounters: Sendable, Equatable {
    public var parse = ParseCounters()
    public var gate = GateCounters()
    public var tracker = TrackerCounters()
    public var ring = FrameRingCounters()
    public var framesPerSensor: [Int] = []
    public var probeRequestsPerSensor: [Int] = []
    public var activeDevices = 0
    public var keyGeneration = 0
    /// Newest event time, nanoseconds since the Unix epoch.
    public var eventTimeNanos: Int64?
    /// Zone thresholds in force (dBm), to confirm a reload.
    public var zoneThresholds: [Int] = []

    public init() {}

    init(parse: ParseCounters, gate: GateCounters, tracker: TrackerCounters, ring: FrameRingCounters, framesPerSensor: [Int], probeRequestsPerSensor: [Int], activeDevices: Int, keyGeneration: Int, eventTimeNanos: Int64?, zoneThresholds: [Int]) {
        self.parse = parse
        self.gate = gate
        self.tracker = tracker
        self.ring = ring
        self.framesPerSensor = framesPerSensor
        self.probeRequestsPerSensor = probeRequestsPerSensor
        self.activeDevices = activeDevices
        self.keyGeneration = keyGeneration
        self.eventTimeNanos = eventTimeNanos
        self.zoneThresholds = zoneThresholds
    }
}

/// Log metadata describing a configuration: counts and ids of zones and sensors, rotation
/// and k. Never an identifier of a person (zone and sensor ids are the operator's names).
func configurationMetadata(_ settings: Settings) -> Logger.Metadata {
    let rotation: String
    switch settings.privacy.effectiveRotation {
    case .hourly: rotation = "hourly"
    case .daily(let hour, let minute): rotation = "daily \(hour < 10 ? "0" : "")\(hour):\(minute < 10 ? "0" : "")\(minute)"
    }
    return [
        "config.zones": "\(settings.zones.map { "\($0.id)(\($0.rssiThreshold) dBm)" }.joined(separator: ","))",
        "config.sensors": "\(settings.sensors.count)",
        "privacy.k": "\(settings.privacy.k)",
        "privacy.rotation": "\(rotation)",
        "privacy.strict": "\(settings.privacy.strict)",
    ]
}
