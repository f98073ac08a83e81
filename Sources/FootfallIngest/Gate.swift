// Foundation is used for the site's UTC offset only (TimeZone), looked up once per minute of
// event time, never per frame.
import FootfallCore
import Foundation

/// Why the gate dropped a frame before hashing.
public enum GateDropReason: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// The transmitter is on the opt-out list (P16).
    case optedOut
    /// Weaker than the configured RSSI floor, or no signal reading while a floor is set (P12).
    case belowRSSIFloor
    /// Heard while the site was closed, in site local time (P13).
    case outsideOpeningHours
    /// A locally administered (randomised) address under the `ignore` policy.
    case randomisedIgnored

    public var description: String {
        switch self {
        case .optedOut: "opted_out"
        case .belowRSSIFloor: "below_rssi_floor"
        case .outsideOpeningHours: "outside_opening_hours"
        case .randomisedIgnored: "randomised_ignored"
        }
    }
}

/// What the gate decided for one frame.
public enum GateDecision: Sendable, Equatable {
    case admit
    case drop(GateDropReason)
}

/// How many frames the gate admitted and dropped, by reason. Plain integers, nothing per device.
///
/// The opted-out count is for tests only and is not part of ``dropped``: a frame of an
/// opted-out address must change no published number and no log line (P16), or a counter
/// would show when the one person who opted out walks in.
public struct GateCounters: Sendable, Equatable {
    public var admitted: Int = 0
    public var optedOut: Int = 0
    public var belowRSSIFloor: Int = 0
    public var outsideOpeningHours: Int = 0
    public var randomisedIgnored: Int = 0

    public init() {}

    /// Frames dropped for reasons that are not a person's choice (opted-out frames excluded).
    public var dropped: Int { belowRSSIFloor + outsideOpeningHours + randomisedIgnored }

    public subscript(reason: GateDropReason) -> Int {
        get {
            switch reason {
            case .optedOut: optedOut
            case .belowRSSIFloor: belowRSSIFloor
            case .outsideOpeningHours: outsideOpeningHours
            case .randomisedIgnored: randomisedIgnored
            }
        }
        set {
            switch reason {
            case .optedOut: optedOut = newValue
            case .belowRSSIFloor: belowRSSIFloor = newValue
            case .outsideOpeningHours: outsideOpeningHours = newValue
            case .randomisedIgnored: randomisedIgnored = newValue
            }
        }
    }
}

/// The checks every frame passes before its address is hashed (P12, P13, P16 and the
/// randomised-address policy). Frames that fail are counted and forgotten: nothing about
/// them reaches the pseudonymiser.
///
/// Cheap enough for the hot path: integer compares and one set lookup when an opt-out list
/// is loaded. The local time is worked out once per minute of event time and cached.
public struct Gate: Sendable {
    public let rssiFloor: Int?
    public let randomisedAddresses: RandomisedAddressPolicy
    public let openingHours: OpeningHours
    public let timeZone: TimeZone
    public private(set) var optOut: OptOutList
    /// Totals over all sensors.
    public var counters: GateCounters { storedCounters }
    /// Frames admitted per sensor (index into the configuration's sensors).
    public var admittedPerSensor: [Int] { storedAdmittedPerSensor }
    @usableFromInline var storedCounters = GateCounters()
    @usableFromInline var storedAdmittedPerSensor: [Int]
    /// No check can drop a frame: always open, no RSSI floor, randomised addresses not
    /// ignored, an empty opt-out list. Then ``admit(_:sensor:)`` only counts, inlined into
    /// the caller, without handing the frame over (kept up to date with the opt-out list).
    @usableFromInline private(set) var admitsEverything = false

    /// UTC minute (seconds / 60) the cached opening state is for.
    private var cachedMinute: Int64 = .min
    private var cachedOpen = true

    /// - Parameters:
    ///   - privacy: RSSI floor and randomised-address policy.
    ///   - openingHours: in site local time.
    ///   - timeZone: the site's time zone.
    ///   - optOut: the opt-out list in force (replace it with ``replaceOptOutList(_:)``).
    ///   - sensorCount: number of configured sensors.
    public init(privacy: PrivacySettings, openingHours: OpeningHours, timeZone: TimeZone, optOut: OptOutList = .empty, sensorCount: Int) {
        self.rssiFloor = privacy.rssiFloor
        self.randomisedAddresses = privacy.randomisedAddresses
        self.openingHours = openingHours
        self.timeZone = timeZone
        self.optOut = optOut
        self.storedAdmittedPerSensor = Array(repeating: 0, count: max(0, sensorCount))
        self.admitsEverything = Gate.admitsEverything(rssiFloor: rssiFloor, randomisedAddresses: randomisedAddresses, openingHours: openingHours, optOut: optOut)
    }

    static func admitsEverything(rssiFloor: Int?, randomisedAddresses: RandomisedAddressPolicy, openingHours: OpeningHours, optOut: OptOutList) -> Bool {
        guard rssiFloor == nil, randomisedAddresses != .ignore, optOut.count == 0 else { return false }
        if case .alwaysOpen = openingHours { return true }
        return false
    }

    /// Builds the gate from validated settings, in the site clock's time zone.
    public init(settings: Settings, optOut: OptOutList = .empty) {
        self.init(privacy: settings.privacy, openingHours: settings.site.openingHours, timeZone: settings.site.clock.timeZone, optOut: optOut, sensorCount: settings.sensors.count)
    }

    /// Puts a newly loaded opt-out list in force (from the next frame on).
    public mutating func replaceOptOutList(_ list: OptOutList) {
        optOut = list
        admitsEverything = Gate.admitsEverything(rssiFloor: rssiFloor, randomisedAddresses: randomisedAddresses, openingHours: openingHours, optOut: list)
    }

    /// Decides whether a frame may be hashed.
    /// - Parameters:
    ///   - request: the parsed frame, borrowed; the gate keeps nothing of it.
    ///   - sensor: index of the sensor that heard it (for the per-sensor admitted count).
    /// - Returns: `.admit`, or the first reason to drop it.
    @inlinable
    public mutating func admit(_ request: borrowing ProbeRequest, sensor: Int) -> GateDecision {
        guard admitsEverything else { return check(request, sensor: sensor) }
        countAdmitted(sensor: sensor)
        return .admit
    }

    @inlinable
    mutating func countAdmitted(sensor: Int) {
        storedCounters.admitted += 1
        if sensor >= 0 && sensor < storedAdmittedPerSensor.count { storedAdmittedPerSensor[sensor] += 1 }
    }

    /// ``admit(_:sensor:)`` when some check applies.
    @usableFromInline
    mutating func check(_ request: borrowing ProbeRequest, sensor: Int) -> GateDecision {
        let decision = decide(request)
        switch decision {
        case .admit:
            countAdmitted(sensor: sensor)
        case .drop(let reason):
            storedCounters[reason] += 1
        }
        return decision
    }

    private mutating func decide(_ request: borrowing ProbeRequest) -> GateDecision {
        if !isOpen(atNanos: request.timestampNanos) { return .drop(.outsideOpeningHours) }
        if let rssiFloor {
            guard let signal = request.signalDBm, Int(signal) >= rssiFloor else { return .drop(.belowRSSIFloor) }
        }
        if randomisedAddresses == .ignore && request.source.isLocallyAdministered { return .drop(.randomisedIgnored) }
        if optOut.contains(request.source) { return .drop(.optedOut) }
        return .admit
    }

    /// Whether the site is open at this capture time (site local time, DST-aware).
    public mutating func isOpen(atNanos nanos: Int64) -> Bool {
        guard case .weekly(let week) = openingHours else { return true }
        let seconds = nanos.floorDiv(1_000_000_000)
        let minute = seconds.floorDiv(60)
        if minute == cachedMinute { return cachedOpen }
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(minute * 60))))
        cachedOpen = Gate.isOpen(week: week, localSeconds: minute * 60 + offset)
        cachedMinute = minute
        return cachedOpen
    }

    /// - Parameter localSeconds: local wall-clock time as seconds since 1970-01-01 00:00 local.
    static func isOpen(week: [Int: [ClosedRange<Int>]], localSeconds: Int64) -> Bool {
        // The civil calendar of the site clock's local time (``LocalTime``, the one civil-date
        // calculation in footfall); 1 = Monday … 7 = Sunday.
        let local = LocalTime(utcSeconds: localSeconds, utcOffsetSeconds: 0)
        let minuteOfDay = local.hour * 60 + local.minute
        let weekday = local.weekday
        let yesterday = weekday == 1 ? 7 : weekday - 1
        // Intervals are [open, close) in minutes since local midnight; a close past 1440
        // (e.g. 22:00–02:00 as 1320…1560) runs into the next morning.
        for range in week[weekday] ?? [] where range.lowerBound <= minuteOfDay && minuteOfDay < range.upperBound {
            return true
        }
        for range in week[yesterday] ?? [] where range.upperBound > 1440 && minuteOfDay + 1440 < range.upperBound {
            return true
        }
        return false
    }
}
