import FootfallCore

/// Turns observations (in capture-time order, give or take ``VisitRules/latenessSeconds``)
/// into one ``HourReport`` per local hour. A pure function of (observations, settings): no
/// clock, no I/O, no randomness; see docs/output.md for every definition it implements.
///
/// What is counted as one device follows `privacy.randomised_addresses`: the address, or for
/// a randomised address under `group` its keyed element fingerprint (P10). The estimate it
/// produces (`avg_present` of the ALL row) is measured against hand counts in docs/accuracy.md.
///
/// How the work is split (docs/performance.md):
/// - per observation: one probe of a flat open-addressing index on the device's pseudonym
///   (address or fingerprint, ``DeviceIndex``) and a few integer updates to its current slot
///   (strongest signal and the sensor that heard it); no allocation;
/// - per device and slot (when the slot can no longer change): the fast resident rule (a
///   shift and a population count), the zone decision, the visit logic and one presence run
///   extended or appended in the slot's hour (or, for a slot too weak to place, one "heard"
///   mark); the presence tail when a visit ends. The tick finds these devices in a timing
///   wheel (``DueWheel``) instead of looking at every device, and looks at every device once
///   an hour (`Tracker+Time.swift`);
/// - per hour: distinct counts, percentiles and flows, from the hour's runs and marks, sorted
///   in place by device and visit and walked once.
///
/// Where the code is: this file holds the state and the input; `Tracker+Time.swift` the
/// watermark (slots decided, devices forgotten, hours closed); `Tracker+Visits.swift` the
/// slot decisions, visits, residents and presence; `HourClose.swift` the figures of a closed
/// hour; `TrackerRecords.swift` the packed records.
///
/// Memory (about 99 bytes per device, docs/performance.md): a 64-byte ``DeviceState`` in a
/// ``ChunkedArray``, its index bucket, its zone dwell, per hour a 24-byte ``Run`` or an
/// 8-byte ``HeardMark`` per zone, a 4-byte wheel entry while its visit is open, and two bits
/// a zone in its day's ``DayMasks``.
///
/// Everything keyed by pseudonyms lives in the device table, which ``reset()`` drops at a
/// key rotation. The hour accumulators hold only small per-tracker serial numbers (never
/// pseudonyms), so the counts of an hour survive a rotation.
public struct Tracker: ~Copyable {
    // MARK: configuration
    let rules: VisitRules
    let clock: HourClock
    /// The clock's UTC offset where it was last asked (see ``UTCOffsetCache``): hours are
    /// asked for at every tick and device check.
    var utcOffsets = UTCOffsetCache()
    let strict: Bool
    let zoneIDs: [String]
    var zoneThreshold: [Int16]  // var: reloadable (Tracker+Clock.swift)
    var sensorZone: [Int32]  // var: reloadable (Tracker+Clock.swift)
    let slotNanos: Int64
    let latenessNanos: Int64
    let slotSeconds: Int64
    /// A visit continues across a gap of at most this many empty slots.
    let maxGapSlots: Int64
    let minimumDwellSlots: Int64
    /// dB above its zone's threshold a visit must once be heard at to count (``VisitRules/peakMarginDB``).
    let peakMargin: Int16
    let residentSlots: Int32
    /// Devices present at least this long in the key period are kept through gaps, so a
    /// fixed device that goes quiet for a while keeps its resident count.
    let keepSlots: Int32
    /// Slots of presence added after a visit's last placed slot (``VisitRules/presenceTailSeconds``).
    let tailSlots: Int64
    /// Randomised addresses are grouped by their keyed element fingerprint (`group` policy).
    let grouping: Bool
    /// Randomised layouts split into phones by their probe rate (keyed by pseudonyms; dropped by reset).
    var crowd: RandomisedCrowd
    /// The fast resident rule: bits of the slots in its window, and how many must be heard.
    let residentWindowMask: UInt64
    let residentMinimumHeard: Int

    // MARK: device table (pseudonym-keyed; dropped by reset)
    /// Pseudonym → index in `devices`, a flat open-addressing table (``DeviceIndex``).
    var index = DeviceIndex()
    /// One entry per device, in chunks that never move (``ChunkedArray``): see
    /// ``DeviceState`` for the 64 bytes a device costs.
    var devices = ChunkedArray<DeviceState>()
    var freeList: [Int32] = []
    /// The devices the tick must look at, by the slot in which something of theirs falls due
    /// (``DueWheel``; device indices only).
    var dueWheel: DueWheel
    /// Whole slots in the visit gap: a device is forgotten at least this many slots (and two)
    /// after its last decided slot (``evictionDue(device:)``).
    let gapSlotsFloor: Int64
    /// Tests only: every tick settles every device, as the tick did before the wheel (the
    /// reference the wheel is checked against, `DueWheelTests`).
    var sweepsEveryDevice = false
    /// The first slot of the hour of the last tick: devices whose last slot is before it get
    /// their own forget check; the others wait for the sweep at the end of their hour.
    var sweptHourStartSlot: Int64 = .min
    /// Per device and zone: slots spent in the zone in the current visit.
    var zoneDwell = ChunkedArray<Int32>()
    /// The slot that device entries count their slots from (32-bit offsets, see
    /// ``DeviceState``); set by the first device of a device table.
    var slotBase: Int64 = .min

    // MARK: time
    var newestNanos: Int64 = .min
    /// Slot of the first observation: hours are averaged over the time the tracker listened.
    var firstSlot: Int64 = .min
    /// Live mode: nanoseconds of each hour (by its start, seconds) in which no source could
    /// hear anything (every source down); taken off the hour's listened time.
    var unheardNanos: [Int64: Int64] = [:]
    var nextTickNanos: Int64 = .min
    /// The slot of the last observation and its start (`observe`'s division cache).
    var cachedSlot: Int64 = 0
    var cachedSlotStartNanos: Int64 = .max
    var closedThrough: Int64 = .min
    var hours: [HourAccumulator] = []
    var lastHourIndex = 0
    var nextLocalID: UInt32 = 1
    @usableFromInline var closedReports: [HourReport] = []
    /// Day totals (Tracker+Days.swift): only with daily rotation, so that a day's tally links
    /// a device's hours within one key period.
    let countsDays: Bool
    var dayTallies: [DayTally] = []
    var closedDays: [DayReport] = []

    public internal(set) var counters = TrackerCounters()

    public init(settings: Settings) {
        let clock = settings.site.clock
        let rules = settings.visits
        precondition(rules.slotSeconds > 0 && 900 % rules.slotSeconds == 0, "slot_seconds must divide 900")
        precondition(settings.zones.count <= 64, "at most 64 zones")
        precondition(settings.sensors.count <= Int(Int16.max), "at most 32767 sensors")
        self.rules = rules
        self.clock = clock
        self.strict = settings.privacy.strict
        self.zoneIDs = settings.zones.map(\.id)
        self.zoneThreshold = settings.zones.map { Int16(clamping: $0.rssiThreshold) }
        self.sensorZone = settings.sensors.map { Int32($0.zone) }
        self.slotSeconds = Int64(rules.slotSeconds)
        self.slotNanos = Int64(rules.slotSeconds) * 1_000_000_000
        self.latenessNanos = Int64(max(0, min(rules.latenessSeconds, rules.slotSeconds))) * 1_000_000_000
        // A gap of g empty slots spans g × slot seconds; it is bridged while that is shorter
        // than visit_gap_seconds.
        self.maxGapSlots = Int64(max(0, (rules.visitGapSeconds - 1) / rules.slotSeconds))
        self.minimumDwellSlots = Int64((rules.minimumDwellSeconds + rules.slotSeconds - 1) / rules.slotSeconds)
        self.peakMargin = Int16(clamping: max(0, rules.peakMarginDB))
        self.residentSlots = Int32(clamping: rules.residentHours * 3600 / rules.slotSeconds)
        self.keepSlots = Int32(clamping: 3600 / rules.slotSeconds)
        let tail = max(0, min(rules.presenceTailSeconds, rules.visitGapSeconds))
        self.tailSlots = Int64((tail + rules.slotSeconds - 1) / rules.slotSeconds)
        self.grouping = settings.privacy.randomisedAddresses == .group
        self.gapSlotsFloor = Int64(max(0, rules.visitGapSeconds) / rules.slotSeconds)
        self.dueWheel = DueWheel(horizonSlots: (3600 + max(0, rules.visitGapSeconds)) / rules.slotSeconds + 4)
        self.crowd = RandomisedCrowd(
            phoneProbeRate: self.grouping ? rules.phoneProbeRate : 0, windowSeconds: rules.crowdWindowSeconds, slotSeconds: rules.slotSeconds)
        if case .daily = settings.privacy.effectiveRotation { self.countsDays = true } else { self.countsDays = false }
        let window = max(1, min(VisitRules.maximumResidentWindowSlots, (rules.residentWindowSeconds + rules.slotSeconds - 1) / rules.slotSeconds))
        self.residentWindowMask = window >= 64 ? ~0 : (UInt64(1) << UInt64(window)) - 1
        let coverage = rules.residentCoverage.isFinite ? max(0, min(1, rules.residentCoverage)) : 1
        self.residentMinimumHeard = max(1, Int((coverage * Double(window)).rounded(.up)))
    }

    // MARK: - Input

    /// Adds one observation. Late frames (more than the lateness window behind the newest
    /// frame) and frames from an unknown sensor are counted and dropped.
    public mutating func observe(_ observation: Observation) {
        let t = observation.timestampNanos
        if t > newestNanos {
            newestNanos = t
            if t >= nextTickNanos { tick() }
        }
        guard t >= newestNanos &- latenessNanos else {
            counters.late += 1
            return
        }
        let sensor = observation.sensor
        guard sensor >= 0, sensor < sensorZone.count else {
            counters.unknownSensor += 1
            return
        }
        // Frames come in time order: the slot of the previous frame usually holds this one
        // too, and one unsigned compare replaces a 64-bit division.
        let slot: Int64
        if UInt64(bitPattern: t &- cachedSlotStartNanos) < UInt64(slotNanos) {
            slot = cachedSlot
        } else {
            slot = t.floorDiv(slotNanos)
            cachedSlot = slot
            cachedSlotStartNanos = slot &* slotNanos
            if firstSlot == .min { firstSlot = slot }
            rebaseIfNeeded(for: slot)
        }
        let rank: Int16 = observation.signalDBm.map { Int16($0) } ?? SlotAggregate.noSignal
        // The entity counted: the address, or under `group` the keyed element fingerprint of
        // a randomised address (both are keyed pseudonyms of the current key period).
        // Under `group` with a phone probe rate, a layout is split into as many lanes as its
        // rate says phones (RandomisedCrowd.swift).
        let entity: Pseudonym
        if grouping && observation.randomised {
            entity = crowd.enabled
                ? crowd.entity(layout: observation.fingerprint, address: observation.device, sensor: sensor, slot: slot)
                : observation.fingerprint
        } else {
            entity = observation.device
        }
        let d: Int
        if let found = index.find(entity, in: devices) {
            d = Int(found)
        } else {
            d = allocate(entity, randomised: observation.randomised)
        }
        let device = devices.pointer(at: d)
        if device.pointee.resident {
            // Nothing of a resident is counted, but its hour still gets a (zero) report.
            _ = hourIndex(forSlot: slot)
            counters.observations += 1
            return
        }
        let o = Int32(truncatingIfNeeded: slot &- slotBase)
        let s16 = Int16(truncatingIfNeeded: sensor)
        if device.pointee.newer.offset == o {
            device.pointee.newer.add(rank: rank, sensor: s16)
        } else if device.pointee.older.offset == o {
            device.pointee.older.add(rank: rank, sensor: s16)
        } else if o <= device.pointee.lastDecidedOffset {
            // Its slot is decided already (`none` is below every offset).
            counters.late += 1
            return
        } else if o > device.pointee.newer.offset {
            let older = device.pointee.older
            let newer = device.pointee.newer
            device.pointee.older = newer
            device.pointee.newer = PackedSlot(offset: o, rank: rank, sensor: s16)
            dueWheel.push(device: d, kind: .pending, due: slot &+ 1)
            if !older.isEmpty {
                finalize(device: d, wide(older))
                scheduleChecks(device: d)
            }
        } else if device.pointee.older.isEmpty {
            // Between the last decided slot and the newest one.
            device.pointee.older = PackedSlot(offset: o, rank: rank, sensor: s16)
            dueWheel.push(device: d, kind: .pending, due: slot &+ 1)
        } else {
            counters.late += 1
            return
        }
        counters.observations += 1
    }

    /// Hours that are complete (their end is more than the visit gap, a slot and the
    /// lateness window behind the newest frame), oldest first; each is returned once.
    public mutating func takeClosedHours() -> [HourReport] {
        defer { closedReports.removeAll(keepingCapacity: true) }
        return closedReports
    }

    /// Whether ``takeClosedHours()`` has something.
    @inlinable
    public var hasClosedHours: Bool { !closedReports.isEmpty }

    /// End of input (shutdown or end of replay): every slot is decided and every open hour
    /// is closed. The hour that contains the newest frame was still in progress and is
    /// marked `partial`; the hours before it are complete.
    public mutating func finish() -> [HourReport] {
        finalizeAllPending()
        closeAllVisits()
        let inProgress = newestNanos == .min ? Int64.min : clock.hourStart(containing: newestNanos.floorDiv(1_000_000_000), cache: &utcOffsets)
        let dataEnd = newestNanos == .min ? Int64.max : (newestNanos.floorDiv(slotNanos) + 1) * slotSeconds
        while !hours.isEmpty {
            var hour = hours.removeFirst()
            let partial = hour.hour.start == inProgress
            let closed = report(for: &hour, partial: partial, listenedUntil: partial ? dataEnd : hour.hour.end)
            closedReports.append(closed)
            tallyDay(hour.hour, hour.day, inProgress: partial)
            closedThrough = hour.hour.end
        }
        lastHourIndex = 0
        // The day of the newest frame was still in progress; any other day left is over.
        if inProgress != .min {
            let today = localDate(of: clock.hour(containing: inProgress, cache: &utcOffsets))
            closeDays(partial: true) { $0 == today }
        }
        closeDays { _ in true }
        // Every hour was already closed (a quiet evening, then shutdown): the days still ride
        // on an hour, one with no rows, whose files are never written (`HourReport.days`).
        if !closedDays.isEmpty, inProgress != .min {
            let hour = clock.hour(containing: inProgress, cache: &utcOffsets)
            var carrier = HourReport(hourStart: hour.start, utcOffsetSeconds: hour.utcOffsetSeconds, partial: true, zones: [], flows: [])
            carrier.days = closedDays
            closedDays.removeAll()
            closedReports.append(carrier)
        }
        return takeClosedHours()
    }

    /// Key rotation: every slot heard under the old key is decided into its hour, then all
    /// device-keyed state is dropped. The hours' counts survive; a device present across the
    /// rotation starts a new visit as a new device.
    public mutating func reset() {
        dropDevices()
        counters.resets += 1
    }

    /// Decides every pending slot, ends every visit and forgets every device.
    mutating func dropDevices() {
        finalizeAllPending()
        closeAllVisits()
        index = DeviceIndex()
        crowd.reset()
        devices.removeAll()
        freeList = []
        dueWheel.removeAll()
        zoneDwell.removeAll()
        slotBase = .min
        // The next frame recomputes its slot and sets the new base.
        cachedSlotStartNanos = .max
    }

    /// Device entries hold slots as 32-bit offsets from ``slotBase``. A slot more than 2^30
    /// slots away from it (34 years with 1-second slots; never with slots of 8 seconds or
    /// more, which Int64 nanoseconds cannot reach) starts a new device table, as a key
    /// rotation does, so an offset can never overflow.
    mutating func rebaseIfNeeded(for slot: Int64) {
        if slotBase == .min {
            slotBase = slot
        } else if (slot &- slotBase).magnitude >= 1 << 30 {
            dropDevices()
            slotBase = slot
        }
    }

    /// Devices currently held in the table (present, or kept as resident candidates).
    public var trackedDevices: Int { index.count }

    /// Whether the entity with this pseudonym is held as a resident (tests check that known
    /// fixed devices are recognised; nothing outside the core can make a pseudonym to ask).
    func isResident(_ pseudonym: Pseudonym) -> Bool {
        index.find(pseudonym, in: devices).map { devices[Int($0)].resident } ?? false
    }

    // MARK: - Device table

    mutating func allocate(_ pseudonym: Pseudonym, randomised: Bool) -> Int {
        var state = DeviceState(pseudonym: pseudonym, localID: nextLocalID)
        state.randomised = randomised
        state.group = grouping && randomised
        nextLocalID &+= 1
        let d: Int
        if let free = freeList.popLast() {
            d = Int(free)
            devices[d] = state
            for z in 0 ..< zoneIDs.count { zoneDwell[d * zoneIDs.count + z] = 0 }
        } else {
            d = devices.count
            devices.append(state)
            zoneDwell.append(repeating: 0, count: zoneIDs.count)
        }
        index.insert(pseudonym, device: Int32(d), in: devices)
        return d
    }

    /// A slot offset of a device entry as a slot number (`.min` for none).
    @inline(__always)
    func wide(_ offset: Int32) -> Int64 {
        offset == PackedSlot.none ? .min : slotBase &+ Int64(offset)
    }

    /// A slot number as an offset for a device entry (`.min` → none).
    @inline(__always)
    func narrow(_ slot: Int64) -> Int32 {
        slot == .min ? PackedSlot.none : Int32(slot &- slotBase)
    }

    @inline(__always)
    func wide(_ packed: PackedSlot) -> SlotAggregate {
        SlotAggregate(slot: wide(packed.offset), rank: packed.rank, sensor: Int32(packed.sensor))
    }
}

extension Tracker: PseudonymScope {
    /// Key rotation (P4): the slots heard under the old key are decided into their hours
    /// (anonymous counts), then every pseudonym-keyed entry is dropped.
    public mutating func endKeyPeriod(at instantSeconds: Int64) {
        reset()
    }
}
