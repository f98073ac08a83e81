import FootfallConfig
import FootfallCore
import Foundation
import Testing

/// A configuration that is far too large or full of mistakes is refused quickly and briefly.
@Suite("Configuration size and error limits")
struct ConfigLimitsTests {
    static let valid = """
        site:
          name: "Limits"
          time_zone: Europe/Prague
          opening_hours: always
        zones:
          - id: entrance
        sensors:
          - id: a
            zone: entrance
            file: true

        """

    @Test func aFileOverOneMebibyteIsRefusedWithoutBeingParsed() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-big-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var text = Self.valid
        text += String(repeating: "# padding\n", count: 110_000)  // 1.1 MB of comments
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let started = ContinuousClock.now
        #expect {
            try ConfigLoader.load(path: path)
        } throws: { error in
            let message = "\(error)"
            return message.contains("at most 1048576 bytes") && message.split(separator: "\n").count == 1
        }
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func aStringLongerThanTheCapIsAnErrorNamingItsKeyAndLine() throws {
        let name = String(repeating: "x", count: 5000)
        let text = Self.valid.replacingOccurrences(of: "\"Limits\"", with: "\"\(name)\"")
        #expect {
            try ConfigLoader.parse(yaml: text, file: "long.yaml")
        } throws: { error in
            let message = "\(error)"
            return message.contains("long.yaml:2") && message.contains("site.name") && message.contains("at most 4096") && !message.contains(name)
        }
    }

    @Test func atMostTwentyErrorsArePrintedThenHowManyMore() throws {
        var text = Self.valid + "output:\n"
        for i in 0 ..< 50 { text += "  typo_\(i): 1\n" }
        #expect {
            try ConfigLoader.parse(yaml: text, file: "typos.yaml")
        } throws: { error in
            guard let errors = error as? ConfigErrors else { return false }
            let lines = errors.description.split(separator: "\n")
            return errors.errors.count == 50 && lines.count == 21 && lines.last == "and 30 more"
        }
    }
}
