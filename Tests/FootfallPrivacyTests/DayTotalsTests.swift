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
        DayReport(date: "2024-03-07", partial: partial, zones: [
            ZoneDay(zone: "entrance", devices: 140, visitors: 60, passersby: 80, visits: 66, medianDwellSeconds: 420),
            ZoneDay(zone: "aisles", devices: 90, visitors: 50, passersby: 40, visits: 52, medianDwellSeconds: 900),
            ZoneDay(zone: "cafe", devices: cafeVisitors + 1, visitors: cafeVisitors, passersby: 1, visits: cafeVisitors, medianDwellSeconds: 1500),
            ZoneDay(zone: ZoneHour.siteWide, devices: 180, visitors: 100, passersby: 80, visits: 110, medianDwellSeconds: 780),
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
        #expect(published.zones.allSatisfy { $0.suppressed.allSatisfy { [.devices, .visitors, .passersby, .visits, .medianDwell].contains($0) } })
    }

    @Test func aDayFileIsWrittenAtomicallyAndAPartialDayNeverReplacesACompleteOne() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = HourFileWriter(directory: dir.path, clock: HourClock(identifier: "Europe/Prague")!)
        #expect(try writer.write(Suppression.publish(Self.day(), privacy: Self.privacy)) == "daily-2024-03-07.csv")
        let text = try String(contentsOf: dir.appendingPathComponent("daily-2024-03-07.csv"), encoding: .utf8)
        #expect(text.hasPrefix(DailyCSV.header + "\r\n"))
        #expect(text.contains("\r\n2024-03-07,entrance,140,60,80,66,420,,false\r\n"), "\(text)")
        // The café's one passer-by is withheld, and with it a second cell of the row and of the column.
        // Its visits and dwell go with its visitors: they describe the same people (P7).
        #expect(text.contains("\r\n2024-03-07,cafe,10,,,,,\"visitors;visits;median_dwell_s;passersby\",false\r\n"), "\(text)")
        #expect(try writer.write(Suppression.publish(Self.day(cafeVisitors: 20, partial: true), privacy: Self.privacy)) == nil)
        #expect(try String(contentsOf: dir.appendingPathComponent("daily-2024-03-07.csv"), encoding: .utf8) == text)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["daily-2024-03-07.csv"], "no temporary file is left")
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
