import FootfallCore

/// Anonymous aggregates of one local hour, before suppression. Nothing in it identifies a
/// device: only counts and durations per zone and for the whole site (P6).
public struct HourReport: Sendable, Equatable {
    /// Start of the hour, seconds since the Unix epoch.
    public var hourStart: Int64
    /// The site's UTC offset at `hourStart`, seconds (for the local ISO 8601 timestamp).
    public var utcOffsetSeconds: Int
    /// The hour was still in progress when it was written (shutdown).
    public var partial: Bool
    /// One row per configured zone, in configuration order, then the site-wide row.
    public var zones: [ZoneHour]
    /// Zone-to-zone transitions (empty in strict mode).
    public var flows: [FlowCount]
    /// The days that were over when this hour closed (``DayReport``), so that their files are
    /// written by whatever writes the hour, in order; empty unless the key rotates daily. An
    /// hour with no rows (`zones` empty) only carries days: at shutdown after every hour was
    /// already written, and its own files are never written.
    public var days: [DayReport] = []
    /// How long footfall listened in this hour, seconds: less than 3600 in the hour it
    /// started in and the partial hour at shutdown (`listened_s`, so a part-heard hour is
    /// not mistaken for a quiet one). `nil` when not known.
    public var listenedSeconds: Int?

    public init(hourStart: Int64, utcOffsetSeconds: Int, partial: Bool, zones: [ZoneHour], flows: [FlowCount]) {
        self.hourStart = hourStart
        self.utcOffsetSeconds = utcOffsetSeconds
        self.partial = partial
        self.zones = zones
        self.flows = flows
    }
}

public struct ZoneHour: Sendable, Equatable {
    /// Zone id, or ``ZoneHour/siteWide`` for the site row.
    public var zone: String
    /// Distinct devices heard in the zone (visitors, passers-by; residents excluded).
    public var devices: Int
    public var visitors: Int
    public var visits: Int
    /// Time-weighted mean number of visitors present during the hour.
    public var averagePresent: Double
    public var peakPresent: Int
    /// Dwell of the visits that ended in (or were open at the end of) the hour, seconds.
    public var medianDwellSeconds: Double?
    public var p90DwellSeconds: Double?
    public var passersby: Int
    /// Visits per ``DwellBand`` (the visits of `visits`, by their dwell); empty reads as zeros.
    public var dwellBands: [Int] = []
    /// Distinct devices per ``DwellBand`` (the people a band's visits describe: what guards it).
    public var dwellBandDevices: [Int] = []

    public static let siteWide = Zone.siteWideID

    /// The visits of a band.
    public func visits(in band: DwellBand) -> Int { band.rawValue < dwellBands.count ? dwellBands[band.rawValue] : 0 }
    /// The distinct devices of a band; when not counted, its visits (at least as many).
    public func devices(in band: DwellBand) -> Int { band.rawValue < dwellBandDevices.count ? dwellBandDevices[band.rawValue] : visits(in: band) }

    public init(zone: String, devices: Int = 0, visitors: Int = 0, visits: Int = 0, averagePresent: Double = 0, peakPresent: Int = 0, medianDwellSeconds: Double? = nil, p90DwellSeconds: Double? = nil, passersby: Int = 0) {
        self.zone = zone
        self.devices = devices
        self.visitors = visitors
        self.visits = visits
        self.averagePresent = averagePresent
        self.peakPresent = peakPresent
        self.medianDwellSeconds = medianDwellSeconds
        self.p90DwellSeconds = p90DwellSeconds
        self.passersby = passersby
    }
}

public struct FlowCount: Sendable, Equatable {
    public var from: String
    public var to: String
    /// Moves from `from` to `to` in the hour (one person can make several).
    public var transitions: Int
    /// Distinct devices that made them: the people the flow describes, which is what k
    /// guards (P7).
    public var devices: Int

    /// - Parameter devices: distinct devices; `nil` when every transition is a device of
    ///   its own (hand-built reports).
    public init(from: String, to: String, transitions: Int, devices: Int? = nil) {
        self.from = from
        self.to = to
        self.transitions = transitions
        self.devices = devices ?? transitions
    }
}
