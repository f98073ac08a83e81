import FootfallConfig
import FootfallCore
@testable import FootfallIngest
@testable import FootfallAggregate
@testable import FootfallPipeline
import Foundation
import Testing

@Suite("Evaluation")
struct EvaluationTests {
    static let clock = HourClock(identifier: "Europe/Prague")!
    /// 2024-03-14 14:00 in Europe/Prague (UTC+01:00).
    static let twoPM: Int64 = 1_710_421_200
    static let fixtures = repositoryRoot + "/Tests/Fixtures/brno-sc6-61/"

    static func means(_ csv: String, name: String = "truth.csv") throws -> [Int64: Double] {
        GroundTruth.hourlyMeans(try GroundTruth.parse(csv, name: name, clock: clock), clock: clock)
    }

    // MARK: ground truth

    @Test func groundTruthIsTheTimeWeightedMeanOfEachHourWithEachRowHoldingUntilTheNext() throws {
        let means = try Self.means("""
            datetime;occupancy
            2024-03-14 14:00:00;10
            2024-03-14 14:30:00;20
            2024-03-14 15:15:00;nan
            2024-03-14 15:45:00.250000;4
            2024-03-14 16:00:00;4

            """)
        // 14:00: 10 for 30 min, 20 for 30 min.
        #expect(abs((means[Self.twoPM] ?? 0) - 15) < 1e-9)
        // 15:00: 20 for 15 min; unknown for 30 min (holds nothing); 4 for 15 min less ¼ s.
        let fifteen = (20 * 900 + 4 * 899.75) / (900 + 899.75)
        #expect(abs((means[Self.twoPM + 3600] ?? 0) - fifteen) < 1e-9)
        // 16:00: only the last row, which holds nothing.
        #expect(means[Self.twoPM + 7200] == nil)
        #expect(means.count == 2)
    }

    @Test func hoursWithoutRowsAreSkippedEvenWhenARowHoldsThroughThem() throws {
        let means = try Self.means("datetime;occupancy\n2024-03-14 14:30:00;5\n2024-03-14 16:30:00;7\n2024-03-14 17:00:00;0\n")
        #expect(means[Self.twoPM] == 5)
        #expect(means[Self.twoPM + 3600] == nil)
        // 16:00: 5 until 16:30, then 7.
        #expect(means[Self.twoPM + 7200] == 6)
    }

    @Test func rowsOfSeveralFilesAreMergedByTime() throws {
        let a = try GroundTruth.parse("datetime;occupancy\n2024-03-14 14:00:00;2\n2024-03-14 14:40:00;0\n", name: "a.csv", clock: Self.clock)
        let b = try GroundTruth.parse("datetime;occupancy\n2024-03-14 14:20:00;8\n", name: "b.csv", clock: Self.clock)
        // 2 for 20 min, 8 for 20 min; the last row (0 at 14:40) holds nothing.
        let means = GroundTruth.hourlyMeans(b + a, clock: Self.clock)
        #expect(means[Self.twoPM] == 5)
    }

    @Test func commaSeparatedFilesWithQuotedHeadersAndMoreColumnsAreRead() throws {
        let means = try Self.means("\"position\",\"datetime\",\"occupancy\"\r\np1,2024-03-14T14:00:00,3\r\np1,2024-03-14 14:30,5\r\np1,2024-03-14 15:00:00,0\r\n")
        #expect(means[Self.twoPM] == 4)
    }

    @Test func localTimeFollowsTheSitesSummerTime() throws {
        // 2024-07-01 12:00 in Prague is 10:00 UTC.
        let rows = try GroundTruth.parse("datetime;occupancy\n2024-07-01 12:00:00;1\n", name: "t.csv", clock: Self.clock)
        #expect(rows.first?.time == 1_719_828_000)
    }

    @Test(arguments: [
        ("time;people\n", 1),
        ("datetime;occupancy\n2024-03-14 14:00:00;3\n14.3.2024 14:30;4\n", 3),
        ("datetime;occupancy\n2024-03-14 14:00:00;many\n", 2),
        ("datetime;occupancy\n2024-03-14 14:00:00;-1\n", 2),
        ("datetime;occupancy\n2024-03-14 14:00:00\n", 2),
        ("", 1),
    ])
    func aBadFileIsAnErrorNamingTheFileAndLine(csv: String, line: Int) {
        do {
            _ = try GroundTruth.parse(csv, name: "day.csv", clock: Self.clock)
            Issue.record("accepted a bad file")
        } catch {
            #expect(error.message.hasPrefix("day.csv:\(line): "))
        }
    }

    // MARK: metrics

    @Test func maeRmseAndPearsonOfKnownPairs() throws {
        let m = EvaluationMetrics(pairs: [(1, 2), (2, 4), (3, 6)])
        #expect(abs(m.mae - 2) < 1e-12)
        #expect(abs(m.rmse - (14.0 / 3).squareRoot()) < 1e-12)
        #expect(abs(try #require(m.r) - 1) < 1e-12)
        let opposite = EvaluationMetrics(pairs: [(3, 1), (2, 2), (1, 3)])
        #expect(abs(try #require(opposite.r) + 1) < 1e-12)
        let partly = EvaluationMetrics(pairs: [(1, 1), (2, 3), (3, 2)])
        #expect(abs(try #require(partly.r) - 0.5) < 1e-12)
        #expect(EvaluationMetrics(pairs: [(1, 0), (1, 0)]).r == nil)
    }

    @Test func anHourWithGroundTruthButNoFramesHasEstimateZero() {
        let e = Evaluation(estimates: [Self.twoPM: 2], truth: [Self.twoPM: 3, Self.twoPM + 3600: 1], clock: Self.clock)
        #expect(e.hours.map(\.estimate) == [2, 0])
        #expect(e.hours.map(\.truth) == [3, 1])
        #expect(e.metrics.mae == 1)
    }

    @Test func jsonIsOneObjectWithHoursAndTheMetrics() throws {
        let e = Evaluation(estimates: [Self.twoPM: 14.204, Self.twoPM + 3600: 2], truth: [Self.twoPM: 15.1, Self.twoPM + 3600: 1], clock: Self.clock)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(e.json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["hours", "mae", "rmse", "r"])
        let hours = try #require(object["hours"] as? [[String: Any]])
        #expect(hours.count == 2)
        #expect(hours.first?["hour_start"] as? String == "2024-03-14T14:00:00+01:00")
        #expect(hours.first?["estimate"] as? Double == 14.2)
        #expect(hours.first?["truth"] as? Double == 15.1)
        #expect(abs((object["mae"] as? Double ?? 0) - 0.948) < 1e-9)
        #expect(object["r"] as? Double == 1)
    }

    // MARK: the fixture days

    static let days = ["2024-02-08", "2024-03-07", "2024-03-14", "2024-03-16"]

    static func inputs(_ day: String) -> [ReplayInput] {
        [ReplayInput(path: fixtures + day + "_position_1.pcap", sensorID: "position_1"),
         ReplayInput(path: fixtures + day + "_position_2.pcap", sensorID: "position_2")]
    }

    /// All four days with the example configuration, unchanged: the goal of the estimator.
    @Test func theEstimateTracksHandCountsOverAllFixtureDays() throws {
        let settings = try ConfigLoader.load(path: repositoryRoot + "/config/examples/brno-lab.yaml")
        var hours: [EvaluatedHour] = []
        for day in Self.days {
            hours += try Evaluate.run(settings: settings, groundTruth: [Self.fixtures + day + "_occupancy.csv"], inputs: Self.inputs(day)).hours
        }
        #expect(hours.count == 51)
        let metrics = EvaluationMetrics(pairs: hours.map { ($0.estimate, $0.truth) })
        #expect(metrics.mae <= 1.5)
        #expect(try #require(metrics.r) >= 0.95)
    }

    /// The peak margin through the replay pipeline, read from the example configuration: on
    /// the Saturday nobody was in the room, and the devices behind the walls that made up the
    /// estimate (8.5 people·hours over 24 hours without the rule) never came near (0.5 with it).
    @Test func theEmptySaturdayReadsAlmostNobodyBecauseDevicesBehindTheWallsNeverComeNear() throws {
        let settings = try ConfigLoader.load(path: repositoryRoot + "/config/examples/brno-lab.yaml")
        #expect(settings.visits.peakMarginDB == 11)
        let day = "2024-03-16"
        let truth = [Self.fixtures + day + "_occupancy.csv"]
        let with = try Evaluate.run(settings: settings, groundTruth: truth, inputs: Self.inputs(day)).hours
        var off = settings
        off.visits.peakMarginDB = 0
        let without = try Evaluate.run(settings: off, groundTruth: truth, inputs: Self.inputs(day)).hours
        #expect(with.count == 24 && without.count == 24)
        #expect(with.allSatisfy { $0.truth == 0 })
        let peopleHoursWith = with.map(\.estimate).reduce(0, +)
        let peopleHoursWithout = without.map(\.estimate).reduce(0, +)
        #expect(peopleHoursWith <= 1.5)
        #expect(peopleHoursWithout >= 4 * peopleHoursWith + 2)
    }

    /// The 14 all-in-one PCs of the lab (vendor-assigned addresses). Used only here, to check
    /// that they are recognised without being named anywhere in the configuration.
    static let labPCs: [UInt64] = [
        0xdcfb_4868_bee4, 0xdcfb_488c_71fc, 0xdcfb_482a_52e0, 0xdcfb_48f5_c6c2, 0xdcfb_48e3_ab78,
        0xdcfb_4800_5190, 0xdcfb_4875_d842, 0xdcfb_48de_868d, 0xdcfb_48dd_c60b, 0xdcfb_4855_d578,
        0xdcfb_48c2_1d64, 0x40ec_99f9_34a6, 0x40ec_998e_3f63, 0x40ec_991f_3e75,
    ]

    /// How many of the PCs probe in each day's captures: not all of them were switched on
    /// (2024-03-16 was a Saturday), and the first PC of the list is in none of the four captures
    /// (13 distinct PCs in all, counted with tshark).
    @Test(arguments: [("2024-02-08", 11), ("2024-03-07", 12), ("2024-03-14", 13), ("2024-03-16", 0)])
    func replayingAFixtureDayRecognisesTheLabPCsAsResidents(day: String, switchedOn: Int) throws {
        let settings = try ConfigLoader.load(path: repositoryRoot + "/config/examples/brno-lab.yaml")
        var residentPCs = -1
        var residents = -1
        _ = try Replay.process(settings: settings, inputs: Self.inputs(day), progress: nil, keys: KeyStore(), inspect: { tracker, keys in
            let pseudonymiser = Pseudonymiser(keys: keys)
            residentPCs = Self.labPCs.filter { tracker.isResident(pseudonymiser.pseudonym(of: RawMAC(bits: $0))) }.count
            residents = tracker.counters.residents
        }, sink: { _ in })
        #expect(residentPCs == switchedOn)
        #expect(residents >= switchedOn)
    }
}
