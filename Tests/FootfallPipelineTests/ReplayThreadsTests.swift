@testable import FootfallPipeline
import FootfallConfig
import FootfallCore
import FootfallAggregate
import FootfallIngest
import Foundation
import Testing

// A replay reads and parses on a thread of its own and hands the probe requests to the core
// in batches (`ProbeHandoff`). Whatever the batches, the hours and counts must be exactly
// those of reading in line.
@Suite("Replay on two threads")
struct ReplayThreadsTests {
    static let fixtures = repositoryRoot + "/Tests/Fixtures/brno-sc6-61/"

    /// The hours a replay closes, in order, and what it counted.
    struct Outcome: Equatable {
        var hours: [HourReport]
        var parse: ParseCounters
        var gated: Int
        var tracker: TrackerCounters
        var truncatedFiles: Int
        var damage: [String]
        var bytesRead: Int64
    }

    static func replay(_ inputs: [ReplayInput], threads: Int, handoff: ProbeHandoff? = nil) throws -> Outcome {
        let settings = try ConfigLoader.load(path: repositoryRoot + "/config/examples/brno-lab.yaml")
        var hours: [HourReport] = []
        let summary = try Replay.process(settings: settings, inputs: inputs, progress: nil, keys: nil, inspect: nil, threads: threads, handoff: handoff) { hours.append($0) }
        return Outcome(
            hours: hours,
            parse: summary.parse,
            gated: summary.gated, tracker: summary.tracker, truncatedFiles: summary.truncatedFiles,
            damage: summary.damage, bytesRead: summary.bytesRead)
    }

    static let oneFile = [ReplayInput(path: fixtures + "2024-03-07_position_1.pcap", sensorID: "position_1")]
    static let twoFiles = [ReplayInput(path: fixtures + "2024-03-14_position_1.pcap", sensorID: "position_1"),
                           ReplayInput(path: fixtures + "2024-03-14_position_2.pcap", sensorID: "position_2")]

    @Test(arguments: [(1, 2, 3), (2, 8, 1024), (2, 2, 1)])
    func readingOnItsOwnThreadGivesTheHoursAndCountsOfReadingInLine(files: Int, batchCount: Int, batchCapacity: Int) throws {
        let inputs = files == 1 ? Self.oneFile : Self.twoFiles
        let inLine = try Self.replay(inputs, threads: 1)
        let handoff = ProbeHandoff(batchCount: batchCount, batchCapacity: batchCapacity)
        let twoThreads = try Self.replay(inputs, threads: 2, handoff: handoff)
        #expect(inLine.hours.count >= 5)
        #expect(inLine.parse.probeRequests > 10_000)
        #expect(twoThreads == inLine)
    }

    @Test func aDamagedCaptureIsReadToItsDamageOnTwoThreadsAsInLine() throws {
        // The fixture cut in the middle of a record, about two thirds in.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "2024-03-07_position_1.pcap"))
        let path = NSTemporaryDirectory() + "footfall-cut-\(UUID().uuidString).pcap"
        try bytes.prefix(bytes.count * 2 / 3 + 7).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let inputs = [ReplayInput(path: path, sensorID: "position_1")]
        let inLine = try Self.replay(inputs, threads: 1)
        let twoThreads = try Self.replay(inputs, threads: 2, handoff: ProbeHandoff(batchCount: 3, batchCapacity: 5))
        #expect(inLine.truncatedFiles == 1 && inLine.damage.count == 1)
        #expect(twoThreads == inLine)
    }

    @Test func aFailingSinkEndsTheReplayWithItsErrorAndStopsTheReadingThread() throws {
        let settings = try ConfigLoader.load(path: repositoryRoot + "/config/examples/brno-lab.yaml")
        let handoff = ProbeHandoff(batchCount: 4, batchCapacity: 16)
        var hours = 0
        do throws(ReplayError) {
            _ = try Replay.process(settings: settings, inputs: Self.twoFiles, progress: nil, keys: nil, inspect: nil, threads: 2, handoff: handoff) { (_: HourReport) throws(ReplayError) in
                hours += 1
                if hours == 2 { throw ReplayError("disk full") }
            }
            Issue.record("the replay went on after its sink failed")
        } catch {
            #expect(error.message == "disk full")
        }
        #expect(hours == 2)
        // The reading thread has stopped: nothing more is published.
        #expect(handoff.take() == nil)
    }
}
