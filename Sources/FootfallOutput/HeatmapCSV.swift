import FootfallCore
import SystemPackage

/// An hour as it may be published: values after suppression, `nil` where withheld. The CSV
/// writer only accepts this, never a raw ``HourReport``, so nothing reaches a file without
/// going through suppression first.
public protocol PublishableHour {
    var hourStart: Int64 { get }
    var utcOffsetSeconds: Int { get }
    var partial: Bool { get }
    /// Zones in configuration order, then the site-wide row.
    var heatmapRows: [HeatmapRow] { get }
    var flowRows: [FlowRow] { get }
    /// The days that ended with this hour (`daily-YYYY-MM-DD.csv`), after suppression.
    var days: [PublishedDay] { get }
}

extension PublishableHour {
    public var days: [PublishedDay] { [] }
}

/// One row of `heatmap-*.csv`.
public struct HeatmapRow: Sendable, Equatable {
    public var zone: String
    public var devices: Int?
    public var visitors: Int?
    public var visits: Int?
    public var averagePresent: Double?
    public var peakPresent: Int?
    public var medianDwellSeconds: Double?
    public var p90DwellSeconds: Double?
    public var passersby: Int?
    /// Names of the columns whose values were withheld (as in the header).
    public var suppressed: [String]

    public init(zone: String, devices: Int?, visitors: Int?, visits: Int?, averagePresent: Double?, peakPresent: Int?, medianDwellSeconds: Double?, p90DwellSeconds: Double?, passersby: Int?, suppressed: [String]) {
        self.zone = zone
        self.devices = devices
        self.visitors = visitors
        self.visits = visits
        self.averagePresent = averagePresent
        self.peakPresent = peakPresent
        self.medianDwellSeconds = medianDwellSeconds
        self.p90DwellSeconds = p90DwellSeconds
        self.passersby = passersby
        self.suppressed = suppressed
    }
}

/// One row of `flows-*.csv`.
public struct FlowRow: Sendable, Equatable {
    public var from: String
    public var to: String
    public var transitions: Int?
    public var suppressed: [String]

    public init(from: String, to: String, transitions: Int?, suppressed: [String]) {
        self.from = from
        self.to = to
        self.transitions = transitions
        self.suppressed = suppressed
    }
}

/// A plain ``PublishableHour`` for suppressors to fill in.
public struct PublishedTable: PublishableHour, Sendable, Equatable {
    public var hourStart: Int64
    public var utcOffsetSeconds: Int
    public var partial: Bool
    public var heatmapRows: [HeatmapRow]
    public var flowRows: [FlowRow]

    public init(hourStart: Int64, utcOffsetSeconds: Int, partial: Bool, heatmapRows: [HeatmapRow], flowRows: [FlowRow]) {
        self.hourStart = hourStart
        self.utcOffsetSeconds = utcOffsetSeconds
        self.partial = partial
        self.heatmapRows = heatmapRows
        self.flowRows = flowRows
    }
}

/// The CSV text of the two hourly files (RFC 4180: comma-separated, CRLF line ends, fields
/// quoted when they hold a comma, quote, semicolon or line break).
public enum HeatmapCSV {
    public static let heatmapHeader = "hour_start,zone,devices,visitors,visits,avg_present,peak_present,median_dwell_s,p90_dwell_s,passersby,suppressed,partial"
    public static let flowsHeader = "hour_start,from_zone,to_zone,transitions,suppressed"

    public static func heatmap(_ hour: some PublishableHour) -> String {
        let start = LocalTime(utcSeconds: hour.hourStart, utcOffsetSeconds: hour.utcOffsetSeconds).iso8601
        var text = heatmapHeader + "\r\n"
        for row in hour.heatmapRows {
            let fields: [String] = [
                start, row.zone,
                int(row.devices), int(row.visitors), int(row.visits),
                fixed2(row.averagePresent), int(row.peakPresent),
                seconds(row.medianDwellSeconds), seconds(row.p90DwellSeconds),
                int(row.passersby),
                row.suppressed.joined(separator: ";"),
                hour.partial ? "true" : "false",
            ]
            text += fields.map(field).joined(separator: ",") + "\r\n"
        }
        return text
    }

    public static func flows(_ hour: some PublishableHour) -> String {
        let start = LocalTime(utcSeconds: hour.hourStart, utcOffsetSeconds: hour.utcOffsetSeconds).iso8601
        var text = flowsHeader + "\r\n"
        for row in hour.flowRows {
            let fields = [start, row.from, row.to, int(row.transitions), row.suppressed.joined(separator: ";")]
            text += fields.map(field).joined(separator: ",") + "\r\n"
        }
        return text
    }

    /// RFC 4180 §2 (6, 7): a field with a comma, quote or line break is quoted and its
    /// quotes doubled. Semicolons are quoted too, for spreadsheet programs that split on them.
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == ";" || $0 == "\r" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func int(_ value: Int?) -> String { value.map(String.init) ?? "" }

    static func seconds(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "" }
        return String(Int64(value.rounded()))
    }

    /// Two decimals, without locale-dependent formatting.
    static func fixed2(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "" }
        let hundredths = Int64((value * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let magnitude = abs(hundredths)
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
