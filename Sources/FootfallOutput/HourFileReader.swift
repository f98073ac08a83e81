import FootfallAggregate
import FootfallCore

/// One row of a `heatmap-*.csv` file as read back: `nil` where the cell is empty (withheld,
/// or no dwell to measure), `suppressed` as the file names the withheld columns.
public struct HeatmapFileRow: Sendable, Equatable {
    public var zone: String
    public var devices: Int?
    public var visitors: Int?
    public var visits: Int?
    public var averagePresent: Double?
    public var peakPresent: Int?
    public var medianDwellSeconds: Int?
    public var p90DwellSeconds: Int?
    public var passersby: Int?
    /// `dwell_0_5m` … `dwell_60m_plus`, five cells (all `nil` in files from before the bands).
    public var dwellBands: [Int?]
    public var listenedSeconds: Int?
    public var suppressed: [String]

    public init(zone: String, devices: Int?, visitors: Int?, visits: Int?, averagePresent: Double?, peakPresent: Int?, medianDwellSeconds: Int?, p90DwellSeconds: Int?, passersby: Int?,
                dwellBands: [Int?] = [nil, nil, nil, nil, nil], listenedSeconds: Int? = nil, suppressed: [String]) {
        self.zone = zone
        self.devices = devices
        self.visitors = visitors
        self.visits = visits
        self.averagePresent = averagePresent
        self.peakPresent = peakPresent
        self.medianDwellSeconds = medianDwellSeconds
        self.p90DwellSeconds = p90DwellSeconds
        self.passersby = passersby
        self.dwellBands = dwellBands
        self.listenedSeconds = listenedSeconds
        self.suppressed = suppressed
    }
}

/// One row of a `flows-*.csv` file as read back.
public struct FlowFileRow: Sendable, Equatable {
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

/// One hour read back from footfall's own two files, as the chain's database receives it:
/// exactly the rows and values the files show, nothing more.
public struct ShippableHour: Sendable, Equatable {
    /// Start of the hour, seconds since the Unix epoch.
    public var hourStart: Int64
    /// The site's UTC offset during the hour, from the `hour_start` column.
    public var utcOffsetSeconds: Int
    public var partial: Bool
    public var heatmapRows: [HeatmapFileRow]
    public var flowRows: [FlowFileRow]

    /// The local wall-clock label of the hour (`2024-10-27T02:00:00`): the same for both
    /// hours of the night the clocks go back, which ``hourStart`` tells apart.
    public var localStart: String {
        String(LocalTime(utcSeconds: hourStart, utcOffsetSeconds: utcOffsetSeconds).iso8601.prefix(19))
    }
}

/// A problem in an hour file: which file, which line, what is wrong. Holds no cell values
/// other than the column name, so it may be logged.
public struct HourFileError: Error, Sendable, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(message)"
    }
}

/// Reads an hour's `heatmap-*.csv` and `flows-*.csv` back with the same CSV rules the audit
/// and `render` use (``OutputCSV``), checking the header, the field count, that every row is
/// of the same hour and that every value has the type its column promises.
public enum HourFileReader {
    public static func read(directory: String, hour: ShippingJournal.PendingHour) throws(HourFileError) -> ShippableHour {
        guard let heatmapBytes = ShippingJournal.readAll(directory + "/" + hour.heatmapName) else {
            throw HourFileError(file: hour.heatmapName, line: nil, message: "cannot read the file")
        }
        // The writer puts the flows file down first; a missing one is an hour without flows
        // only if someone removed it, which the shipper reports rather than guesses about.
        guard let flowsBytes = ShippingJournal.readAll(directory + "/" + hour.flowsName) else {
            throw HourFileError(file: hour.flowsName, line: nil, message: "cannot read the file (the heatmap file of this hour is there, its flows file is not)")
        }
        return try parse(heatmap: String(decoding: heatmapBytes, as: UTF8.self), heatmapName: hour.heatmapName,
                         flows: String(decoding: flowsBytes, as: UTF8.self), flowsName: hour.flowsName)
    }

    public static func parse(heatmap: String, heatmapName: String, flows: String, flowsName: String) throws(HourFileError) -> ShippableHour {
        var start: (Int64, Int)?
        var partial: Bool?
        var heatmapRows: [HeatmapFileRow] = []
        var columns: [String: Int] = [:]
        var heatmapColumns = 0
        for (number, line) in OutputCSV.lines(heatmap) {
            if number == 1 {
                guard line == HeatmapCSV.heatmapHeader || line == HourFileReader.headerBeforeDwellBands else {
                    throw HourFileError(file: heatmapName, line: 1, message: "unexpected header (expected \(HeatmapCSV.heatmapHeader))")
                }
                let names = line.split(separator: ",").map(String.init)
                heatmapColumns = names.count
                for (i, name) in names.enumerated() { columns[name] = i }
                continue
            }
            if line.isEmpty { continue }
            let f = OutputCSV.fields(line)
            func fail(_ message: String) -> HourFileError { HourFileError(file: heatmapName, line: number, message: message) }
            guard f.count == heatmapColumns else { throw fail("\(f.count) fields, expected \(heatmapColumns)") }
            func cell(_ name: String) -> String { columns[name].map { f[$0] } ?? "" }
            guard let rowStart = timestamp(f[0]) else { throw fail("hour_start is not an ISO 8601 time with offset") }
            if let start, start != rowStart { throw fail("hour_start differs from the first row's") }
            start = rowStart
            let partialCell = cell("partial"), suppressedCell = cell("suppressed")
            guard partialCell == "true" || partialCell == "false" else { throw fail("partial must be true or false") }
            if let partial, partial != (partialCell == "true") { throw fail("partial differs from the first row's") }
            partial = partialCell == "true"
            guard !f[1].isEmpty else { throw fail("zone is empty") }
            var row = HeatmapFileRow(zone: f[1], devices: nil, visitors: nil, visits: nil, averagePresent: nil, peakPresent: nil, medianDwellSeconds: nil, p90DwellSeconds: nil, passersby: nil,
                                     suppressed: suppressedCell.isEmpty ? [] : suppressedCell.split(separator: ";").map(String.init))
            func int(_ column: String) throws(HourFileError) -> Int? {
                let text = cell(column)
                if text.isEmpty { return nil }
                guard let v = Int(text), v >= 0 else { throw fail("\(column) is not a whole number ≥ 0") }
                return v
            }
            row.devices = try int("devices")
            row.visitors = try int("visitors")
            row.visits = try int("visits")
            if !cell("avg_present").isEmpty {
                guard let v = Double(cell("avg_present")), v.isFinite, v >= 0 else { throw fail("avg_present is not a number ≥ 0") }
                row.averagePresent = v
            }
            row.peakPresent = try int("peak_present")
            row.medianDwellSeconds = try int("median_dwell_s")
            row.p90DwellSeconds = try int("p90_dwell_s")
            row.passersby = try int("passersby")
            var bands: [Int?] = []
            for band in HourFileReader.dwellBandColumns { bands.append(try int(band)) }
            row.dwellBands = bands
            row.listenedSeconds = try int("listened_s")
            heatmapRows.append(row)
        }
        guard let start, let partial else { throw HourFileError(file: heatmapName, line: nil, message: "no rows (an hour file has at least the site-wide row)") }
        var flowRows: [FlowFileRow] = []
        let flowColumns = HeatmapCSV.flowsHeader.split(separator: ",").count
        for (number, line) in OutputCSV.lines(flows) {
            if number == 1 {
                guard line == HeatmapCSV.flowsHeader else { throw HourFileError(file: flowsName, line: 1, message: "unexpected header (expected \(HeatmapCSV.flowsHeader))") }
                continue
            }
            if line.isEmpty { continue }
            let f = OutputCSV.fields(line)
            func fail(_ message: String) -> HourFileError { HourFileError(file: flowsName, line: number, message: message) }
            guard f.count == flowColumns else { throw fail("\(f.count) fields, expected \(flowColumns)") }
            guard let rowStart = timestamp(f[0]), rowStart == start else { throw fail("hour_start is not the hour of \(heatmapName)") }
            guard !f[1].isEmpty, !f[2].isEmpty else { throw fail("from_zone and to_zone must not be empty") }
            var transitions: Int?
            if !f[3].isEmpty {
                guard let v = Int(f[3]), v >= 0 else { throw fail("transitions is not a whole number ≥ 0") }
                transitions = v
            }
            flowRows.append(FlowFileRow(from: f[1], to: f[2], transitions: transitions, suppressed: f[4].isEmpty ? [] : f[4].split(separator: ";").map(String.init)))
        }
        return ShippableHour(hourStart: start.0, utcOffsetSeconds: start.1, partial: partial, heatmapRows: heatmapRows, flowRows: flowRows)
    }

    /// The dwell-band columns, in header order.
    public static let dwellBandColumns = ["dwell_0_5m", "dwell_5_15m", "dwell_15_30m", "dwell_30_60m", "dwell_60m_plus"]

    /// The heatmap header of files written before the dwell bands and `listened_s`, still
    /// read (their new columns become NULL) so that an upgrade leaves no hour unshipped.
    public static let headerBeforeDwellBands = "hour_start,zone,devices,visitors,visits,avg_present,peak_present,median_dwell_s,p90_dwell_s,passersby,suppressed,partial"

    /// `2024-03-07T14:00:00+01:00` (as ``LocalTime/iso8601`` writes it) → (UTC seconds, offset).
    static func timestamp(_ text: String) -> (Int64, Int)? {
        let c = Array(text.utf8)
        guard c.count == 25, c[4] == 0x2D, c[7] == 0x2D, c[10] == 0x54, c[13] == 0x3A, c[16] == 0x3A, c[22] == 0x3A,
              c[19] == 0x2B || c[19] == 0x2D else { return nil }
        func n(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard c[i] >= 0x30 && c[i] <= 0x39 else { return nil }
                v = v * 10 + Int(c[i] - 0x30)
            }
            return v
        }
        guard let y = n(0 ..< 4), let mo = n(5 ..< 7), let d = n(8 ..< 10), let h = n(11 ..< 13), let mi = n(14 ..< 16), let s = n(17 ..< 19),
              let oh = n(20 ..< 22), let om = n(23 ..< 25), (1 ... 12).contains(mo), (1 ... 31).contains(d), h < 24, mi < 60, s < 60, oh <= 14, om < 60
        else { return nil }
        let offset = (c[19] == 0x2D ? -1 : 1) * (oh * 3600 + om * 60)
        let local = LocalTime.days(fromCivil: y, month: mo, day: d) * 86400 + Int64(h * 3600 + mi * 60 + s)
        return (local - Int64(offset), offset)
    }
}
