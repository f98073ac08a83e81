/// Turns observations (in capture-time order, give or take ``VisitRules/latenessSeconds``)
/// into one ``HourReport`` per local hour. A pure function of (observations, settings): no
/// clock, no I/O, no randomness; see README "Output files and definitions" for every definition it implements.
///
/// What is counted as one device follows `privacy.randomised_addresses`: the address, or for
/// a randomised address under `group` its keyed element fingerprint (P10). The estimate it
/// produces (`avg_present` of the ALL row) is measured against hand counts in README "Accuracy".
///
/// How the work is split (README "Performance"):
/// - per observation: one probe of a flat open-addressing index on the device's pseudonym
///   (address or fingerprint, ``DeviceIndex``) and a few integer updates to its current slot
///   (strongest signal and the sensor that heard it); no allocation;
/// - per device and slot (when the slot can no longer change): the fast resident rule (a
///   shift and a population count), the zone decision, the visit logic and one presence run
///   extended or appended in the slot's hour (or, for a slot too weak to place, one "heard"
///   mark); the presence tail when a visit ends;
/// - per hour: distinct counts, percentiles and flows, from the hour's runs and marks, sorted
///   in place by device and visit and walked once.
///
/// Memory (about 94 bytes per device, README "Performance"): a 64-byte ``DeviceState`` in a
/// ``ChunkedArray``, its index bucket, its zone dwell, and per hour a 20-byte ``Run`` or an
/// 8-byte ``HeardMark`` per zone.
///
/// Everything keyed by pseudonyms lives in the device table, which ``reset()`` drops at a
/// key rotation. The hour accumulators hold only small per-tracker serial numbers (never
/// pseudonyms), so the counts of an hour survive a rotation.
public struct Tracker {
    // MARK: configuration
    let rules: VisitRules
    let clock: HourClock
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
    /// Per device and zone: slots spent in the zone in the current visit.
    var zoneDwell = ChunkedArray<Int32>()
    /// The slot that device entries count their slots from (32-bit offsets, see
    /// ``DeviceState``); set by the first device of a device table.
    var slotBase: Int64 = .min

    // MARK: time
    var newestNanos: Int64 = .min
    /// Slot of the first observation: hours are averaged over the time the tracker listened.
    var firstSlot: Int64 = .min
    var nextTickNanos: Int64 = .min
    /// The slot of the last observation and its start (`observe`'s division cache).
    var cachedSlot: Int64 = 0
    var cachedSlotStartNanos: Int64 = .max
    var closedThrough: Int64 = .min
    var hours: [HourAccumulator] = []
    var lastHourIndex = 0
    var nextLocalID: UInt32 = 1
    @usableFromInline var closedReports: [HourReport] = []

    public private(set) var counters = TrackerCounters()

    public init(settings: Settings) {
        guard let clock = HourClock(identifier: settings.site.timeZone) else {
            preconditionFailure("settings carry an unknown time zone; FootfallConfig validates it")
        }
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
        self.residentSlots = Int32(clamping: rules.residentHours * 3600 / rules.slotSeconds)
        self.keepSlots = Int32(clamping: 3600 / rules.slotSeconds)
        let tail = max(0, min(rules.presenceTailSeconds, rules.visitGapSeconds))
        self.tailSlots = Int64((tail + rules.slotSeconds - 1) / rules.slotSeconds)
        self.grouping = settings.privacy.randomisedAddresses == .group
        self.crowd = RandomisedCrowd(
            phoneProbeRate: self.grouping ? rules.phoneProbeRate : 0, windowSeconds: rules.crowdWindowSeconds, slotSeconds: rules.slotSeconds)
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
            slot = floorDiv(t, slotNanos)
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
            if !older.isEmpty { finalize(device: d, wide(older)) }
        } else if device.pointee.older.isEmpty {
            // Between the last decided slot and the newest one.
            device.pointee.older = PackedSlot(offset: o, rank: rank, sensor: s16)
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
        let inProgress = newestNanos == .min ? Int64.min : clock.hourStart(containing: floorDiv(newestNanos, 1_000_000_000))
        let dataEnd = newestNanos == .min ? Int64.max : (floorDiv(newestNanos, slotNanos) + 1) * slotSeconds
        while !hours.isEmpty {
            var hour = hours.removeFirst()
            let partial = hour.hour.start == inProgress
            closedReports.append(report(for: &hour, partial: partial, listenedUntil: partial ? dataEnd : hour.hour.end))
            closedThrough = hour.hour.end
        }
        lastHourIndex = 0
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

    // MARK: - Time

    var watermark: Int64 { newestNanos &- latenessNanos }

    /// Runs when the watermark crosses a slot boundary: decides the slots no frame can reach
    /// any more, forgets devices gone longer than the visit gap, closes complete hours.
    mutating func tick() {
        let w = watermark
        let wSeconds = floorDiv(w, 1_000_000_000)
        // Devices are kept to the end of the hour they were last heard in, so a device that
        // comes back within the hour is still one device in that hour's distinct counts.
        let currentHourStartNanos = clock.hourStart(containing: wSeconds) * 1_000_000_000
        let goneBefore = min(w &- Int64(rules.visitGapSeconds) * 1_000_000_000 &- slotNanos, currentHourStartNanos)
        // Slot x ends by `w` exactly when x < wSlot (and by `goneBefore` when x < goneSlot);
        // as offsets from the slot base, one compare per test.
        let wSlot = floorDiv(w, slotNanos) &- slotBase
        let goneSlot = floorDiv(goneBefore, slotNanos) &- slotBase
        for d in devices.indices {
            // Chunks never move, and nothing below adds devices: the pointer stays valid.
            let device = devices.pointer(at: d)
            guard device.pointee.live else { continue }
            if !device.pointee.older.isEmpty, Int64(device.pointee.older.offset) < wSlot {
                let older = device.pointee.older
                device.pointee.older = PackedSlot()
                finalize(device: d, wide(older))
            }
            if device.pointee.older.isEmpty, !device.pointee.newer.isEmpty, Int64(device.pointee.newer.offset) < wSlot {
                let newer = device.pointee.newer
                device.pointee.newer = PackedSlot()
                finalize(device: d, wide(newer))
            }
            // The visit is over once a silence longer than the visit gap is certain.
            if device.pointee.visitOpen, Int64(device.pointee.lastPlacedOffset) + maxGapSlots + 2 <= wSlot {
                closeVisit(device: d, before: .max)
            }
            // Gone: nothing pending, and the last slot it was heard in ended by `goneBefore`.
            // (Residents are never forgotten, and the last decided slot of any other device
            // is the last slot it was heard in.)
            guard device.pointee.newer.isEmpty, !device.pointee.resident, device.pointee.presentSlots < keepSlots,
                  Int64(device.pointee.lastDecidedOffset) < goneSlot else { continue }
            if device.pointee.visitOpen { closeVisit(device: d, before: .max) }
            index.remove(device.pointee.pseudonym, in: devices)
            device.pointee.live = false
            freeList.append(Int32(d))
            counters.evicted += 1
        }
        let delay = Int64(rules.visitGapSeconds) + slotSeconds
        while let first = hours.first, first.hour.end + delay <= wSeconds {
            var hour = hours.removeFirst()
            closedReports.append(report(for: &hour, partial: false, listenedUntil: hour.hour.end))
            closedThrough = hour.hour.end
            lastHourIndex = 0
        }
        nextTickNanos = (floorDiv(w, slotNanos) + 1) * slotNanos + latenessNanos
    }

    /// Ends every open visit (end of input, key rotation); tails stop at the newest frame's
    /// slot, because nothing is known about the time after it.
    mutating func closeAllVisits() {
        guard newestNanos != .min else { return }
        let limit = floorDiv(newestNanos, slotNanos) + 1
        for d in devices.indices where devices[d].live && devices[d].visitOpen {
            closeVisit(device: d, before: limit)
        }
    }

    /// Ends device `d`'s visit: its presence continues for the tail after the last placed
    /// slot, in the last zone, but not into slot `limit` or later.
    mutating func closeVisit(device d: Int, before limit: Int64) {
        devices[d].visitOpen = false
        guard !devices[d].resident, tailSlots > 0 else { return }
        let from = wide(devices[d].lastPlacedOffset) + 1
        let to = min(from + tailSlots, limit)
        if to > from { addPresence(device: d, zone: devices[d].lastZone, from: from, to: to) }
    }

    mutating func finalizeAllPending() {
        for d in devices.indices where devices[d].live {
            let older = devices[d].older, newer = devices[d].newer
            devices[d].older = PackedSlot()
            devices[d].newer = PackedSlot()
            if !older.isEmpty { finalize(device: d, wide(older)) }
            if !newer.isEmpty { finalize(device: d, wide(newer)) }
        }
    }

    // MARK: - Slot decisions

    /// Decides one slot of one device: its zone (the zone of the sensor that heard it
    /// strongest) and whether the signal reached that zone's threshold.
    mutating func finalize(device d: Int, _ slot: SlotAggregate) {
        guard !devices[d].resident else { return }
        if noteHeard(device: d, slot: slot.slot) { return }
        let zone = sensorZone[Int(slot.sensor)]
        let placed = slot.rank == SlotAggregate.noSignal || slot.rank >= zoneThreshold[Int(zone)]
        guard let h = hourIndex(forSlot: slot.slot) else { counters.afterClose += 1; return }
        // A placed slot is recorded as presence below, which also says the device was heard
        // in the zone that hour; a slot too weak to place only says that.
        guard placed else {
            markHeard(device: d, hour: h, zone: zone)
            return
        }

        let s = slot.slot
        let lastPlaced = wide(devices[d].lastPlacedOffset)
        if devices[d].visitOpen, s - lastPlaced - 1 <= maxGapSlots {
            // Bridge the gap in the last zone, then the slot itself.
            let last = devices[d].lastZone
            devices[d].lastPlacedOffset = narrow(s)
            if s - lastPlaced > 1 {
                addPresence(device: d, zone: last, from: lastPlaced + 1, to: s)
            }
            if zone != last && !strict, let hs = hourIndex(forSlot: s) {
                hours[hs].transitions.append(Transition(
                    localID: devices[d].localID, visitStart: devices[d].visitStartOffset, from: UInt8(last), to: UInt8(zone)))
            }
        } else {
            if devices[d].visitOpen { closeVisit(device: d, before: s) }
            devices[d].visitOpen = true
            devices[d].visitStartOffset = narrow(s)
            devices[d].lastPlacedOffset = narrow(s)
            for z in 0 ..< zoneIDs.count { zoneDwell[d * zoneIDs.count + z] = 0 }
        }
        addPresence(device: d, zone: zone, from: s, to: s + 1)
        devices[d].lastZone = zone

        if devices[d].presentSlots >= residentSlots && !devices[d].group {
            makeResident(device: d)
        }
    }

    /// Records that device `d` was heard in `zone` in hour `h` without being placed there.
    /// One mark per device, hour and zone (a repeat of the device's last mark is skipped;
    /// the hour's report merges any other repeats).
    mutating func markHeard(device d: Int, hour h: Int, zone: Int32) {
        let localID = devices[d].localID
        let last = Int(devices[d].markIndex)
        if last >= 0, last < hours[h].marks.count {
            let mark = hours[h].marks[last]
            if mark.localID == localID && mark.zone == zone { return }
        }
        devices[d].markIndex = Int32(hours[h].marks.count)
        hours[h].marks.append(HeardMark(localID: localID, zoneIndex: UInt8(zone)))
    }

    /// The fast resident rule, once per heard slot: a vendor-assigned address heard (at any
    /// strength) in at least `residentMinimumHeard` of the last window's slots is a fixed
    /// device. One shift, one `or` and one population count.
    /// - Returns: whether the device has just become a resident.
    mutating func noteHeard(device d: Int, slot s: Int64) -> Bool {
        let newest = wide(devices[d].lastDecidedOffset)
        let shift = newest == .min ? 64 : s - newest
        if shift > 0 {
            devices[d].heardMask = shift >= 64 ? 0 : devices[d].heardMask << UInt64(shift)
            devices[d].lastDecidedOffset = narrow(s)
            devices[d].heardMask |= 1
        } else if shift > -64 {
            devices[d].heardMask |= UInt64(1) << UInt64(-shift)
        }
        guard !devices[d].randomised,
              (devices[d].heardMask & residentWindowMask).nonzeroBitCount >= residentMinimumHeard else { return false }
        makeResident(device: d)
        return true
    }

    /// From now on the device is left out of every figure of every hour still open.
    mutating func makeResident(device d: Int) {
        devices[d].resident = true
        devices[d].visitOpen = false
        counters.residents += 1
        let localID = devices[d].localID
        for i in hours.indices { hours[i].residents.insert(localID) }
    }

    /// Records that device `d` was in `zone` during slots `[from, to)`, split at hour
    /// boundaries; extends the device's last run where it simply continues.
    mutating func addPresence(device d: Int, zone: Int32, from: Int64, to: Int64) {
        var start = from
        let zc = zoneIDs.count
        while start < to {
            guard let h = hourIndex(forSlot: start) else {
                counters.afterClose += 1
                start += 1
                continue
            }
            let hourEndSlot = hours[h].hour.end / slotSeconds
            let end = min(to, hourEndSlot)
            let n = end - start
            // Dwell runs to the end of the last placed slot; the presence tail is not dwell.
            let dwellEnd = wide(devices[d].lastPlacedOffset) + 1
            zoneDwell[d * zc + Int(zone)] += Int32(max(0, min(end, dwellEnd) - start))
            devices[d].presentSlots += Int32(n)
            let localID = devices[d].localID
            let visitStart = devices[d].visitStartOffset
            let zoneDwellAtEnd = zoneDwell[d * zc + Int(zone)]
            let visitDwellAtEnd = Int32(min(end, dwellEnd) - wide(visitStart))
            let base = hours[h].firstSlot
            // The device's last run, if it is in this hour (the index may name another
            // hour's run, so the run's own device, visit, zone and end are checked).
            let r = Int(devices[d].runIndex)
            if r >= 0, r < hours[h].runs.count, hours[h].runs[r].continues(
                localID: localID, visitStart: visitStart, zone: zone, at: Int32(start - base)) {
                hours[h].runs[r].extend(to: Int32(end - base), zoneDwellAtEnd: zoneDwellAtEnd, visitDwellAtEnd: visitDwellAtEnd)
            } else {
                devices[d].runIndex = Int32(hours[h].runs.count)
                hours[h].runs.append(Run(
                    localID: localID, visitStart: visitStart, start: Int32(start - base), end: Int32(end - base),
                    zone: zone, zoneDwellAtEnd: zoneDwellAtEnd, visitDwellAtEnd: visitDwellAtEnd))
            }
            start = end
        }
    }

    /// The open hour that holds a slot, opened on first use; `nil` when that hour has
    /// already been closed (only possible for forced decisions after a close).
    mutating func hourIndex(forSlot slot: Int64) -> Int? {
        let second = slot * slotSeconds
        if lastHourIndex < hours.count, hours[lastHourIndex].hour.start <= second, second < hours[lastHourIndex].hour.end {
            return lastHourIndex
        }
        if second < closedThrough { return nil }
        for i in hours.indices where hours[i].hour.start <= second && second < hours[i].hour.end {
            lastHourIndex = i
            return i
        }
        let hour = clock.hour(containing: second)
        var accumulator = HourAccumulator(hour: hour, firstSlot: floorDiv(hour.start, slotSeconds))
        precondition(hour.end / slotSeconds - accumulator.firstSlot < Int64(Run.maximumSlot), "an hour spans more slots than a run can hold")
        for d in devices.indices where devices[d].live && devices[d].resident {
            accumulator.residents.insert(devices[d].localID)
        }
        let position = hours.firstIndex { $0.hour.start > accumulator.hour.start } ?? hours.count
        hours.insert(accumulator, at: position)
        lastHourIndex = position
        return position
    }

    // MARK: - Hour close

    /// The figures of one hour, from its records; empties `hour`'s record arrays.
    ///
    /// The records are sorted by device and visit and walked once, so the memory it needs
    /// beyond the records themselves is a few counters per zone, one dwell value per visit
    /// and a presence count per slot and zone (for the peak).
    /// - Parameter listenedUntil: end of the time the tracker listened in this hour (the end
    ///   of the newest frame's slot for the hour in progress at shutdown).
    func report(for hour: inout HourAccumulator, partial: Bool, listenedUntil: Int64) -> HourReport {
        let zc = zoneIDs.count
        // Presence is averaged over the part of the hour the tracker listened: from its first
        // frame (a collector started at 14:50 knows nothing of 14:00–14:50) to the end of the
        // hour or of the input.
        let listenedFrom = firstSlot == .min ? hour.hour.start : max(hour.hour.start, firstSlot * slotSeconds)
        let hourSeconds = Double(max(slotSeconds, min(hour.hour.end, listenedUntil) - listenedFrom))
        let residents = hour.residents

        hour.runs.sort { $0.visitKey }
        hour.marks.sort { UInt64($0.localID) }
        hour.transitions.sort { $0.visitKey }
        let runs = hour.runs, marks = hour.marks, transitions = hour.transitions

        // Presence per slot for the peaks: +1 where a run starts, −1 where it ends; the
        // running sum at a slot is the number of runs covering it (a device moving from one
        // run to the next at a slot counts once). Row zc is the whole site.
        let width = Int(hour.hour.end / slotSeconds - hour.firstSlot) + 1
        var presenceSteps = [Int32](repeating: 0, count: (zc + 1) * width)

        var zoneDevices = [Int](repeating: 0, count: zc)
        var zoneVisitors = [Int](repeating: 0, count: zc)
        var zonePassersby = [Int](repeating: 0, count: zc)
        var zonePresentSlots = [Int64](repeating: 0, count: zc)
        var zoneDwell = [[Int32]](repeating: [], count: zc)
        var siteDevices = 0, siteVisitors = 0, sitePassersby = 0
        var sitePresentSlots: Int64 = 0
        var siteDwell: [Int32] = []
        var flowMatrix = [Int](repeating: 0, count: strict ? 0 : zc * zc)
        var visitZoneDwell = [Int32](repeating: 0, count: zc)

        // Transitions whose visit has no presence in this hour (none is expected: a
        // transition is recorded with the presence in its new zone) count when a visit of
        // no dwell qualifies.
        let dwellless = 0 >= minimumDwellSlots
        var t = 0
        func countTransitions(before key: UInt64, qualifying: Bool, resident: Bool, through: Bool) {
            while t < transitions.count, transitions[t].visitKey < key || (through && transitions[t].visitKey == key) {
                let move = transitions[t]
                let counts = move.visitKey == key ? qualifying && !resident : dwellless && !residents.contains(move.localID)
                if counts && !strict { flowMatrix[Int(move.from) * zc + Int(move.to)] += 1 }
                t += 1
            }
        }

        var i = 0, m = 0
        while i < runs.count || m < marks.count {
            let localID = i == runs.count ? marks[m].localID
                : m == marks.count ? runs[i].localID : min(runs[i].localID, marks[m].localID)
            let resident = residents.contains(localID)
            var heard: UInt64 = 0
            var visited: UInt64 = 0
            while m < marks.count, marks[m].localID == localID {
                heard |= 1 << UInt64(marks[m].zoneIndex)
                m += 1
            }
            while i < runs.count, runs[i].localID == localID {
                let key = runs[i].visitKey
                var j = i
                var visitDwell: Int32 = 0
                while j < runs.count, runs[j].visitKey == key {
                    visitDwell = max(visitDwell, runs[j].visitDwellAtEnd)
                    j += 1
                }
                let qualifies = !resident && Int64(visitDwell) >= minimumDwellSlots
                var zonesOfVisit: UInt64 = 0
                for k in i ..< j {
                    let run = runs[k]
                    let z = Int(run.zone)
                    heard |= 1 << UInt64(z)
                    guard qualifies else { continue }
                    zonesOfVisit |= 1 << UInt64(z)
                    visitZoneDwell[z] = max(visitZoneDwell[z], run.zoneDwellAtEnd)
                    let start = Int(run.start), end = Int(run.end)
                    zonePresentSlots[z] += Int64(end - start)
                    sitePresentSlots += Int64(end - start)
                    presenceSteps[z * width + start] += 1
                    presenceSteps[z * width + end] -= 1
                    presenceSteps[zc * width + start] += 1
                    presenceSteps[zc * width + end] -= 1
                }
                if qualifies {
                    siteDwell.append(visitDwell)
                    visited |= zonesOfVisit
                    var rest = zonesOfVisit
                    while rest != 0 {
                        let z = rest.trailingZeroBitCount
                        zoneDwell[z].append(visitZoneDwell[z])
                        visitZoneDwell[z] = 0
                        rest &= rest - 1
                    }
                }
                countTransitions(before: key, qualifying: qualifies, resident: resident, through: true)
                i = j
            }
            guard !resident else { continue }
            siteDevices += 1
            if visited == 0 { sitePassersby += 1 } else { siteVisitors += 1 }
            var rest = heard
            while rest != 0 {
                let z = rest.trailingZeroBitCount
                zoneDevices[z] += 1
                if visited & (1 << UInt64(z)) != 0 { zoneVisitors[z] += 1 } else { zonePassersby[z] += 1 }
                rest &= rest - 1
            }
        }
        countTransitions(before: .max, qualifying: false, resident: false, through: true)

        let slotSeconds = Double(self.slotSeconds)
        /// Nearest-rank percentile of dwell times, in seconds (`nil` for none): the smallest
        /// value with at least `p` of the values at or below it.
        func percentile(_ sorted: [Int32], _ p: Double) -> Double? {
            guard !sorted.isEmpty else { return nil }
            let rank = Int((p * Double(sorted.count)).rounded(.up))
            return Double(sorted[max(0, min(sorted.count - 1, rank - 1))]) * slotSeconds
        }
        func peak(_ row: Int) -> Int {
            var current: Int32 = 0, best: Int32 = 0
            for step in presenceSteps[row * width ..< (row + 1) * width] {
                current += step
                best = max(best, current)
            }
            return Int(best)
        }
        var rows: [ZoneHour] = []
        rows.reserveCapacity(zc + 1)
        for z in 0 ..< zc {
            zoneDwell[z].sort()
            let dwell = zoneDwell[z]
            rows.append(ZoneHour(
                zone: zoneIDs[z],
                devices: zoneDevices[z],
                visitors: zoneVisitors[z],
                visits: dwell.count,
                averagePresent: Double(zonePresentSlots[z]) * slotSeconds / hourSeconds,
                peakPresent: peak(z),
                medianDwellSeconds: percentile(dwell, 0.5),
                p90DwellSeconds: percentile(dwell, 0.9),
                passersby: zonePassersby[z]))
        }
        siteDwell.sort()
        let dwell = siteDwell
        rows.append(ZoneHour(
            zone: ZoneHour.siteWide,
            devices: siteDevices,
            visitors: siteVisitors,
            visits: dwell.count,
            averagePresent: Double(sitePresentSlots) * slotSeconds / hourSeconds,
            peakPresent: peak(zc),
            medianDwellSeconds: percentile(dwell, 0.5),
            p90DwellSeconds: percentile(dwell, 0.9),
            passersby: sitePassersby))

        var flows: [FlowCount] = []
        if !strict {
            for from in 0 ..< zc {
                for to in 0 ..< zc where flowMatrix[from * zc + to] > 0 {
                    flows.append(FlowCount(from: zoneIDs[from], to: zoneIDs[to], transitions: flowMatrix[from * zc + to]))
                }
            }
        }
        return HourReport(hourStart: hour.hour.start, utcOffsetSeconds: hour.hour.utcOffsetSeconds, partial: partial, zones: rows, flows: flows)
    }
}

/// What the tracker counted besides the reports; no per-device information.
public struct TrackerCounters: Sendable, Equatable {
    /// Observations taken into a slot.
    public var observations = 0
    /// Observations dropped because they came after the lateness window.
    public var late = 0
    /// Observations naming a sensor the configuration does not have.
    public var unknownSensor = 0
    /// Device entries forgotten after the visit gap.
    public var evicted = 0
    /// Devices recognised as residents (summed over key periods).
    public var residents = 0
    /// Presence decided for an hour that had already been written (dropped).
    public var afterClose = 0
    /// Key rotations seen.
    public var resets = 0

    public init() {}
}

/// The strongest frame of one device in one slot, with the slot as a full slot number.
struct SlotAggregate {
    /// Rank given to frames without a signal reading: below any real dBm, yet it places the
    /// device in the sensor's zone whatever the threshold (the source cannot tell).
    static let noSignal: Int16 = -1000
    static let none: Int64 = .min

    var slot: Int64 = SlotAggregate.none
    var rank: Int16 = SlotAggregate.noSignal - 1
    var sensor: Int32 = 0

    init(slot: Int64, rank: Int16, sensor: Int32) {
        self.slot = slot
        self.rank = rank
        self.sensor = sensor
    }
}

/// The strongest frame of one device in one slot, in 8 bytes: the slot as an offset from
/// ``Tracker/slotBase``.
struct PackedSlot {
    static let none = Int32.min

    var offset: Int32 = PackedSlot.none
    var rank: Int16 = SlotAggregate.noSignal - 1
    var sensor: Int16 = 0

    init() {}

    @inline(__always)
    init(offset: Int32, rank: Int16, sensor: Int16) {
        self.offset = offset
        self.rank = rank
        self.sensor = sensor
    }

    var isEmpty: Bool { offset == PackedSlot.none }

    @inline(__always)
    mutating func add(rank r: Int16, sensor s: Int16) {
        // Ties go to the lower sensor index so the result does not depend on arrival order.
        if r > rank || (r == rank && s < sensor) {
            rank = r
            sensor = s
        }
    }
}

/// One tracked device, packed into 64 bytes (it is most of the tracker's memory: one per
/// device heard in the last hour or so).
///
/// Slot numbers are stored as 32-bit offsets from the tracker's ``Tracker/slotBase`` (see
/// ``Tracker/rebaseIfNeeded(for:)``), ``PackedSlot/none`` standing for none. A visit is
/// named by its device and its first slot, so it needs no number of its own. Where the
/// device's last presence run and "heard" mark are is only a hint (an index into an hour's
/// records, checked before use), so no hour number is kept either.
struct DeviceState {
    var pseudonym: Pseudonym
    /// Bit i set: heard in slot `lastDecided - i` (the fast resident rule's window).
    var heardMask: UInt64 = 0
    var older = PackedSlot()
    var newer = PackedSlot()
    /// The newest slot decided (all slots up to it are decided: a frame for one of them is
    /// late), which is also the last slot the device was heard in once nothing is pending.
    var lastDecidedOffset = PackedSlot.none
    var visitStartOffset: Int32 = 0
    var lastPlacedOffset = PackedSlot.none
    var localID: UInt32
    /// Slots placed in a zone in this key period (the resident rule).
    var presentSlots: Int32 = 0
    /// Index of the device's last presence run in its hour's ``HourAccumulator/runs``.
    var runIndex: Int32 = -1
    /// Index of the device's last mark in its hour's ``HourAccumulator/marks``.
    var markIndex: Int32 = -1
    var lastZoneIndex: UInt8 = 0
    var flags: UInt8 = DeviceState.liveFlag

    init(pseudonym: Pseudonym, localID: UInt32) {
        self.pseudonym = pseudonym
        self.localID = localID
    }

    static let liveFlag: UInt8 = 1 << 0
    static let visitOpenFlag: UInt8 = 1 << 1
    static let residentFlag: UInt8 = 1 << 2
    static let randomisedFlag: UInt8 = 1 << 3
    static let groupFlag: UInt8 = 1 << 4

    @inline(__always) func flag(_ bit: UInt8) -> Bool { flags & bit != 0 }
    @inline(__always) mutating func setFlag(_ bit: UInt8, _ on: Bool) { flags = on ? flags | bit : flags & ~bit }

    var live: Bool { get { flag(Self.liveFlag) } set { setFlag(Self.liveFlag, newValue) } }
    var visitOpen: Bool { get { flag(Self.visitOpenFlag) } set { setFlag(Self.visitOpenFlag, newValue) } }
    var resident: Bool { get { flag(Self.residentFlag) } set { setFlag(Self.residentFlag, newValue) } }
    /// Heard from a locally administered address (never a resident by the fast rule).
    var randomised: Bool { get { flag(Self.randomisedFlag) } set { setFlag(Self.randomisedFlag, newValue) } }
    /// A group of randomised addresses with one element fingerprint (never a resident).
    var group: Bool { get { flag(Self.groupFlag) } set { setFlag(Self.groupFlag, newValue) } }

    var lastZone: Int32 {
        get { Int32(lastZoneIndex) }
        set { lastZoneIndex = UInt8(newValue) }
    }
}

/// A device in one zone for consecutive slots `[start, end)` of one visit, within one hour,
/// packed into 20 bytes (one or more per device present in the hour).
///
/// `start` and `end` count slots from the hour's ``HourAccumulator/firstSlot``: every run of
/// an hour has the same base, so lengths and the order of starts and ends are those of the
/// slot numbers themselves. They take 13 bits each (an hour has at most 7,201 one-second
/// slots) and the zone 6 bits (at most 64 zones, ``Tracker/init(settings:)``).
struct Run {
    /// Slots an hour can hold at most: `start` and `end` are below this.
    static let maximumSlot: Int32 = 1 << 13

    var localID: UInt32
    /// The visit's first slot (``DeviceState/visitStartOffset``): with `localID` it names the visit.
    var visitStart: Int32
    private var packed: UInt32
    /// Slots the visit had spent in this zone by `end`.
    var zoneDwellAtEnd: Int32
    /// Slots from the visit's start to `end`.
    var visitDwellAtEnd: Int32

    init(localID: UInt32, visitStart: Int32, start: Int32, end: Int32, zone: Int32, zoneDwellAtEnd: Int32, visitDwellAtEnd: Int32) {
        self.localID = localID
        self.visitStart = visitStart
        self.packed = UInt32(start) | UInt32(end) << 13 | UInt32(zone) << 26
        self.zoneDwellAtEnd = zoneDwellAtEnd
        self.visitDwellAtEnd = visitDwellAtEnd
    }

    var start: Int32 { Int32(packed & 0x1FFF) }
    var end: Int32 { Int32((packed >> 13) & 0x1FFF) }
    var zone: Int32 { Int32(packed >> 26) }

    /// Device and visit in one sortable key.
    var visitKey: UInt64 { UInt64(localID) << 32 | UInt64(UInt32(bitPattern: visitStart)) }

    /// Whether presence of this device and visit in `zone` from slot `at` continues this run.
    @inline(__always)
    func continues(localID: UInt32, visitStart: Int32, zone: Int32, at slot: Int32) -> Bool {
        self.localID == localID && self.visitStart == visitStart && end == slot && self.zone == zone
    }

    mutating func extend(to end: Int32, zoneDwellAtEnd: Int32, visitDwellAtEnd: Int32) {
        packed = packed & ~(UInt32(0x1FFF) << 13) | UInt32(end) << 13
        self.zoneDwellAtEnd = zoneDwellAtEnd
        self.visitDwellAtEnd = visitDwellAtEnd
    }
}

/// A device heard in a zone in an hour, in a slot too weak to place it there (placed
/// slots are recorded as ``Run``s, which say as much).
struct HeardMark {
    var localID: UInt32
    var zoneIndex: UInt8

    var zone: Int32 { Int32(zoneIndex) }
}

/// A move from one zone to another within a visit (at most 64 zones, so a byte each).
struct Transition {
    var localID: UInt32
    var visitStart: Int32
    var from: UInt8
    var to: UInt8

    var visitKey: UInt64 { UInt64(localID) << 32 | UInt64(UInt32(bitPattern: visitStart)) }
}

/// What one open hour has collected. Holds per-tracker serial numbers, never pseudonyms.
struct HourAccumulator {
    var hour: LocalHour
    /// The slot that ``Run/start`` and ``Run/end`` count from (the slot holding the hour's start).
    let firstSlot: Int64
    var runs = ChunkedArray<Run>()
    var marks = ChunkedArray<HeardMark>()
    var transitions = ChunkedArray<Transition>()
    /// Devices recognised as residents while this hour was open.
    var residents: Set<UInt32> = []

    init(hour: LocalHour, firstSlot: Int64) {
        self.hour = hour
        self.firstSlot = firstSlot
    }
}

extension Tracker: PseudonymScope {
    /// Key rotation (P4): the slots heard under the old key are decided into their hours
    /// (anonymous counts), then every pseudonym-keyed entry is dropped.
    public mutating func endKeyPeriod(at instantSeconds: Int64) {
        reset()
    }
}
