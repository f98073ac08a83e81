import FootfallCore

/// Distinct counts of one local day, per zone and for the whole site, before suppression
/// (`daily-YYYY-MM-DD.csv`).
///
/// A day's visitors cannot be added up from its hours (someone who stays from 10:00 to
/// 12:30 is a visitor of three hours but one person of the day), so the tracker counts them
/// itself. It can link a device's hours only within one key period: the tracker's serial
/// numbers for devices start afresh with every key, so a device heard under two keys counts
/// twice. That is why day totals are written only with daily rotation (at a time the store
/// is closed); with hourly rotation a "day total" would be the sum of the hours.
public struct DayReport: Sendable, Equatable {
    /// The local date, `YYYY-MM-DD`.
    public var date: String
    /// The day was still in progress when it was written (shutdown, end of a replay).
    public var partial: Bool
    /// One row per configured zone, in configuration order, then the site-wide row.
    public var zones: [ZoneDay]

    public init(date: String, partial: Bool, zones: [ZoneDay]) {
        self.date = date
        self.partial = partial
        self.zones = zones
    }
}

/// A zone's (or the site's) figures of one day.
public struct ZoneDay: Sendable, Equatable {
    /// Zone id, or ``ZoneHour/siteWide``.
    public var zone: String
    /// Distinct devices heard in the zone during the day (visitors and passers-by).
    public var devices: Int
    /// Distinct devices that were visitors of the zone in at least one hour of the day.
    public var visitors: Int
    /// `devices − visitors`: heard in the zone that day but never a visitor of it.
    public var passersby: Int
    /// Distinct qualifying visits present in the zone during the day.
    public var visits: Int
    /// Nearest-rank median of the visits' dwell in the zone (their longest in the day), seconds.
    public var medianDwellSeconds: Double?
    /// The day's visits per ``DwellBand`` (by their longest dwell in the day).
    public var dwellBands: [Int] = []
    /// Distinct devices per ``DwellBand``: what guards the band.
    public var dwellBandDevices: [Int] = []

    public init(zone: String, devices: Int = 0, visitors: Int = 0, passersby: Int = 0, visits: Int = 0, medianDwellSeconds: Double? = nil) {
        self.zone = zone
        self.devices = devices
        self.visitors = visitors
        self.passersby = passersby
        self.visits = visits
        self.medianDwellSeconds = medianDwellSeconds
    }
}

/// A day as it may be written, after noise (when configured) and suppression.
public struct PublishedDay: Sendable, Equatable {
    public var date: String
    public var partial: Bool
    public var zones: [PublishedZoneDay]
    public var k: Int
}

public struct PublishedZoneDay: Sendable, Equatable {
    public var zone: String
    public var devices: Published<Int>
    public var visitors: Published<Int>
    public var passersby: Published<Int>
    public var visits: Published<Int>
    /// `nil` when there was no visit (an empty cell, not a withheld one).
    public var medianDwellSeconds: Published<Double>?
    /// Visits per ``DwellBand``, in band order.
    public var dwellBands: [Published<Int>]
    /// The withheld columns, in header order.
    public var suppressed: [HeatmapColumn]
}

extension Suppression {
    /// Noise and suppression for a day, by the very rules (and code) of an hour: the day is
    /// read as an hour whose rows have the day's counts, so every rule that guards an hour's
    /// devices, visitors, passers-by, visits and dwell guards the day's too (P7, P8).
    public static func publish(_ day: DayReport, privacy: PrivacySettings) -> PublishedDay {
        let asHour = HourReport(hourStart: 0, utcOffsetSeconds: 0, partial: day.partial, zones: day.zones.map {
            var row = ZoneHour(zone: $0.zone, devices: $0.devices, visitors: $0.visitors, visits: $0.visits, averagePresent: 0, peakPresent: 0,
                               medianDwellSeconds: $0.medianDwellSeconds, p90DwellSeconds: nil, passersby: $0.passersby)
            row.dwellBands = $0.dwellBands
            row.dwellBandDevices = $0.dwellBandDevices
            return row
        }, flows: [])
        let published = publish(asHour, privacy: privacy)
        let kept = Set<HeatmapColumn>([.devices, .visitors, .passersby, .visits, .medianDwell] + DwellBand.allCases.map(\.column))
        return PublishedDay(date: day.date, partial: day.partial, zones: published.zones.map { row in
            PublishedZoneDay(zone: row.zone, devices: row.devices, visitors: row.visitors, passersby: row.passersby, visits: row.visits,
                             medianDwellSeconds: row.medianDwellSeconds, dwellBands: row.dwellBands, suppressed: row.suppressed.filter(kept.contains))
        }, k: privacy.k)
    }
}
