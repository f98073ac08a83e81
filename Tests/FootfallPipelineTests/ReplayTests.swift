@testable import FootfallPipeline
import FootfallConfig
import FootfallCore
import FootfallIngest
import FootfallAggregate
import Foundation
import HeapModule
import Testing

@Suite("Replay")
struct ReplayTests {
    @Test func captureArgumentsSplitAtTheLastAt() throws {
        #expect(try ReplayInput(argument: "dir@x/day.pcap@position_1") == ReplayInput(path: "dir@x/day.pcap", sensorID: "position_1"))
        #expect(throws: ReplayError.self) { try ReplayInput(argument: "day.pcap") }
        #expect(throws: ReplayError.self) { try ReplayInput(argument: "day.pcap@") }
    }

    @Test func theMergeHeapYieldsHeadsInTimeThenFileOrder() {
        var heap = Heap<MergeKey>()
        for (time, source) in [(5, 0), (3, 1), (5, 2), (1, 3), (3, 0)] { heap.insert(MergeKey(time: Int64(time), source: source)) }
        var order: [Int] = []
        while let key = heap.popMin() { order.append(key.source) }
        #expect(order == [3, 0, 1, 0, 2])
    }

    @Test func anUnknownSensorIsRefusedBeforeAnythingIsRead() throws {
        let settings = try ConfigLoader.load(path: repositoryRoot + "/config/examples/brno-lab.yaml")
        #expect(throws: ReplayError.self) {
            try Replay.run(settings: settings, outputDirectory: NSTemporaryDirectory(), inputs: [ReplayInput(path: "x.pcap", sensorID: "position_9")])
        }
    }

    @Test
    func replayingTheFixtureDayWritesOneHeatmapPerHourWithAnAllRow() throws {
        let fixtures = repositoryRoot + "/Tests/Fixtures/brno-sc6-61/"
        let out = NSTemporaryDirectory() + "footfall-replay-\(UUID().uuidString)"
        let summary = try Replay.run(
            configPath: repositoryRoot + "/config/examples/brno-lab.yaml", outputDirectory: out,
            arguments: [fixtures + "2024-03-14_position_1.pcap@position_1", fixtures + "2024-03-14_position_2.pcap@position_2"])
        #expect(summary.parse.probeRequests > 0)
        let heatmaps = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("heatmap-") }
        #expect(!heatmaps.isEmpty)
        #expect(heatmaps.count == summary.hoursWritten)
        for name in heatmaps {
            let text = try String(contentsOfFile: out + "/" + name, encoding: .utf8)
            #expect(text.split(separator: "\r\n").contains { $0.split(separator: ",", omittingEmptySubsequences: false)[1] == "ALL" })
        }
        // Same inputs, same files.
        let again = NSTemporaryDirectory() + "footfall-replay-\(UUID().uuidString)"
        _ = try Replay.run(
            configPath: repositoryRoot + "/config/examples/brno-lab.yaml", outputDirectory: again,
            arguments: [fixtures + "2024-03-14_position_1.pcap@position_1", fixtures + "2024-03-14_position_2.pcap@position_2"])
        for name in heatmaps {
            #expect(try String(contentsOfFile: out + "/" + name, encoding: .utf8) == String(contentsOfFile: again + "/" + name, encoding: .utf8))
        }
    }

    /// Every file a replay wrote, by name.
    static func files(in directory: String) throws -> [String: String] {
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            files[name] = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        }
        return files
    }

    @Test
    func replayingADayWhoseLayoutsSplitIntoLanesTwiceWritesTheSameFiles() throws {
        // At 100 units per phone-hour the lab's layouts split into lanes; each replay draws
        // its own random key, so the files are the same only if a frame's lane does not
        // depend on the key.
        let fixtures = repositoryRoot + "/Tests/Fixtures/brno-sc6-61/"
        var settings = try ConfigLoader.load(path: repositoryRoot + "/config/examples/brno-lab.yaml")
        let inputs = [ReplayInput(path: fixtures + "2024-03-14_position_1.pcap", sensorID: "position_1"),
                      ReplayInput(path: fixtures + "2024-03-14_position_2.pcap", sensorID: "position_2")]
        func replay(rate: Int) throws -> [String: String] {
            settings.visits.phoneProbeRate = rate
            let out = NSTemporaryDirectory() + "footfall-replay-\(UUID().uuidString)"
            _ = try Replay.run(settings: settings, outputDirectory: out, inputs: inputs)
            defer { try? FileManager.default.removeItem(atPath: out) }
            return try Self.files(in: out)
        }
        let first = try replay(rate: 100), second = try replay(rate: 100)
        #expect(!first.isEmpty)
        #expect(Set(first.keys) == Set(second.keys))
        #expect(first.keys.filter { first[$0] != second[$0] }.sorted() == [], "files that differ between the two replays")
        // The layouts were split: without lanes the same day is counted differently.
        let unsplit = try replay(rate: 0)
        #expect(first.keys.contains { first[$0] != unsplit[$0] }, "lanes changed no file")
    }

    @Test func filesWrittenAreListedHourByHourFlowsBeforeHeatmap() throws {
        let fixtures = repositoryRoot + "/Tests/Fixtures/brno-sc6-61/"
        let out = NSTemporaryDirectory() + "footfall-replay-\(UUID().uuidString)"
        let summary = try Replay.run(
            configPath: repositoryRoot + "/config/examples/brno-lab.yaml", outputDirectory: out,
            arguments: [fixtures + "2024-03-07_position_1.pcap@position_1"])
        // The files are written on a second thread; the list still says what is on disk,
        // in the order the hours closed.
        #expect(summary.hoursWritten > 1)
        // The day's file comes after the hour that ended it (here the last, partial one).
        #expect(summary.filesWritten.last == "daily-2024-03-07.csv")
        let hourFiles = summary.filesWritten.filter { !$0.hasPrefix("daily-") }
        #expect(hourFiles.count == 2 * summary.hoursWritten)
        let stems = stride(from: 0, to: hourFiles.count - 1, by: 2).map { i -> String in
            let flows = hourFiles[i], heatmap = hourFiles[i + 1]
            #expect(flows.hasPrefix("flows-") && heatmap.hasPrefix("heatmap-"))
            #expect(flows.dropFirst("flows-".count) == heatmap.dropFirst("heatmap-".count))
            return String(heatmap.dropFirst("heatmap-".count))
        }
        #expect(stems == stems.sorted())
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: out)) == Set(summary.filesWritten))
    }

    @Test func anOutputDirectoryThatCannotBeCreatedFailsTheReplayWithTheWritersMessage() throws {
        let fixtures = repositoryRoot + "/Tests/Fixtures/brno-sc6-61/"
        // A directory below a regular file cannot be created, whoever runs the test.
        let file = NSTemporaryDirectory() + "footfall-replay-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        do throws(ReplayError) {
            _ = try Replay.run(
                configPath: repositoryRoot + "/config/examples/brno-lab.yaml", outputDirectory: file + "/out",
                arguments: [fixtures + "2024-03-07_position_1.pcap@position_1"])
            Issue.record("the replay succeeded without an output directory")
        } catch {
            #expect(error.message.contains("cannot create the output directory"))
        }
    }
}
