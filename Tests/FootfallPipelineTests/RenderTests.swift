@testable import FootfallOutput
import FootfallCore
import FootfallIngest
import FootfallAggregate
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// The elements of an SVG document as Foundation's XMLParser reads them; `nil` when the
/// document is not well-formed XML.
final class SVGElements: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        /// Text of the element and of every `text` element inside it.
        var text: String
    }

    private(set) var elements: [Element] = []
    private var stack: [Element] = []

    static func parse(_ svg: String) -> [Element]? {
        let delegate = SVGElements()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = delegate
        guard parser.parse() else { return nil }
        return delegate.elements
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        stack.append(Element(name: name, attributes: attributes, text: ""))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if !stack.isEmpty { stack[stack.count - 1].text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        let element = stack.removeLast()
        elements.append(element)
        if element.name == "text", !stack.isEmpty, stack[stack.count - 1].name == "g" { stack[stack.count - 1].text += element.text }
    }
}

extension [SVGElements.Element] {
    func withClass(_ name: String) -> [SVGElements.Element] { filter { $0.attributes["class"] == name } }

    func cell(zone: String, hour: String) -> SVGElements.Element? {
        withClass("cell").first { $0.attributes["data-zone"] == zone && $0.attributes["data-hour"] == hour }
    }
}

@Suite("Heatmap picture")
struct RenderTests {
    let prague = HourClock(identifier: "Europe/Prague")!

    /// The zones of config/footfall.yaml.
    static let storeZones = ["entrance", "aisles", "checkout", "cafe"]

    /// A busy hour of the four-zone store: every count at least k, and no two counts a reader
    /// can relate (within a row, a zone and the site) differ by less than k, so nothing is
    /// withheld.
    static func busyZones(_ scale: Int) -> [ZoneHour] {
        var rows = storeZones.enumerated().map { i, zone in
            ZoneHour(zone: zone, devices: 20 * scale + 5 * i, visitors: 10 * scale + 5 * i, visits: 11 * scale + i, averagePresent: Double(3 * scale + i) + 0.25,
                     peakPresent: 5 * scale, medianDwellSeconds: Double(300 + 60 * i), p90DwellSeconds: 1200, passersby: 10 * scale)
        }
        rows.append(ZoneHour(zone: ZoneHour.siteWide, devices: 90 * scale, visitors: 45 * scale, visits: 50 * scale, averagePresent: Double(13 * scale) + 0.5,
                             peakPresent: 30 * scale, medianDwellSeconds: 540, p90DwellSeconds: 1800, passersby: 45 * scale))
        return rows
    }

    /// Writes one hour with footfall's own writer after suppression (k = 5).
    func writeHour(_ dir: String, start: Int64, zones: [ZoneHour], flows: [FlowCount] = [], partial: Bool = false, clock: HourClock? = nil) throws {
        let clock = clock ?? prague
        let report = HourReport(hourStart: start, utcOffsetSeconds: clock.utcOffset(at: start), partial: partial, zones: zones, flows: flows)
        try HourFileWriter(directory: dir, clock: clock).write(Suppression.apply(report, k: 5))
    }

    /// 2024-03-21 00:00 +01:00 plus `hours`.
    static func march21(_ hours: Int) -> Int64 { 1_710_975_600 + Int64(hours) * 3600 }

    func render(_ dir: String, metric: HeatmapMetric = .averagePresent, clock: HourClock? = nil) throws -> [SVGElements.Element] {
        let days = try HeatmapPicture.days(in: dir, clock: clock)
        try #require(days.count == 1)
        let svg = HeatmapPicture.svg(days[0], metric: metric)
        return try #require(SVGElements.parse(svg), "the SVG is not well-formed XML")
    }

    @Test func everyZoneAndHourWithAFileHasOneCellShowingTheValueOfTheFile() throws {
        let dir = try temporaryDirectory()
        for (n, hour) in [10, 11, 14].enumerated() { try writeHour(dir, start: Self.march21(hour), zones: Self.busyZones(n + 1)) }
        let svg = try render(dir)
        #expect(svg.withClass("cell").count == 5 * 3)
        #expect(svg.withClass("hour").count == 24)
        #expect(svg.withClass("zone").map(\.text) == Self.storeZones + ["ALL (site)"])
        // Values exactly as in the files.
        let csv = try String(contentsOfFile: dir + "/heatmap-2024-03-21T11.csv", encoding: .utf8)
        let aisles = try #require(csv.split(separator: "\r\n").first { $0.contains(",aisles,") }).split(separator: ",")
        #expect(svg.cell(zone: "aisles", hour: "2024-03-21T11:00:00+01:00")?.text == String(aisles[5]))
        #expect(svg.cell(zone: "aisles", hour: "2024-03-21T11:00:00+01:00")?.text == "7.25")
        #expect(svg.cell(zone: "ALL", hour: "2024-03-21T14:00:00+01:00")?.text == "39.50")
        #expect(svg.cell(zone: "entrance", hour: "2024-03-21T12:00:00+01:00") == nil)
        let visitors = try render(dir, metric: .visitors)
        #expect(visitors.cell(zone: "cafe", hour: "2024-03-21T10:00:00+01:00")?.text == "25")
        let dwell = try render(dir, metric: .medianDwell)
        #expect(dwell.cell(zone: "checkout", hour: "2024-03-21T10:00:00+01:00")?.text == "420")
    }

    @Test func aWithheldCellIsHatchedAndLabelledLessThanK() throws {
        let dir = try temporaryDirectory()
        var zones = Self.busyZones(1)
        zones[3] = ZoneHour(zone: "cafe", devices: 3, visitors: 2, visits: 2, averagePresent: 0.4, peakPresent: 1, medianDwellSeconds: 300, p90DwellSeconds: 400, passersby: 1)
        try writeHour(dir, start: Self.march21(10), zones: zones)
        let svg = try render(dir, metric: .visitors)
        let cafe = try #require(svg.cell(zone: "cafe", hour: "2024-03-21T10:00:00+01:00"))
        #expect(cafe.attributes["data-state"] == "withheld")
        #expect(cafe.text == "< k")
        #expect(svg.cell(zone: "entrance", hour: "2024-03-21T10:00:00+01:00")?.attributes["data-state"] != nil)
        // An hour without visits in a zone has no dwell: an empty cell, not a withheld one.
        var quiet = Self.busyZones(1)
        quiet[2] = ZoneHour(zone: "checkout", devices: 0, visitors: 0, visits: 0, averagePresent: 0, peakPresent: 0, medianDwellSeconds: nil, p90DwellSeconds: nil, passersby: 0)
        try writeHour(dir, start: Self.march21(11), zones: quiet)
        let dwell = try render(dir, metric: .medianDwell)
        #expect(dwell.cell(zone: "checkout", hour: "2024-03-21T11:00:00+01:00")?.attributes["data-state"] == "empty")
        #expect(dwell.cell(zone: "checkout", hour: "2024-03-21T11:00:00+01:00")?.text == "–")
        // The hatch is defined in the document itself.
        #expect(svg.contains { $0.name == "pattern" && $0.attributes["id"] == "withheld" })
    }

    @Test func aPartialHourIsFramedAndMarkedPartial() throws {
        let dir = try temporaryDirectory()
        try writeHour(dir, start: Self.march21(13), zones: Self.busyZones(1))
        try writeHour(dir, start: Self.march21(14), zones: Self.busyZones(1), partial: true)
        let svg = try render(dir)
        let hours = svg.withClass("hour")
        #expect(hours.filter { $0.attributes["data-partial"] == "true" }.map { $0.attributes["data-hour"] } == ["2024-03-21T14:00:00+01:00"])
        #expect(hours.first { $0.attributes["data-partial"] == "true" }?.text.contains("partial") == true)
        #expect(svg.withClass("partial").count == 1)
        #expect(svg.cell(zone: "ALL", hour: "2024-03-21T14:00:00+01:00")?.attributes["data-partial"] == "true")
        #expect(svg.cell(zone: "ALL", hour: "2024-03-21T13:00:00+01:00")?.attributes["data-partial"] == "false")
    }

    @Test func anHourHeardOnlyInPartSaysForHowManyMinutes() throws {
        let dir = try temporaryDirectory()
        for (hour, listened) in [(10, 1200), (11, 3600)] {
            var report = HourReport(hourStart: Self.march21(hour), utcOffsetSeconds: 3600, partial: false, zones: Self.busyZones(1), flows: [])
            report.listenedSeconds = listened
            try HourFileWriter(directory: dir, clock: prague).write(Suppression.apply(report, k: 5))
        }
        let svg = try render(dir)
        let hours = svg.withClass("hour")
        let started = try #require(hours.first { $0.attributes["data-hour"] == "2024-03-21T10:00:00+01:00" })
        let whole = try #require(hours.first { $0.attributes["data-hour"] == "2024-03-21T11:00:00+01:00" })
        #expect(started.attributes["data-listened"] == "1200")
        #expect(started.text.contains("heard 20 min"), "\(started.text)")
        #expect(whole.attributes["data-listened"] == "3600")
        #expect(!whole.text.contains("heard"))
        #expect(svg.withClass("heard").count == 1)
    }

    /// 2024-03-31, Europe/Prague: clocks go from 02:00 +01:00 to 03:00 +02:00.
    @Test(arguments: [false, true])
    func theSpringForwardDayHas23HourColumns(withTimeZone: Bool) throws {
        let dir = try temporaryDirectory()
        let midnight: Int64 = 1_711_839_600  // 2024-03-31T00:00+01:00
        for hours: Int64 in [0, 1, 2, 13] { try writeHour(dir, start: midnight + hours * 3600, zones: Self.busyZones(1)) }
        let svg = try render(dir, clock: withTimeZone ? prague : nil)
        let hours = svg.withClass("hour")
        #expect(hours.count == 23)
        #expect(hours.prefix(4).map(\.text) == ["00:00+01:00", "01:00+01:00", "03:00+02:00", "04:00+02:00"])
        #expect(hours.filter { $0.attributes["data-file"] == "true" }.map { $0.attributes["data-hour"] } == [
            "2024-03-31T00:00:00+01:00", "2024-03-31T01:00:00+01:00", "2024-03-31T03:00:00+02:00", "2024-03-31T14:00:00+02:00",
        ])
        #expect(svg.withClass("cell").count == 4 * 5)
    }

    /// 2024-10-27, Europe/Prague: 02:00–03:00 happens twice (+02:00, then +01:00).
    @Test func theFallBackDayHas25HourColumnsWithTheRepeatedHourTwice() throws {
        let dir = try temporaryDirectory()
        let midnight: Int64 = 1_729_980_000  // 2024-10-27T00:00+02:00
        for hours: Int64 in [0, 2, 3, 20] { try writeHour(dir, start: midnight + hours * 3600, zones: Self.busyZones(1)) }
        #expect(FileManager.default.fileExists(atPath: dir + "/heatmap-2024-10-27T02+0200.csv"))
        let svg = try render(dir, clock: prague)
        let hours = svg.withClass("hour")
        #expect(hours.count == 25)
        #expect(hours.filter { $0.text.hasPrefix("02:00") }.map(\.text) == ["02:00+02:00", "02:00+01:00"])
        #expect(svg.cell(zone: "ALL", hour: "2024-10-27T02:00:00+01:00")?.text == "13.50")
    }

    @Test func zoneIdsOutsideTheConfigurationPatternAreNeverEchoedAndTheDocumentStaysWellFormed() throws {
        let dir = try temporaryDirectory()
        let odd = ["<script>alert(1)</script>", "a&b \"quoted\", here", "café", "fine.zone-1_x"]
        var zones = odd.map { ZoneHour(zone: $0, devices: 10, visitors: 6, visits: 6, averagePresent: 2, peakPresent: 5, medianDwellSeconds: 300, p90DwellSeconds: 600, passersby: 0) }
        zones.append(ZoneHour(zone: ZoneHour.siteWide, devices: 40, visitors: 24, visits: 24, averagePresent: 8, peakPresent: 20, medianDwellSeconds: 300, p90DwellSeconds: 600, passersby: 16))
        try writeHour(dir, start: Self.march21(9), zones: zones, flows: [FlowCount(from: odd[0], to: odd[3], transitions: 7)])
        let days = try HeatmapPicture.days(in: dir)
        let text = HeatmapPicture.svg(days[0], metric: .visitors)
        let svg = try #require(SVGElements.parse(text))
        #expect(svg.withClass("zone").map(\.text) == ["zone 1", "zone 2", "zone 3", "fine.zone-1_x", "ALL (site)"])
        for id in odd.prefix(3) { #expect(!text.contains(id)) }
        #expect(!text.contains("script"))
        #expect(!text.contains("café"))
        #expect(svg.withClass("flow").map { [$0.attributes["data-from"], $0.attributes["data-to"]] } == [["zone 1", "fine.zone-1_x"]])
        #expect(HeatmapPicture.xml("<a href='x'>&\"</a>") == "&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;")
    }

    @Test func filesThatAreNotFootfallsAreIgnored() throws {
        let dir = try temporaryDirectory()
        try writeHour(dir, start: Self.march21(10), zones: Self.busyZones(1))
        let fm = FileManager.default
        for (name, text) in [("notes.txt", "hello"), ("heatmap-draft.csv", "not,a,heatmap"), (".heatmap-2024-03-21T11.csv.tmp-42", "half a file"),
                             ("heatmap-2024-03-21.svg", "<svg/>"), ("README", "x")] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        try fm.createDirectory(atPath: dir + "/heatmap-2024-03-21T12.csv", withIntermediateDirectories: false)
        let svg = try render(dir)
        #expect(svg.withClass("cell").count == 5)
        #expect(svg.withClass("hour").filter { $0.attributes["data-file"] == "true" }.count == 1)
    }

    @Test func aMalformedRowIsAnErrorNamingFileAndLineButNotItsText() throws {
        let dir = try temporaryDirectory()
        try writeHour(dir, start: Self.march21(10), zones: Self.busyZones(1))
        let path = dir + "/heatmap-2024-03-21T10.csv"
        var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\r\n")
        lines[2] = "2024-03-21T10:00:00+01:00,aisles,aa:bb:cc:dd:ee:ff,10,11,3.25,5,360,1200,10,2,3,3,2,1,3600,,false"
        try Data(lines.joined(separator: "\r\n").utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try HeatmapPicture.days(in: dir)
        } throws: { error in
            guard let error = error as? RenderError else { return false }
            return error.code == .data && error.message.hasPrefix("heatmap-2024-03-21T10.csv:3: devices") && !error.message.contains("aa:bb")
        }
        lines[2] = "2024-03-21T10:00:00+01:00,aisles,10,10"
        try Data(lines.joined(separator: "\r\n").utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: RenderError.self) { try HeatmapPicture.days(in: dir) }
        do {
            _ = try HeatmapPicture.days(in: dir)
        } catch {
            #expect(error.message == "heatmap-2024-03-21T10.csv:3: 4 fields, expected 18")
        }
    }

    @Test func flowsAreSummedOverTheDayAndWithheldOnesShownWithheld() throws {
        let dir = try temporaryDirectory()
        try writeHour(dir, start: Self.march21(10), zones: Self.busyZones(1), flows: [
            FlowCount(from: "entrance", to: "checkout", transitions: 15), FlowCount(from: "entrance", to: "cafe", transitions: 2),
            FlowCount(from: "aisles", to: "checkout", transitions: 15),
        ])
        try writeHour(dir, start: Self.march21(11), zones: Self.busyZones(1), flows: [
            FlowCount(from: "entrance", to: "checkout", transitions: 25), FlowCount(from: "aisles", to: "checkout", transitions: 3),
        ])
        let svg = try render(dir)
        func flow(_ from: String, _ to: String) -> SVGElements.Element? {
            svg.withClass("flow").first { $0.attributes["data-from"] == from && $0.attributes["data-to"] == to }
        }
        #expect(flow("entrance", "checkout")?.text == "40")
        #expect(flow("entrance", "cafe")?.attributes["data-state"] == "withheld")
        #expect(flow("entrance", "cafe")?.text == "< k")
        #expect(flow("aisles", "checkout")?.attributes["data-state"] == "partly-withheld")
        #expect(flow("aisles", "checkout")?.text == "≥ 15")
        #expect(svg.withClass("flow").count == 3)
    }

    @Test func picturesAreWrittenAtomicallyWithMode0640OnePerDay() throws {
        let dir = try temporaryDirectory()
        try writeHour(dir, start: Self.march21(10), zones: Self.busyZones(1))
        try writeHour(dir, start: Self.march21(24 + 10), zones: Self.busyZones(2))
        let out = try temporaryDirectory() + "/pictures"
        let written = try HeatmapPicture.render(directory: dir, output: out, day: nil, metric: .averagePresent)
        #expect(written == [out + "/heatmap-2024-03-21.svg", out + "/heatmap-2024-03-22.svg"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["heatmap-2024-03-21.svg", "heatmap-2024-03-22.svg"])
        for path in written {
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o640)
            #expect(SVGElements.parse(try String(contentsOfFile: path, encoding: .utf8)) != nil)
        }
        // One file name for two days is a usage error; with --day it is fine.
        #expect {
            try HeatmapPicture.render(directory: dir, output: out + "/one.svg", day: nil, metric: .visitors)
        } throws: { ($0 as? RenderError)?.code == .usage }
        #expect(try HeatmapPicture.render(directory: dir, output: out + "/one.svg", day: "2024-03-22", metric: .visitors) == [out + "/one.svg"])
        #expect {
            try HeatmapPicture.render(directory: dir, output: out, day: "2024-03-23", metric: .visitors)
        } throws: { ($0 as? RenderError)?.code == .noInput }
    }
}
