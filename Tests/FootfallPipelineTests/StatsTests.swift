import FootfallPipeline
import Testing

@Suite("Stats")
struct StatsTests {
    static let fixtures = repositoryRoot + "/Tests/Fixtures/brno-sc6-61/"

    static func statistics(_ names: [String]) throws -> CaptureFileStatistics {
        var collector = StatsCollector()
        for name in names { try collector.add(file: fixtures + name) }
        return collector.finish()
    }

    /// Reading a file a second time revisits every hour with devices already counted in it.
    @Test func aDeviceIsCountedOncePerHourHoweverOftenItsHourComesBack() throws {
        let once = try Self.statistics(["2024-03-14_position_1.pcap"])
        let twice = try Self.statistics(["2024-03-14_position_1.pcap", "2024-03-14_position_1.pcap"])
        #expect(once.perHour.count > 5)
        #expect(twice.distinctDevices == once.distinctDevices)
        #expect(twice.perHour.map(\.hourStart) == once.perHour.map(\.hourStart))
        #expect(twice.perHour.map(\.distinctDevices) == once.perHour.map(\.distinctDevices))
        #expect(twice.perHour.map(\.probeRequests) == once.perHour.map { 2 * $0.probeRequests })
    }

    /// Two sensors of one day overlap in time and share devices: the counts do not depend on
    /// which file is read first.
    @Test func countsDoNotDependOnTheOrderOfOverlappingFiles() throws {
        let forward = try Self.statistics(["2024-03-14_position_1.pcap", "2024-03-14_position_2.pcap"])
        let backward = try Self.statistics(["2024-03-14_position_2.pcap", "2024-03-14_position_1.pcap"])
        #expect(forward == backward)
        let first = try Self.statistics(["2024-03-14_position_1.pcap"])
        #expect(forward.distinctDevices > first.distinctDevices)
        for hour in forward.perHour {
            #expect(hour.distinctDevices >= 1 && hour.distinctDevices <= hour.probeRequests)
            #expect(hour.distinctDevices <= forward.distinctDevices)
        }
        #expect(forward.perHour.map(\.probeRequests).reduce(0, +) == forward.probeRequests)
    }
}
