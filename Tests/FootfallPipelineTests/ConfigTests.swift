import FootfallConfig
import FootfallCore
import FootfallIngest
import FootfallAggregate
import Foundation
import Testing

/// The repository root, found from this file's path (the tests load the example files as they are).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A valid configuration; tests change one line to break it.
let validYAML = """
site:
  name: Test store
  time_zone: Europe/Prague
  opening_hours:
    mon-fri: "08:00-20:00"
    sat: "09:00-12:00, 13:00-17:00"
    sun: closed
zones:
  - id: entrance
    rssi_threshold: -65
  - id: aisles
    rssi_threshold: -70
  - id: checkout
    rssi_threshold: -60
sensors:
  - id: s1
    zone: entrance
    interface: wlan1
  - id: s2
    zone: checkout
    tzsp: {interface: lo, port: 37008, sender: 127.0.0.2}
"""

func errors(_ yaml: String) -> [ConfigError] {
    do {
        _ = try ConfigLoader.parse(yaml: yaml, file: "footfall.yaml")
        return []
    } catch {
        return error.errors
    }
}

func replacing(_ old: String, with new: String) -> String {
    precondition(validYAML.contains(old))
    return validYAML.replacingOccurrences(of: old, with: new)
}

@Suite("Configuration")
struct ConfigTests {
    @Test func aValidFileProducesSettingsWithDefaults() throws {
        let s = try ConfigLoader.parse(yaml: validYAML)
        #expect(s.zones.map(\.id) == ["entrance", "aisles", "checkout"])
        #expect(s.zones[2].rssiThreshold == -60)
        #expect(s.sensors[1].feed == .tzsp(interface: "lo", port: 37008, senderAddress: "127.0.0.2"))
        #expect(s.sensors[1].zone == 2)
        #expect(s.site.openingHours == .weekly([1: [480 ... 1200], 2: [480 ... 1200], 3: [480 ... 1200], 4: [480 ... 1200], 5: [480 ... 1200], 6: [540 ... 720, 780 ... 1020]]))
        #expect(s.privacy == PrivacySettings())
        #expect(s.visits == VisitRules())
        #expect(s.metrics == MetricsSettings())
        #expect(s.metrics.address == "127.0.0.1")
    }

    @Test func theReportedExampleErrorNamesFileLineKeyPathAndValue() {
        let yaml = replacing("    rssi_threshold: -60", with: "    rssi_threshold: strong")
        #expect(errors(yaml).map(\.description) == [
            "footfall.yaml:14: zones[2].rssi_threshold: expected an integer dBm between -100 and 0, got \"strong\"",
        ])
    }

    @Test(arguments: [
        ("    rssi_threshold: -65", "    rssi_treshold: -65", 10, "zones[0].rssi_treshold", "unknown key"),
        ("  time_zone: Europe/Prague", "  time_zone: Europe/Atlantis", 3, "site.time_zone", "IANA"),
        ("    sun: closed", "    sunday: closed", 7, "site.opening_hours.sunday", "weekday"),
        ("    sat: \"09:00-12:00, 13:00-17:00\"", "    sat: \"12:00-09:00, 10:00-11:00\"", 6, "site.opening_hours.sat", "not overlapping"),
        ("    zone: checkout", "    zone: kitchen", 20, "sensors[1].zone", "no zone has the id"),
        ("sender: 127.0.0.2}", "sender: localhost}", 21, "sensors[1].tzsp.sender", "IPv4"),
        ("    interface: wlan1", "    interface: wlan1\n    file: true", 16, "sensors[0]", "exactly one of"),
        ("  - id: aisles", "  - id: entrance", 11, "zones[1].id", "used twice"),
    ])
    func everyErrorNamesItsKeyPathAndLine(old: String, new: String, line: Int, path: String, words: String) {
        let found = errors(replacing(old, with: new))
        #expect(found.count == 1)
        #expect(found.first?.line == line)
        #expect(found.first?.path == path)
        #expect(found.first?.message.contains(words) == true, "\(found)")
    }

    @Test(arguments: [
        ("privacy:\n  rotation: weekly\n", 2, "privacy.rotation", "24 h"),
        ("privacy:\n  rotation: daily 25:00\n", 2, "privacy.rotation", "daily HH:MM"),
        ("privacy:\n  k: 1\n", 2, "privacy.k", "between 2 and"),
        ("privacy:\n  strict: true\n  rotation: daily 04:00\n", 3, "privacy.rotation", "strict"),
        ("privacy:\n  randomised_addresses: maybe\n", 2, "privacy.randomised_addresses", "group, count or ignore"),
        ("privacy:\n  epsilon: -1\n", 2, "privacy.epsilon", "(0, 1]"),
        ("visits:\n  slot_seconds: 7\n", 2, "visits.slot_seconds", "divisor of 900"),
        ("visits:\n  lateness_seconds: 120\n", 2, "visits.lateness_seconds", "at most slot_seconds"),
        ("visits:\n  resident_hours: 0\n", 2, "visits.resident_hours", "between 1 and 24"),
        ("visits:\n  presence_tail_seconds: 900\n", 2, "visits.presence_tail_seconds", "at most visit_gap_seconds"),
        ("visits:\n  resident_window_seconds: 7200\n", 2, "visits.resident_window_seconds", "64 slots"),
        ("visits:\n  resident_coverage: 1.5\n", 2, "visits.resident_coverage", "(0, 1]"),
        ("visits:\n  slot_seconds: 60\n  peak_margin_db: 61\n", 3, "visits.peak_margin_db", "rssi_threshold"),
        ("visits:\n  peak_margin_db: -3\n", 2, "visits.peak_margin_db", "between 0 and 60"),
        ("output:\n  retention_days: forever\n", 2, "output.retention_days", "number of days"),
        ("metrics:\n  port: 0\n", 2, "metrics.port", "TCP port"),
        ("metrics:\n  enabled: yes please\n", 2, "metrics.enabled", "true or false"),
        ("colour: blue\n", 1, "colour", "unknown key"),
    ])
    func sectionErrorsNameTheirKeyPathAndLine(section: String, lineInSection: Int, path: String, words: String) {
        let base = validYAML.split(separator: "\n", omittingEmptySubsequences: false).count
        let found = errors(validYAML + "\n" + section)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.line == base + lineInSection)
        #expect(found.first?.path == path)
        #expect(found.first?.message.contains(words) == true, "\(found)")
    }

    @Test func aMissingSectionIsNamed() {
        let found = errors("site:\n  time_zone: UTC\nzones:\n  - id: a\n")
        #expect(found.map(\.message) == ["missing key \"sensors\""])
    }

    @Test func aYAMLSyntaxErrorHasItsLineAndNoDocumentText() {
        let found = errors(validYAML + "\n  - [unclosed\n")
        #expect(found.count == 1)
        #expect(found.first?.line != nil)
        #expect(found.first?.description.contains("Test store") == false)
    }

    @Test func aDuplicateKeyIsAnError() {
        let found = errors(validYAML + "\nprivacy:\n  k: 5\n  k: 6\n")
        #expect(found.count == 1)
        #expect(found.first?.message.contains("twice") == true)
    }

    @Test func anOvernightRangeRunsPastMidnight() throws {
        let s = try ConfigLoader.parse(yaml: replacing("    sun: closed", with: "    sun: \"22:00-02:00\""))
        guard case .weekly(let week) = s.site.openingHours else { Issue.record("not weekly"); return }
        #expect(week[7] == [1320 ... 1560])
    }

    @Test func strictModeDefaultsToHourlyRotation() throws {
        let s = try ConfigLoader.parse(yaml: validYAML + "\nprivacy:\n  strict: true\n")
        #expect(s.privacy.rotation == .hourly)
        #expect(s.privacy.strict)
    }

    @Test func estimatorKeysAreReadAndGroupingIsTheDefault() throws {
        let defaults = try ConfigLoader.parse(yaml: validYAML)
        #expect(defaults.privacy.randomisedAddresses == .group)
        #expect(defaults.visits == VisitRules())
        let s = try ConfigLoader.parse(yaml: validYAML + "\nprivacy:\n  randomised_addresses: count\nvisits:\n  visit_gap_seconds: 900\n  presence_tail_seconds: 120\n  resident_window_seconds: 1200\n  resident_coverage: 0.8\n  peak_margin_db: 7\n")
        #expect(s.privacy.randomisedAddresses == .count)
        #expect(s.visits.peakMarginDB == 7)
        #expect(s.visits.visitGapSeconds == 900)
        #expect(s.visits.presenceTailSeconds == 120)
        #expect(s.visits.residentWindowSeconds == 1200)
        #expect(s.visits.residentCoverage == 0.8)
    }

    @Test func theDocumentedExampleStoreLoads() throws {
        let s = try ConfigLoader.load(path: repositoryRoot + "/config/footfall.yaml")
        #expect(s.zones.count == 4)
        #expect(s.sensors.count == 4)
        #expect(s.privacy.rotation == .daily(hour: 4, minute: 0))
        #expect(HourClock(identifier: s.site.timeZone) != nil)
    }

    @Test func theBrnoLabExampleHasTwoFileSensorsInOneZone() throws {
        let s = try ConfigLoader.load(path: repositoryRoot + "/config/examples/brno-lab.yaml")
        #expect(s.site.timeZone == "Europe/Prague")
        #expect(s.site.openingHours == .alwaysOpen)
        #expect(s.privacy.k == PrivacySettings().k)
        #expect(s.zones.count == 1)
        #expect(s.sensors.map(\.id) == ["position_1", "position_2"])
        #expect(s.sensors.allSatisfy { $0.feed == .file && $0.zone == 0 })
    }

    @Test func theTZSPLoopbackExampleMapsTwoAccessPointsToTwoZones() throws {
        let s = try ConfigLoader.load(path: repositoryRoot + "/config/examples/tzsp-loopback.yaml")
        #expect(s.site.openingHours == .alwaysOpen)
        #expect(s.privacy.k == PrivacySettings().k)
        let entrance = try #require(s.sensorIndex(id: "ap-entrance"))
        let checkout = try #require(s.sensorIndex(id: "ap-checkout"))
        #expect(s.sensors[entrance].feed == .tzsp(interface: "lo", port: 37008, senderAddress: "127.0.0.2"))
        #expect(s.sensors[checkout].feed == .tzsp(interface: "lo", port: 37008, senderAddress: "127.0.0.3"))
        #expect(s.zones[s.sensors[entrance].zone].id == "entrance")
        #expect(s.zones[s.sensors[checkout].zone].id == "checkout")
        #expect(s.zones.allSatisfy { $0.rssiThreshold <= -45 })
    }
}
