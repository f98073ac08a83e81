import FootfallCore
import FootfallIngest
import FootfallAggregate
import Foundation
import Testing

/// P4 (rotation and destruction) and P10 (fingerprints keyed per period).
@Suite("P4 rotation, P10 keyed fingerprints")
struct RotationTests {
    static let prague = TimeZone(identifier: "Europe/Prague")!

    /// Seconds since the epoch of a UTC date-time.
    static func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int = 0) -> Int64 {
        var c = DateComponents()
        (c.year, c.month, c.day, c.hour, c.minute) = (y, mo, d, h, mi)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        return Int64(cal.date(from: c)!.timeIntervalSince1970)
    }

    @Test func keyRotatesAndOldKeyBytesAreOverwritten() {
        let memory = InspectableKeyMemory(wordCount: 4)
        let keys = KeyStore(slots: 2, memory: memory)
        let old = (0 ..< 4).map { memory[$0] }
        #expect(keys.generation == 1)
        keys.rotate()
        #expect(keys.generation == 2)
        let new = (0 ..< 4).map { memory[$0] }
        // Every old word is gone from the key memory, overwritten in place.
        for word in old { #expect(!new.contains(word)) }
        keys.destroy()
        #expect((0 ..< 4).allSatisfy { memory[$0] == 0 })
    }

    @Test func sameDeviceUnlinkableAcrossRotation() {
        let keys = KeyStore()
        let macs: [UInt64] = (0 ..< 500).map { 0xDCFB_4868_0000 | UInt64($0) }
        let before = macs.map { pseudonym(of: $0, keys: keys) }
        #expect(macs.map { pseudonym(of: $0, keys: keys) } == before)  // stable within a period
        keys.rotate()
        let after = macs.map { pseudonym(of: $0, keys: keys) }
        // No pseudonym of the old period appears in the new one, for any device.
        #expect(Set(before).isDisjoint(with: Set(after)))
        var agreeing = 0
        for (a, b) in zip(before, after) { agreeing += 64 - (bits(of: a) ^ bits(of: b)).nonzeroBitCount }
        let mean = Double(agreeing) / Double(macs.count)
        #expect(mean > 30.5 && mean < 33.5)
    }

    @Test func fingerprintChangesAcrossRotation() {
        let keys = KeyStore()
        let p = Pseudonymiser(keys: keys)
        let first = p.observe(makeProbe(mac: 0x0211_2233_4455, fingerprint: 0xABCD), sensor: 0)
        let again = p.observe(makeProbe(mac: 0x0299_8877_6655, fingerprint: 0xABCD), sensor: 0)
        #expect(first.fingerprint == again.fingerprint)  // same layout, same period: same fingerprint
        keys.rotate()
        let later = p.observe(makeProbe(mac: 0x0211_2233_4455, fingerprint: 0xABCD), sensor: 0)
        #expect(later.fingerprint != first.fingerprint)
        #expect(later.device != first.device)
    }

    @Test(arguments: ["Europe/Prague", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham", "UTC"])
    func rotationScheduleNeverExceeds24Hours(zone: String) throws {
        for rotation in [KeyRotation.daily(hour: 4, minute: 0), .daily(hour: 2, minute: 30), .daily(hour: 0, minute: 0), .hourly] {
            let schedule = try KeySchedule(rotation: rotation, timeZoneIdentifier: zone)
            var t = Self.utc(2024, 1, 1, 0)
            let end = rotation == .hourly ? Self.utc(2024, 1, 15, 0) : Self.utc(2025, 1, 1, 0)
            // Hourly: also walk through both DST changes of the year.
            let extra: [Int64] = rotation == .hourly ? [Self.utc(2024, 3, 30, 0), Self.utc(2024, 10, 26, 0), Self.utc(2024, 4, 6, 0)] : []
            var starts = [t] + extra
            var steps = 0
            while let start = starts.first {
                starts.removeFirst()
                t = start
                let stop = extra.contains(start) ? start + 3 * 86400 : end
                while t < stop {
                    let next = schedule.nextRotation(after: t)
                    #expect(next > t)
                    #expect(next - t <= (rotation == .hourly ? 3600 : 86400))
                    t = next
                    steps += 1
                }
            }
            #expect(steps > 300)
        }
    }

    @Test func dailyRotationOnSpringForwardDayHappensAtNextValidTime() {
        // Europe/Prague, 2024-03-31: 02:00 CET becomes 03:00 CEST; 02:30 does not exist.
        let schedule = KeySchedule(rotation: .daily(hour: 2, minute: 30), timeZone: Self.prague)
        let saturday = Self.utc(2024, 3, 30, 1, 30)  // 02:30 CET
        let next = schedule.nextRotation(after: saturday)
        #expect(next == Self.utc(2024, 3, 31, 1, 0))  // 03:00 CEST, 23.5 h later
        #expect(schedule.nextRotation(after: next) == Self.utc(2024, 4, 1, 0, 30))  // 02:30 CEST
    }

    @Test func dailyRotationOnFallBackDayStillWithin24Hours() {
        // Europe/Prague, 2024-10-27: 03:00 CEST becomes 02:00 CET; that day has 25 hours.
        let schedule = KeySchedule(rotation: .daily(hour: 4, minute: 0), timeZone: Self.prague)
        let saturday = Self.utc(2024, 10, 26, 2)  // 04:00 CEST
        let capped = schedule.nextRotation(after: saturday)
        #expect(capped == saturday + 86400)  // 03:00 CET: 24 h, not 25
        #expect(schedule.nextRotation(after: capped) == Self.utc(2024, 10, 27, 3))  // 04:00 CET
        // A time that exists twice (02:30) rotates at its first occurrence.
        let twice = KeySchedule(rotation: .daily(hour: 2, minute: 30), timeZone: Self.prague)
        #expect(twice.nextRotation(after: Self.utc(2024, 10, 26, 12)) == Self.utc(2024, 10, 27, 0, 30))
    }

    @Test func hourlyRotationFollowsLocalHoursInHalfHourZones() {
        let schedule = KeySchedule(rotation: .hourly, timeZone: TimeZone(identifier: "Asia/Kolkata")!)  // UTC+05:30
        let next = schedule.nextRotation(after: Self.utc(2024, 5, 1, 10, 0))
        #expect(next == Self.utc(2024, 5, 1, 10, 30))
    }

    @Test func rotationPeriodLongerThan24HoursIsRejected() {
        #expect(throws: PrivacySettingsError.self) { try KeyRotation.fromPeriod(seconds: 86400 + 1) }
        #expect(throws: PrivacySettingsError.self) { try KeyRotation.fromPeriod(seconds: 7 * 86400) }
        #expect(throws: PrivacySettingsError.self) { try KeyRotation.daily(hour: 24, minute: 0).validate() }
        #expect((try? KeyRotation.fromPeriod(seconds: 3600)) == .hourly)
        #expect(throws: PrivacySettingsError.self) { try PrivacySettings(rotation: .daily(hour: 4, minute: 60)).validate() }
    }

    /// A stand-in for the tracker: a table keyed by pseudonyms.
    struct Table: PseudonymScope {
        var seen: Set<Pseudonym> = []
        var endedAt: [Int64] = []
        var keyGenerationAtEnd: [Int] = []
        let keys: KeyStore
        mutating func endKeyPeriod(at instant: Int64) {
            endedAt.append(instant)
            keyGenerationAtEnd.append(keys.generation)
            seen.removeAll()
        }
    }

    @Test func keyEpochDropsPseudonymTablesWhenTheKeyRotates() {
        let keys = KeyStore()
        var epoch = KeyEpoch(keys: keys, schedule: KeySchedule(rotation: .hourly, timeZone: Self.prague), scope: Table(keys: keys))
        let start = Self.utc(2024, 3, 7, 9, 15)
        let rotated1 = epoch.advance(to: start)
        #expect(rotated1 == false)
        #expect(epoch.nextRotationSeconds == Self.utc(2024, 3, 7, 10))
        let obs = epoch.pseudonymiser.observe(makeProbe(mac: 0xDCFB_4868_BEE4), sensor: 0)
        epoch.scope.seen.insert(obs.device)
        let rotated2 = epoch.advance(to: start + 600)
        #expect(rotated2 == false)
        #expect(epoch.scope.seen.count == 1)
        let rotated3 = epoch.advance(to: Self.utc(2024, 3, 7, 10, 0))
        #expect(rotated3)
        // The table was emptied at the rotation instant, while the old key was still in place
        // (generation 1), and the key was replaced right after.
        #expect(epoch.scope.seen.isEmpty)
        #expect(epoch.scope.endedAt == [Self.utc(2024, 3, 7, 10)])
        #expect(epoch.scope.keyGenerationAtEnd == [1])
        #expect(keys.generation == 2)
        // A long silence: one rotation, then the next one is scheduled after now.
        let rotated4 = epoch.advance(to: Self.utc(2024, 3, 7, 15, 20))
        #expect(rotated4)
        #expect(keys.generation == 3)
        #expect(epoch.nextRotationSeconds == Self.utc(2024, 3, 7, 16))
    }
}
