import FootfallCore
@testable import FootfallAggregate
@testable import FootfallIngest
import Testing

/// The rules that make `avg_present` track people: bursts joined into visits, the presence
/// tail, fixed devices recognised as residents, randomised addresses grouped by layout.
@Suite("Estimator")
struct EstimatorTests {
    /// A burst of three probes within ten seconds every `every` seconds, as an idle phone sends.
    static func bursts(_ device: UInt64, from: Int64, to: Int64, every: Int64, fixed: Bool) -> [Observation] {
        stride(from: from, to: to, by: Int(every)).flatMap { t in
            [0, 4, 9].map { Scene.frame(device, at: t + $0, fixed: fixed) }
        }
    }

    @Test func aPhoneHeardInBurstsForFiveHoursStaysAVisitor() {
        let start = Scene.midnight + 13 * 3600
        // A vendor-assigned address, so only its probing pattern tells it from a fixed device.
        let obs = Self.bursts(1, from: start, to: start + 5 * 3600, every: 240, fixed: true) + Scene.listening(start + 5 * 3600)
        let (reports, tracker) = Scene.run(obs)
        #expect(tracker.counters.residents == 0)
        for h in 0 ..< 5 {
            let all = Scene.row(Scene.hour(reports, startingAt: start + Int64(h) * 3600), "ALL")
            #expect(all?.visitors == 1)
            // Silences of four minutes are bridged: present the whole hour.
            #expect(abs((all?.averagePresent ?? 0) - 1) < 1e-9)
        }
    }

    @Test func aFixedDeviceHeardEveryMinuteForTwoHoursBecomesAResident() {
        let obs = Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 2 * 3600, every: 60, fixed: true)
            + Scene.frames(2, from: Scene.tenAM + 600, to: Scene.tenAM + 1200)
            + Scene.listening(Scene.tenAM + 3600)
        let (reports, tracker) = Scene.run(obs, residentCandidates: [Scene.device(1)])
        #expect(tracker.counters.residents == 1)
        #expect(tracker.isResident(Scene.device(1)))
        // Recognised after half an hour while its first hour was still open: it counts in
        // neither hour; the ten-minute visitor does.
        let ten = Scene.row(Scene.hour(reports, startingAt: Scene.tenAM), "ALL")
        #expect(ten?.visitors == 1)
        #expect(ten?.devices == 1)
        #expect(abs((ten?.averagePresent ?? 0) - 15.0 / 60.0) < 1e-9)
        let eleven = Scene.row(Scene.hour(reports, startingAt: Scene.tenAM + 3600), "ALL")
        #expect(eleven?.visitors == 0)
        #expect(eleven?.averagePresent == 0)
    }

    @Test func aFixedDeviceHeardInFewerThanTheCoverageOfSlotsIsNotAResident() {
        // Heard in two of every three minutes: 67 % < 90 %.
        let obs = stride(from: Scene.tenAM, to: Scene.tenAM + 2 * 3600, by: 60).enumerated().compactMap { i, t in
            i % 3 == 2 ? nil : Scene.frame(1, at: t, fixed: true)
        }
        let (_, tracker) = Scene.run(obs)
        #expect(tracker.counters.residents == 0)
    }

    @Test func aRandomisedAddressHeardEveryMinuteIsNeverAResident() {
        let (reports, tracker) = Scene.run(Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 2 * 3600, every: 60))
        #expect(tracker.counters.residents == 0)
        #expect(Scene.row(Scene.hour(reports, startingAt: Scene.tenAM), "ALL")?.visitors == 1)
    }

    /// A phone that takes a new address for every scan, all with one element layout.
    static func rotatingPhone(from: Int64, count: Int, keys: KeyStore = Scene.keys) -> [Observation] {
        (0 ..< count).map { i in Scene.frame(UInt64(100 + i), at: from + Int64(i) * 60, layout: 7, keys: keys) }
    }

    @Test func randomisedAddressesOfOneLayoutAreOneDeviceWhenGrouped() {
        let obs = Self.rotatingPhone(from: Scene.tenAM, count: 30)
        let group = Scene.row(Scene.run(obs).reports.first, "ALL")
        #expect(group?.devices == 1)
        #expect(group?.visitors == 1)
        #expect(group?.visits == 1)

        var counting = Scene.settings()
        counting.privacy.randomisedAddresses = .count
        let count = Scene.row(Scene.run(obs, settings: counting).reports.first, "ALL")
        #expect(count?.devices == 30)
        // Each address is heard once: 30 passers-by, nobody present.
        #expect(count?.visitors == 0)

        // A second layout is a second device.
        let two = Scene.row(Scene.run(obs + [Scene.frame(500, at: Scene.tenAM + 90, layout: 8)]).reports.first, "ALL")
        #expect(two?.devices == 2)
    }

    @Test func aGroupOfRandomisedAddressesEndsWithTheKeyPeriod() {
        // The fingerprint is keyed (P10): after a rotation the same layout is a new group.
        let keys = KeyStore()
        var tracker = Tracker(settings: Scene.settings())
        for o in Self.rotatingPhone(from: Scene.tenAM, count: 10, keys: keys) { tracker.observe(o) }
        tracker.endKeyPeriod(at: Scene.tenAM + 600)
        keys.rotate()
        for o in Self.rotatingPhone(from: Scene.tenAM + 600, count: 10, keys: keys) { tracker.observe(o) }
        let all = Scene.row(tracker.finish().first, "ALL")
        #expect(all?.devices == 2)
        #expect(all?.visits == 2)
    }

    @Test func theFirstHourIsAveragedOverTheTimeTheTrackerListened() {
        // Started at 10:30: one visitor from then to the end of the hour is one person present.
        let obs = Scene.frames(1, from: Scene.tenAM + 1800, to: Scene.tenAM + 3600) + Scene.listening(Scene.tenAM + 3600)
        let (reports, _) = Scene.run(obs)
        let ten = Scene.row(Scene.hour(reports, startingAt: Scene.tenAM), "ALL")
        #expect(abs((ten?.averagePresent ?? 0) - 1) < 1e-9)
        // The tail runs five minutes into the next hour.
        let eleven = Scene.row(Scene.hour(reports, startingAt: Scene.tenAM + 3600), "ALL")
        #expect(abs((eleven?.averagePresent ?? 0) - 5.0 / 60.0) < 1e-9)
    }

    @Test func thePresenceTailStopsAtTheEndOfInput() {
        // Input ends at 10:20; nothing is known after it, so nobody is counted after it.
        let (reports, _) = Scene.run(Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 1200))
        #expect(reports.count == 1)
        let all = Scene.row(reports.first, "ALL")
        #expect(reports.first?.partial == true)
        #expect(abs((all?.averagePresent ?? 0) - 1) < 1e-9)
    }

    @Test func theTailDoesNotCountAsDwell() {
        let (reports, _) = Scene.run(Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 600) + Scene.listening(Scene.tenAM))
        let all = Scene.row(reports.first, "ALL")
        #expect(all?.medianDwellSeconds == 600)
        #expect(abs((all?.averagePresent ?? 0) - 15.0 / 60.0) < 1e-9)
    }
}

/// `visits.peak_margin_db`: a visit counts only once it came near. Devices behind a wall or
/// next door are heard for hours just above the zone's threshold; a person in the room is
/// heard well above it now and then (docs/crowds.md, "The lab, cross-validated").
@Suite("Peak margin")
struct PeakMarginTests {
    /// The zones of ``Scene`` place at −70 dBm; with a margin of 11 dB a visit counts once it
    /// was heard at −59 dBm or stronger.
    static func settings(margin: Int) -> Settings {
        Scene.settings(rules: VisitRules(peakMarginDB: margin))
    }

    /// A vendor-assigned address heard every three minutes for two hours at −66 dBm: placed
    /// in every slot, never near.
    static let behindTheWall = Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 2 * 3600, every: 180, dBm: -66, fixed: true)
        + Scene.listening(Scene.tenAM) + Scene.listening(Scene.tenAM + 3600)

    @Test func aDeviceHeardForHoursJustAboveTheThresholdIsHeardButNeverPresent() {
        let (reports, _) = Scene.run(Self.behindTheWall, settings: Self.settings(margin: 11))
        for h in 0 ..< 2 {
            let all = Scene.row(Scene.hour(reports, startingAt: Scene.tenAM + Int64(h) * 3600), "ALL")
            #expect(all?.averagePresent == 0)
            #expect(all?.visitors == 0)
            // Heard: a passer-by, as is the far device that marks the hour as listened to.
            #expect(all?.passersby == 2)
        }
    }

    @Test func withTheRuleOffTheSameDeviceIsPresentAllHour() {
        // What the rule takes away: the same frames with a margin of 0 are a visitor present
        // the whole hour (silences of three minutes are bridged).
        let (reports, _) = Scene.run(Self.behindTheWall, settings: Self.settings(margin: 0))
        let all = Scene.row(Scene.hour(reports, startingAt: Scene.tenAM), "ALL")
        #expect(all?.visitors == 1)
        #expect(abs((all?.averagePresent ?? 0) - 1) < 1e-9)
    }

    @Test func aVisitThatComesNearOnceCountsFromItsFirstSlot() {
        // Forty minutes at −66 dBm (every other minute: no resident) with one frame at
        // −55 dBm in the middle: the whole visit counts, the slots before the near one
        // included (slots 0 to 38, then a 5-minute tail: 44 slots).
        let obs = Scene.frames(1, from: Scene.tenAM, to: Scene.tenAM + 2400, every: 120, dBm: -66, fixed: true)
            + [Scene.frame(1, at: Scene.tenAM + 1230, dBm: -55, fixed: true)] + Scene.listening(Scene.tenAM)
        let (reports, _) = Scene.run(obs, settings: Self.settings(margin: 11))
        let all = Scene.row(Scene.hour(reports, startingAt: Scene.tenAM), "ALL")
        #expect(all?.visitors == 1)
        #expect(abs((all?.averagePresent ?? 0) - 44.0 / 60.0) < 1e-9)
    }

    @Test func aVisitNearOnlyInTheNextHourDoesNotCountInTheHourBefore() {
        // The hour is written from what the visit had done by its end: weak until 10:59,
        // near at 11:10, so it counts in the 11:00 hour and not in the 10:00 one.
        let obs = Scene.frames(1, from: Scene.tenAM + 1800, to: Scene.tenAM + 3600 + 1200, every: 120, dBm: -66, fixed: true)
            + [Scene.frame(1, at: Scene.tenAM + 3600 + 600, dBm: -50, fixed: true)]
            + Scene.listening(Scene.tenAM) + Scene.listening(Scene.tenAM + 3600)
        let (reports, _) = Scene.run(obs, settings: Self.settings(margin: 11))
        #expect(Scene.row(Scene.hour(reports, startingAt: Scene.tenAM), "ALL")?.averagePresent == 0)
        #expect(Scene.row(Scene.hour(reports, startingAt: Scene.tenAM + 3600), "ALL")?.visitors == 1)
    }
}
