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
///   appended to the slot's hour; the presence tail when a visit ends;
/// - per hour: distinct counts, percentiles and flows, from the hour's runs.
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
    /// The fast resident rule: bits of the slots in its window, and how many must be heard.
    let residentWindowMask: UInt64
    let residentMinimumHeard: Int

    // MARK: device table (pseudonym-keyed; dropped by reset)
    /// Pseudonym → index in `devices`, a flat open-addressing table (``DeviceIndex``).
    var index = DeviceIndex()
    var devices: [DeviceState] = []
    var freeList: [Int32] = []
    /// Per device and zone: slots spent in the zone in the current visit.
    var zoneDwell: [Int32] = []

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
    var nextVisitID: UInt32 = 1
    /// Serial number of the next hour accumulator (0 means none, see ``DeviceState/runHour``).
    var nextHourSerial: UInt32 = 1
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
        }
        if firstSlot == .min { firstSlot = slot }
        let rank: Int16 = observation.signalDBm.map { Int16($0) } ?? SlotAggregate.noSignal
        // The entity counted: the address, or under `group` the keyed element fingerprint of
        // a randomised address (both are keyed pseudonyms of the current key period).
        let entity = grouping && observation.randomised ? observation.fingerprint : observation.device
        let d: Int
        if let found = index.find(entity, in: devices) {
            d = Int(found)
        } else {
            d = allocate(entity, randomised: observation.randomised, slot: slot)
        }
        devices[d].lastHeardNanos = max(devices[d].lastHeardNanos, t)
        if devices[d].resident {
            // Nothing of a resident is counted, but its hour still gets a (zero) report.
            _ = hourIndex(forSlot: slot)
            counters.observations += 1
            return
        }
        if devices[d].newer.slot == slot {
            devices[d].newer.add(rank: rank, sensor: Int32(sensor))
        } else if devices[d].older.slot == slot {
            devices[d].older.add(rank: rank, sensor: Int32(sensor))
        } else if slot <= devices[d].finalizedThrough {
            counters.late += 1
            return
        } else if devices[d].newer.isEmpty || slot > devices[d].newer.slot {
            if !devices[d].older.isEmpty { finalize(device: d, devices[d].older) }
            devices[d].older = devices[d].newer
            devices[d].newer = SlotAggregate(slot: slot, rank: rank, sensor: Int32(sensor))
        } else if devices[d].older.isEmpty {
            // Between the last finalized slot and the newest one.
            devices[d].older = SlotAggregate(slot: slot, rank: rank, sensor: Int32(sensor))
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
            let hour = hours.removeFirst()
            let partial = hour.hour.start == inProgress
            closedReports.append(report(for: hour, partial: partial, listenedUntil: partial ? dataEnd : hour.hour.end))
            closedThrough = hour.hour.end
        }
        lastHourIndex = 0
        return takeClosedHours()
    }

    /// Key rotation: every slot heard under the old key is decided into its hour, then all
    /// device-keyed state is dropped. The hours' counts survive; a device present across the
    /// rotation starts a new visit as a new device.
    public mutating func reset() {
        finalizeAllPending()
        closeAllVisits()
        index = DeviceIndex()
        devices = []
        freeList = []
        zoneDwell = []
        counters.resets += 1
    }

    /// Devices currently held in the table (present, or kept as resident candidates).
    public var trackedDevices: Int { index.count }

    /// Whether the entity with this pseudonym is held as a resident (tests check that known
    /// fixed devices are recognised; nothing outside the core can make a pseudonym to ask).
    func isResident(_ pseudonym: Pseudonym) -> Bool {
        index.find(pseudonym, in: devices).map { devices[Int($0)].resident } ?? false
    }

    // MARK: - Device table

    mutating func allocate(_ pseudonym: Pseudonym, randomised: Bool, slot: Int64) -> Int {
        var state = DeviceState(pseudonym: pseudonym, localID: nextLocalID, slot: slot)
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
            zoneDwell.append(contentsOf: repeatElement(0, count: zoneIDs.count))
        }
        index.insert(pseudonym, device: Int32(d), in: devices)
        return d
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
        for d in devices.indices where devices[d].live {
            if !devices[d].older.isEmpty, (devices[d].older.slot + 1) * slotNanos <= w {
                finalize(device: d, devices[d].older)
                devices[d].older = SlotAggregate()
            }
            if devices[d].older.isEmpty, !devices[d].newer.isEmpty, (devices[d].newer.slot + 1) * slotNanos <= w {
                finalize(device: d, devices[d].newer)
                devices[d].newer = SlotAggregate()
            }
            // The visit is over once a silence longer than the visit gap is certain.
            if devices[d].visitOpen, (devices[d].lastPlacedSlot + maxGapSlots + 2) * slotNanos <= w {
                closeVisit(device: d, before: .max)
            }
            let gone = devices[d].newer.isEmpty && devices[d].lastHeardNanos < goneBefore
            if gone && !devices[d].resident && devices[d].presentSlots < keepSlots {
                if devices[d].visitOpen { closeVisit(device: d, before: .max) }
                index.remove(devices[d].pseudonym, in: devices)
                devices[d].live = false
                freeList.append(Int32(d))
                counters.evicted += 1
            }
        }
        let delay = Int64(rules.visitGapSeconds) + slotSeconds
        while let first = hours.first, first.hour.end + delay <= wSeconds {
            closedReports.append(report(for: first, partial: false, listenedUntil: first.hour.end))
            closedThrough = first.hour.end
            hours.removeFirst()
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
        let from = devices[d].lastPlacedSlot + 1
        let to = min(from + tailSlots, limit)
        if to > from { addPresence(device: d, zone: devices[d].lastZone, from: from, to: to) }
    }

    mutating func finalizeAllPending() {
        for d in devices.indices where devices[d].live {
            if !devices[d].older.isEmpty { finalize(device: d, devices[d].older) }
            if !devices[d].newer.isEmpty { finalize(device: d, devices[d].newer) }
            devices[d].older = SlotAggregate()
            devices[d].newer = SlotAggregate()
        }
    }

    // MARK: - Slot decisions

    /// Decides one slot of one device: its zone (the zone of the sensor that heard it
    /// strongest) and whether the signal reached that zone's threshold.
    mutating func finalize(device d: Int, _ slot: SlotAggregate) {
        devices[d].finalizedThrough = max(devices[d].finalizedThrough, slot.slot)
        guard !devices[d].resident else { return }
        if noteHeard(device: d, slot: slot.slot) { return }
        let zone = sensorZone[Int(slot.sensor)]
        let placed = slot.rank == SlotAggregate.noSignal || slot.rank >= zoneThreshold[Int(zone)]
        let localID = devices[d].localID
        guard let h = hourIndex(forSlot: slot.slot) else { counters.afterClose += 1; return }
        hours[h].heard[localID, default: 0] |= (1 << UInt64(zone))
        guard placed else { return }

        let s = slot.slot
        if devices[d].visitOpen, s - devices[d].lastPlacedSlot - 1 <= maxGapSlots {
            // Bridge the gap in the last zone, then the slot itself.
            let last = devices[d].lastZone
            let previous = devices[d].lastPlacedSlot
            devices[d].lastPlacedSlot = s
            if s - previous > 1 {
                addPresence(device: d, zone: last, from: previous + 1, to: s)
            }
            if zone != last && !strict, let hs = hourIndex(forSlot: s) {
                hours[hs].transitions.append(Transition(localID: localID, visitID: devices[d].visitID, from: UInt8(last), to: UInt8(zone)))
            }
        } else {
            if devices[d].visitOpen { closeVisit(device: d, before: s) }
            devices[d].visitOpen = true
            devices[d].visitID = nextVisitID
            nextVisitID &+= 1
            devices[d].visitStartSlot = s
            devices[d].lastPlacedSlot = s
            for z in 0 ..< zoneIDs.count { zoneDwell[d * zoneIDs.count + z] = 0 }
        }
        addPresence(device: d, zone: zone, from: s, to: s + 1)
        devices[d].lastZone = zone

        if devices[d].presentSlots >= residentSlots && !devices[d].group {
            makeResident(device: d)
        }
    }

    /// The fast resident rule, once per heard slot: a vendor-assigned address heard (at any
    /// strength) in at least `residentMinimumHeard` of the last window's slots is a fixed
    /// device. One shift, one `or` and one population count.
    /// - Returns: whether the device has just become a resident.
    mutating func noteHeard(device d: Int, slot s: Int64) -> Bool {
        let shift = devices[d].heardMaskSlot == .min ? 64 : s - devices[d].heardMaskSlot
        if shift > 0 {
            devices[d].heardMask = shift >= 64 ? 0 : devices[d].heardMask << UInt64(shift)
            devices[d].heardMaskSlot = s
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
            let dwellEnd = devices[d].lastPlacedSlot + 1
            zoneDwell[d * zc + Int(zone)] += Int32(max(0, min(end, dwellEnd) - start))
            devices[d].presentSlots += Int32(n)
            let localID = devices[d].localID
            let zoneDwellAtEnd = zoneDwell[d * zc + Int(zone)]
            let visitDwellAtEnd = Int32(min(end, dwellEnd) - devices[d].visitStartSlot)
            let base = hours[h].firstSlot
            let r = devices[d].runIndex
            if devices[d].runHour == hours[h].serial, r >= 0,
               hours[h].runs[Int(r)].end == Int32(start - base), hours[h].runs[Int(r)].zone == zone,
               hours[h].runs[Int(r)].visitID == devices[d].visitID {
                hours[h].runs[Int(r)].end = Int32(end - base)
                hours[h].runs[Int(r)].zoneDwellAtEnd = zoneDwellAtEnd
                hours[h].runs[Int(r)].visitDwellAtEnd = visitDwellAtEnd
            } else {
                // A run extended above was opened here, in the same hour and zone, so the
                // device is already marked heard there: one hash lookup per new run only.
                hours[h].heard[localID, default: 0] |= (1 << UInt64(zone))
                devices[d].runHour = hours[h].serial
                devices[d].runIndex = Int32(hours[h].runs.count)
                hours[h].runs.append(Run(
                    localID: localID, visitID: devices[d].visitID, start: Int32(start - base), end: Int32(end - base),
                    zoneDwellAtEnd: zoneDwellAtEnd, visitDwellAtEnd: visitDwellAtEnd, zoneIndex: UInt8(zone)))
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
        var accumulator = HourAccumulator(hour: hour, serial: nextHourSerial, firstSlot: floorDiv(hour.start, slotSeconds))
        nextHourSerial &+= 1
        for d in devices.indices where devices[d].live && devices[d].resident {
            accumulator.residents.insert(devices[d].localID)
        }
        let position = hours.firstIndex { $0.hour.start > accumulator.hour.start } ?? hours.count
        hours.insert(accumulator, at: position)
        lastHourIndex = position
        return position
    }

    // MARK: - Hour close

    /// - Parameter listenedUntil: end of the time the tracker listened in this hour (the end
    ///   of the newest frame's slot for the hour in progress at shutdown).
    func report(for hour: HourAccumulator, partial: Bool, listenedUntil: Int64) -> HourReport {
        let zc = zoneIDs.count
        // Presence is averaged over the part of the hour the tracker listened: from its first
        // frame (a collector started at 14:50 knows nothing of 14:00–14:50) to the end of the
        // hour or of the input.
        let listenedFrom = firstSlot == .min ? hour.hour.start : max(hour.hour.start, firstSlot * slotSeconds)
        let hourSeconds = Double(max(slotSeconds, min(hour.hour.end, listenedUntil) - listenedFrom))
        let residents = hour.residents

        // Longest dwell each visit reached by the end of its presence in this hour.
        var visitDwell: [UInt32: Int32] = [:]
        for run in hour.runs where !residents.contains(run.localID) {
            visitDwell[run.visitID] = max(visitDwell[run.visitID] ?? 0, run.visitDwellAtEnd)
        }
        func qualifies(_ visit: UInt32) -> Bool { Int64(visitDwell[visit] ?? 0) >= minimumDwellSlots }

        var zoneVisitors = Array(repeating: Set<UInt32>(), count: zc)
        var zoneVisitDwell = Array(repeating: [UInt32: Int32](), count: zc)
        var zonePresentSlots = Array(repeating: Int64(0), count: zc)
        var zoneEvents = Array(repeating: [(Int64, Int)](), count: zc)
        var siteVisitors = Set<UInt32>()
        var siteEvents: [(Int64, Int)] = []
        var sitePresentSlots: Int64 = 0
        for run in hour.runs where !residents.contains(run.localID) && qualifies(run.visitID) {
            let z = Int(run.zone)
            zoneVisitors[z].insert(run.localID)
            zoneVisitDwell[z][run.visitID] = max(zoneVisitDwell[z][run.visitID] ?? 0, run.zoneDwellAtEnd)
            let start = Int64(run.start), end = Int64(run.end)
            zonePresentSlots[z] += end - start
            sitePresentSlots += end - start
            zoneEvents[z].append((start, 1)); zoneEvents[z].append((end, -1))
            siteEvents.append((start, 1)); siteEvents.append((end, -1))
            siteVisitors.insert(run.localID)
        }
        var zoneDevices = Array(repeating: 0, count: zc)
        var siteDevices = 0
        var zonePassersby = Array(repeating: 0, count: zc)
        var sitePassersby = 0
        for (localID, mask) in hour.heard where !residents.contains(localID) {
            siteDevices += 1
            if !siteVisitors.contains(localID) { sitePassersby += 1 }
            for z in 0 ..< zc where mask & (1 << UInt64(z)) != 0 {
                zoneDevices[z] += 1
                if !zoneVisitors[z].contains(localID) { zonePassersby[z] += 1 }
            }
        }

        let slotSeconds = Double(self.slotSeconds)
        var rows: [ZoneHour] = []
        rows.reserveCapacity(zc + 1)
        for z in 0 ..< zc {
            let dwell = zoneVisitDwell[z].values.map { Double($0) * slotSeconds }.sorted()
            rows.append(ZoneHour(
                zone: zoneIDs[z],
                devices: zoneDevices[z],
                visitors: zoneVisitors[z].count,
                visits: zoneVisitDwell[z].count,
                averagePresent: Double(zonePresentSlots[z]) * slotSeconds / hourSeconds,
                peakPresent: Tracker.peak(zoneEvents[z]),
                medianDwellSeconds: Tracker.percentile(dwell, 0.5),
                p90DwellSeconds: Tracker.percentile(dwell, 0.9),
                passersby: zonePassersby[z]))
        }
        var siteDwell: [Double] = []
        for (visit, slots) in visitDwell where Int64(slots) >= minimumDwellSlots {
            _ = visit
            siteDwell.append(Double(slots) * slotSeconds)
        }
        siteDwell.sort()
        rows.append(ZoneHour(
            zone: ZoneHour.siteWide,
            devices: siteDevices,
            visitors: siteVisitors.count,
            visits: siteDwell.count,
            averagePresent: Double(sitePresentSlots) * slotSeconds / hourSeconds,
            peakPresent: Tracker.peak(siteEvents),
            medianDwellSeconds: Tracker.percentile(siteDwell, 0.5),
            p90DwellSeconds: Tracker.percentile(siteDwell, 0.9),
            passersby: sitePassersby))

        var flows: [FlowCount] = []
        if !strict {
            var matrix = Array(repeating: 0, count: zc * zc)
            for t in hour.transitions where !residents.contains(t.localID) && qualifies(t.visitID) {
                matrix[Int(t.from) * zc + Int(t.to)] += 1
            }
            for from in 0 ..< zc {
                for to in 0 ..< zc where matrix[from * zc + to] > 0 {
                    flows.append(FlowCount(from: zoneIDs[from], to: zoneIDs[to], transitions: matrix[from * zc + to]))
                }
            }
        }
        return HourReport(hourStart: hour.hour.start, utcOffsetSeconds: hour.hour.utcOffsetSeconds, partial: partial, zones: rows, flows: flows)
    }

    /// Most runs open at once; at equal times an end is applied before a start, so a device
    /// moving from one run to the next counts once.
    static func peak(_ events: [(Int64, Int)]) -> Int {
        let sorted = events.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var current = 0, best = 0
        for (_, delta) in sorted {
            current += delta
            best = max(best, current)
        }
        return best
    }

    /// Nearest-rank percentile of sorted values (`nil` for none): the smallest value with at
    /// least `p` of the values at or below it.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
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

/// The strongest frame of one device in one slot.
struct SlotAggregate {
    /// Rank given to frames without a signal reading: below any real dBm, yet it places the
    /// device in the sensor's zone whatever the threshold (the source cannot tell).
    static let noSignal: Int16 = -1000
    static let none: Int64 = .min

    var slot: Int64 = SlotAggregate.none
    var rank: Int16 = SlotAggregate.noSignal - 1
    var sensor: Int32 = 0

    init() {}
    init(slot: Int64, rank: Int16, sensor: Int32) {
        self.slot = slot
        self.rank = rank
        self.sensor = sensor
    }

    var isEmpty: Bool { slot == SlotAggregate.none }

    @inline(__always)
    mutating func add(rank r: Int16, sensor s: Int32) {
        // Ties go to the lower sensor index so the result does not depend on arrival order.
        if r > rank || (r == rank && s < sensor) {
            rank = r
            sensor = s
        }
    }
}

/// One tracked device, packed into 88 bytes (it is most of the tracker's memory: one per
/// device heard in the last hour or so).
///
/// Slot numbers are stored as 32-bit offsets from the slot the device was first heard in,
/// which reach 68 years ahead even with 1-second slots, and read back as the full 64-bit
/// slot numbers the tracker computes with (``SlotAggregate/none`` and `.min` survive the
/// round trip). Flags share one byte.
struct DeviceState {
    var pseudonym: Pseudonym
    var lastHeardNanos: Int64 = .min
    /// Bit i set: heard in slot `heardMaskSlot - i` (the fast resident rule's window).
    var heardMask: UInt64 = 0
    /// The slot the offsets below count from.
    let baseSlot: Int64
    var olderPacked = PackedSlot()
    var newerPacked = PackedSlot()
    var finalizedThroughOffset = PackedSlot.none
    var visitStartOffset: Int32 = 0
    var lastPlacedOffset = PackedSlot.none
    var heardMaskOffset = PackedSlot.none
    var localID: UInt32
    var visitID: UInt32 = 0
    /// Slots placed in a zone in this key period (the resident rule).
    var presentSlots: Int32 = 0
    var runIndex: Int32 = -1
    /// ``HourAccumulator/serial`` of the hour that holds run `runIndex` (0: none).
    var runHour: UInt32 = 0
    var lastZoneIndex: UInt8 = 0
    var flags: UInt8 = DeviceState.liveFlag

    init(pseudonym: Pseudonym, localID: UInt32, slot: Int64) {
        self.pseudonym = pseudonym
        self.localID = localID
        self.baseSlot = slot
        self.visitStartOffset = 0
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

    @inline(__always) func wide(_ offset: Int32) -> Int64 {
        offset == PackedSlot.none ? .min : baseSlot &+ Int64(offset)
    }

    @inline(__always) func narrow(_ slot: Int64) -> Int32 {
        slot == .min ? PackedSlot.none : Int32(slot &- baseSlot)
    }

    var older: SlotAggregate {
        get { olderPacked.wide(base: baseSlot) }
        set { olderPacked = PackedSlot(newValue, base: baseSlot) }
    }

    var newer: SlotAggregate {
        get { newerPacked.wide(base: baseSlot) }
        set { newerPacked = PackedSlot(newValue, base: baseSlot) }
    }

    var finalizedThrough: Int64 {
        get { wide(finalizedThroughOffset) }
        set { finalizedThroughOffset = narrow(newValue) }
    }

    var visitStartSlot: Int64 {
        get { baseSlot &+ Int64(visitStartOffset) }
        set { visitStartOffset = Int32(newValue &- baseSlot) }
    }

    var lastPlacedSlot: Int64 {
        get { wide(lastPlacedOffset) }
        set { lastPlacedOffset = narrow(newValue) }
    }

    var heardMaskSlot: Int64 {
        get { wide(heardMaskOffset) }
        set { heardMaskOffset = narrow(newValue) }
    }

    var lastZone: Int32 {
        get { Int32(lastZoneIndex) }
        set { lastZoneIndex = UInt8(newValue) }
    }
}

/// A ``SlotAggregate`` in 8 bytes: the slot as an offset from the device's base slot.
struct PackedSlot {
    static let none = Int32.min

    var offset: Int32 = PackedSlot.none
    var rank: Int16 = SlotAggregate.noSignal - 1
    var sensor: Int16 = 0

    init() {}

    @inline(__always)
    init(_ slot: SlotAggregate, base: Int64) {
        offset = slot.slot == SlotAggregate.none ? PackedSlot.none : Int32(slot.slot &- base)
        rank = slot.rank
        sensor = Int16(slot.sensor)
    }

    @inline(__always)
    func wide(base: Int64) -> SlotAggregate {
        SlotAggregate(slot: offset == PackedSlot.none ? SlotAggregate.none : base &+ Int64(offset), rank: rank, sensor: Int32(sensor))
    }
}

/// A device in one zone for consecutive slots `[start, end)` of one visit, within one hour,
/// packed into 28 bytes (one or more per device heard in the hour).
///
/// `start` and `end` count slots from the hour's ``HourAccumulator/firstSlot``: every run of
/// an hour has the same base, so lengths and the order of starts and ends are those of the
/// slot numbers themselves, and an hour holds at most 3,601 slots.
struct Run {
    var localID: UInt32
    var visitID: UInt32
    var start: Int32
    var end: Int32
    /// Slots the visit had spent in this zone by `end`.
    var zoneDwellAtEnd: Int32
    /// Slots from the visit's start to `end`.
    var visitDwellAtEnd: Int32
    /// At most 64 zones (``Tracker/init(settings:)``).
    var zoneIndex: UInt8

    var zone: Int32 { Int32(zoneIndex) }
}

/// A move from one zone to another within a visit (at most 64 zones, so a byte each).
struct Transition {
    var localID: UInt32
    var visitID: UInt32
    var from: UInt8
    var to: UInt8
}

/// What one open hour has collected. Holds per-tracker serial numbers, never pseudonyms.
struct HourAccumulator {
    var hour: LocalHour
    /// Unique in this tracker; a device's ``DeviceState/runHour`` names it.
    let serial: UInt32
    /// The slot that ``Run/start`` and ``Run/end`` count from (the slot holding the hour's start).
    let firstSlot: Int64
    /// Per device: bit z set when the device was heard (placed or not) in zone z.
    var heard: [UInt32: UInt64] = [:]
    var runs: [Run] = []
    var transitions: [Transition] = []
    /// Devices recognised as residents while this hour was open.
    var residents: Set<UInt32> = []

    init(hour: LocalHour, serial: UInt32, firstSlot: Int64) {
        self.hour = hour
        self.serial = serial
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
