import FootfallCore

/// Closing one hour: from the records the tracker collected while it was open (presence
/// runs, "heard" marks, zone transitions) to its ``HourReport``.
///
/// The steps, in order (``Tracker/report(for:partial:listenedUntil:)``):
/// 1. ``sortRecords(_:)``: runs and transitions by device and visit, marks by device;
/// 2. ``countDevices(runs:marks:transitions:)``: one walk over the sorted records, device by
///    device and visit by visit (``countVisit(_:from:to:resident:)``), with the transitions
///    of each visit counted as it ends (``countTransitions(before:qualifying:resident:)``);
/// 3. ``rows(hourSeconds:)`` and ``flows()``: the figures per zone and for the site.
///
/// The memory it needs beyond the records themselves is a few counters per zone, one dwell
/// value per visit and a presence count per slot and zone (for the peak). Nothing here is
/// keyed by a pseudonym: devices are the tracker's per-period serial numbers.
struct HourClose {
    // MARK: what the hour is closed with
    let zoneIDs: [String]
    let strict: Bool
    let slotSeconds: Int64
    let minimumDwellSlots: Int64
    /// A visit counts only once its peak reached this many dB above its zone's threshold.
    let peakMargin: Int16
    /// Devices recognised as residents while the hour was open: left out of every figure.
    let residents: Set<UInt32>
    /// Slots in the hour, plus one (the end of the last run).
    let width: Int
    /// Whether the hour's devices and visits are handed to its day (Tracker+Days.swift).
    let countsDays: Bool

    // MARK: what the walk adds up
    /// Presence per slot for the peaks: +1 where a run starts, −1 where it ends; the running
    /// sum at a slot is the number of runs covering it (a device moving from one run to the
    /// next at a slot counts once). Row `zoneIDs.count` is the whole site.
    var presenceSteps: [Int32]
    var zoneDevices: [Int]
    var zoneVisitors: [Int]
    var zonePassersby: [Int]
    var zonePresentSlots: [Int64]
    var zoneDwell: [[Int32]]
    var siteDevices = 0
    var siteVisitors = 0
    var sitePassersby = 0
    var sitePresentSlots: Int64 = 0
    var siteDwell: [Int32] = []
    /// Transitions per (from, to) zone pair; empty in strict mode.
    var flowMatrix: [Int]
    /// Distinct devices per (from, to) zone pair, and the last device counted in each (the
    /// transitions are sorted by device, so one compare tells a new one).
    var flowDevices: [Int]
    var flowLastDevice: [UInt32]
    /// Scratch: the dwell of the current visit per zone.
    var visitZoneDwell: [Int32]
    /// The next transition not yet counted.
    var nextTransition = 0
    /// What the hour adds to its day's totals (only when ``countsDays``): the dwell of its
    /// visits here, its devices' zones straight into the day's table.
    var day = DayContribution()
    var dayMasks: DayMasks
    /// Distinct devices per zone (row `zoneIDs.count`: the site) and dwell band, and the
    /// bands of the device being walked (bit masks per row).
    var bandDevices: [[Int]]
    var deviceBands: [UInt8]

    init(zoneIDs: [String], strict: Bool, slotSeconds: Int64, minimumDwellSlots: Int64, peakMargin: Int16 = 0, hour: HourAccumulator, countsDays: Bool = false) {
        self.peakMargin = peakMargin
        let zc = zoneIDs.count
        self.countsDays = countsDays
        self.zoneIDs = zoneIDs
        self.strict = strict
        self.slotSeconds = slotSeconds
        self.minimumDwellSlots = minimumDwellSlots
        self.residents = hour.residents
        self.width = Int(hour.hour.end / slotSeconds - hour.firstSlot) + 1
        dayMasks = DayMasks(zoneCount: zc)
        presenceSteps = [Int32](repeating: 0, count: (zc + 1) * width)
        zoneDevices = [Int](repeating: 0, count: zc)
        zoneVisitors = [Int](repeating: 0, count: zc)
        zonePassersby = [Int](repeating: 0, count: zc)
        zonePresentSlots = [Int64](repeating: 0, count: zc)
        zoneDwell = [[Int32]](repeating: [], count: zc)
        flowMatrix = [Int](repeating: 0, count: strict ? 0 : zc * zc)
        flowDevices = [Int](repeating: 0, count: strict ? 0 : zc * zc)
        flowLastDevice = [UInt32](repeating: .max, count: strict ? 0 : zc * zc)
        visitZoneDwell = [Int32](repeating: 0, count: zc)
        bandDevices = [[Int]](repeating: [Int](repeating: 0, count: DwellBand.allCases.count), count: zc + 1)
        deviceBands = [UInt8](repeating: 0, count: zc + 1)
    }

    /// Step 1: puts each device's records next to each other, visits in order.
    static func sortRecords(_ hour: inout HourAccumulator) {
        hour.runs.sort { $0.visitKey }
        hour.marks.sort { UInt64($0.localID) }
        hour.transitions.sort { $0.visitKey }
    }

    /// Step 2: one walk over the sorted records, one device at a time.
    mutating func countDevices(runs: ChunkedArray<Run>, marks: ChunkedArray<HeardMark>, transitions: ChunkedArray<Transition>) {
        var i = 0, m = 0
        while i < runs.count || m < marks.count {
            let localID = i == runs.count ? marks[m].localID
                : m == marks.count ? runs[i].localID : min(runs[i].localID, marks[m].localID)
            let resident = residents.contains(localID)
            // Zones the device was heard in, and zones it was a visitor of.
            var heard: UInt64 = 0
            var visited: UInt64 = 0
            while m < marks.count, marks[m].localID == localID {
                heard |= 1 << UInt64(marks[m].zoneIndex)
                m += 1
            }
            while i < runs.count, runs[i].localID == localID {
                let key = runs[i].visitKey
                var j = i
                while j < runs.count, runs[j].visitKey == key { j += 1 }
                let (zonesHeard, zonesVisited, qualifies) = countVisit(runs, from: i, to: j, resident: resident)
                heard |= zonesHeard
                visited |= zonesVisited
                countTransitions(transitions, before: key, qualifying: qualifies, resident: resident)
                i = j
            }
            defer { for z in deviceBands.indices { deviceBands[z] = 0 } }
            guard !resident else { continue }
            for z in deviceBands.indices where deviceBands[z] != 0 {
                for b in 0 ..< DwellBand.allCases.count where deviceBands[z] & (1 << b) != 0 { bandDevices[z][b] += 1 }
            }
            if countsDays { dayMasks.merge(localID: localID, heard: heard, visited: visited) }
            countDevice(heard: heard, visited: visited)
        }
        countTransitions(transitions, before: .max, qualifying: false, resident: false)
    }

    /// One visit (`runs[i ..< j]`, one device and visit): its presence, its dwell, and
    /// whether it makes its device a visitor.
    /// - Returns: the zones it was heard in, the zones it counts as a visit in (none when it
    ///   does not qualify), and whether it qualifies.
    mutating func countVisit(_ runs: ChunkedArray<Run>, from i: Int, to j: Int, resident: Bool) -> (heard: UInt64, visited: UInt64, qualifies: Bool) {
        let zc = zoneIDs.count
        var visitDwell: Int32 = 0
        var peak = Int16.min
        for k in i ..< j {
            visitDwell = max(visitDwell, runs[k].visitDwellAtEnd)
            peak = max(peak, runs[k].peakAtEnd)
        }
        // A visit that never came near (behind a wall, next door) is heard, not present.
        let qualifies = !resident && Int64(visitDwell) >= minimumDwellSlots && peak >= peakMargin
        var heard: UInt64 = 0
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
            deviceBands[zc] |= 1 << DwellBand.of(slots: visitDwell, slotSeconds: slotSeconds).rawValue
            if countsDays { day.dwell.append((runs[i].visitKey, zc, visitDwell)) }
            var rest = zonesOfVisit
            while rest != 0 {
                let z = rest.trailingZeroBitCount
                zoneDwell[z].append(visitZoneDwell[z])
                deviceBands[z] |= 1 << DwellBand.of(slots: visitZoneDwell[z], slotSeconds: slotSeconds).rawValue
                if countsDays { day.dwell.append((runs[i].visitKey, z, visitZoneDwell[z])) }
                visitZoneDwell[z] = 0
                rest &= rest - 1
            }
        }
        return (heard, zonesOfVisit, qualifies)
    }

    /// Counts the transitions up to and including those of the visit `key`. Transitions whose
    /// visit has no presence in this hour (none is expected: a transition is recorded with
    /// the presence in its new zone) count when a visit of no dwell qualifies.
    mutating func countTransitions(_ transitions: ChunkedArray<Transition>, before key: UInt64, qualifying: Bool, resident: Bool) {
        let zc = zoneIDs.count
        let dwellless = 0 >= minimumDwellSlots && peakMargin <= 0
        while nextTransition < transitions.count, transitions[nextTransition].visitKey <= key {
            let move = transitions[nextTransition]
            let counts = move.visitKey == key ? qualifying && !resident : dwellless && !residents.contains(move.localID)
            if counts && !strict {
                let cell = Int(move.from) * zc + Int(move.to)
                flowMatrix[cell] += 1
                if flowLastDevice[cell] != move.localID {
                    flowLastDevice[cell] = move.localID
                    flowDevices[cell] += 1
                }
            }
            nextTransition += 1
        }
    }

    /// A device that is not a resident: one device of the site and of every zone it was
    /// heard in; a visitor where it visited, else a passer-by.
    mutating func countDevice(heard: UInt64, visited: UInt64) {
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

    /// Step 3: one row per zone in configuration order, then the site row.
    /// - Parameter hourSeconds: the time the tracker listened in the hour, seconds.
    mutating func rows(hourSeconds: Double) -> [ZoneHour] {
        let zc = zoneIDs.count
        var rows: [ZoneHour] = []
        rows.reserveCapacity(zc + 1)
        for z in 0 ..< zc {
            zoneDwell[z].sort()
            rows.append(row(zone: zoneIDs[z], devices: zoneDevices[z], visitors: zoneVisitors[z], passersby: zonePassersby[z],
                            presentSlots: zonePresentSlots[z], dwell: zoneDwell[z], peakRow: z, hourSeconds: hourSeconds))
            rows[rows.count - 1].dwellBandDevices = bandDevices[z]
        }
        siteDwell.sort()
        rows.append(row(zone: ZoneHour.siteWide, devices: siteDevices, visitors: siteVisitors, passersby: sitePassersby,
                        presentSlots: sitePresentSlots, dwell: siteDwell, peakRow: zc, hourSeconds: hourSeconds))
        rows[rows.count - 1].dwellBandDevices = bandDevices[zc]
        return rows
    }

    func row(zone: String, devices: Int, visitors: Int, passersby: Int, presentSlots: Int64, dwell: [Int32], peakRow: Int, hourSeconds: Double) -> ZoneHour {
        let slotSeconds = Double(self.slotSeconds)
        var row = ZoneHour(
            zone: zone,
            devices: devices,
            visitors: visitors,
            visits: dwell.count,
            averagePresent: Double(presentSlots) * slotSeconds / hourSeconds,
            peakPresent: peak(peakRow),
            medianDwellSeconds: percentile(dwell, 0.5),
            p90DwellSeconds: percentile(dwell, 0.9),
            passersby: passersby)
        row.dwellBands = DwellBand.counts(dwell, slotSeconds: self.slotSeconds)
        return row
    }

    /// Nearest-rank percentile of dwell times, in seconds (`nil` for none): the smallest
    /// value with at least `p` of the values at or below it.
    func percentile(_ sorted: [Int32], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return Double(sorted[max(0, min(sorted.count - 1, rank - 1))]) * Double(slotSeconds)
    }

    /// The most visitors present at once in presence row `row`.
    func peak(_ row: Int) -> Int {
        var current: Int32 = 0, best: Int32 = 0
        for step in presenceSteps[row * width ..< (row + 1) * width] {
            current += step
            best = max(best, current)
        }
        return Int(best)
    }

    /// Step 3: the zone-to-zone flows in configuration order (none in strict mode).
    func flows() -> [FlowCount] {
        guard !strict else { return [] }
        let zc = zoneIDs.count
        var flows: [FlowCount] = []
        for from in 0 ..< zc {
            for to in 0 ..< zc where flowMatrix[from * zc + to] > 0 {
                flows.append(FlowCount(from: zoneIDs[from], to: zoneIDs[to], transitions: flowMatrix[from * zc + to], devices: flowDevices[from * zc + to]))
            }
        }
        return flows
    }
}

extension Tracker {
    /// The figures of one hour, from its records; sorts `hour`'s records in place.
    /// - Parameter listenedUntil: end of the time the tracker listened in this hour (the end
    ///   of the newest frame's slot for the hour in progress at shutdown).
    mutating func report(for hour: inout HourAccumulator, partial: Bool, listenedUntil: Int64) -> HourReport {
        // Presence is averaged over the part of the hour the tracker listened: from its first
        // frame, or in live mode from its start (a collector started at 14:50 knows nothing of
        // 14:00–14:50), to the end of the hour or of the input.
        let listenedFrom = firstSlot == .min ? hour.hour.start : max(hour.hour.start, firstSlot * slotSeconds)
        // Less the time no source could hear anything (live mode, every source down).
        let unheard = (unheardNanos[hour.hour.start] ?? 0) / 1_000_000_000
        let hourSeconds = Double(max(slotSeconds, min(hour.hour.end, listenedUntil) - listenedFrom - unheard))
        HourClose.sortRecords(&hour)
        var close = HourClose(zoneIDs: zoneIDs, strict: strict, slotSeconds: slotSeconds, minimumDwellSlots: minimumDwellSlots, peakMargin: peakMargin, hour: hour, countsDays: countsDays)
        // The hour's devices go straight into its day's table (moved in and back, not copied).
        let tally = countsDays ? dayTallyIndex(localDate(of: hour.hour)) : nil
        if let t = tally { swap(&close.dayMasks, &dayTallies[t].masks) }
        close.countDevices(runs: hour.runs, marks: hour.marks, transitions: hour.transitions)
        if let t = tally { swap(&close.dayMasks, &dayTallies[t].masks) }
        hour.day = close.day
        var report = HourReport(hourStart: hour.hour.start, utcOffsetSeconds: hour.hour.utcOffsetSeconds, partial: partial,
                                zones: close.rows(hourSeconds: hourSeconds), flows: close.flows())
        report.listenedSeconds = Int(hourSeconds)
        return report
    }
}
