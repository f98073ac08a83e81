@testable import FootfallOutput
import FootfallCore
import FootfallAggregate
import Foundation
import Testing

/// `footfall report`'s HTML, from hourly files written by footfall's own writer after
/// suppression: zone names from the configuration, the days of the period, flows as arrows
/// only where published, withheld cells marked, the plan or a schematic.
@Suite("Planners' report")
struct PlannerReportTests {
    let files = RenderTests()

    /// The four-zone store of config/footfall.yaml with names, on a 1000 × 600 plan or none.
    static func settings(plan: FloorPlan? = nil) -> Settings {
        let names = ["Entrance", "Aisles", "Checkout", "Café"]
        let areas: [[PlanPoint]] = plan == nil ? [[], [], [], []] : [
            [PlanPoint(x: 300, y: 460), PlanPoint(x: 640, y: 460), PlanPoint(x: 640, y: 576), PlanPoint(x: 300, y: 576)],
            [PlanPoint(x: 304, y: 24), PlanPoint(x: 976, y: 24), PlanPoint(x: 976, y: 460), PlanPoint(x: 304, y: 460)],
            [PlanPoint(x: 640, y: 460), PlanPoint(x: 976, y: 460), PlanPoint(x: 976, y: 576), PlanPoint(x: 640, y: 576)],
            [PlanPoint(x: 24, y: 24), PlanPoint(x: 300, y: 24), PlanPoint(x: 300, y: 576), PlanPoint(x: 24, y: 576)],
        ]
        let zones = RenderTests.storeZones.enumerated().map { Zone(id: $1, name: names[$0], rssiThreshold: -70, area: areas[$0]) }
        return Settings(site: Site(name: "Example Store", timeZone: "Europe/Prague", floorPlan: plan), zones: zones,
                        sensors: [Sensor(id: "s", zone: 0, feed: .file)])
    }

    static var examplePlan: FloorPlan {
        FloorPlan(path: repositoryRoot + "/config/footfall-plan.svg", bounds: PlanRect(x: 0, y: 0, width: 1000, height: 600))
    }

    /// Elements `<g class="flow" …>` of the plan, as (from, to).
    static func arrows(_ html: String) throws -> [(String, String)] {
        html.matches(of: try Regex(#"<g class="flow" data-from="([^"]*)" data-to="([^"]*)""#)).map { m in
            let parts = String(html[m.range]).split(separator: "\"")
            return (String(parts[3]), String(parts[5]))
        }
    }

    @Test func theReportNamesZonesFromTheConfigurationAndShowsEveryDayOfThePeriod() throws {
        let dir = try temporaryDirectory()
        // 21 and 22 March 2024 (Thursday, Friday), and 25 March (Monday of the next week).
        for day in [0, 1, 4] {
            for hour in [10, 11] { try files.writeHour(dir, start: RenderTests.march21(day * 24 + hour), zones: RenderTests.busyZones(day + 1)) }
        }
        let report = try PlannerReport.read(directory: dir, settings: Self.settings())
        let html = report.html()
        for name in ["Entrance", "Aisles", "Checkout", "Café", "Example Store"] { #expect(html.contains(name), "\(name)") }
        for label in ["Thu 21 Mar 2024", "Fri 22 Mar 2024", "Mon 25 Mar 2024"] { #expect(html.contains(label), "\(label)") }
        #expect(report.weeks.map(\.week) == ["2024-W12", "2024-W13"])
        // Visitor-hours: the ALL rows' visitors (45 × scale) of the two hours of each day.
        #expect(report.days.map { $0.visitorHours[ZoneHour.siteWide]?.sum } == [90, 180, 450])
        let row = try #require(html.range(of: "<tr class=\"day\" data-date=\"2024-03-22\"").map { String(html[$0.lowerBound...].prefix(700)) })
        #expect(row.contains("<td class=\"visitor-hours\">180</td>"))
        // Without day files the weeks compare visitor-hours: week 13 (450) against week 12 (270).
        #expect(html.contains("+67 % (+180 visitor-hours)"))
        let limited = try PlannerReport.read(directory: dir, settings: Self.settings(), from: "2024-03-22", to: "2024-03-22")
        #expect(limited.days.map(\.date) == ["2024-03-22"])
        #expect(!limited.html().contains("Thu 21 Mar 2024"))
        #expect(throws: RenderError.self) { try PlannerReport.read(directory: dir, settings: Self.settings(), from: "2024-04-01") }
    }

    @Test func publishedFlowsAreDrawnAsArrowsOnThePlanAndWithheldFlowsAreNot() throws {
        let dir = try temporaryDirectory()
        try files.writeHour(dir, start: RenderTests.march21(10), zones: RenderTests.busyZones(1),
                            flows: [FlowCount(from: "entrance", to: "aisles", transitions: 10), FlowCount(from: "aisles", to: "checkout", transitions: 3),
                                    FlowCount(from: "aisles", to: "entrance", transitions: 10)])
        let html = try PlannerReport.read(directory: dir, settings: Self.settings(plan: Self.examplePlan)).html()
        let arrows = try Self.arrows(html)
        #expect(arrows.count == 2)
        #expect(arrows.contains { $0 == ("entrance", "aisles") })
        #expect(arrows.contains { $0 == ("aisles", "entrance") })
        #expect(!arrows.contains { $0 == ("aisles", "checkout") }, "a withheld flow is not drawn")
        // The plan is embedded, and every zone with an area is drawn on it.
        #expect(html.contains("<image class=\"floor-plan\" href=\"data:image/svg+xml;base64,"))
        #expect(html.components(separatedBy: "<g class=\"zone\"").count - 1 == 4)
    }

    @Test func withoutAFloorPlanTheZonesAreDrawnAsASchematic() throws {
        let dir = try temporaryDirectory()
        try files.writeHour(dir, start: RenderTests.march21(10), zones: RenderTests.busyZones(1))
        let html = try PlannerReport.read(directory: dir, settings: Self.settings()).html()
        #expect(!html.contains("<image"))
        #expect(html.contains("Schematic of the zones"))
        #expect(html.components(separatedBy: "<g class=\"zone\"").count - 1 == 4)
    }

    @Test func withheldCellsAreHatchedLessThanKAndPartialHoursFramed() throws {
        let dir = try temporaryDirectory()
        var zones = RenderTests.busyZones(1)
        zones[3] = ZoneHour(zone: "cafe", devices: 3, visitors: 2, visits: 2, averagePresent: 0.4, peakPresent: 1, medianDwellSeconds: 300, p90DwellSeconds: 400, passersby: 1)
        try files.writeHour(dir, start: RenderTests.march21(10), zones: zones)
        try files.writeHour(dir, start: RenderTests.march21(11), zones: RenderTests.busyZones(1), partial: true)
        let html = try PlannerReport.read(directory: dir, settings: Self.settings()).html()
        let cafe = try #require(html.range(of: "<div class=\"zonegrid\" data-zone=\"cafe\">").map { String(html[$0.lowerBound...]) })
        let cafeGrid = String(cafe[..<cafe.range(of: "</div>")!.lowerBound])
        #expect(cafeGrid.contains("<g class=\"cell withheld\" data-date=\"2024-03-21\" data-hour=\"10\">"))
        #expect(cafeGrid.contains("&lt; k</text>"))
        #expect(cafeGrid.contains("stroke-dasharray=\"4 3\""), "the partial hour is framed")
        // Hover text: dwell in minutes, from the file's seconds. (The entrance, the smallest
        // zone, is withheld with the café at 10:00 so that ALL minus the others does not give
        // the café away; the aisles are published.)
        let aisles = try #require(html.range(of: "<div class=\"zonegrid\" data-zone=\"aisles\">").map { String(html[$0.lowerBound...].prefix(4000)) })
        #expect(aisles.contains("median dwell 6 min"), "360 s of the file shown as 6 min")
    }

    @Test func dayTotalsFromTheDailyFileAreTheHeadlineWithCaptureRateAndDwellInMinutes() throws {
        let dir = try temporaryDirectory()
        try files.writeHour(dir, start: RenderTests.march21(10), zones: RenderTests.busyZones(1))
        var site = ZoneDay(zone: ZoneHour.siteWide, devices: 120, visitors: 75, passersby: 45, visits: 80, medianDwellSeconds: 1230)
        site.dwellBands = [10, 30, 20, 10, 10]
        let day = DayReport(date: "2024-03-21", partial: false, zones: RenderTests.storeZones.map {
            ZoneDay(zone: $0, devices: 40, visitors: 30, passersby: 10, visits: 33, medianDwellSeconds: 600)
        } + [site])
        try HourFileWriter(directory: dir, clock: files.prague).write(Suppression.publish(day, privacy: PrivacySettings()))
        let report = try PlannerReport.read(directory: dir, settings: Self.settings())
        let html = report.html()
        let row = try #require(html.range(of: "data-date=\"2024-03-21\"").map { String(html[$0.lowerBound...].prefix(700)) })
        #expect(row.contains("<td class=\"visitors\">75</td><td class=\"passersby\">45</td>"), "\(row)")
        #expect(row.contains("<td class=\"capture\">63 %</td>"), "75 ÷ 120")
        #expect(row.contains("<td class=\"dwell\">20.5 min</td>"), "1230 s")
        #expect(report.weeks.first?.visitors == 75)
        // The dwell distribution: the day file's bands, as shares of the visits.
        #expect(html.contains("<title>Whole site, 5–15 min: 30 visits (38 %)</title>"))
        #expect(html.contains("<title>Whole site, 60 min or more: 10 visits (13 %)</title>"))
        // A malformed day file is an error naming the file and line.
        let path = dir + "/daily-2024-03-21.csv"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: ",75,45,", with: ",7x,45,").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: RenderError.self) { try PlannerReport.read(directory: dir, settings: Self.settings()) }
        do {
            _ = try PlannerReport.read(directory: dir, settings: Self.settings())
        } catch {
            #expect(error.message == "daily-2024-03-21.csv:6: visitors is not a number")
        }
    }

    @Test func anHourFootfallHeardOnlyPartOfIsMarkedInTheGrid() throws {
        let dir = try temporaryDirectory()
        for (hour, listened) in [(10, 1200), (11, 3600)] {
            var report = HourReport(hourStart: RenderTests.march21(hour), utcOffsetSeconds: 3600, partial: false, zones: RenderTests.busyZones(1), flows: [])
            report.listenedSeconds = listened
            try HourFileWriter(directory: dir, clock: files.prague).write(Suppression.apply(report, k: 5))
        }
        let html = try PlannerReport.read(directory: dir, settings: Self.settings()).html()
        let grid = try #require(html.range(of: "<div class=\"zonegrid\" data-zone=\"aisles\">").map { String(html[$0.lowerBound...].prefix(6000)) })
        #expect(grid.components(separatedBy: "class=\"part-heard\"").count - 1 == 1, "only the 10:00 hour")
        #expect(grid.contains("footfall listened 20 of 60 minutes"))
    }

    @Test(arguments: [("2024-03-14", "2024-W11"), ("2024-12-30", "2025-W01"), ("2021-01-03", "2020-W53"), ("2026-01-01", "2026-W01")])
    func isoWeeksFollowTheThursdayRule(date: String, week: String) {
        #expect(PlannerReport.isoWeek(date) == week)
    }

    @Test func theWeekAfterAWeekRollsOverTheYear() {
        #expect(PlannerReport.weekAfter("2024-W10") == "2024-W11")
        #expect(PlannerReport.weekAfter("2020-W53") == "2021-W01")
        #expect(PlannerReport.weekAfter("2024-W52") == "2025-W01")
    }
}
