import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallPlatform
import Foundation
import Testing

/// P12 (RSSI floor), P13 (opening hours), P16 (opt-out) and the randomised-address policy:
/// frames dropped before hashing.
@Suite("P12 P13 P16 gate")
struct GateTests {
    static let prague = TimeZone(identifier: "Europe/Prague")!
    /// Thursday 2024-03-07 10:00 CET (09:00 UTC), nanoseconds.
    static let thursdayMorning: Int64 = 1_709_802_000 * 1_000_000_000
    static let hour: Int64 = 3600 * 1_000_000_000

    static func gate(_ privacy: PrivacySettings = PrivacySettings(), hours: OpeningHours = .alwaysOpen, optOut: OptOutList = .empty) -> Gate {
        Gate(privacy: privacy, openingHours: hours, timeZone: prague, optOut: optOut, sensorCount: 2)
    }

    @Test func framesBelowRSSIFloorAreDroppedBeforeHashing() {
        var gate = Self.gate(PrivacySettings(rssiFloor: -70))
        #expect(gate.admit(makeProbe(mac: 0x0011_2233_4455, signalDBm: -69), sensor: 0) == .admit)
        #expect(gate.admit(makeProbe(mac: 0x0011_2233_4455, signalDBm: -70), sensor: 0) == .admit)
        #expect(gate.admit(makeProbe(mac: 0x0011_2233_4455, signalDBm: -71), sensor: 1) == .drop(.belowRSSIFloor))
        // No reading cannot be shown to be above the floor.
        #expect(gate.admit(makeProbe(mac: 0x0011_2233_4455, signalDBm: nil), sensor: 1) == .drop(.belowRSSIFloor))
        #expect(gate.counters.admitted == 2)
        #expect(gate.counters.belowRSSIFloor == 2)
        #expect(gate.admittedPerSensor == [2, 0])
        var open = Self.gate()
        #expect(open.admit(makeProbe(mac: 0x0011_2233_4455, signalDBm: -99), sensor: 0) == .admit)
    }

    @Test func framesOutsideOpeningHoursAreDroppedInSiteLocalTime() {
        // Monday–Saturday 08:00–20:00, Friday also 22:00–02:00 (into Saturday morning), Sunday closed.
        var week: [Int: [ClosedRange<Int>]] = [:]
        for day in 1 ... 6 { week[day] = [480 ... 1200] }
        week[5] = [480 ... 1200, 1320 ... 1560]
        var gate = Self.gate(hours: .weekly(week))
        let t = Self.thursdayMorning
        #expect(gate.admit(makeProbe(mac: 1, timestampNanos: t), sensor: 0) == .admit)                        // Thu 10:00
        #expect(gate.admit(makeProbe(mac: 1, timestampNanos: t - 3 * Self.hour), sensor: 0) == .drop(.outsideOpeningHours))  // Thu 07:00
        #expect(gate.admit(makeProbe(mac: 1, timestampNanos: t + 10 * Self.hour), sensor: 0) == .drop(.outsideOpeningHours)) // Thu 20:00 (close is exclusive)
        #expect(gate.admit(makeProbe(mac: 1, timestampNanos: t + 9 * Self.hour + 59 * 60_000_000_000), sensor: 0) == .admit)  // Thu 19:59
        #expect(gate.admit(makeProbe(mac: 1, timestampNanos: t + 37 * Self.hour), sensor: 0) == .admit)        // Fri 23:00
        #expect(gate.admit(makeProbe(mac: 1, timestampNanos: t + 39 * Self.hour), sensor: 0) == .admit)        // Sat 01:00 (Friday's late interval)
        #expect(gate.admit(makeProbe(mac: 1, timestampNanos: t + 41 * Self.hour), sensor: 0) == .drop(.outsideOpeningHours)) // Sat 03:00
        #expect(gate.admit(makeProbe(mac: 1, timestampNanos: t + 72 * Self.hour), sensor: 0) == .drop(.outsideOpeningHours)) // Sun 10:00
        #expect(gate.counters.outsideOpeningHours == 4)
    }

    @Test func openingHoursFollowDaylightSavingTime() {
        // Opening at 08:00 local: 07:00 UTC in winter, 06:00 UTC in summer (Prague).
        var week: [Int: [ClosedRange<Int>]] = [:]
        for day in 1 ... 7 { week[day] = [480 ... 1200] }
        var gate = Self.gate(hours: .weekly(week))
        let winter0630utc: Int64 = 1_709_793_000 * 1_000_000_000   // 2024-03-07 06:30 UTC = 07:30 CET
        let summer0630utc: Int64 = 1_712_471_400 * 1_000_000_000   // 2024-04-07 06:30 UTC = 08:30 CEST
        #expect(gate.admit(makeProbe(mac: 1, timestampNanos: winter0630utc), sensor: 0) == .drop(.outsideOpeningHours))
        #expect(gate.admit(makeProbe(mac: 1, timestampNanos: summer0630utc), sensor: 0) == .admit)
    }

    @Test func randomisedAddressesAreIgnoredWhenPolicySaysSo() {
        var ignore = Self.gate(PrivacySettings(randomisedAddresses: .ignore))
        #expect(ignore.admit(makeProbe(mac: 0xDA11_2233_4455), sensor: 0) == .drop(.randomisedIgnored))  // 0xDA: locally administered
        #expect(ignore.admit(makeProbe(mac: 0xDCFB_4868_BEE4), sensor: 0) == .admit)                       // 0xDC: vendor-assigned
        #expect(ignore.counters.randomisedIgnored == 1)
        var count = Self.gate(PrivacySettings(randomisedAddresses: .count))
        #expect(count.admit(makeProbe(mac: 0xDA11_2233_4455), sensor: 0) == .admit)
    }

    @Test func optedOutAddressesAreDroppedBeforeHashing() throws {
        let list = try OptOutList(parsing: "# staff phones\ndc:fb:48:68:be:e4\n")
        var gate = Self.gate(optOut: list)
        #expect(gate.admit(makeProbe(mac: 0xDCFB_4868_BEE4), sensor: 0) == .drop(.optedOut))
        #expect(gate.admit(makeProbe(mac: 0xDCFB_4868_BEE5), sensor: 0) == .admit)
        #expect(gate.counters.optedOut == 1)
        gate.replaceOptOutList(.empty)
        #expect(gate.admit(makeProbe(mac: 0xDCFB_4868_BEE4), sensor: 0) == .admit)
    }

    @Test func optOutListLoadedWhileRunningDropsTheAddressFromTheNextFrame() throws {
        // A gate with nothing to check (always open, no floor, empty list) only counts;
        // a list loaded later must still be applied to the very next frame.
        var gate = Self.gate()
        #expect(gate.admit(makeProbe(mac: 0xDCFB_4868_BEE4), sensor: 1) == .admit)
        gate.replaceOptOutList(try OptOutList(parsing: "dc:fb:48:68:be:e4\n"))
        #expect(gate.admit(makeProbe(mac: 0xDCFB_4868_BEE4), sensor: 1) == .drop(.optedOut))
        #expect(gate.admit(makeProbe(mac: 0xDCFB_4868_BEE5), sensor: 0) == .admit)
        #expect(gate.counters.admitted == 2)
        #expect(gate.counters.optedOut == 1)
        #expect(gate.admittedPerSensor == [1, 1])
    }

    @Test func optOutListAcceptsEveryCommonSpelling() throws {
        let text = """
        # one address, five spellings, plus comments and blanks
        dc:fb:48:68:be:e4
        DC-FB-48-68-BE-E4   # dashes, upper case
        dcfb.4868.bee4

        DCFB4868BEE4
        \t40:ec:99:f9:34:a6\r
        """
        let list = try OptOutList(parsing: text)
        #expect(list.count == 2)
        var gate = Self.gate(optOut: list)
        #expect(gate.admit(makeProbe(mac: 0xDCFB_4868_BEE4), sensor: 0) == .drop(.optedOut))
        #expect(gate.admit(makeProbe(mac: 0x40EC_99F9_34A6), sensor: 0) == .drop(.optedOut))
    }

    @Test func optOutParseErrorNamesTheLineButNeverTheText() {
        let text = "dc:fb:48:68:be:e4\n# ok\ndc:fb:48:68:be:e4:77\n"
        do {
            _ = try OptOutList(parsing: text)
            Issue.record("a bad line was accepted")
        } catch {
            #expect(error.line == 3)
            #expect(error.description.contains("line 3"))
            #expect(!error.description.lowercased().contains("dc:fb"))
            #expect(!error.description.lowercased().contains("be:e4"))
        }
        #expect(throws: OptOutListError.self) { try OptOutList(parsing: "01:00:5e:00:00:fb\n") }  // group address
        #expect(throws: OptOutListError.self) { try OptOutList(parsing: "dc:fb-48:68:be:e4\n") }  // mixed separators
        #expect(throws: OptOutListError.self) { try OptOutList(parsing: "dc:fb:48:68:be:g4\n") }
    }

    @Test func optOutFileIsReloadedWhenItChanges() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("opt-out.txt").path
        try "dc:fb:48:68:be:e4\n".write(toFile: path, atomically: true, encoding: .utf8)
        var watcher = OptOutFileWatcher(path: path)
        let first = try #require(try watcher.loadIfChanged())
        #expect(first.count == 1)
        #expect(try watcher.loadIfChanged() == nil)  // unchanged
        try "dc:fb:48:68:be:e4\n40:ec:99:f9:34:a6\n".write(toFile: path, atomically: true, encoding: .utf8)
        let second = try #require(try watcher.loadIfChanged())
        #expect(second.count == 2)
        // A broken edit keeps the previous list in force and names the line only.
        try "dc:fb:48:68:be:e4\n40:ec:99:f9:34\n".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try watcher.loadIfChanged()
            Issue.record("a broken file was accepted")
        } catch {
            #expect(error.description.contains("line 2"))
            #expect(!error.description.contains("40:ec"))
        }
    }
}
