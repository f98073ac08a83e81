import FootfallAggregate
import FootfallCore
import SystemPackage

/// `daily-YYYY-MM-DD.csv`: the distinct counts of one local day (``DayReport``), after the
/// same noise and suppression as an hour (``Suppression/publish(_:privacy:)-(DayReport,_)``),
/// written beside the hourly files by the same writer and with the same rules (atomic; a
/// partial day never replaces a complete one).
public enum DailyCSV {
    public static let header = "date,zone,devices,visitors,passersby,visits,median_dwell_s,dwell_0_5m,dwell_5_15m,dwell_15_30m,dwell_30_60m,dwell_60m_plus,suppressed,partial"

    /// The CSV text of a day (RFC 4180, CRLF line ends, as the hourly files).
    public static func text(_ day: PublishedDay) -> String {
        var text = header + "\r\n"
        for row in day.zones {
            let fields: [String] = [
                day.date, row.zone,
                HeatmapCSV.int(row.devices.value), HeatmapCSV.int(row.visitors.value), HeatmapCSV.int(row.passersby.value),
                HeatmapCSV.int(row.visits.value), HeatmapCSV.seconds(row.medianDwellSeconds?.value),
            ] + row.dwellBands.map { HeatmapCSV.int($0.value) } + [
                row.suppressed.map(\.rawValue).joined(separator: ";"),
                day.partial ? "true" : "false",
            ]
            text += fields.map(HeatmapCSV.field).joined(separator: ",") + "\r\n"
        }
        return text
    }

    public static func name(_ day: PublishedDay) -> String { "daily-\(day.date).csv" }
}

extension HourFileWriter {
    /// Writes a day's file. Returns its name, or `nil` when a complete version of the day is
    /// already there and this one is partial (a restarted collector saw only the rest of the
    /// day, under a new key).
    @discardableResult
    public func write(_ day: PublishedDay) throws(OutputError) -> String? {
        try files.ensureDirectory(directory)
        let name = DailyCSV.name(day)
        if day.partial, isComplete(name) { return nil }
        try files.write(Array(DailyCSV.text(day).utf8), to: directory, name: name)
        return name
    }
}
