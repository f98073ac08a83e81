import FootfallCore
import FootfallAggregate
import Foundation

/// One thing an auditor would object to. The message says what and where, never the
/// offending text itself (it may be an address).
public struct AuditFinding: Sendable, Equatable, CustomStringConvertible {
    /// File name within the audited directory.
    public var file: String
    /// 1-based line, or `nil` for the file as a whole.
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

public struct AuditReport: Sendable {
    public var directory: String
    public var filesChecked: Int
    public var rowsChecked: Int
    public var findings: [AuditFinding]

    public var isClean: Bool { findings.isEmpty }

    /// A short human-readable summary, then one line per finding.
    public var text: String {
        var lines = ["audit \(directory): \(filesChecked) files, \(rowsChecked) rows, \(findings.isEmpty ? "clean" : "\(findings.count) findings")"]
        lines += findings.map(\.description)
        return lines.joined(separator: "\n")
    }
}

public struct AuditError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension AuditError: FootfallErrorConvertible {
    public var footfallError: FootfallError { FootfallError(code: .cannotAudit, message: message) }
}

/// Checks an output directory the way a privacy auditor would (P6, P7, P14, P17):
///
/// - only footfall's file names (``OutputFileName``), no other files or directories;
/// - exactly the expected header, and the same number of fields on every row;
/// - no token that looks like a MAC address in any spelling (`aa:bb:…`, `aa-bb-…`,
///   `aabb.ccdd.eeff`) and no run of 12 or more hex digits (a bare address or a hash);
/// - `hour_start` exactly on the hour (no finer timestamps), and a day file's `date` its name's;
/// - no published count below `k` (withheld cells are empty);
/// - no file past retention.
public enum Audit {
    public static let heatmapHeader = HeatmapCSV.heatmapHeader
    public static let flowsHeader = "hour_start,from_zone,to_zone,transitions,suppressed"

    /// Columns that count devices and must be empty (withheld), 0, or at least k.
    static let heatmapCountColumns = Set(["devices", "visitors", "visits", "peak_present", "passersby"] + DwellBand.allCases.map(\.column.rawValue))
    static let flowsCountColumns: Set<String> = ["transitions"]
    static let dailyCountColumns = Set(["devices", "visitors", "passersby", "visits"] + DwellBand.allCases.map(\.column.rawValue))

    /// Output files are a few hundred rows a day; anything larger is itself suspicious.
    static let maximumFileBytes = 64 << 20

    /// - Parameters:
    ///   - directory: the output directory.
    ///   - k: the configured suppression threshold.
    ///   - retentionDays: the configured retention; `nil` skips the age check.
    ///   - now: seconds since the Unix epoch.
    /// - Throws: ``AuditError`` when the directory itself cannot be read.
    public static func run(directory: String, k: Int, retentionDays: Int?, now: Int64) throws(AuditError) -> AuditReport {
        let fm = FileManager.default
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw AuditError(message: "\(directory): cannot list the directory (\(error.localizedDescription))")
        }
        var report = AuditReport(directory: directory, filesChecked: 0, rowsChecked: 0, findings: [])
        // The shipping journal holds file names and fingerprints only (see ShippingJournal).
        for name in names where name != ShippingJournal.fileName {
            let path = directory + "/" + name
            report.filesChecked += 1
            let type = (try? fm.attributesOfItem(atPath: path)[.type]) as? FileAttributeType
            guard let file = OutputFileName(name) else {
                report.findings.append(AuditFinding(file: name, line: nil, message: "not a footfall output file (expected heatmap-<date>.csv, flows-<date>.csv or daily-<date>.csv)"))
                continue
            }
            guard type == .typeRegular else {
                report.findings.append(AuditFinding(file: name, line: nil, message: "not a regular file"))
                continue
            }
            if let retentionDays, file.isExpired(retentionDays: retentionDays, now: now) {
                report.findings.append(AuditFinding(file: name, line: nil, message: "older than the retention of \(retentionDays) days"))
            }
            guard let data = fm.contents(atPath: path) else {
                report.findings.append(AuditFinding(file: name, line: nil, message: "cannot read the file"))
                continue
            }
            guard data.count <= maximumFileBytes else {
                report.findings.append(AuditFinding(file: name, line: nil, message: "larger than 64 MiB; not checked"))
                continue
            }
            let text = String(decoding: data, as: UTF8.self)
            report.rowsChecked += check(text: text, file: name, kind: file.kind, k: k, into: &report.findings)
        }
        return report
    }

    /// Checks one file's text; returns the number of data rows.
    public static func check(text: String, file: String, kind: OutputFileName.Kind, k: Int, into findings: inout [AuditFinding]) -> Int {
        let header = switch kind {
        case .heatmap: heatmapHeader
        case .flows: flowsHeader
        case .daily: DailyCSV.header
        }
        let columns = header.split(separator: ",").map(String.init)
        let countColumns = switch kind {
        case .heatmap: heatmapCountColumns
        case .flows: flowsCountColumns
        case .daily: dailyCountColumns
        }
        var rows = 0
        for (lineNumber, line) in OutputCSV.lines(text) {
            for problem in identifierLikeTokens(in: line) {
                findings.append(AuditFinding(file: file, line: lineNumber, message: problem))
            }
            if lineNumber == 1 {
                if line != header {
                    findings.append(AuditFinding(file: file, line: 1, message: "unexpected header (expected \(header))"))
                    return 0
                }
                continue
            }
            if line.isEmpty { continue }
            rows += 1
            let fields = OutputCSV.fields(line)
            guard fields.count == columns.count else {
                findings.append(AuditFinding(file: file, line: lineNumber, message: "\(fields.count) fields, expected \(columns.count)"))
                continue
            }
            if kind == .daily {
                // A day file names its day in every row, and nothing finer than the day.
                if "daily-\(fields[0]).csv" != file {
                    findings.append(AuditFinding(file: file, line: lineNumber, message: "date is not the day the file is named after"))
                }
            } else if !isOnTheHour(fields[0]) {
                findings.append(AuditFinding(file: file, line: lineNumber, message: "hour_start is not a timestamp exactly on the hour"))
            }
            for (column, field) in zip(columns, fields) where countColumns.contains(column) && !field.isEmpty {
                guard let value = Int(field), value >= 0 else {
                    findings.append(AuditFinding(file: file, line: lineNumber, message: "\(column) is not a count"))
                    continue
                }
                if value > 0 && value < k {
                    findings.append(AuditFinding(file: file, line: lineNumber, message: "\(column) publishes a count below k = \(k)"))
                }
            }
        }
        return rows
    }

    /// `YYYY-MM-DDTHH:00:00` with an optional offset (`Z`, `±HH:MM`, `±HHMM`), or whole
    /// seconds since the epoch divisible by 3600.
    static func isOnTheHour(_ field: String) -> Bool {
        if let seconds = Int64(field) { return seconds % 3600 == 0 }
        let c = Array(field.utf8)
        guard c.count >= 19 else { return false }
        func digits(_ r: Range<Int>) -> Bool { r.allSatisfy { c[$0] >= 48 && c[$0] <= 57 } }
        guard digits(0 ..< 4), c[4] == UInt8(ascii: "-"), digits(5 ..< 7), c[7] == UInt8(ascii: "-"), digits(8 ..< 10),
              c[10] == UInt8(ascii: "T"), digits(11 ..< 13), c[13] == UInt8(ascii: ":"), c[14] == UInt8(ascii: "0"), c[15] == UInt8(ascii: "0"),
              c[16] == UInt8(ascii: ":"), c[17] == UInt8(ascii: "0"), c[18] == UInt8(ascii: "0")
        else { return false }
        let offset = c[19...]
        if offset.isEmpty || Array(offset) == [UInt8(ascii: "Z")] { return true }
        let o = Array(offset)
        guard o.first == UInt8(ascii: "+") || o.first == UInt8(ascii: "-") else { return false }
        let body = o.dropFirst().filter { $0 != UInt8(ascii: ":") }
        return body.count == 4 && body.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    /// Finds tokens that look like an address or a hash. Returns one message per kind found;
    /// the messages never include the token.
    public static func identifierLikeTokens(in line: Substring) -> [String] {
        var problems: [String] = []
        var macLike = false
        var longHex = false
        // Maximal runs of hex digits and the separators addresses use.
        var run: [UInt8] = []
        func isHex(_ c: UInt8) -> Bool {
            (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
        }
        func isSeparator(_ c: UInt8) -> Bool { c == UInt8(ascii: ":") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") }
        func examine() {
            guard !run.isEmpty else { return }
            // Split into hex groups and the separators between them.
            var groups: [Int] = []  // lengths
            var separators: [UInt8] = []
            var length = 0
            for c in run {
                if isHex(c) {
                    length += 1
                } else {
                    groups.append(length)
                    separators.append(c)
                    length = 0
                }
            }
            groups.append(length)
            if groups.contains(where: { $0 >= 12 }) { longHex = true }
            // Six 2-digit groups joined by one separator (':' or '-').
            if groups.count >= 6 {
                for start in 0 ... (groups.count - 6) {
                    let window = groups[start ..< start + 6]
                    let seps = separators[start ..< start + 5]
                    if window.allSatisfy({ $0 == 2 }), let s = seps.first, s != UInt8(ascii: "."), seps.allSatisfy({ $0 == s }) {
                        macLike = true
                    }
                }
            }
            // Three 4-digit groups joined by '.' (aabb.ccdd.eeff).
            if groups.count >= 3 {
                for start in 0 ... (groups.count - 3) {
                    let window = groups[start ..< start + 3]
                    let seps = separators[start ..< start + 2]
                    if window.allSatisfy({ $0 == 4 }), seps.allSatisfy({ $0 == UInt8(ascii: ".") }) {
                        macLike = true
                    }
                }
            }
            run.removeAll(keepingCapacity: true)
        }
        for c in line.utf8 {
            if isHex(c) || isSeparator(c) {
                run.append(c)
            } else {
                examine()
            }
        }
        examine()
        if macLike { problems.append("a token that looks like a MAC address") }
        if longHex { problems.append("a run of 12 or more hex digits (an address or a hash)") }
        return problems
    }
}
