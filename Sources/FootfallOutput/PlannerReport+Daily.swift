import FootfallCore
import Foundation

/// A day's totals as read from `daily-YYYY-MM-DD.csv`, per zone id (and `ALL`).
public struct DayTotals: Sendable {
    public var devices: ReportValue
    public var visitors: ReportValue
    public var passersby: ReportValue
    public var visits: ReportValue
    public var medianDwellSeconds: ReportValue
    /// Visits per dwell band (under 5, 5–15, 15–30, 30–60, 60+ minutes).
    public var dwellBands: [ReportValue]
    public var partial: Bool

    /// visitors ÷ (visitors + passers-by), when both are published and not both zero.
    public var captureRate: Double? {
        guard let v = visitors.number, let p = passersby.number, v + p > 0 else { return nil }
        return v / (v + p)
    }
}

extension PlannerReport {
    /// Reads `daily-<date>.csv` of `directory` when there is one, as strictly as the hourly
    /// files (header, field count, numbers, withheld cells empty): a malformed file is an
    /// error naming the file and line.
    static func readDaily(directory: String, date: String) throws(RenderError) -> [String: DayTotals]? {
        let name = "daily-\(date).csv"
        let path = directory + "/" + name
        guard (try? FileManager.default.attributesOfItem(atPath: path)[.type]) as? FileAttributeType == .typeRegular else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw RenderError(code: .noInput, message: "\(name): cannot read the file") }
        guard data.count <= HeatmapPicture.maximumFileBytes else { throw RenderError.data(name, nil, "larger than 64 MiB; not a footfall file") }
        let columns = DailyCSV.header.split(separator: ",").map(String.init)
        let s = columns.firstIndex(of: "suppressed")!, p = columns.firstIndex(of: "partial")!
        let dwellIndex = columns.firstIndex(of: "median_dwell_s")!
        var totals: [String: DayTotals] = [:]
        for (number, line) in OutputCSV.lines(String(decoding: data, as: UTF8.self)) {
            if number == 1 {
                guard line == DailyCSV.header else { throw RenderError.data(name, 1, "unexpected header (expected \(DailyCSV.header))") }
                continue
            }
            if line.isEmpty { continue }
            let f = OutputCSV.fields(line)
            guard f.count == columns.count else { throw RenderError.data(name, number, "\(f.count) fields, expected \(columns.count)") }
            guard f[0] == date else { throw RenderError.data(name, number, "date is not the day the file is named after") }
            let suppressed = f[s].isEmpty ? [] : f[s].split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard suppressed.allSatisfy({ columns[2 ..< s].contains($0) }) else { throw RenderError.data(name, number, "suppressed names a column that cannot be withheld") }
            var values: [ReportValue] = []
            for i in 2 ..< s {
                if suppressed.contains(columns[i]) {
                    guard f[i].isEmpty else { throw RenderError.data(name, number, "\(columns[i]) is withheld but has a value") }
                    values.append(.withheld)
                } else if f[i].isEmpty {
                    guard i == dwellIndex else { throw RenderError.data(name, number, "\(columns[i]) is empty but not withheld") }
                    values.append(.missing)
                } else {
                    guard HeatmapPicture.isNumber(f[i]), let v = Double(f[i]) else { throw RenderError.data(name, number, "\(columns[i]) is not a number") }
                    values.append(.value(v, text: f[i]))
                }
            }
            guard f[p] == "true" || f[p] == "false" else { throw RenderError.data(name, number, "partial is neither true nor false") }
            guard totals[f[1]] == nil else { throw RenderError.data(name, number, "a second row for the same zone") }
            totals[f[1]] = DayTotals(devices: values[0], visitors: values[1], passersby: values[2], visits: values[3], medianDwellSeconds: values[4],
                                     dwellBands: Array(values[5...]), partial: f[p] == "true")
        }
        return totals
    }
}
