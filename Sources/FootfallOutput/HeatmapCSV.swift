import FootfallAggregate
import FootfallCore
import SystemPackage

/// The CSV text of the two hourly files (RFC 4180: comma-separated, CRLF line ends, fields
/// quoted when they hold a comma, quote, semicolon or line break).
public enum HeatmapCSV {
    public static let heatmapHeader = "hour_start,zone,devices,visitors,visits,avg_present,peak_present,median_dwell_s,p90_dwell_s,passersby,"
        + "dwell_0_5m,dwell_5_15m,dwell_15_30m,dwell_30_60m,dwell_60m_plus,listened_s,suppressed,partial"
    public static let flowsHeader = "hour_start,from_zone,to_zone,transitions,suppressed"

    /// The heatmap file of an hour. It takes only a ``PublishedHour``, the hour as
    /// suppression (``Suppression/publish(_:privacy:)``) left it: nothing reaches a file
    /// without going through suppression first (P7).
    public static func heatmap(_ hour: PublishedHour) -> String {
        let start = LocalTime(utcSeconds: hour.hourStart, utcOffsetSeconds: hour.utcOffsetSeconds).iso8601
        var text = heatmapHeader + "\r\n"
        for row in hour.zones {
            let fields: [String] = [
                start, row.zone,
                int(row.devices.value), int(row.visitors.value), int(row.visits.value),
                fixed2(row.averagePresent.value), int(row.peakPresent.value),
                seconds(row.medianDwellSeconds?.value), seconds(row.p90DwellSeconds?.value),
                int(row.passersby.value),
            ] + row.dwellBands.map { int($0.value) } + [
                int(hour.listenedSeconds),
                row.suppressed.map(\.rawValue).joined(separator: ";"),
                hour.partial ? "true" : "false",
            ]
            text += fields.map(field).joined(separator: ",") + "\r\n"
        }
        return text
    }

    /// The flows file of an hour (empty apart from the header in strict mode).
    public static func flows(_ hour: PublishedHour) -> String {
        let start = LocalTime(utcSeconds: hour.hourStart, utcOffsetSeconds: hour.utcOffsetSeconds).iso8601
        var text = flowsHeader + "\r\n"
        for row in hour.flows {
            let fields = [start, row.from, row.to, int(row.transitions.value), row.isSuppressed ? "transitions" : ""]
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
