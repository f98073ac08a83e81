@testable import FootfallOutput
import FootfallCore
import FootfallIngest
import FootfallAggregate
import Foundation
import Testing

/// A report published with k = 1, where suppression withholds nothing: the writer takes
/// only what suppression returns, so even a test goes through it.
func published(_ report: HourReport) -> PublishedHour {
    Suppression.apply(report, k: 1)
}

/// 2024-03-21 14:00 +01:00, listened to from 14:10.
let sampleReport: HourReport = {
    var zone = ZoneHour(zone: "entrance", devices: 40, visitors: 30, visits: 31, averagePresent: 6.456, peakPresent: 12, medianDwellSeconds: 420, p90DwellSeconds: 1260.4, passersby: 10)
    zone.dwellBands = [5, 10, 9, 4, 3]
    var site = zone
    site.zone = "ALL"
    var report = HourReport(hourStart: 1_711_026_000, utcOffsetSeconds: 3600, partial: false, zones: [zone, site],
                            flows: [FlowCount(from: "entrance", to: "checkout", transitions: 9)])
    report.listenedSeconds = 3000
    return report
}()

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "footfall-csv-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

struct DiskFull: Error {}

@Suite("CSV writer")
struct CSVWriterTests {
    let clock = HourClock(identifier: "Europe/Prague")!

    @Test func theHeatmapFileHasTheExactHeaderAndLocalTimestamps() throws {
        let dir = try temporaryDirectory()
        let names = try HourFileWriter(directory: dir, clock: clock).write(published(sampleReport))
        #expect(names == ["flows-2024-03-21T14.csv", "heatmap-2024-03-21T14.csv"])
        let text = try String(contentsOfFile: dir + "/heatmap-2024-03-21T14.csv", encoding: .utf8)
        #expect(text == """
            hour_start,zone,devices,visitors,visits,avg_present,peak_present,median_dwell_s,p90_dwell_s,passersby,dwell_0_5m,dwell_5_15m,dwell_15_30m,dwell_30_60m,dwell_60m_plus,listened_s,suppressed,partial\r
            2024-03-21T14:00:00+01:00,entrance,40,30,31,6.46,12,420,1260,10,5,10,9,4,3,3000,,false\r
            2024-03-21T14:00:00+01:00,ALL,40,30,31,6.46,12,420,1260,10,5,10,9,4,3,3000,,false\r

            """)
        let flows = try String(contentsOfFile: dir + "/flows-2024-03-21T14.csv", encoding: .utf8)
        #expect(flows == "hour_start,from_zone,to_zone,transitions,suppressed\r\n2024-03-21T14:00:00+01:00,entrance,checkout,9,\r\n")
    }

    @Test func filesAreWrittenWithMode0640AndNoTemporaryFileRemains() throws {
        let dir = try temporaryDirectory()
        try HourFileWriter(directory: dir, clock: clock).write(published(sampleReport))
        let listing = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(listing == ["flows-2024-03-21T14.csv", "heatmap-2024-03-21T14.csv"])
        for name in listing {
            let mode = try FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o640)
        }
    }

    @Test func withheldColumnsAreListedInOneQuotedFieldAndLeftEmpty() {
        var table = published(sampleReport)
        table.zones[0].visitors = .withheld
        table.zones[0].passersby = .withheld
        table.zones[0].suppressed = [.visitors, .passersby]
        let line = HeatmapCSV.heatmap(table).split(separator: "\r\n")[1]
        #expect(line == "2024-03-21T14:00:00+01:00,entrance,40,,31,6.46,12,420,1260,,5,10,9,4,3,3000,\"visitors;passersby\",false")
    }

    @Test func aFailedWriteLeavesNoFileAndALaterRetrySucceeds() throws {
        let dir = try temporaryDirectory()
        var failing = AtomicFileWriter()
        failing.writeBytes = { _, _ in throw DiskFull() }
        let broken = HourFileWriter(directory: dir, clock: clock, files: failing)
        #expect(throws: OutputError.self) { try broken.write(published(sampleReport)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [])
        try HourFileWriter(directory: dir, clock: clock).write(published(sampleReport))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).count == 2)
    }

    @Test func aPartialHourNeverReplacesACompleteOneButIsReplacedByIt() throws {
        let dir = try temporaryDirectory()
        let writer = HourFileWriter(directory: dir, clock: clock)
        var partial = sampleReport
        partial.partial = true
        partial.zones[0].devices = 7
        #expect(try writer.write(published(partial)).count == 2)
        #expect(try writer.write(published(sampleReport)).count == 2)
        #expect(try writer.write(published(partial)).isEmpty)
        let text = try String(contentsOfFile: dir + "/heatmap-2024-03-21T14.csv", encoding: .utf8)
        #expect(text.contains(",false\r\n"))
        #expect(!text.contains(",true\r\n"))
    }

    @Test func theRepeatedHourWhenClocksGoBackGetsItsOffsetInTheName() {
        let writer = HourFileWriter(directory: "/nonexistent", clock: clock)
        // 2024-10-27 02:00 +02:00 and 02:00 +01:00 in Europe/Prague.
        #expect(writer.stem(hourStart: 1_729_987_200, utcOffsetSeconds: 7200) == "2024-10-27T02+0200")
        #expect(writer.stem(hourStart: 1_729_990_800, utcOffsetSeconds: 3600) == "2024-10-27T02+0100")
        #expect(writer.stem(hourStart: 1_729_994_400, utcOffsetSeconds: 3600) == "2024-10-27T03")
    }

    @Test func suppressedHoursAreWrittenWithWithheldCellsEmptyAndNamed() throws {
        var small = sampleReport
        small.zones[0] = ZoneHour(zone: "entrance", devices: 3, visitors: 2, visits: 2, averagePresent: 0.5, peakPresent: 2, medianDwellSeconds: 300, p90DwellSeconds: 600, passersby: 1)
        small.zones[1] = small.zones[0]
        small.zones[1].zone = "ALL"
        let text = HeatmapCSV.heatmap(Suppression.apply(small, k: 5))
        let rows = text.split(separator: "\r\n").dropFirst()
        #expect(rows.count == 2)
        for row in rows {
            #expect(row.hasPrefix("2024-03-21T14:00:00+01:00,"))
            #expect(row.contains(",,,,,,,,,"))
            #expect(row.contains("\"devices;visitors;visits;avg_present;peak_present;median_dwell_s;p90_dwell_s;passersby;dwell_0_5m;dwell_5_15m;dwell_15_30m;dwell_30_60m;dwell_60m_plus\""))
        }
        #expect(!text.contains(",3,"))
    }
}
