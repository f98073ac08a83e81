// Crowds of phones that randomise their address, built from the labelled single-phone
// captures (Tests/Fixtures/labelled-phones, GPL-3.0) by CrowdGenerator and replayed through
// the production path (`Replay.run` from a configuration file: parse, gate, key schedule,
// pseudonymise, track, suppress, write CSV). docs/crowds.md explains the method.
//
// The phone probe rate (`visits.phone_probe_rate`) was measured on three phones only — the
// tuning phones iPhone11-B, iPhone12-M and OppoFindX3Neo-A. These tests count crowds of the
// two others, iPhone7-F (iOS 15.5) and iPhoneXR-L (iOS 16.4.1), which were never used to set it.
import FootfallAggregate
import FootfallConfig
import FootfallCore
import FootfallCrowd
import FootfallPipeline
import Foundation
import Testing

@Suite("Crowd counts")
struct CrowdCountTests {
    static let phones = repositoryRoot + "/Tests/Fixtures/labelled-phones/"
    /// 2024-03-14 10:00 UTC, 11:00 in Europe/Prague.
    static let hourStart: Int64 = 1_710_410_400

    /// The phones never used to choose a default.
    static func testPhones() throws -> [PhoneCapture] {
        try ["iPhone7-F", "iPhoneXR-L"].map { try PhoneCapture(path: phones + $0 + ".pcap") }
    }

    /// A store of one or two zones with everything at its default, the RSSI thresholds opened.
    static func config(zones: Int, in directory: String) throws -> String {
        var text = """
            site: {name: crowd, time_zone: Europe/Prague, opening_hours: always}
            zones:

            """
        for z in 0 ..< zones { text += "  - {id: z\(z), name: Zone \(z), rssi_threshold: \(zones == 1 ? -100 : -70)}\n" }
        text += "sensors:\n"
        for z in 0 ..< zones { text += "  - {id: s\(z), zone: z\(z), file: true}\n" }
        let path = directory + "/crowd.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Generates the crowd into pcaps (one per sensor) and replays them through the
    /// production pipeline; returns the hour's rows by zone, before suppression (counts of a
    /// few passers-by would otherwise withhold `visitors` and `avg_present` from the file).
    static func replay(_ crowd: [CrowdMember], zones: Int = 1, seed: UInt64) throws -> [String: ZoneHour] {
        let directory = NSTemporaryDirectory() + "footfall-crowd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let captures = (0 ..< zones).map { directory + "/s\($0).pcap" }
        try CrowdGenerator.write(crowd, hourStartSeconds: hourStart, to: captures, seed: seed)
        let settings = try ConfigLoader.load(path: try config(zones: zones, in: directory))
        var rows: [String: ZoneHour] = [:]
        _ = try Replay.process(settings: settings, inputs: captures.enumerated().map { ReplayInput(path: $1, sensorID: "s\($0)") }) { report in
            if report.hourStart == hourStart { for row in report.zones { rows[row.zone] = row } }
        }
        return rows
    }

    /// N test phones, alternating between the two models.
    static func crowd(_ n: Int) throws -> [CrowdMember] {
        let phones = try testPhones()
        return (0 ..< n).map { CrowdMember(phone: phones[$0 % phones.count]) }
    }

    @Test func theDeviceCountGrowsInProportionToACrowdOfUntunedPhones() throws {
        var ratios: [Double] = []
        for (i, n) in [10, 30, 100, 300].enumerated() {
            let all = try #require(try Self.replay(Self.crowd(n), seed: UInt64(100 + i))["ALL"])
            let ratio = Double(all.devices) / Double(n)
            print("crowd N=\(n): devices \(Double(all.devices)) avg_present \(all.averagePresent) visitors \(Double(all.visitors)) (devices/N \(ratio))")
            // Within a factor of 2 of the crowd, and the crowd present all hour is present in the average too.
            #expect(ratio >= 0.5 && ratio <= 2, "N=\(n): devices/N = \(ratio)")
            #expect(all.averagePresent / Double(n) >= 0.5 && all.averagePresent / Double(n) <= 2)
            ratios.append(ratio)
        }
        let mean = ratios.reduce(0, +) / Double(ratios.count)
        for r in ratios { #expect(abs(r / mean - 1) <= 0.25, "devices/N \(ratios) strays more than 25 % from its mean \(mean)") }
    }

    @Test func aMixedCrowdCountsRandomisedAndVendorPhonesAndLeavesResidentsOut() throws {
        let phones = try Self.testPhones()
        var crowd = try Self.crowd(40)
        // Vendor-address phones are iPhone7 copies: they probe in bursts minutes apart. (Copies
        // of the XR probe in almost every minute of the hour, as a powered-on PC does, and the
        // fast resident rule takes them for fixed devices.)
        crowd += (0 ..< 20).map { _ in CrowdMember(phone: phones[0], addressing: .vendor) }
        crowd += (0 ..< 3).map { CrowdMember(phone: phones[$0 % 2], addressing: .resident) }
        let all = try #require(try Self.replay(crowd, seed: 11)["ALL"])
        let alone = try #require(try Self.replay(try Self.crowd(40), seed: 11)["ALL"])
        // The 20 vendor phones are a device each; the residents none (they are recognised
        // before the hour is written, so they are out of the whole hour).
        let added = Double(all.devices) - Double(alone.devices)
        print("mixed crowd: \(alone.devices) devices for 40 randomising phones, \(all.devices) with 20 vendor phones and 3 residents")
        #expect(added >= 18 && added <= 22, "20 vendor phones and 3 residents added \(added) devices")
        #expect(Double(all.devices) / 60 >= 0.5 && Double(all.devices) / 60 <= 2)
    }

    @Test func aCrowdSplitOverTwoZonesIsCountedOnceSiteWideAndPresentInEachZoneInProportion() throws {
        // 90 phones near sensor 0, 30 near sensor 1; each heard by the other sensor too, 25 dB weaker.
        let phones = try Self.testPhones()
        let crowd = (0 ..< 120).map { i in
            let zone = i < 90 ? 0 : 1
            return CrowdMember(phone: phones[i % 2], sensor: zone, signalOffset: 0, alsoHeardBy: [(sensor: 1 - zone, signalOffset: -25)])
        }
        let rows = try Self.replay(crowd, zones: 2, seed: 12)
        let all = try #require(rows["ALL"]), z0 = try #require(rows["z0"]), z1 = try #require(rows["z1"])
        // The same phones heard by one sensor only.
        let single = try #require(try Self.replay(crowd.map { CrowdMember(phone: $0.phone) }, seed: 12)["ALL"])
        print("split crowd: ALL devices \(all.devices) (one sensor: \(single.devices)) avg \(all.averagePresent); z0 avg \(z0.averagePresent); z1 avg \(z1.averagePresent)")
        // A phone heard by two sensors is one phone: the site counts what one sensor counts.
        #expect(abs(Double(all.devices) / Double(single.devices) - 1) <= 0.1, "two sensors \(all.devices), one sensor \(single.devices)")
        #expect(Double(all.devices) / 120 >= 0.5 && Double(all.devices) / 120 <= 2)
        // Presence splits like the crowd (3:1), within a factor of 1.5 either way.
        let share = z0.averagePresent / (z0.averagePresent + z1.averagePresent)
        #expect(share >= 0.5 && share <= 0.9, "zone 0 holds \(share) of the presence, the crowd 0.75")
    }
}
