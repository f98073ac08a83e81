import FootfallAggregate
import FootfallCore
import FootfallOutput
import Foundation
import Testing

/// `daily-YYYY-MM-DD.csv`: a day's distinct counts are guarded like an hour's (P7) — by the
/// very suppression code of the hours — written atomically beside them, checked by the audit
/// and deleted by retention (P17).
@Suite("Day totals")
struct DayTotalsTests {
    static let privacy = PrivacySettings()

    static func day(cafeVisitors: Int = 9, partial: Bool = false) -> DayReport {
        func zone(_ id: String, _ devices: Int, _ visitors: Int, _ passersby: Int, _ visits: Int, _ dwell: Double, _ bands: [Int]) -> ZoneDay {
            var z = ZoneDay(zone: id, devices: devices, visitors: visitors, passersby: passersby, visits: visits, medianDwellSeconds: dwell)
            z.dwellBands = bands
            return z
        }
        return DayReport(date: "2024-03-07", partial: partial, zones: [
            zone("entrance", 140, 60, 80, 66, 420, [10, 20, 20, 10, 6]),
            zone("aisles", 90, 50, 40, 52, 900, [5, 15, 20, 8, 4]),
            zone("cafe", cafeVisitors + 1, cafeVisitors, 1, cafeVisitors, 1500, [0, 0, cafeVisitors, 0, 0]),
            zone(ZoneHour.siteWide, 180, 100, 80, 127, 780, [15, 35, 49, 18, 10]),
        ])
    }

    @Test func dayTotalsBelowKAreWithheldAndCannotBeRecoveredBySubtraction() {
        let published = Suppression.publish(Self.day(cafeVisitors: 3), privacy: Self.privacy)
        let cafe = published.zones[2], aisles = published.zones[1], site = published.zones[3]
        #expect(cafe.visitors == .withheld && cafe.passersby == .withheld && cafe.devices == .withheld)
        #expect(cafe.medianDwellSeconds == .withheld, "a median of 3 visits is withheld")
        // ALL − the published zones must not give the café's visitors: a second zone cell goes.
        let hiddenVisitors = published.zones.dropLast().filter { $0.visitors == .withheld }.count
        #expect(hiddenVisitors >= 2 || site.visitors == .withheld)
        #expect(aisles.visitors == .withheld || published.zones[0].visitors == .withheld || site.visitors == .withheld)
        // The suppressed column names only the day file's columns.
        let dayColumns: [HeatmapColumn] = [.devices, .visitors, .passersby, .visits, .medianDwell] + DwellBand.allCases.map(\.column)
        #expect(published.zones.allSatisfy { $0.suppressed.allSatisfy { dayColumns.contains($0) } })
    }

    @Test func aDayFileIsWrittenAtomicallyAndAPartialDayNeverReplacesACompleteOne() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = HourFileWriter(directory: dir.path, clock: HourClock(identifier: "Europe/Prague")!)
        #expect(try writer.write(Suppression.publish(Self.day(), privacy: Self.privacy)) == "daily-2024-03-07.csv")
        let text = try String(contentsOf: dir.appendingPathComponent("daily-2024-03-07.csv"), encoding: .utf8)
        #expect(text.hasPrefix(DailyCSV.header + "\r\n"))
        let rows = text.split(separator: "\r\n").map(String.init)
        #expect(rows.contains { $0.hasPrefix("2024-03-07,entrance,140,60,80,66,420,") })
        // The café's one passer-by is withheld, and with it a second cell of the row (visitors);
        // its visits, dwell and dwell bands go with its visitors: they describe the same people (P7).
        #expect(rows.contains { $0.hasPrefix("2024-03-07,cafe,10,,,,,,,,,,\"visitors;visits;median_dwell_s;passersby;dwell_0_5m;") }, "\(text)")
        // The aisles' 4 visits of an hour or more are withheld; the entrance's 6 go with them
        // (two cells of the column), and a second band of each row (the bands add up to `visits`).
        let aisles = try #require(rows.first { $0.hasPrefix("2024-03-07,aisles,") })
        let entrance = try #require(rows.first { $0.hasPrefix("2024-03-07,entrance,") })
        #expect(aisles.contains("dwell_60m_plus") && entrance.contains("dwell_60m_plus"), "\(text)")
        #expect(entrance.hasSuffix(",,20,20,10,,\"dwell_0_5m;dwell_60m_plus\",false"), "\(entrance)")
        #expect(try writer.write(Suppression.publish(Self.day(cafeVisitors: 20, partial: true), privacy: Self.privacy)) == nil)
        #expect(try String(contentsOf: dir.appendingPathComponent("daily-2024-03-07.csv"), encoding: .utf8) == text)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["daily-2024-03-07.csv"], "no temporary file is left")
    }

    @Test func anHourWithoutRowsWritesOnlyTheDaysItCarries() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var carrier = HourReport(hourStart: 1_709_830_800, utcOffsetSeconds: 3600, partial: true, zones: [], flows: [])
        carrier.days = [Self.day()]
        let names = try HourFileWriter(directory: dir.path, clock: HourClock(identifier: "Europe/Prague")!).write(Suppression.publish(carrier, privacy: Self.privacy))
        #expect(names == ["daily-2024-03-07.csv"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["daily-2024-03-07.csv"])
    }

    @Test func auditChecksDayFilesForSmallCountsAndTheirDate() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = HourFileWriter(directory: dir.path, clock: HourClock(identifier: "Europe/Prague")!)
        try writer.write(Suppression.publish(Self.day(), privacy: Self.privacy))
        let now: Int64 = 1_710_028_800
        #expect(try Audit.run(directory: dir.path, k: 5, retentionDays: 90, now: now).isClean)
        let file = dir.appendingPathComponent("daily-2024-03-07.csv")
        let text = try String(contentsOf: file, encoding: .utf8)
        try text.replacingOccurrences(of: "2024-03-07,entrance,140,60,", with: "2024-03-08,entrance,140,3,").write(to: file, atomically: true, encoding: .utf8)
        let findings = try Audit.run(directory: dir.path, k: 5, retentionDays: 90, now: now).findings.map(\.description)
        #expect(findings.contains("daily-2024-03-07.csv:2: visitors publishes a count below k = 5"), "\(findings)")
        #expect(findings.contains("daily-2024-03-07.csv:2: date is not the day the file is named after"), "\(findings)")
    }

    @Test func retentionDeletesDayFilesPastTheLimit() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = HourFileWriter(directory: dir.path, clock: HourClock(identifier: "Europe/Prague")!)
        try writer.write(Suppression.publish(Self.day(), privacy: Self.privacy))
        // 2024-03-07 ends at 2024-03-08 00:00; one day of retention later is 2024-03-09.
        let kept = try Retention.sweep(directory: dir.path, olderThanDays: 1, now: 1_709_942_399)
        #expect(kept.deleted.isEmpty)
        let swept = try Retention.sweep(directory: dir.path, olderThanDays: 1, now: 1_709_942_400)
        #expect(swept.deleted == ["daily-2024-03-07.csv"])
    }
}
