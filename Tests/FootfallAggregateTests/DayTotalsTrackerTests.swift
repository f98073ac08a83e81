@testable import FootfallAggregate
import FootfallIngest
import FootfallCore
import Testing

/// Day totals counted by the tracker: each person once per day and zone, within one key
/// period, only with daily rotation; a day's report rides on the hour that closed it.
@Suite("Tracker: day totals")
struct DayTotalsTrackerTests {
    static func days(_ reports: [HourReport]) -> [DayReport] { reports.flatMap(\.days) }

    @Test func aVisitorOfThreeHoursIsOneVisitorOfTheDayAndTheHoursStillCountHimThrice() {
        // Device 1 stays in zone A from 10:10 to 12:40; device 2 visits B for 20 minutes at 11:00;
        // device 3 walks past A (heard weakly, never placed).
        var frames = Scene.frames(1, from: Scene.tenAM + 600, to: Scene.tenAM + 9600)
        frames += Scene.frames(2, from: Scene.tenAM + 3600, to: Scene.tenAM + 4800, sensor: 1)
        frames += Scene.frames(3, from: Scene.tenAM + 1200, to: Scene.tenAM + 1260, dBm: -90)
        let (reports, _) = Scene.run(frames)
        let hourly = reports.compactMap { Scene.row($0, "a")?.visitors }.reduce(0, +)
        #expect(hourly == 3, "10:00, 11:00 and 12:00 each count device 1")
        let days = Self.days(reports)
        #expect(days.count == 1)
        let day = days[0]
        #expect(day.date == "2024-03-21")
        #expect(day.partial, "the input ended during the day")
        let a = day.zones[0], b = day.zones[1], all = day.zones[2]
        #expect(a.zone == "a" && a.visitors == 1 && a.passersby == 1 && a.devices == 2 && a.visits == 1)
        #expect(b.zone == "b" && b.visitors == 1 && b.devices == 1)
        #expect(all.zone == ZoneHour.siteWide && all.visitors == 2 && all.devices == 3 && all.passersby == 1)
        // Dwell of the day: the visit's longest (2 h 30 min in A, from 10:10 to 12:40).
        #expect(a.medianDwellSeconds == 9000)
        #expect(b.medianDwellSeconds == 1200)
        // Dwell bands: the day counts each visit once, in the band of its longest dwell.
        #expect(a.dwellBands == [0, 0, 0, 0, 1])
        #expect(b.dwellBands == [0, 0, 1, 0, 0])
        #expect(all.dwellBands == [0, 0, 1, 0, 1])
        // The hours count the visit in the band of its dwell so far: 10:00 (50 min), 11:00, 12:00 (2 h 30 min).
        #expect(reports.compactMap { Scene.row($0, "a")?.dwellBands } == [[0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1]])
        #expect(reports.first?.listenedSeconds == 3000, "from the first frame at 10:10")
    }

    @Test func aDayEndsWithItsLastHourAndTheNextDayStartsAfresh() {
        // The tracker starts at 23:50 on the 20th; device 1 is there 23:30–23:50 on the 21st and
        // 08:00–08:30 on the 22nd: the 21st is a whole day, the 20th and 22nd were heard in part.
        let start = Scene.midnight - 600
        let lateEvening = Scene.midnight + 23 * 3600 + 1800
        let nextMorning = Scene.midnight + 32 * 3600
        let frames = [Scene.frame(9, at: start, dBm: -95)] + Scene.frames(1, from: lateEvening, to: lateEvening + 1200)
            + Scene.frames(1, from: nextMorning, to: nextMorning + 1800)
        let days = Self.days(Scene.run(frames).reports)
        #expect(days.map(\.date) == ["2024-03-20", "2024-03-21", "2024-03-22"])
        #expect(days.map(\.partial) == [true, false, true])
        #expect(days.map { $0.zones[2].visitors } == [0, 1, 1])
    }

    @Test func aDayWhoseHoursWereAllWrittenBeforeShutdownStillGetsItsTotals() {
        // Frames 10:10–10:40; the clock then runs on to 18:00 with nothing heard, closing
        // every hour; at shutdown the day rides on an hour without rows.
        var tracker = Tracker(settings: Scene.settings())
        var reports: [HourReport] = []
        for o in Scene.frames(1, from: Scene.tenAM + 600, to: Scene.tenAM + 2400) { tracker.observe(o); reports += tracker.takeClosedHours() }
        tracker.advanceClock(toNanos: (Scene.tenAM + 8 * 3600) * 1_000_000_000)
        reports += tracker.takeClosedHours()
        #expect(Self.days(reports).isEmpty, "the day is not over at 18:00")
        reports += tracker.finish()
        let days = Self.days(reports)
        #expect(days.count == 1 && days.first?.partial == true)
        #expect(days.first?.zones[2].visitors == 1)
        let carrier = try? #require(reports.last)
        #expect(carrier?.zones.isEmpty == true, "the carrier has no rows, so no hour file is written for it")
    }

    @Test func aDeviceHeardUnderTwoKeysCountsTwiceBecauseNothingLinksThem() {
        // A key rotation at 11:00 (as the pipeline does it): the device is new under the new key.
        var tracker = Tracker(settings: Scene.settings())
        var reports: [HourReport] = []
        for o in Scene.frames(1, from: Scene.tenAM + 600, to: Scene.tenAM + 3600) { tracker.observe(o); reports += tracker.takeClosedHours() }
        tracker.endKeyPeriod(at: Scene.tenAM + 3600)
        let other = KeyStore()
        for o in Scene.frames(1, from: Scene.tenAM + 3600, to: Scene.tenAM + 6000, keys: other) { tracker.observe(o); reports += tracker.takeClosedHours() }
        reports += tracker.finish()
        #expect(Self.days(reports).first?.zones[2].visitors == 2)
    }

    @Test func withHourlyRotationOrStrictModeNoDayIsCounted() {
        let frames = Scene.frames(1, from: Scene.tenAM + 600, to: Scene.tenAM + 4000)
        var hourly = Scene.settings()
        hourly.privacy.rotation = .hourly
        #expect(Self.days(Scene.run(frames, settings: hourly).reports).isEmpty)
        #expect(Self.days(Scene.run(frames, settings: Scene.settings(strict: true)).reports).isEmpty)
        #expect(!Self.days(Scene.run(frames).reports).isEmpty)
    }
}
