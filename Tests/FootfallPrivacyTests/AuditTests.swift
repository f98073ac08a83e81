import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallOutput
import Foundation
import Testing

/// `footfall audit`: an output directory checked the way an auditor would.
@Suite("Audit of an output directory")
struct AuditTests {
    /// 2024-03-10 00:00 UTC: three days after the sample hour.
    static let now: Int64 = 1_710_028_800

    func audit(_ dir: URL, k: Int = 5, retentionDays: Int? = 90) throws -> AuditReport {
        try Audit.run(directory: dir.path, k: k, retentionDays: retentionDays, now: Self.now)
    }

    @Test func auditPassesACleanDirectory() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try TestCSV.writeCleanDirectory(dir)
        let report = try audit(dir)
        #expect(report.isClean, "\(report.text)")
        #expect(report.filesChecked == 2)
        #expect(report.rowsChecked == 6)
        #expect(report.text.contains("clean"))
    }

    @Test(arguments: ["dc:fb:48:68:be:e4", "DC-FB-48-68-BE-E4", "dcfb.4868.bee4", "dcfb4868bee4"])
    func auditCatchesAPlantedMAC(spelling: String) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try TestCSV.writeCleanDirectory(dir)
        let file = dir.appendingPathComponent("heatmap-2024-03-07T10.csv")
        // The writer ends lines with CRLF (RFC 4180), which Swift counts as one Character.
        var lines = try String(contentsOf: file, encoding: .utf8).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        lines[1] = lines[1].replacingOccurrences(of: "entrance", with: spelling)
        try lines.joined(separator: "\r\n").write(to: file, atomically: true, encoding: .utf8)
        let report = try audit(dir)
        #expect(!report.isClean)
        #expect(report.findings.contains { $0.file == "heatmap-2024-03-07T10.csv" && $0.line == 2 })
        // The finding says where, never what.
        #expect(!report.text.lowercased().contains(spelling.lowercased()))
    }

    @Test func auditCatchesAPlantedHash() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try TestCSV.writeCleanDirectory(dir)
        let file = dir.appendingPathComponent("flows-2024-03-07T10.csv")
        // A SHA-256-looking token in the zone column, and a 12-digit pseudonym-like one.
        try (String(contentsOf: file, encoding: .utf8)
            + "2024-03-07T10:00:00+01:00,5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8,tills,7,\n"
            + "2024-03-07T10:00:00+01:00,entrance,0a1b2c3d4e5f,7,\n").write(to: file, atomically: true, encoding: .utf8)
        let report = try audit(dir)
        #expect(report.findings.contains { $0.file == "flows-2024-03-07T10.csv" && $0.line == 4 && $0.message.contains("hex") })
        #expect(report.findings.contains { $0.file == "flows-2024-03-07T10.csv" && $0.line == 5 && $0.message.contains("hex") })
        #expect(!report.text.contains("5e884898"))
    }

    @Test func auditCatchesASmallCount() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try TestCSV.writeCleanDirectory(dir)
        let file = dir.appendingPathComponent("heatmap-2024-03-07T10.csv")
        try (String(contentsOf: file, encoding: .utf8)
            + "2024-03-07T11:00:00+01:00,bakery,3,,,,,,,,,,,,,3600,,0\n").write(to: file, atomically: true, encoding: .utf8)
        let report = try audit(dir)
        #expect(report.findings.map(\.description) == ["heatmap-2024-03-07T10.csv:6: devices publishes a count below k = 5"])
        // The same directory passes with k = 3: the check follows the configured k.
        #expect(try audit(dir, k: 3).isClean)
    }

    @Test func auditCatchesSubHourTimestampsUnexpectedFilesHeadersAndExpiredFiles() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try TestCSV.writeCleanDirectory(dir)
        let file = dir.appendingPathComponent("heatmap-2024-03-07T10.csv")
        try (String(contentsOf: file, encoding: .utf8)
            + "2024-03-07T11:17:00+01:00,tills,25,21,22,4.1,7,360.0,900.0,4,5,5,5,5,0,3600,,0\n").write(to: file, atomically: true, encoding: .utf8)
        try "mac,count\n".write(to: dir.appendingPathComponent("debug-dump.csv"), atomically: true, encoding: .utf8)
        try "hour_start,zone,devices\n".write(to: dir.appendingPathComponent("heatmap-2024-03-08T10.csv"), atomically: true, encoding: .utf8)
        try TestCSV.heatmap([TestCSV.sampleHour(hourStart: 1_690_000_000 / 3600 * 3600)]).write(to: dir.appendingPathComponent("heatmap-2023-07-22T04.csv"), atomically: true, encoding: .utf8)
        let report = try audit(dir)
        let lines = report.findings.map(\.description)
        #expect(lines.contains("heatmap-2024-03-07T10.csv:6: hour_start is not a timestamp exactly on the hour"))
        #expect(lines.contains { $0.hasPrefix("debug-dump.csv: not a footfall output file") })
        #expect(lines.contains { $0.hasPrefix("heatmap-2024-03-08T10.csv:1: unexpected header") })
        #expect(lines.contains("heatmap-2023-07-22T04.csv: older than the retention of 90 days"))
    }
}

/// P17: output files are kept only as long as configured.
@Suite("P17 retention")
struct RetentionTests {
    @Test func retentionDeletesOnlyOwnOutputFilesOlderThanTheLimit() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = [
            "heatmap-2024-01-01T09.csv",  // expired
            "flows-2024-01-01T09.csv",    // expired
            "heatmap-2024-01-02.csv",     // expired (daily file)
            "heatmap-2024-03-02T00.csv",  // kept: ended 2024-03-02 01:00, 8 days before now + 1 h
            "heatmap-2024-03-09T10.csv",  // kept
            "notes-2024-01-01.csv",       // not ours: untouched
            "heatmap-2024-01-01T09.csv.tmp",  // not ours: untouched
        ]
        for name in names { try "x\n".write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("flows-2023-01-01T00.csv").path, withDestinationPath: "/etc/hostname")
        let now: Int64 = 1_710_028_800  // 2024-03-10 00:00 UTC
        let result = try Retention.sweep(directory: dir.path, olderThanDays: 8, now: now)
        #expect(Set(result.deleted) == ["heatmap-2024-01-01T09.csv", "flows-2024-01-01T09.csv", "heatmap-2024-01-02.csv"])
        #expect(result.kept == 2)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        #expect(left == ["heatmap-2024-03-02T00.csv", "heatmap-2024-03-09T10.csv", "notes-2024-01-01.csv", "heatmap-2024-01-01T09.csv.tmp", "flows-2023-01-01T00.csv"])
        // An hour later the 2024-03-02T00 file is 8 days past its end and goes.
        let later = try Retention.sweep(directory: dir.path, olderThanDays: 8, now: now + 3600)
        #expect(later.deleted == ["heatmap-2024-03-02T00.csv"])
    }

    @Test func outputFileNamesAreRecognisedStrictly() {
        #expect(OutputFileName("heatmap-2024-03-07T14.csv")?.periodSeconds == 3600)
        #expect(OutputFileName("flows-2024-03-07T14+0100.csv")?.kind == .flows)
        #expect(OutputFileName("heatmap-2024-03-07.csv")?.periodSeconds == 86400)
        #expect(OutputFileName("heatmap-2024-13-07.csv") == nil)
        #expect(OutputFileName("heatmap-latest.csv") == nil)
        #expect(OutputFileName("heatmap-2024-03-07T14.csv.tmp") == nil)
    }
}

extension RetentionTests {
    @Test func retentionBelowOneDayIsRefusedNotApplied() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "x\n".write(to: dir.appendingPathComponent("heatmap-2024-03-09T10.csv"), atomically: true, encoding: .utf8)
        #expect(throws: RetentionError.self) { try Retention.sweep(directory: dir.path, olderThanDays: 0, now: 1_710_028_800) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 1)
    }
}
