import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallOutput
import Foundation
import Testing

/// Renders published hours the way the CSV files are specified (PRIVACY.md, P6): withheld
/// cells empty, `suppressed` the withheld column names joined by `;`. Used to build output
/// directories for the audit and canary tests.
enum TestCSV {
    static func isoHour(_ seconds: Int64, offset: Int) -> String {
        let local = Date(timeIntervalSince1970: TimeInterval(seconds + Int64(offset)))
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour], from: local)
        let sign = offset < 0 ? "-" : "+"
        let o = abs(offset)
        return String(format: "%04d-%02d-%02dT%02d:00:00%@%02d:%02d", c.year!, c.month!, c.day!, c.hour!, sign, o / 3600, (o % 3600) / 60)
    }

    static func cell(_ p: Published<Int>) -> String { p.value.map(String.init) ?? "" }
    static func cell(_ p: Published<Double>?) -> String { p?.value.map { String(format: "%.1f", $0) } ?? "" }

    static func heatmap(_ hours: [PublishedHour]) -> String {
        var lines = [Audit.heatmapHeader]
        for h in hours {
            let start = isoHour(h.hourStart, offset: h.utcOffsetSeconds)
            for r in h.zones {
                var fields: [String] = [start, r.zone, cell(r.devices), cell(r.visitors), cell(r.visits), cell(r.averagePresent), cell(r.peakPresent)]
                fields += [cell(r.medianDwellSeconds), cell(r.p90DwellSeconds), cell(r.passersby)]
                fields += r.dwellBands.map { (band: Published<Int>) -> String in cell(band) }
                fields += [h.listenedSeconds.map(String.init) ?? "3600", r.suppressed.map(\.rawValue).joined(separator: ";"), h.partial ? "1" : "0"]
                lines.append(fields.joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func flows(_ hours: [PublishedHour]) -> String {
        var lines = [Audit.flowsHeader]
        for h in hours {
            for f in h.flows {
                lines.append([isoHour(h.hourStart, offset: h.utcOffsetSeconds), f.from, f.to, cell(f.transitions), f.isSuppressed ? "transitions" : ""].joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A realistic published hour (2024-03-07 10:00 CET) with one small zone.
    static func sampleHour(hourStart: Int64 = 1_709_802_000) -> PublishedHour {
        let report = HourReport(hourStart: hourStart, utcOffsetSeconds: 3600, partial: false, zones: [
            ZoneHour(zone: "entrance", devices: 40, visitors: 30, visits: 34, averagePresent: 6.5, peakPresent: 11, medianDwellSeconds: 540, p90DwellSeconds: 1600, passersby: 10),
            ZoneHour(zone: "bakery", devices: 3, visitors: 2, visits: 2, averagePresent: 0.4, peakPresent: 1, medianDwellSeconds: 300, p90DwellSeconds: 420, passersby: 1),
            ZoneHour(zone: "tills", devices: 25, visitors: 21, visits: 22, averagePresent: 4.1, peakPresent: 7, medianDwellSeconds: 360, p90DwellSeconds: 900, passersby: 4),
            ZoneHour(zone: ZoneHour.siteWide, devices: 61, visitors: 48, visits: 58, averagePresent: 11, peakPresent: 17, medianDwellSeconds: 700, p90DwellSeconds: 2100, passersby: 13),
        ], flows: [FlowCount(from: "entrance", to: "tills", transitions: 19), FlowCount(from: "entrance", to: "bakery", transitions: 2)])
        return Suppression.apply(report, k: 5)
    }

    /// Writes a clean output directory with footfall's own writer (CRLF line ends, atomic
    /// files): one heatmap and one flows file for the sample hour.
    static func writeCleanDirectory(_ dir: URL) throws {
        let writer = HourFileWriter(directory: dir.path, clock: HourClock(identifier: "Europe/Prague")!)
        let written = try writer.write(sampleHour())
        #expect(written.count == 2)
    }
}
