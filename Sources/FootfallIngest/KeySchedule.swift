// Foundation is used here for time-zone arithmetic only (the IANA database and DST rules);
// nothing in this file does I/O.
import FootfallCore
import Foundation

/// When the pseudonym key is replaced (P4), in the site's local time.
///
/// Local-time schedules meet daylight-saving changes twice a year: a daily rotation at a time
/// that does not exist that day (spring forward) happens at the next time that does, one
/// that exists twice (fall back) happens at the first, and no interval between rotations is
/// ever longer than 24 h — on a 25-hour day the key is replaced 24 h after the previous
/// rotation, an hour before the configured time, and again at the configured time.
public struct KeySchedule: Sendable {
    public let rotation: KeyRotation
    public let timeZone: TimeZone

    /// - Parameters:
    ///   - rotation: the configured rotation (use ``PrivacySettings/effectiveRotation``).
    ///   - timeZone: the site's time zone.
    public init(rotation: KeyRotation, timeZone: TimeZone) {
        self.rotation = rotation
        self.timeZone = timeZone
    }

    /// - Parameter timeZoneIdentifier: an IANA identifier such as `Europe/Prague`.
    public init(rotation: KeyRotation, timeZoneIdentifier: String) throws(PrivacySettingsError) {
        guard let clock = HourClock(identifier: timeZoneIdentifier) else {
            throw PrivacySettingsError(key: "site.time_zone", message: "unknown IANA time zone \"\(timeZoneIdentifier)\"")
        }
        try self.init(rotation: rotation, clock: clock)
    }

    /// The schedule of a site, in its clock's time zone.
    /// - Throws: when the rotation is not one footfall supports (longer than 24 h).
    public init(rotation: KeyRotation, clock: HourClock) throws(PrivacySettingsError) {
        try rotation.validate()
        self.init(rotation: rotation, timeZone: clock.timeZone)
    }

    /// The first rotation instant strictly after `seconds`.
    /// - Parameter seconds: a time, seconds since the Unix epoch (typically the previous
    ///   rotation, or the first frame's time when the process starts).
    /// - Returns: seconds since the Unix epoch; always in `(seconds, seconds + 24 h]`.
    public func nextRotation(after seconds: Int64) -> Int64 {
        switch rotation {
        case .hourly:
            return min(nextLocalHourStart(after: seconds), seconds + 3600)
        case .daily(let hour, let minute):
            return min(nextDaily(hour: hour, minute: minute, after: seconds), seconds + Int64(KeyRotation.maximumPeriodSeconds))
        }
    }

    /// The next instant whose local time is on the hour. UTC offsets are whole multiples of
    /// 15 minutes in the IANA database, so the answer is one of the next few quarter hours.
    func nextLocalHourStart(after seconds: Int64) -> Int64 {
        var candidate = (seconds.floorDiv(900) + 1) * 900
        for _ in 0 ..< 8 {
            let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(candidate))))
            if (candidate + offset).floorMod(3600) == 0 { return candidate }
            candidate += 900
        }
        return seconds + 3600
    }

    func nextDaily(hour: Int, minute: Int, after seconds: Int64) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let start = Date(timeIntervalSince1970: TimeInterval(seconds))
        let wanted = DateComponents(hour: hour, minute: minute, second: 0)
        guard let next = calendar.nextDate(after: start, matching: wanted, matchingPolicy: .nextTime, repeatedTimePolicy: .first, direction: .forward) else {
            return seconds + Int64(KeyRotation.maximumPeriodSeconds)
        }
        let result = Int64(next.timeIntervalSince1970.rounded(.down))
        return result > seconds ? result : seconds + Int64(KeyRotation.maximumPeriodSeconds)
    }
}

/// The current key period: the keys, the pseudonymiser that uses them, the schedule that
/// ends them, and the scope that holds everything keyed by them (the tracker).
///
/// The epoch owns the scope, so nothing keyed by this period's pseudonyms can live outside
/// it: the scope is `~Copyable`-friendly (a `~Copyable` tracker cannot be copied out), and a
/// rotation, on event time or on request, first makes the scope forget every pseudonym and
/// then overwrites the key bytes, in one call, so the two cannot drift apart (P4).
public struct KeyEpoch<Scope: PseudonymScope & ~Copyable>: ~Copyable {
    /// `package`: only footfall's own modules replace or destroy the key.
    package let keys: KeyStore
    public let pseudonymiser: Pseudonymiser
    public let schedule: KeySchedule
    /// When the current key will be replaced; `nil` until the first call to ``advance(to:)``.
    public private(set) var nextRotationSeconds: Int64?
    /// Everything keyed by this period's pseudonyms. Callers reach it for operations that
    /// take no new pseudonym (closing hours, reading counters); the epoch ends its period.
    public var scope: Scope

    public init(keys: KeyStore, schedule: KeySchedule, scope: consuming Scope) {
        self.keys = keys
        self.pseudonymiser = Pseudonymiser(keys: keys)
        self.schedule = schedule
        self.nextRotationSeconds = nil
        self.scope = scope
    }

    /// How many keys the epoch has had (1 before the first rotation); says nothing about them.
    public var keyGeneration: Int { keys.generation }

    /// Moves event time forward; rotates when the schedule says so.
    /// - Parameter nowSeconds: event time, seconds since the Unix epoch. Time going backwards is ignored.
    /// - Returns: `true` when the key was rotated (the caller may log that, without any key data).
    @discardableResult
    public mutating func advance(to nowSeconds: Int64) -> Bool {
        guard let due = nextRotationSeconds else {
            nextRotationSeconds = schedule.nextRotation(after: nowSeconds)
            return false
        }
        guard nowSeconds >= due else { return false }
        rotate(at: due)
        // After a long silence several rotation instants may have passed: one rotation covers them.
        nextRotationSeconds = schedule.nextRotation(after: max(due, nowSeconds))
        return true
    }

    /// Ends the key period now (shutdown, or an operator's request): the scope forgets its
    /// pseudonyms, then the key bytes are overwritten with fresh random ones.
    public mutating func rotate(at instantSeconds: Int64) {
        scope.endKeyPeriod(at: instantSeconds)
        keys.rotate()
    }

    /// Ends the last key period (end of a run): the scope forgets its pseudonyms, then the key
    /// bytes are overwritten with zeros and no new key is made. Nothing can be hashed afterwards.
    public mutating func end(at instantSeconds: Int64) {
        scope.endKeyPeriod(at: instantSeconds)
        keys.destroy()
    }
}
