import FootfallCore

/// Day totals (``DayReport``): who was counted in a local day's hours, counted once.
///
/// Each closed hour hands over, per device, the zones it was heard in and the zones it was a
/// visitor of, and per visit its dwell — by the tracker's serial numbers (`localID`), never
/// by pseudonym. A device gets a new serial with every key, so a day's tally can link a
/// device's hours only within one key period; that is why days are counted only with daily
/// rotation (``Tracker/countsDays``). A tally is dropped as soon as its day is reported.
struct DayTally {
    /// `YYYY-MM-DD`, local.
    var date: String
    /// Per device serial: zones heard in, zones visited (bit masks, as in an hour), filled
    /// while each hour is closed (``HourClose``).
    var masks: DayMasks
    /// Per qualifying visit and zone (the site as zone `zoneCount`): its longest dwell in the
    /// day, in slots.
    var dwell: [VisitZone: Int32] = [:]

    struct VisitZone: Hashable {
        var visit: UInt64
        var zone: Int
    }
}

/// What one closed hour adds to its day besides its devices' zones (which the hour's walk
/// merges straight into the day's ``DayMasks``).
struct DayContribution {
    var dwell: [(visit: UInt64, zone: Int, slots: Int32)] = []
}

extension Tracker {
    /// The local date of an hour's start.
    func localDate(of hour: LocalHour) -> String {
        String(LocalTime(utcSeconds: hour.start, utcOffsetSeconds: hour.utcOffsetSeconds).iso8601.prefix(10))
    }

    /// Adds a closed hour's contribution to its day, and reports the days that are over: those
    /// before the hour's day, and the hour's own day when the hour ends at local midnight
    /// (unless the hour was still in progress: ``finish()`` reports that day as partial).
    mutating func tallyDay(_ hour: LocalHour, _ part: DayContribution, inProgress: Bool = false) {
        guard countsDays else { return }
        let date = localDate(of: hour)
        let i = dayTallyIndex(date)
        for v in part.dwell {
            let key = DayTally.VisitZone(visit: v.visit, zone: v.zone)
            dayTallies[i].dwell[key] = max(dayTallies[i].dwell[key] ?? 0, v.slots)
        }
        let endDate = String(LocalTime(utcSeconds: hour.end, utcOffsetSeconds: clock.utcOffset(at: hour.end)).iso8601.prefix(10))
        closeDays { $0 < date || ($0 == date && endDate != date && !inProgress) }
    }

    /// The tally of local day `date`, started if there is none.
    mutating func dayTallyIndex(_ date: String) -> Int {
        if let found = dayTallies.firstIndex(where: { $0.date == date }) { return found }
        dayTallies.append(DayTally(date: date, masks: DayMasks(zoneCount: zoneIDs.count)))
        return dayTallies.count - 1
    }

    /// Reports and drops the tallies whose date passes `isOver`. A day's report rides on the
    /// newest closed hour (``HourReport/days``), so whatever writes that hour writes the day
    /// too, in order, in `replay` and `run` alike.
    mutating func closeDays(partial: Bool = false, _ isOver: (String) -> Bool) {
        var kept: [DayTally] = []
        // A day the tracker started in was heard only in part (a collector started at 14:00,
        // or restarted: the counts before it went with the old process and its key).
        let startDate = firstSlot == .min ? nil : localDate(of: clock.hour(containing: firstSlot * slotSeconds))
        for tally in dayTallies {
            if isOver(tally.date) { closedDays.append(dayReport(tally, partial: partial || tally.date == startDate)) } else { kept.append(tally) }
        }
        dayTallies = kept
        // Days wait for the next hour that closes when none is at hand.
        if !closedDays.isEmpty, !closedReports.isEmpty {
            closedReports[closedReports.count - 1].days += closedDays
            closedDays.removeAll()
        }
    }

    /// The figures of a day, as the hours define them: a device is a visitor of a zone that
    /// day when it was one in any hour; the dwell of a visit is its longest in the day.
    func dayReport(_ tally: DayTally, partial: Bool) -> DayReport {
        let zc = zoneIDs.count
        var devices = [Int](repeating: 0, count: zc + 1), visitors = [Int](repeating: 0, count: zc + 1)
        tally.masks.forEach { heard, visited in
            devices[zc] += 1
            if visited != 0 { visitors[zc] += 1 }
            for z in 0 ..< zc where heard & (1 << UInt64(z)) != 0 {
                devices[z] += 1
                if visited & (1 << UInt64(z)) != 0 { visitors[z] += 1 }
            }
        }
        var dwell = [[Int32]](repeating: [], count: zc + 1)
        // Per zone and band, the devices (serial numbers: a visit key's high 32 bits).
        var bandDevices = [[Set<UInt32>]](repeating: [Set<UInt32>](repeating: [], count: DwellBand.allCases.count), count: zc + 1)
        for (key, slots) in tally.dwell where key.zone <= zc {
            dwell[key.zone].append(slots)
            bandDevices[key.zone][DwellBand.of(slots: slots, slotSeconds: slotSeconds).rawValue].insert(UInt32(truncatingIfNeeded: key.visit >> 32))
        }
        let rows = (0 ... zc).map { z -> ZoneDay in
            let sorted = dwell[z].sorted()
            // Nearest rank, as the hours' median.
            let median = sorted.isEmpty ? nil : Double(sorted[max(0, (sorted.count + 1) / 2 - 1)]) * Double(slotSeconds)
            var row = ZoneDay(zone: z == zc ? ZoneHour.siteWide : zoneIDs[z], devices: devices[z], visitors: visitors[z],
                              passersby: devices[z] - visitors[z], visits: sorted.count, medianDwellSeconds: median)
            row.dwellBands = DwellBand.counts(sorted, slotSeconds: slotSeconds)
            row.dwellBandDevices = bandDevices[z].map(\.count)
            return row
        }
        return DayReport(date: tally.date, partial: partial, zones: rows)
    }

}
