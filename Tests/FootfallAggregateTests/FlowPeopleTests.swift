import FootfallCore
@testable import FootfallAggregate
import Testing

/// A flow counts its moves and, beside them, the distinct devices that made them: what k
/// guards (P7) is the people a flow describes, not how often one of them walked back and forth.
@Suite("Flows by people")
struct FlowPeopleTests {
    @Test func aFlowCountsTheDistinctDevicesThatMadeItBesideTheirMoves() {
        let t = Scene.tenAM + 300
        // Device 1 walks A → B → A → B → A → B, five minutes in each; device 2 walks A → B once.
        var obs: [Observation] = []
        for leg in 0 ..< 6 {
            obs += Scene.frames(1, from: t + Int64(leg) * 300, to: t + Int64(leg + 1) * 300, sensor: leg % 2)
        }
        obs += Scene.frames(2, from: t, to: t + 300, sensor: 0) + Scene.frames(2, from: t + 300, to: t + 600, sensor: 1)
        obs += Scene.listening(Scene.tenAM)
        let (reports, _) = Scene.run(obs)
        let flows = Scene.hour(reports, startingAt: Scene.tenAM)?.flows ?? []
        let ab = flows.first { $0.from == "a" && $0.to == "b" }
        #expect(ab?.devices == 2)
        #expect((ab?.transitions ?? 0) >= 3, "device 1's three moves A → B are counted as moves")
        #expect(flows.first { $0.from == "b" && $0.to == "a" }?.devices == 1)
    }

    @Test func aFlowMadeManyTimesByFewerThanKPeopleIsWithheld() {
        let zones = [
            ZoneHour(zone: "a", devices: 40, visitors: 30, visits: 40, averagePresent: 5, peakPresent: 30, medianDwellSeconds: 300, p90DwellSeconds: 900, passersby: 10),
            ZoneHour(zone: "b", devices: 40, visitors: 30, visits: 40, averagePresent: 5, peakPresent: 30, medianDwellSeconds: 300, p90DwellSeconds: 900, passersby: 10),
            ZoneHour(zone: ZoneHour.siteWide, devices: 50, visitors: 40, visits: 80, averagePresent: 10, peakPresent: 40, medianDwellSeconds: 300, p90DwellSeconds: 900, passersby: 10),
        ]
        // One person walked from a to b twenty times.
        let report = HourReport(hourStart: Scene.tenAM, utcOffsetSeconds: 3600, partial: false, zones: zones,
                                flows: [FlowCount(from: "a", to: "b", transitions: 20, devices: 1)])
        #expect(Suppression.apply(report, k: 5).flows[0].transitions == .withheld)
        // Twenty people who walked it once each are published.
        let many = HourReport(hourStart: Scene.tenAM, utcOffsetSeconds: 3600, partial: false, zones: zones,
                              flows: [FlowCount(from: "a", to: "b", transitions: 20, devices: 20)])
        #expect(Suppression.apply(many, k: 5).flows[0].transitions == .value(20))
    }
}
