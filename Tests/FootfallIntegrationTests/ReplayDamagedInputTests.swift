import Foundation
import Testing

/// `footfall replay` on damaged or unreadable captures: nothing before the damage is lost,
/// the damage is reported with file and byte offset, and the exit status says so.
@Suite("Replay of damaged input")
struct ReplayDamagedInputTests {
    static let config = Tools.packageRoot.appendingPathComponent("config/examples/brno-lab.yaml").path

    @Test func aTruncatedCaptureIsReplayedUpToTheDamageReportedWithItsOffsetAndExits65() throws {
        let source = try Data(contentsOf: URL(fileURLWithPath: Tools.fixture("2024-03-16_position_1.pcap")))
        let offsets = PcapBytes.recordOffsets([UInt8](source))
        let cut = 1500
        let path = try Tools.temporaryFile(named: "cut.pcap", bytes: [UInt8](source.prefix(offsets[cut] + 9)))
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }

        let result = try Footfall.run(["replay", "--config", Self.config, "--output", output.path, "\(path)@position_1"])
        #expect(result.status == 65)
        #expect(result.stderr.contains(path))
        #expect(result.stderr.contains("byte offset \(offsets[cut])"))
        #expect(result.stderr.contains("\(cut) frames"))
        // The hours before the damage were written.
        let written = try FileManager.default.contentsOfDirectory(atPath: output.path)
        #expect(written.filter { $0.hasPrefix("heatmap-") }.count >= 10)
    }

    @Test func aMissingCaptureIsNamedAndExits66() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try Footfall.run(["replay", "--config", Self.config, "--output", output.path, "/nonexistent/day.pcap@position_1"])
        #expect(result.status == 66)
        #expect(result.stderr.contains("/nonexistent/day.pcap"))
    }
}
