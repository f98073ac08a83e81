import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallPlatform

/// The core every driver shares (`replay` over files, `run` over live sources): gate →
/// key epoch → pseudonymiser → tracker, for one configuration and one key.
///
/// A value that must stay on one thread: it owns the key epoch and the tracker, so a key
/// rotation can never race the hashing of a frame. Frames go in with ``process(_:sensor:)``,
/// time without frames with ``advanceClock(toNanos:)`` (live mode), closed hours come out
/// of ``takeClosedHours()`` and, at the end, ``finish()``.
public struct PipelineCore: ~Copyable {
    public private(set) var settings: Settings
    public private(set) var gate: Gate
    /// The key period and the tracker it owns: a rotation cannot leave a table behind.
    var epoch: KeyEpoch<Tracker>
    /// Whether the key memory is locked in RAM (P3); `nil` when no locked memory could be
    /// mapped at all and the key lives in ordinary memory.
    public let keyLockStatus: LockedKeyMemory.LockStatus?
    /// Gate counts of gates replaced by ``reload(settings:)``, so totals survive a reload.
    private var earlierGateCounters = GateCounters()
    /// Key slot of each sensor (its zone's in strict mode, else 0), looked up once, not per frame.
    private var keySlotOfSensor: [Int]
    /// Event time (ns) from which the key schedule must be asked again: the next rotation
    /// instant, so between rotations a frame costs one compare here.
    private var rotationCheckNanos = Int64.min
    /// `privacy.randomised_addresses` is `group` (a restart setting, see ``restartReason(from:to:)``):
    /// the tracker then counts randomised addresses by their element fingerprint.
    private let grouping: Bool

    /// - Parameters:
    ///   - settings: the validated configuration.
    ///   - optOut: the opt-out list in force (see ``loadOptOutList(settings:)``).
    /// - Throws: when the site's time zone or the key rotation is invalid (FootfallConfig
    ///   has already refused both, so only hand-built settings get here).
    public init(settings: Settings, optOut: OptOutList = .empty) throws(PipelineError) {
        try self.init(settings: settings, optOut: optOut, keys: nil)
    }

    /// - Parameter injected: tests only: the key store to use instead of fresh locked memory.
    init(settings: Settings, optOut: OptOutList, keys injected: KeyStore?) throws(PipelineError) {
        let gate = Gate(settings: settings, optOut: optOut)
        let schedule: KeySchedule
        do {
            schedule = try KeySchedule(rotation: settings.privacy.effectiveRotation, clock: settings.site.clock)
        } catch {
            throw PipelineError(error.description)
        }
        let keySlots = settings.privacy.keySlotCount(zoneCount: settings.zones.count)
        // Locked, undumpable key memory where the system allows it (P3); plain memory otherwise.
        let keyMemory = injected == nil ? try? LockedKeyMemory(wordCount: 2 * keySlots) : nil
        let keys = injected ?? keyMemory.map { $0.makeKeyStore(slots: keySlots) } ?? KeyStore(slots: keySlots)
        self.settings = settings
        self.gate = gate
        self.epoch = KeyEpoch(keys: keys, schedule: schedule, scope: Tracker(settings: settings))
        self.keyLockStatus = keyMemory?.lockStatus
        self.keySlotOfSensor = PipelineCore.keySlots(settings)
        self.grouping = settings.privacy.randomisedAddresses == .group
    }

    /// How much of the elements ``process(_:sensor:)`` reads: the fingerprint of randomised
    /// addresses under the `group` policy, else nothing but `truncated` (which the parser
    /// counts). A driver passes it to ``FrameParser/parse(_:linkType:timestampNanos:counters:elements:)``
    /// so that the parser digests exactly the layouts that will be hashed and no others.
    public var elementDetail: ElementDetail { grouping ? .fullIfLocallyAdministered : .truncationOnly }

    static func keySlots(_ settings: Settings) -> [Int] {
        settings.sensors.map { settings.privacy.keySlot(sensorZone: $0.zone) }
    }

    /// Asks the key schedule whether a rotation is due at `nanos` (it rotates when
    /// floor(t / 1 s) ≥ the due second, i.e. when t ≥ due × 1 s) and notes the next instant.
    @discardableResult
    private mutating func advanceKey(toNanos nanos: Int64) -> Bool {
        let rotated = epoch.advance(to: PipelineCore.floorSeconds(nanos))
        rotationCheckNanos = epoch.nextRotationSeconds.map { $0 &* 1_000_000_000 } ?? .min
        return rotated
    }

    /// Reads the opt-out file named by the settings, if any.
    /// - Throws: when the file cannot be read or parsed (the message names the key and the
    ///   line, never the text).
    public static func loadOptOutList(settings: Settings) throws(PipelineError) -> OptOutList {
        guard let path = settings.privacy.optOutFile else { return .empty }
        var watcher = OptOutFileWatcher(path: path)
        do {
            return try watcher.loadIfChanged() ?? .empty
        } catch {
            throw PipelineError("privacy.opt_out_file: \(error.message)")
        }
    }

    // MARK: - Frames and time

    /// One parsed probe request heard by `sensor` (index into the configuration's sensors).
    /// Its event time is its capture timestamp; the raw address ends here.
    public mutating func process(_ request: consuming ProbeRequest, sensor: Int) {
        guard gate.admit(request, sensor: sensor) == .admit else { return }
        // Event time drives the key schedule: a due rotation first closes every slot heard
        // under the old key, then destroys it (P4).
        if request.timestampNanos >= rotationCheckNanos { advanceKey(toNanos: request.timestampNanos) }
        let observation = epoch.pseudonymiser.observeForTracker(request, sensor: sensor, keySlot: keySlotOfSensor[sensor], grouping: grouping)
        epoch.scope.observe(observation)
    }

    /// Live mode: event time moves on without a frame (the once-a-second tick). Closes hours
    /// by the clock and rotates the key on schedule.
    /// - Parameter nanos: event time, nanoseconds since the Unix epoch; earlier than the
    ///   newest event time is ignored.
    /// - Returns: `true` when the key was rotated.
    @discardableResult
    public mutating func advanceClock(toNanos nanos: Int64) -> Bool {
        let rotated = advanceKey(toNanos: nanos)
        epoch.scope.advanceClock(toNanos: nanos)
        return rotated
    }

    /// Live mode: listening started at `nanos` (see ``Tracker/startListening(atNanos:)``).
    public mutating func startListening(atNanos nanos: Int64) {
        epoch.scope.startListening(atNanos: nanos)
    }

    /// Live mode: every source was down for `nanos` up to `endNanos` (see
    /// ``Tracker/noteUnheard(nanos:endingAt:)``).
    public mutating func noteUnheard(nanos: Int64, endingAt endNanos: Int64) {
        epoch.scope.noteUnheard(nanos: nanos, endingAt: endNanos)
    }

    /// Ends the key period now, off schedule: the tracker turns what it knows into counts and
    /// drops every pseudonym table, then the key is overwritten (P4). Live mode calls it when
    /// a key has lived 24 h of real time on the monotonic clock while the wall clock was set
    /// back, so no key ever outlives 24 h whatever the clocks say. The schedule is kept.
    /// - Parameter nanos: the event time of the rotation (the newest event time).
    public mutating func rotateKeyNow(atNanos nanos: Int64) {
        epoch.rotate(at: PipelineCore.floorSeconds(nanos))
    }

    /// Whether ``takeClosedHours()`` has something.
    public var hasClosedHours: Bool { epoch.scope.hasClosedHours }

    /// Hours the tracker closed since the last call, oldest first, before suppression.
    public mutating func takeClosedHours() -> [HourReport] { epoch.scope.takeClosedHours() }

    /// End of input or shutdown: every open hour is closed (the one in progress as
    /// `partial`) and the key is destroyed. Call once; the core hashes nothing afterwards.
    public mutating func finish() -> [HourReport] {
        finish(inspect: nil)
    }

    /// - Parameter inspect: tests only: sees the tracker and the keys after the last hour
    ///   closed, before the keys are destroyed.
    mutating func finish(inspect: ((borrowing Tracker, KeyStore) -> Void)?) -> [HourReport] {
        let reports = epoch.scope.finish()
        inspect?(epoch.scope, epoch.keys)
        epoch.keys.destroy()
        return reports
    }

    // MARK: - Live state

    /// Gate counts since the start, across reloads.
    public var gateCounters: GateCounters {
        var total = earlierGateCounters
        let now = gate.counters
        for reason in GateDropReason.allCases { total[reason] += now[reason] }
        total.admitted += now.admitted
        return total
    }

    /// What the tracker counted (observations, late frames, residents); no per-device data.
    public var trackerCounters: TrackerCounters { epoch.scope.counters }

    /// Devices the tracker holds now (a gauge for the operator).
    public var trackedDevices: Int { epoch.scope.trackedDevices }

    /// How many keys have been replaced since the start (rotations).
    public var keyGeneration: Int { epoch.keyGeneration }

    /// When the current key will be replaced, seconds since the Unix epoch (`nil` before
    /// the first event).
    public var nextRotationSeconds: Int64? { epoch.nextRotationSeconds }

    // MARK: - Reload

    /// Why ``reload(settings:optOut:)`` refused new settings.
    public static func restartReason(from old: Settings, to new: Settings) -> String? {
        if old.site.timeZone != new.site.timeZone { return "site.time_zone changed" }
        if old.zones.map(\.id) != new.zones.map(\.id) { return "zones were added, removed, renamed or reordered" }
        if old.sensors.map(\.id) != new.sensors.map(\.id) { return "sensors were added, removed, renamed or reordered" }
        if old.sensors.map(\.feed) != new.sensors.map(\.feed) { return "a sensor's interface or TZSP/PEEKREMOTE stream changed" }
        if old.privacy.effectiveRotation != new.privacy.effectiveRotation { return "privacy.rotation changed" }
        if old.privacy.strict != new.privacy.strict { return "privacy.strict changed" }
        if old.privacy.randomisedAddresses != new.privacy.randomisedAddresses { return "privacy.randomised_addresses changed" }
        if old.privacy.epsilon != new.privacy.epsilon { return "privacy.epsilon changed" }
        if old.visits != new.visits { return "visits changed" }
        if old.output != new.output { return "output changed" }
        if old.metrics != new.metrics { return "metrics changed" }
        return nil
    }

    /// Puts new settings in force without a key change and without losing counts: zone
    /// thresholds and names, sensor placement, opening hours, the RSSI floor, `k` and the
    /// opt-out list. Anything the running tables are built on needs a restart.
    /// - Throws: when the new settings change something only a restart can (the message
    ///   says what); the old settings stay in force.
    public mutating func reload(settings new: Settings, optOut: OptOutList) throws(PipelineError) {
        if let reason = PipelineCore.restartReason(from: settings, to: new) {
            throw PipelineError("\(reason); restart footfall to apply it (the running configuration stays in force)")
        }
        guard epoch.scope.canApplyPlacement(from: new) else {
            throw PipelineError("zones or sensors changed; restart footfall to apply it (the running configuration stays in force)")
        }
        let newGate = Gate(settings: new, optOut: optOut)
        earlierGateCounters = gateCounters
        gate = newGate
        epoch.scope.applyPlacement(from: new)
        settings = new
        keySlotOfSensor = PipelineCore.keySlots(new)
    }

    /// A new opt-out list (the file changed), from the next frame on.
    public mutating func replaceOptOutList(_ list: OptOutList) {
        gate.replaceOptOutList(list)
    }

    static func floorSeconds(_ nanos: Int64) -> Int64 {
        nanos >= 0 ? nanos / 1_000_000_000 : (nanos + 1) / 1_000_000_000 - 1
    }
}

/// An error of the shared pipeline, with a message for the operator. Never contains frame
/// contents or identifiers.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
