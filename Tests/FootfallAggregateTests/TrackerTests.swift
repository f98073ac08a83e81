import FootfallCore
@testable import FootfallAggregate
@testable import FootfallIngest
import FootfallOutput
import Testing

/// Hand-built observation sequences with known answers.
enum Scene {
    /// 2024-03-21 10:00 in Europe/Prague (UTC+01:00).
    static let tenAM: Int64 = 1_711_011_600
    /// 2024-03-21 00:00 in Europe/Prague.
    static let midnight: Int64 = 1_710_975_600

    static func settings(rules: VisitRules = .init(), strict: Bool = false) -> Settings {
        Settings(
            site: Site(name: "test", timeZone: "Europe/Prague"),
            zones: [Zone(id: "a", name: "A", rssiThreshold: -70), Zone(id: "b", name: "B", rssiThreshold: -70)],
            sensors: [Sensor(id: "sa", zone: 0, feed: .file), Sensor(id: "sb", zone: 1, feed: .file)],
            privacy: PrivacySettings(strict: strict),
            visits: rules)
    }

    static let keys = KeyStore()

    /// The pseudonym of a made-up address, as the pipeline would make it.
    static func device(_ n: UInt64, keys: KeyStore = Scene.keys) -> Pseudonym {
        Pseudonymiser(keys: keys).pseudonym(of: RawMAC(bits: 0x0200_0000_0000 | n))
    }

    /// The keyed element fingerprint of a made-up layout.
    static func layout(_ n: UInt64, keys: KeyStore = Scene.keys) -> Pseudonym {
        Pseudonymiser(keys: keys).pseudonym(of: RawMAC(bits: 0x0600_0000_0000 | n))
    }

    /// A frame of device `device`. By default it comes from a randomised address with an
    /// element layout of its own (one device, one group under the `group` policy; never a
    /// resident by the fast rule); `fixed` makes it a vendor-assigned address.
    static func frame(_ device: UInt64, at second: Int64, sensor: Int = 0, dBm: Int8 = -50, fixed: Bool = false, layout: UInt64? = nil, keys: KeyStore = Scene.keys) -> Observation {
        Observation(timestampNanos: second * 1_000_000_000, device: Scene.device(device, keys: keys), fingerprint: Scene.layout(layout ?? device, keys: keys), sensor: sensor, signalDBm: dBm, randomised: !fixed)
    }

    /// A frame every `every` seconds in `[from, to)`.
    static func frames(_ device: UInt64, from: Int64, to: Int64, every: Int64 = 20, sensor: Int = 0, dBm: Int8 = -50, fixed: Bool = false, layout: UInt64? = nil, keys: KeyStore = Scene.keys) -> [Observation] {
        stride(from: from, to: to, by: Int(every)).map { frame(device, at: $0, sensor: sensor, dBm: dBm, fixed: fixed, layout: layout, keys: keys) }
    }

    /// What a test may ask of a tracker after the end of input (the tracker itself is
    /// `~Copyable` and stays inside ``run(_:settings:residentCandidates:)``).
    struct Outcome {
        var counters: TrackerCounters
        /// Those of the candidates the tracker held as residents at the end.
        var residents: Set<Pseudonym>
        func isResident(_ pseudonym: Pseudonym) -> Bool { residents.contains(pseudonym) }
    }

    /// Runs observations (sorted by time) to the end of input.
    /// - Parameter residentCandidates: devices whose resident status the test asks for.
    static func run(_ observations: [Observation], settings: Settings = Scene.settings(), residentCandidates: [Pseudonym] = []) -> (reports: [HourReport], tracker: Outcome) {
        var tracker = Tracker(settings: settings)
        var reports: [HourReport] = []
        for o in observations.sorted(by: { $0.timestampNanos < $1.timestampNanos }) {
            tracker.observe(o)
            reports += tracker.takeClosedHours()
        }
        reports += tracker.finish()
        let residents = Set(residentCandidates.filter { tracker.isResident($0) })
        return (reports, Outcome(counters: tracker.counters, residents: residents))
    }

    /// A device far away (never placed) heard at the start and the end of the hour, so the
    /// tracker listened to the whole hour and averages over all of it.
    static func listening(_ hourStart: Int64) -> [Observation] {
        [Scene.frame(9999, at: hourStart, dBm: -95), Scene.frame(9999, at: hourStart + 3599, dBm: -95)]
    }

    static func row(_ report: HourReport?, _ zone: String) -> ZoneHour? { report?.zones.first { $0.zone == zone } }
    static func hour(_ reports: [HourReport], startingAt start: Int64) -> HourReport? { reports.first { $0.hourStart == start } }
}

@Suite("Tracker")
struct TrackerTests {
    @Test func aDeviceWalkingFromZoneAToBMakesOneFlowAndDwellsInBoth() {
        let t = Scene.tenAM + 600
        let obs = Scene.frames(1, from: t, to: t + 300, sensor: 0) + Scene.frames(1, from: t + 300, to: t + 600, sensor: 1) + Scene.listening(Scene.tenAM)
        let (reports, _) = Scene.run(obs)
        let hour = Scene.hour(reports, startingAt: Scene.tenAM)
        #expect(hour?.flows == [FlowCount(from: "a", to: "b", transitions: 1)])
        #expect(Scene.row(hour, "a")?.visitors == 1)
        #expect(Scene.row(hour, "b")?.visitors == 1)
        #expect(Scene.row(hour, "a")?.medianDwellSeconds == 300)
        #expect(Scene.row(hour, "b")?.medianDwellSeconds == 300)
        #expect(Scene.row(hour, "ALL")?.medianDwellSeconds == 600)
        #expect(Scene.row(hour, "ALL")?.visits == 1)
        #expect(Scene.row(hour, "ALL")?.peakPresent == 1)
        // Ten minutes heard and the five-minute presence tail, in a 60-minute hour.
        #expect(abs((Scene.row(hour, "ALL")?.averagePresent ?? 0) - 15.0 / 60.0) < 1e-9)
    }

    @Test func strictModeReportsNoFlows() {
        let t = Scene.tenAM + 600
        let obs = Scene.frames(1, from: t, to: t + 300, sensor: 0) + Scene.frames(1, from: t + 300, to: t + 600, sensor: 1)
        let (reports, _) = Scene.run(obs, settings: Scene.settings(strict: true))
        #expect(Scene.hour(reports, startingAt: Scene.tenAM)?.flows == [])
    }

    @Test func aBriefDeviceIsAPasserByNotAVisitor() {
        let (reports, _) = Scene.run([Scene.frame(1, at: Scene.tenAM + 100)])
        let all = Scene.row(reports.first, "ALL")
        #expect(all?.devices == 1)
        #expect(all?.visitors == 0)
        #expect(all?.passersby == 1)
        #expect(all?.averagePresent == 0)
    }

    @Test func aWeaklyHeardDeviceIsAPasserByHoweverLongItStays() {
        let obs = Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 1800, dBm: -85)
        let (reports, _) = Scene.run(obs)
        let a = Scene.row(Scene.hour(reports, startingAt: Scene.tenAM), "a")
        #expect(a?.devices == 1)
        #expect(a?.passersby == 1)
        #expect(a?.visitors == 0)
    }

    @Test func aFixedDevicePresentAllDayBecomesAResidentAndLeavesTheFigures() {
        let obs = Scene.frames(1, from: Scene.midnight, to: Scene.midnight + 12 * 3600, every: 60, fixed: true)
            + Scene.frames(2, from: Scene.midnight + 10 * 3600, to: Scene.midnight + 10 * 3600 + 1200)
        let (reports, tracker) = Scene.run(obs)
        #expect(tracker.counters.residents == 1)
        // Heard every minute, it is a resident within half an hour and never counts (the first
        // hour was still open); the visitor at 10:00 does.
        let first = Scene.row(Scene.hour(reports, startingAt: Scene.midnight), "ALL")
        #expect(first?.devices == 0)
        #expect(first?.averagePresent == 0)
        let ten = Scene.row(Scene.hour(reports, startingAt: Scene.tenAM), "ALL")
        #expect(ten?.visitors == 1)
        #expect(ten?.devices == 1)
        let eight = Scene.row(Scene.hour(reports, startingAt: Scene.midnight + 8 * 3600), "ALL")
        #expect(eight?.devices == 0)
        #expect(eight?.visitors == 0)
    }

    @Test func aFiveHourVisitorIsStillAVisitor() {
        let start = Scene.midnight + 13 * 3600
        let (reports, tracker) = Scene.run(Scene.frames(1, from: start, to: start + 5 * 3600, every: 45) + Scene.listening(start + 5 * 3600))
        #expect(tracker.counters.residents == 0)
        for h in 0 ..< 5 {
            let all = Scene.row(Scene.hour(reports, startingAt: start + Int64(h) * 3600), "ALL")
            #expect(all?.visitors == 1)
            #expect(all?.peakPresent == 1)
        }
        let last = Scene.row(Scene.hour(reports, startingAt: start + 4 * 3600), "ALL")
        #expect((last?.medianDwellSeconds ?? 0) >= 5 * 3600 - 60)
    }

    @Test func aLongGapSplitsAVisitInTwo() {
        // Silent for 20 minutes, longer than the 10-minute visit gap.
        let obs = Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 600) + Scene.frames(1, from: Scene.tenAM + 1800, to: Scene.tenAM + 2400)
        let (reports, _) = Scene.run(obs)
        let all = Scene.row(Scene.hour(reports, startingAt: Scene.tenAM), "ALL")
        #expect(all?.visits == 2)
        #expect(all?.visitors == 1)
        #expect(all?.medianDwellSeconds == 600)
    }

    @Test func aShortGapIsBridgedInTheLastZone() {
        // Silent for 8 minutes (< 10 min visit gap): one visit, present throughout, then for
        // the five-minute tail.
        let obs = Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 600) + Scene.frames(1, from: Scene.tenAM + 1080, to: Scene.tenAM + 1200) + Scene.listening(Scene.tenAM)
        let (reports, _) = Scene.run(obs)
        let all = Scene.row(Scene.hour(reports, startingAt: Scene.tenAM), "ALL")
        #expect(all?.visits == 1)
        #expect(all?.medianDwellSeconds == 1200)
        #expect(abs((all?.averagePresent ?? 0) - 25.0 / 60.0) < 1e-9)
    }

    @Test func framesBeyondTheLatenessWindowAreCountedAndDropped() {
        var tracker = Tracker(settings: Scene.settings())
        tracker.observe(Scene.frame(1, at: Scene.tenAM + 100))
        tracker.observe(Scene.frame(2, at: Scene.tenAM + 95))   // 5 s late: within 10 s
        tracker.observe(Scene.frame(3, at: Scene.tenAM + 80))   // 20 s late: dropped
        #expect(tracker.counters.late == 1)
        #expect(tracker.counters.observations == 2)
        let all = Scene.row(tracker.finish().first, "ALL")
        #expect(all?.devices == 2)
    }

    @Test func devicesGoneLongerThanTheVisitGapAreForgotten() {
        var tracker = Tracker(settings: Scene.settings())
        for n in 1 ... 1000 { tracker.observe(Scene.frame(UInt64(n), at: Scene.tenAM + Int64(n) / 100)) }
        #expect(tracker.trackedDevices == 1000)
        // Kept to the end of their hour (distinct counts), then forgotten.
        for o in Scene.frames(5000, from: Scene.tenAM + 60, to: Scene.tenAM + 1200) { tracker.observe(o) }
        #expect(tracker.trackedDevices == 1001)
        for o in Scene.frames(5001, from: Scene.tenAM + 3600, to: Scene.tenAM + 3900) { tracker.observe(o) }
        #expect(tracker.trackedDevices == 1)
        #expect(tracker.counters.evicted == 1001)
        let all = Scene.row(tracker.finish().first, "ALL")
        #expect(all?.devices == 1001)
    }

    @Test func averagePresentIsTheTimeWeightedNumberOfVisitors() {
        // One visitor all hour in a, one for 30 minutes (and the 5-minute tail) in b.
        let obs = Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 3600) + Scene.frames(2, from: Scene.tenAM, to: Scene.tenAM + 1800, sensor: 1)
        let (reports, _) = Scene.run(obs)
        let hour = Scene.hour(reports, startingAt: Scene.tenAM)
        #expect(abs((Scene.row(hour, "ALL")?.averagePresent ?? 0) - 95.0 / 60.0) < 1e-9)
        #expect(Scene.row(hour, "ALL")?.peakPresent == 2)
        #expect(abs((Scene.row(hour, "a")?.averagePresent ?? 0) - 1.0) < 1e-9)
        #expect(abs((Scene.row(hour, "b")?.averagePresent ?? 0) - 35.0 / 60.0) < 1e-9)
        #expect(hour?.zones.map(\.zone) == ["a", "b", "ALL"])
    }

    @Test func aKeyRotationKeepsTheHoursCountsAndDropsDeviceState() {
        var tracker = Tracker(settings: Scene.settings())
        for o in Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 600) { tracker.observe(o) }
        tracker.reset()
        #expect(tracker.trackedDevices == 0)
        let all = Scene.row(tracker.finish().first, "ALL")
        #expect(all?.visitors == 1)
        #expect(all?.visits == 1)
    }

    @Test func theLastHourAtEndOfInputIsPartialAndEarlierOnesAreNot() {
        let (reports, _) = Scene.run(Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 3 * 3600, every: 60))
        #expect(reports.count == 3)
        #expect(reports.map(\.partial) == [false, false, true])
    }

    @Test func theResultDoesNotDependOnTheKey() {
        func scene(_ keys: KeyStore) -> [Observation] {
            Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 900, keys: keys)
                + Scene.frames(2, from: Scene.tenAM + 300, to: Scene.tenAM + 2000, sensor: 1, keys: keys)
                + [Scene.frame(3, at: Scene.tenAM + 50, keys: keys)]
        }
        let keys = KeyStore()
        let first = Scene.run(scene(keys)).reports
        keys.rotate()
        let second = Scene.run(scene(keys)).reports
        #expect(!first.isEmpty)
        #expect(first == second)
    }

    /// 2024-03-31 (23 h) and 2024-10-27 (25 h) in Europe/Prague, from local midnight.
    @Test(arguments: [(Int64(1_711_839_600), 23), (Int64(1_729_980_000), 25)])
    func aDSTDayHasOneReportPerLocalHourWithUniqueNames(dayStart start: Int64, hours: Int) throws {
        let length = Int64(hours) * 3600
        let obs = stride(from: start, to: start + length, by: 600).enumerated().map { i, t in Scene.frame(UInt64(100 + i), at: t) }
        let (reports, _) = Scene.run(obs)
        #expect(reports.count == hours)
        let clock = try #require(HourClock(identifier: "Europe/Prague"))
        let writer = HourFileWriter(directory: "/nonexistent", clock: clock)
        let names = Set(reports.map { writer.stem(hourStart: $0.hourStart, utcOffsetSeconds: $0.utcOffsetSeconds) })
        #expect(names.count == hours)
        #expect(reports.allSatisfy { $0.zones.last?.zone == "ALL" })
        #expect(reports.allSatisfy { $0.zones.last?.devices == 6 })
    }

    @Test func aDeviceHeardTooWeaklyInOneZoneAndPlacedInAnotherIsOneDeviceInEach() {
        let t = Scene.tenAM + 600
        // Ten minutes too weak for zone a, then ten minutes placed in zone b (near: more than
        // the peak margin above its threshold).
        let obs = Scene.frames(1, from: t, to: t + 600, sensor: 0, dBm: -85) + Scene.frames(1, from: t + 600, to: t + 1200, sensor: 1, dBm: -55)
            + Scene.listening(Scene.tenAM)
        let (reports, _) = Scene.run(obs)
        let hour = Scene.hour(reports, startingAt: Scene.tenAM)
        // The far device that marks the listening time is a passer-by in zone a.
        #expect(Scene.row(hour, "a")?.devices == 2)
        #expect(Scene.row(hour, "a")?.passersby == 2)
        #expect(Scene.row(hour, "a")?.visitors == 0)
        #expect(Scene.row(hour, "b")?.devices == 1)
        #expect(Scene.row(hour, "b")?.visitors == 1)
        #expect(Scene.row(hour, "b")?.passersby == 0)
        #expect(Scene.row(hour, "ALL")?.devices == 2)
        #expect(Scene.row(hour, "ALL")?.visitors == 1)
        #expect(Scene.row(hour, "ALL")?.passersby == 1)
        #expect(hour?.flows == [])
    }

    @Test func aJumpOfDecadesInCaptureTimeStartsANewDeviceTableInsteadOfOverflowing() {
        // With 1-second slots, 40 years is more slots than a device entry's 32-bit offsets
        // reach from the first frame.
        var rules = VisitRules()
        rules.slotSeconds = 1
        rules.latenessSeconds = 1
        let later = Scene.tenAM + 40 * 365 * 86400
        let obs = Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 600) + Scene.frames(1, from: later, to: later + 600)
        let (reports, tracker) = Scene.run(obs, settings: Scene.settings(rules: rules))
        #expect(reports.count == 2)
        for report in reports {
            #expect(Scene.row(report, "ALL")?.devices == 1)
            #expect(Scene.row(report, "ALL")?.visits == 1)
        }
        #expect(tracker.counters.resets == 0)
    }

    @Test func deviceEntriesAndPresenceRecordsKeepTheirPackedSizes() {
        // What a device costs while it is tracked (docs/performance.md): its entry, plus
        // per hour one presence run per zone it is placed in or one mark per zone it is only
        // heard in.
        #expect(MemoryLayout<DeviceState>.stride == 64)
        #expect(MemoryLayout<Run>.stride == 24)
        #expect(MemoryLayout<HeardMark>.stride == 8)
        #expect(MemoryLayout<Transition>.stride == 12)
    }
}
