import FootfallConfig
import FootfallCore
import FootfallIngest
import FootfallAggregate
import Testing

/// ``validYAML`` with a third sensor fed by PEEKREMOTE (lines 22–27).
private let peekYAML = validYAML + """

  - id: s3
    zone: aisles
    peekremote:
      interface: lo
      port: 5000
      sender: 127.0.0.4
"""

private func peekErrors(replacing old: String, with new: String) -> [ConfigError] {
    precondition(peekYAML.contains(old))
    return errors(peekYAML.replacingOccurrences(of: old, with: new))
}

@Suite("Configuration: PEEKREMOTE feeds")
struct PeekRemoteConfigTests {
    @Test func aPeekRemoteFeedNamesInterfacePortAndSender() throws {
        let s = try ConfigLoader.parse(yaml: peekYAML)
        #expect(s.sensors[2].feed == .peekRemote(interface: "lo", port: 5000, senderAddress: "127.0.0.4"))
        #expect(s.sensors[2].zone == 1)
        // The TZSP sensor next to it is unchanged.
        #expect(s.sensors[1].feed == .tzsp(interface: "lo", port: 37008, senderAddress: "127.0.0.2"))
    }

    @Test func thePortDefaultsTo5000AndTheInterfaceToAny() throws {
        let yaml = validYAML + "\n  - id: s3\n    zone: aisles\n    peekremote: {sender: 192.0.2.30}"
        let s = try ConfigLoader.parse(yaml: yaml)
        #expect(s.sensors[2].feed == .peekRemote(interface: "any", port: 5000, senderAddress: "192.0.2.30"))
    }

    @Test func theSummaryNamesTheProtocolSenderInterfaceAndPort() throws {
        let s = try ConfigLoader.parse(yaml: peekYAML)
        let summary = ConfigSummary.text(for: s)
        #expect(summary.contains("s3 in zone aisles: PEEKREMOTE from 127.0.0.4 on lo port 5000"), "\(summary)")
    }

    @Test(arguments: [
        ("      port: 5000", "      port: 70000", 26, "sensors[2].peekremote.port", "UDP port between 1 and 65535"),
        ("      port: 5000", "      port: udp", 26, "sensors[2].peekremote.port", "UDP port"),
        ("      sender: 127.0.0.4", "      sender: ap-7.local", 27, "sensors[2].peekremote.sender", "IPv4"),
        ("      port: 5000", "      prot: 5000", 26, "sensors[2].peekremote.prot", "unknown key \"prot\""),
        ("      port: 5000", "      port: 37008", 26, "sensors[2].peekremote.port", "already receives TZSP"),
        ("      sender: 127.0.0.4", "      sender: 127.0.0.4\n    tzsp: {sender: 127.0.0.5}", 22, "sensors[2]", "exactly one of"),
    ])
    func aBadFeedIsOneErrorNamingItsKeyAndLine(old: String, new: String, line: Int, path: String, words: String) {
        let found = peekErrors(replacing: old, with: new)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.line == line)
        #expect(found.first?.path == path)
        #expect(found.first?.message.contains(words) == true, "\(found)")
        #expect(found.first?.description.hasPrefix("footfall.yaml:\(line): \(path): ") == true, "\(found)")
    }

    @Test func aMissingSenderIsAnErrorOnTheFeed() {
        let found = peekErrors(replacing: "\n      sender: 127.0.0.4", with: "")
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.path == "sensors[2].peekremote")
        #expect(found.first?.line == 25)
        #expect(found.first?.message == "missing key \"sender\"")
    }

    @Test func theLoopbackExampleLoadsWithTwoAccessPointsOnOneStream() throws {
        let s = try ConfigLoader.load(path: repositoryRoot + "/config/examples/peekremote-loopback.yaml")
        #expect(s.sensors.map(\.feed) == [
            .peekRemote(interface: "lo", port: 5000, senderAddress: "127.0.0.4"),
            .peekRemote(interface: "lo", port: 5000, senderAddress: "127.0.0.5"),
        ])
    }

    @Test func oneAccessPointCannotFeedTwoSensorsOnOneStream() {
        let yaml = peekYAML + "\n  - id: s4\n    zone: aisles\n    peekremote: {interface: lo, sender: 127.0.0.4}"
        let found = errors(yaml)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.path == "sensors[3].peekremote.sender")
        #expect(found.first?.message.contains("already receives from 127.0.0.4") == true)
    }
}
