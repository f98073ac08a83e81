import FootfallTestSupport
import Foundation
import Testing

/// `footfall evaluate` compares an hour without frames with an estimate of 0, so hand
/// counts of another day would give a table of plausible-looking errors. The command as
/// built says so instead.
@Suite("evaluate names captures and ground truth that do not overlap")
struct EvaluateOverlapTests {
    @Test func groundTruthOfAnotherDayIsAnErrorNamingBothTimeRangesWithExitStatus65() throws {
        let result = try Footfall.run([
            "evaluate", "--config", GatewayFaultTests.replayConfig,
            "--ground-truth", Tools.fixture("2024-02-08_occupancy.csv"),
            "\(Tools.fixture("2024-03-16_position_1.pcap"))@position_1",
        ])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("have no hour in common"), "\(result.stderr)")
        // Both ranges, in the site's local time: the captures' day and the hand counts' day.
        #expect(result.stderr.contains("captures (2024-03-16T"), "\(result.stderr)")
        #expect(result.stderr.contains("ground truth (2024-02-08T"), "\(result.stderr)")
        #expect(result.stdout.isEmpty, "no table of meaningless errors: \(result.stdout)")
    }

    @Test func handCountedHoursOutsideTheCapturesAreNamedInAWarning() throws {
        // Two days of hand counts, one day of captures: the other day's hours are outside.
        let result = try Footfall.run([
            "evaluate", "--config", GatewayFaultTests.replayConfig,
            "--ground-truth", Tools.fixture("2024-03-14_occupancy.csv"), Tools.fixture("2024-03-16_occupancy.csv"),
            "\(Tools.fixture("2024-03-16_position_1.pcap"))@position_1",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("footfall evaluate: warning: "), "\(result.stderr)")
        #expect(result.stderr.contains("hand-counted hours are outside the captures (captures 2024-03-16T"), "\(result.stderr)")
        #expect(result.stderr.contains("ground truth 2024-03-14T"), "\(result.stderr)")
        #expect(result.stdout.contains("MAE"), "the comparison is still printed: \(result.stdout)")
    }

    @Test func capturesAndGroundTruthOfTheSameDayGiveNoWarning() throws {
        let result = try Footfall.run([
            "evaluate", "--config", GatewayFaultTests.replayConfig,
            "--ground-truth", Tools.fixture("2024-03-16_occupancy.csv"),
            "\(Tools.fixture("2024-03-16_position_1.pcap"))@position_1", "\(Tools.fixture("2024-03-16_position_2.pcap"))@position_2",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("warning"), "\(result.stderr)")
    }
}
