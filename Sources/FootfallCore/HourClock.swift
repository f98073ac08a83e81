import Foundation

/// Local hours of the site's time zone, computed from UTC offsets so that a DST day has 23
/// or 25 hours and every hour is a distinct interval of capture time.
///
/// Foundation's `TimeZone` is used for the offsets only (the tz database knows the rules);
/// the calendar arithmetic is integer arithmetic on local seconds, so nothing here depends
/// on a locale. Never called per frame; a caller that asks per device check passes a
/// ``UTCOffsetCache``.
///
/// It is the site's clock: the configuration builds it once from `site.time_zone` (the only
/// place a time zone is looked up by name) and everything that needs local time — the
/// gate's opening hours, the key schedule, the tracker's hours, the writers' file names —
/// takes it from ``Site/clock``.
public struct HourClock: Sendable, Equatable {
    /// The IANA identifier, e.g. `Europe/Prague`.
    public let identifier: String
    /// The zone itself, for the few callers that need Foundation's calendar (the key schedule).
    public let timeZone: TimeZone

    /// `nil` when the identifier is not an IANA time zone known to the system.
    public init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.identifier = identifier
        self.timeZone = zone
    }

    public static func == (a: HourClock, b: HourClock) -> Bool { a.identifier == b.identifier }

    /// UTC offset in seconds at an instant (seconds since the Unix epoch).
    public func utcOffset(at seconds: Int64) -> Int {
        timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// The local hour that contains an instant.
    public func hour(containing seconds: Int64) -> LocalHour {
        Self.hour(containing: seconds) { utcOffset(at: $0) }
    }

    /// Start (UTC seconds) of the local hour that contains `seconds`.
    public func hourStart(containing seconds: Int64) -> Int64 {
        Self.hourStart(containing: seconds, offset: utcOffset(at: seconds))
    }

    /// The local hour that contains `seconds`, with the UTC offsets `offsetAt` gives.
    @inline(__always)
    static func hour(containing seconds: Int64, offsetAt: (Int64) -> Int) -> LocalHour {
        let start = hourStart(containing: seconds, offset: offsetAt(seconds))
        let next = start + 3600
        var end = hourStart(containing: next, offset: offsetAt(next))
        // A transition that does not fall on a local hour boundary (rare; e.g. half-hour
        // DST shifts) can put `end` at or before `start`; a plain hour is the safe answer.
        if end <= start { end = start + 3600 }
        return LocalHour(start: start, end: end, utcOffsetSeconds: offsetAt(start))
    }

    /// Start (UTC seconds) of the local hour that contains `seconds`, at UTC offset `offset`.
    @inline(__always)
    static func hourStart(containing seconds: Int64, offset: Int) -> Int64 {
        let local = seconds + Int64(offset)
        return local - floorMod(local, 3600) - Int64(offset)
    }

    /// ``utcOffset(at:)`` through a cache of the span the offset was last found to hold over.
    public func utcOffset(at seconds: Int64, cache: inout UTCOffsetCache) -> Int {
        if seconds >= cache.start, seconds < cache.end { return cache.offset }
        let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
        // The span reaches a day either side unless a transition (any change of offset, which
        // is what ICU reports) is nearer: callers go back and forth by minutes and hours.
        // An offset changes at its transition's instant, so integer seconds from the
        // transition's ceiling on have the new one.
        let day = UTCOffsetCache.reachSeconds
        var start = seconds &- day
        var end = seconds &+ day
        var after = start
        while let next = timeZone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: TimeInterval(after))) {
            let t = Int64(next.timeIntervalSince1970.rounded(.up))
            if t > seconds {
                end = min(end, t)
                break
            }
            start = max(start, t)
            after = max(after &+ 1, t)
        }
        cache = UTCOffsetCache(start: start, end: end, offset: offset)
        return offset
    }

    /// ``hour(containing:)`` through `cache`: the same hour, for a caller that asks many
    /// times in a row (the tracker, per device check).
    public func hour(containing seconds: Int64, cache: inout UTCOffsetCache) -> LocalHour {
        Self.hour(containing: seconds) { utcOffset(at: $0, cache: &cache) }
    }

    /// ``hourStart(containing:)`` through `cache`.
    public func hourStart(containing seconds: Int64, cache: inout UTCOffsetCache) -> Int64 {
        Self.hourStart(containing: seconds, offset: utcOffset(at: seconds, cache: &cache))
    }

    /// Whether the local hour starting at `start` occurs twice on its day (the repeated hour
    /// when clocks go back); such hours need the offset in their file names to stay unique.
    public func isRepeatedHour(start: Int64) -> Bool {
        let here = LocalTime(utcSeconds: start, utcOffsetSeconds: utcOffset(at: start))
        for other in [start - 3600, start + 3600] {
            let there = LocalTime(utcSeconds: other, utcOffsetSeconds: utcOffset(at: other))
            if there.year == here.year && there.month == here.month && there.day == here.day && there.hour == here.hour {
                return true
            }
        }
        return false
    }
}

/// The UTC offset of a span of time in which it does not change, for ``HourClock``'s
/// cached calls. Why: `TimeZone.secondsFromGMT(for:)` takes ICU's lock (shared with the
/// writer thread, which formats file names) and walks its calendar; the tracker asks for
/// the hour of every device check, and that was about 4 % of a replay. Holds no data about
/// anyone, only an interval of time and an offset.
public struct UTCOffsetCache: Sendable {
    /// Seconds since the Unix epoch: the offset holds for `start ..< end`.
    var start: Int64
    var end: Int64
    var offset: Int

    /// How far either side of the instant asked about a span reaches (a day), so that a zone
    /// whose changes the database does not announce is asked again at least daily.
    static let reachSeconds: Int64 = 86_400

    /// Empty: the first call asks the time zone.
    public init() {
        self.init(start: .max, end: .min, offset: 0)
    }

    init(start: Int64, end: Int64, offset: Int) {
        self.start = start
        self.end = end
        self.offset = offset
    }
}

/// One local hour: `[start, end)` in UTC seconds (usually 3600 s long).
public struct LocalHour: Sendable, Equatable {
    public var start: Int64
    public var end: Int64
    /// UTC offset in force at `start`.
    public var utcOffsetSeconds: Int

    public init(start: Int64, end: Int64, utcOffsetSeconds: Int) {
        self.start = start
        self.end = end
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    public var local: LocalTime { LocalTime(utcSeconds: start, utcOffsetSeconds: utcOffsetSeconds) }
}

/// Civil date and time fields of an instant in a given UTC offset (proleptic Gregorian).
public struct LocalTime: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// ISO 8601 weekday: 1 = Monday … 7 = Sunday.
    public var weekday: Int
    public var utcOffsetSeconds: Int

    public init(utcSeconds: Int64, utcOffsetSeconds: Int) {
        let local = utcSeconds + Int64(utcOffsetSeconds)
        let days = floorDiv(local, 86_400)
        let secondOfDay = Int(local - days * 86_400)
        (year, month, day) = LocalTime.civil(fromDays: days)
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
        // 1970-01-01 was a Thursday (ISO weekday 4).
        weekday = Int(floorMod(days + 3, 7)) + 1
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// `2024-03-21T14:00:00+01:00`
    public var iso8601: String {
        "\(pad(year, 4))-\(pad(month))-\(pad(day))T\(pad(hour)):\(pad(minute)):\(pad(second))\(offsetText(separator: ":"))"
    }

    /// `2024-03-21T14`
    public var dateAndHour: String { "\(pad(year, 4))-\(pad(month))-\(pad(day))T\(pad(hour))" }

    /// `+01:00` or `+0100`.
    public func offsetText(separator: String) -> String {
        let sign = utcOffsetSeconds < 0 ? "-" : "+"
        let magnitude = abs(utcOffsetSeconds) / 60
        return "\(sign)\(pad(magnitude / 60))\(separator)\(pad(magnitude % 60))"
    }

    /// (year, month, day) to days since 1970-01-01, proleptic Gregorian; H. Hinnant's
    /// `days_from_civil`, the inverse of ``civil(fromDays:)``.
    public static func days(fromCivil year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Days since 1970-01-01 to (year, month, day); H. Hinnant's `civil_from_days`.
    static func civil(fromDays z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d))
    }
}

@inline(__always)
func pad(_ value: Int, _ width: Int = 2) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

@inline(__always) @usableFromInline
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a.floorDiv(b) }

@inline(__always) @usableFromInline
func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a.floorMod(b) }

extension Int64 {
    /// Division rounded towards negative infinity: the slot, second or hour an instant
    /// before 1970 falls in is the one that starts before it, as for every other instant.
    @inlinable
    package func floorDiv(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }

    /// The remainder that goes with ``floorDiv(_:)``: always in `0 ..< d` for positive `d`.
    @inlinable
    package func floorMod(_ d: Int64) -> Int64 { self - floorDiv(d) * d }
}
