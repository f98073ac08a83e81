import FootfallCore
import FootfallAggregate
import Foundation
import SystemPackage

/// The heatmap column a picture is coloured by (`footfall render --metric`), named as in
/// the CSV header.
public enum HeatmapMetric: String, CaseIterable, Sendable {
    case averagePresent = "avg_present"
    case visitors
    case devices
    case passersby
    case medianDwell = "median_dwell_s"

    /// What the number means, for the picture's title.
    public var caption: String {
        switch self {
        case .averagePresent: "people present on average (avg_present)"
        case .visitors: "visitors (visitors)"
        case .devices: "devices heard (devices)"
        case .passersby: "passers-by (passersby)"
        case .medianDwell: "median dwell in seconds (median_dwell_s)"
        }
    }

    /// Index of the column in ``HeatmapCSV/heatmapHeader``.
    var columnIndex: Int {
        switch self {
        case .devices: 2
        case .visitors: 3
        case .averagePresent: 5
        case .medianDwell: 7
        case .passersby: 9
        }
    }
}

/// An error of `footfall render`, with the sysexits code the command exits with. Messages
/// name files and lines, never the text found there.
public struct RenderError: Error, Sendable, CustomStringConvertible {
    /// `.usage` when the options do not fit the directory, `.data` when a file in it is not
    /// what footfall writes, `.noInput` when it cannot be read or has no hour for the day
    /// asked for, `.cannotCreate` when the picture cannot be written.
    public typealias Code = FootfallError.Code

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func data(_ file: String, _ line: Int?, _ what: String) -> RenderError {
        RenderError(code: .data, message: line.map { "\(file):\($0): \(what)" } ?? "\(file): \(what)")
    }
}

extension RenderError: FootfallErrorConvertible {
    public var footfallError: FootfallError { FootfallError(code: code, message: message) }
}

/// One cell of the picture.
public enum HeatmapCell: Sendable, Equatable {
    /// A published value and its text exactly as in the file.
    case value(Double, text: String)
    /// Withheld by suppression (named in `suppressed`).
    case withheld
    /// Empty but not withheld: a dwell statistic of an hour without visits.
    case empty
}

/// A zone as the picture names it. Only ids that match `[A-Za-z0-9_.-]{1,64}` (what the
/// configuration accepts) are ever shown; anything else in a file is drawn as
/// `zone N` so that no arbitrary text from the files reaches the picture.
public struct ZoneLabel: Sendable, Equatable, Hashable {
    public var text: String
    public var isSite: Bool

    static func isPrintable(_ id: String) -> Bool {
        let bytes = id.utf8
        return (1 ... 64).contains(bytes.count) && bytes.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
        }
    }
}

/// One column of a day: a local hour, with or without a file.
public struct HeatmapHour: Sendable {
    /// Start of the hour, seconds since the Unix epoch.
    public var utcStart: Int64
    public var utcOffsetSeconds: Int
    /// The `hour_start` of the file, or `nil` when the hour has no file.
    public var hourStart: String?
    public var partial: Bool
    /// Rows by zone key (the id as read; only shown through ``ZoneLabel``).
    var rows: [String: [String]]
    /// Zone keys in file order.
    var zoneOrder: [String]

    public var hasFile: Bool { hourStart != nil }
    /// `listened_s` of the hour (the same on every row): how long footfall heard its sensors
    /// in it; `nil` without a file or when the file leaves it empty.
    public var listenedSeconds: Int? {
        rows.values.first.flatMap { $0.count > HeatmapPicture.listenedIndex ? Int($0[HeatmapPicture.listenedIndex]) : nil }
    }
    /// Heard for less than the whole hour (started, restarted or every source down in it).
    public var partHeard: Bool { listenedSeconds.map { $0 < 3600 } ?? false }
    /// `14:00` (local).
    public var label: String {
        let t = LocalTime(utcSeconds: utcStart, utcOffsetSeconds: utcOffsetSeconds)
        return "\(t.hour < 10 ? "0" : "")\(t.hour):\(t.minute < 10 ? "0" : "")\(t.minute)"
    }
    /// `+01:00`.
    public var offsetLabel: String { LocalTime(utcSeconds: utcStart, utcOffsetSeconds: utcOffsetSeconds).offsetText(separator: ":") }
}

/// A zone-to-zone flow summed over a day.
public struct HeatmapDayFlow: Sendable, Equatable {
    public var from: ZoneLabel
    public var to: ZoneLabel
    /// Sum of the published hourly values.
    public var published: Int
    /// Hours in which this flow was withheld.
    public var withheldHours: Int
}

/// One local day of an output directory, as drawn by ``HeatmapPicture``.
public struct HeatmapDay: Sendable {
    /// `YYYY-MM-DD`, the site's local date.
    public var date: String
    /// Every local hour of the day in time order (23 or 25 on a clock-change day).
    public var hours: [HeatmapHour]
    /// Zones in configuration order (as in the files), then the site row.
    public var zones: [ZoneLabel]
    /// The key each zone's rows are stored under in ``HeatmapHour``, parallel to ``zones``.
    var zoneKeys: [String]
    public var flows: [HeatmapDayFlow]

    /// The cell of a zone (index into ``zones``) and hour, or `nil` when the hour has no
    /// file or no row for the zone.
    public func cell(zone: Int, hour: Int, metric: HeatmapMetric) -> HeatmapCell? {
        guard let fields = hours[hour].rows[zoneKeys[zone]] else { return nil }
        let text = fields[metric.columnIndex]
        let suppressed = fields[HeatmapPicture.suppressedIndex].split(separator: ";").map(String.init)
        if suppressed.contains(metric.rawValue) { return .withheld }
        guard !text.isEmpty, let value = Double(text) else { return .empty }
        return .value(value, text: text)
    }
}

/// Draws the hourly heatmap files of an output directory as pictures (`footfall render`).
///
/// Only the CSV files are read — the picture shows exactly what `footfall audit` checked,
/// nothing else — and only footfall's file names (``OutputFileName``); other files are
/// ignored. Every field is checked as strictly as the writer writes it, and anything else is
/// an error naming file and line, so a picture never shows a half-understood file.
public enum HeatmapPicture {
    /// Files larger than this are not footfall's (a day of hours is a few kilobytes).
    static let maximumFileBytes = 64 << 20

    /// Reads every hour file of `directory` and groups the hours by local day.
    /// - Parameters:
    ///   - directory: an output directory.
    ///   - clock: the site's time zone, when known: labels the hours without a file exactly
    ///     on a clock-change day, and every file's offset is checked against it. Without it
    ///     the day's hours are inferred from the offsets in the files (an hour without a
    ///     file takes the offset of the hour before it).
    /// - Returns: the days in date order.
    /// - Throws: ``RenderError`` when the directory cannot be read or a file is malformed.
    public static func days(in directory: String, clock: HourClock? = nil) throws(RenderError) -> [HeatmapDay] {
        let fm = FileManager.default
        let names: [String]
        do {
            names = try DirectoryListing.names(in: directory)
        } catch {
            throw RenderError(code: .noInput, message: "\(directory): cannot list the directory: \(error.reason)")
        }
        var hours: [Int64: HeatmapHour] = [:]
        var flows: [Int64: [(from: String, to: String, transitions: Int?, line: Int, file: String)]] = [:]
        for name in names {
            guard let kind = OutputFileName(name)?.kind, kind != .daily else { continue }
            let path = directory + "/" + name
            guard (try? fm.attributesOfItem(atPath: path)[.type]) as? FileAttributeType == .typeRegular else { continue }
            guard let data = fm.contents(atPath: path) else { throw RenderError(code: .noInput, message: "\(name): cannot read the file") }
            guard data.count <= maximumFileBytes else { throw RenderError.data(name, nil, "larger than 64 MiB; not a footfall file") }
            let text = String(decoding: data, as: UTF8.self)
            switch kind {
            case .heatmap: try readHeatmap(text, file: name, clock: clock, into: &hours)
            case .flows: try readFlows(text, file: name, clock: clock, into: &flows)
            case .daily: continue
            }
        }
        return assembleDays(hours: hours, flows: flows, clock: clock)
    }

    // MARK: Reading

    /// `2024-03-14T15:00:00+01:00` → (UTC seconds, offset seconds); `nil` unless exactly
    /// that form on the hour.
    static func parseHourStart(_ field: String) -> (utc: Int64, offset: Int)? {
        let c = Array(field.utf8)
        guard c.count == 25 else { return nil }
        func number(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard c[i] >= 48 && c[i] <= 57 else { return nil }
                v = v * 10 + Int(c[i] - 48)
            }
            return v
        }
        guard let year = number(0 ..< 4), c[4] == UInt8(ascii: "-"), let month = number(5 ..< 7), c[7] == UInt8(ascii: "-"),
              let day = number(8 ..< 10), c[10] == UInt8(ascii: "T"), let hour = number(11 ..< 13), c[13] == UInt8(ascii: ":"),
              number(14 ..< 16) == 0, c[16] == UInt8(ascii: ":"), number(17 ..< 19) == 0,
              c[19] == UInt8(ascii: "+") || c[19] == UInt8(ascii: "-"), let oh = number(20 ..< 22), c[22] == UInt8(ascii: ":"), let om = number(23 ..< 25),
              (1 ... 12).contains(month), (1 ... 31).contains(day), hour < 24, oh < 24, om < 60
        else { return nil }
        let offset = (c[19] == UInt8(ascii: "-") ? -1 : 1) * (oh * 3600 + om * 60)
        let local = LocalTime.days(fromCivil: year, month: month, day: day) * 86400 + Int64(hour * 3600)
        // The date must be a real one (not 31 April): it reads back as itself.
        let back = LocalTime(utcSeconds: local - Int64(offset), utcOffsetSeconds: offset)
        guard back.year == year, back.month == month, back.day == day else { return nil }
        return (local - Int64(offset), offset)
    }

    /// A plain decimal as the writer prints it: digits, at most one `.`, optional leading `-`.
    static func isNumber(_ field: String) -> Bool {
        var body = Substring(field)
        if body.hasPrefix("-") { body = body.dropFirst() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1 ... 2).contains(parts.count), parts.allSatisfy({ (1 ... 15).contains($0.utf8.count) && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }) else { return false }
        return true
    }

    static func checkHour(_ field: String, file: String, line: Int, clock: HourClock?) throws(RenderError) -> (utc: Int64, offset: Int) {
        guard let start = parseHourStart(field) else { throw RenderError.data(file, line, "hour_start is not a local hour (expected YYYY-MM-DDTHH:00:00+HH:MM)") }
        if let clock, clock.utcOffset(at: start.utc) != start.offset {
            throw RenderError.data(file, line, "the UTC offset of hour_start is not that of \(clock.identifier) at that time")
        }
        return start
    }

    static let heatmapColumns = HeatmapCSV.heatmapHeader.split(separator: ",").map(String.init)
    static let withholdable = Set(HeatmapColumn.allCases.map(\.rawValue))
    static let suppressedIndex = heatmapColumns.firstIndex(of: "suppressed")!
    static let partialIndex = heatmapColumns.firstIndex(of: "partial")!
    static let listenedIndex = heatmapColumns.firstIndex(of: "listened_s")!
    /// Columns that may be empty without being withheld: dwell statistics of an hour without
    /// visits, and `listened_s` when unknown.
    static let mayBeEmpty: Set<String> = ["median_dwell_s", "p90_dwell_s", "listened_s"]

    static func readHeatmap(_ text: String, file: String, clock: HourClock?, into hours: inout [Int64: HeatmapHour]) throws(RenderError) {
        for (number, line) in OutputCSV.lines(text) {
            if number == 1 {
                guard line == HeatmapCSV.heatmapHeader else { throw RenderError.data(file, 1, "unexpected header (expected \(HeatmapCSV.heatmapHeader))") }
                continue
            }
            if line.isEmpty { continue }
            let fields = OutputCSV.fields(line)
            guard fields.count == heatmapColumns.count else { throw RenderError.data(file, number, "\(fields.count) fields, expected \(heatmapColumns.count)") }
            let start = try checkHour(fields[0], file: file, line: number, clock: clock)
            let suppressed = fields[suppressedIndex].isEmpty ? [] : fields[suppressedIndex].split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard suppressed.allSatisfy(withholdable.contains) else { throw RenderError.data(file, number, "suppressed names a column that cannot be withheld") }
            for i in 2 ..< suppressedIndex {
                let column = heatmapColumns[i]
                if suppressed.contains(column) {
                    guard fields[i].isEmpty else { throw RenderError.data(file, number, "\(column) is withheld but has a value") }
                } else if fields[i].isEmpty {
                    // Only dwell statistics may be empty without being withheld (no visits).
                    guard mayBeEmpty.contains(column) else { throw RenderError.data(file, number, "\(column) is empty but not withheld") }
                } else {
                    guard isNumber(fields[i]) else { throw RenderError.data(file, number, "\(column) is not a number") }
                }
            }
            guard fields[partialIndex] == "true" || fields[partialIndex] == "false" else { throw RenderError.data(file, number, "partial is neither true nor false") }
            let partial = fields[partialIndex] == "true"
            var hour = hours[start.utc] ?? HeatmapHour(utcStart: start.utc, utcOffsetSeconds: start.offset, hourStart: fields[0], partial: partial, rows: [:], zoneOrder: [])
            guard hour.partial == partial else { throw RenderError.data(file, number, "partial differs from other rows of the same hour") }
            guard hour.rows[fields[1]] == nil else { throw RenderError.data(file, number, "a second row for the same zone and hour") }
            hour.rows[fields[1]] = fields
            hour.zoneOrder.append(fields[1])
            hours[start.utc] = hour
        }
    }

    static func readFlows(_ text: String, file: String, clock: HourClock?, into flows: inout [Int64: [(from: String, to: String, transitions: Int?, line: Int, file: String)]]) throws(RenderError) {
        for (number, line) in OutputCSV.lines(text) {
            if number == 1 {
                guard line == HeatmapCSV.flowsHeader else { throw RenderError.data(file, 1, "unexpected header (expected \(HeatmapCSV.flowsHeader))") }
                continue
            }
            if line.isEmpty { continue }
            let fields = OutputCSV.fields(line)
            guard fields.count == 5 else { throw RenderError.data(file, number, "\(fields.count) fields, expected 5") }
            let start = try checkHour(fields[0], file: file, line: number, clock: clock)
            let transitions: Int?
            switch fields[4] {
            case "transitions":
                guard fields[3].isEmpty else { throw RenderError.data(file, number, "transitions is withheld but has a value") }
                transitions = nil
            case "":
                guard let value = Int(fields[3]), value >= 0, fields[3].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { throw RenderError.data(file, number, "transitions is not a count") }
                transitions = value
            default:
                throw RenderError.data(file, number, "suppressed names a column that cannot be withheld")
            }
            flows[start.utc, default: []].append((fields[1], fields[2], transitions, number, file))
        }
    }

    // MARK: Days

    static func assembleDays(hours: [Int64: HeatmapHour], flows: [Int64: [(from: String, to: String, transitions: Int?, line: Int, file: String)]], clock: HourClock?) -> [HeatmapDay] {
        func date(_ utc: Int64, _ offset: Int) -> String {
            String(LocalTime(utcSeconds: utc, utcOffsetSeconds: offset).iso8601.prefix(10))
        }
        var byDate: [String: [HeatmapHour]] = [:]
        for hour in hours.values { byDate[date(hour.utcStart, hour.utcOffsetSeconds), default: []].append(hour) }

        var days: [HeatmapDay] = []
        for (dateText, dayHours) in byDate {
            let sorted = dayHours.sorted { $0.utcStart < $1.utcStart }
            let columns = columnsOfDay(dateText, hours: sorted, clock: clock)

            // Zones: configuration order as met in the files, the site row last.
            var keys: [String] = []
            for hour in sorted {
                for key in hour.zoneOrder where key != ZoneHour.siteWide && !keys.contains(key) { keys.append(key) }
            }
            if sorted.contains(where: { $0.rows[ZoneHour.siteWide] != nil }) { keys.append(ZoneHour.siteWide) }
            var labels: [ZoneLabel] = []
            var labelOf: [String: ZoneLabel] = [:]
            for (i, key) in keys.enumerated() {
                let label = key == ZoneHour.siteWide ? ZoneLabel(text: ZoneHour.siteWide, isSite: true)
                    : ZoneLabel(text: ZoneLabel.isPrintable(key) ? key : "zone \(i + 1)", isSite: false)
                labels.append(label)
                labelOf[key] = label
            }

            // Flows of the day's hours, summed per ordered pair.
            var pairs: [(from: String, to: String)] = []
            var totals: [String: (published: Int, withheld: Int)] = [:]
            for column in columns {
                for flow in flows[column.utcStart] ?? [] {
                    let key = flow.from + "\u{0}" + flow.to
                    if totals[key] == nil { pairs.append((flow.from, flow.to)) }
                    var total = totals[key] ?? (0, 0)
                    if let t = flow.transitions { total.published += t } else { total.withheld += 1 }
                    totals[key] = total
                }
            }
            func label(_ key: String) -> ZoneLabel {
                if let l = labelOf[key] { return l }
                let l = ZoneLabel(text: ZoneLabel.isPrintable(key) ? key : "zone \(labelOf.count + 1)", isSite: false)
                labelOf[key] = l
                return l
            }
            let order = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
            pairs.sort { a, b in
                let ka = (order[a.from] ?? Int.max, order[a.to] ?? Int.max), kb = (order[b.from] ?? Int.max, order[b.to] ?? Int.max)
                return ka < kb
            }
            let dayFlows = pairs.map { pair in
                let total = totals[pair.from + "\u{0}" + pair.to]!
                return HeatmapDayFlow(from: label(pair.from), to: label(pair.to), published: total.published, withheldHours: total.withheld)
            }
            days.append(HeatmapDay(date: dateText, hours: columns, zones: labels, zoneKeys: keys, flows: dayFlows))
        }
        return days.sorted { $0.date < $1.date }
    }

    /// Every local hour of the day, from local midnight to the next: the hours with a file
    /// as read, the others blank.
    static func columnsOfDay(_ date: String, hours: [HeatmapHour], clock: HourClock?) -> [HeatmapHour] {
        let parts = date.split(separator: "-").compactMap { Int($0) }
        let midnight = LocalTime.days(fromCivil: parts[0], month: parts[1], day: parts[2]) * 86400
        func offset(atLocal local: Int64, fallback: Int) -> Int {
            guard let clock else { return fallback }
            // The offset in force at a local time: two steps converge except inside a gap.
            let first = clock.utcOffset(at: local - Int64(clock.utcOffset(at: local)))
            return clock.utcOffset(at: local - Int64(first))
        }
        let start = midnight - Int64(offset(atLocal: midnight, fallback: hours.first!.utcOffsetSeconds))
        let end = midnight + 86400 - Int64(offset(atLocal: midnight + 86400, fallback: hours.last!.utcOffsetSeconds))
        let byStart = Dictionary(uniqueKeysWithValues: hours.map { ($0.utcStart, $0) })
        var instants = Set(hours.map(\.utcStart))
        var t = start
        while t < end {
            instants.insert(t)
            t += 3600
        }
        var columns: [HeatmapHour] = []
        var carried = hours.first!.utcOffsetSeconds
        for t in instants.sorted() {
            if let hour = byStart[t] {
                carried = hour.utcOffsetSeconds
                columns.append(hour)
            } else {
                let offset = clock?.utcOffset(at: t) ?? carried
                columns.append(HeatmapHour(utcStart: t, utcOffsetSeconds: offset, hourStart: nil, partial: false, rows: [:], zoneOrder: []))
            }
        }
        return columns
    }

    // MARK: Writing

    /// Draws the days of `directory` and writes one SVG per day (mode 0640, atomically).
    /// - Parameters:
    ///   - directory: the output directory with the CSV files.
    ///   - output: a directory to write `heatmap-YYYY-MM-DD.svg` files into (created when
    ///     missing), or a file name ending in `.svg` when one day is drawn; `nil` for the
    ///     current directory. Not the CSV directory by default: `footfall audit` accepts
    ///     only footfall's CSV files there, and retention deletes only those.
    ///   - day: draw only this local day (`YYYY-MM-DD`); `nil` draws every day present.
    ///   - metric: the column the cells are coloured by.
    ///   - clock: the site's time zone, see ``days(in:clock:)``.
    /// - Returns: the paths written.
    public static func render(directory: String, output: String?, day: String?, metric: HeatmapMetric, clock: HourClock? = nil) throws(RenderError) -> [String] {
        var days = try days(in: directory, clock: clock)
        if let day {
            days = days.filter { $0.date == day }
            guard !days.isEmpty else { throw RenderError(code: .noInput, message: "\(directory): no hour files for \(day)") }
        }
        guard !days.isEmpty else { throw RenderError(code: .noInput, message: "\(directory): no heatmap files (heatmap-YYYY-MM-DDTHH.csv)") }
        let target = output ?? "."
        let files = AtomicFileWriter()
        var written: [String] = []
        if target.hasSuffix(".svg") {
            guard days.count == 1 else {
                throw RenderError(code: .usage, message: "\(directory) has \(days.count) days; give --day or an output directory instead of a file name")
            }
            let path = FilePath(target)
            let parent = path.removingLastComponent()
            let dir = parent.isEmpty ? FilePath(".") : parent
            guard let name = path.lastComponent?.string else { throw RenderError(code: .usage, message: "\(target): not a file name") }
            try write(svg(days[0], metric: metric), to: dir, name: name, files: files)
            written.append(target)
        } else {
            do { try files.ensureDirectory(FilePath(target)) } catch { throw RenderError(code: .cannotCreate, message: error.message) }
            for day in days {
                let name = "heatmap-\(day.date).svg"
                try write(svg(day, metric: metric), to: FilePath(target), name: name, files: files)
                written.append(FilePath(target).appending(name).string)
            }
        }
        return written
    }

    static func write(_ text: String, to directory: FilePath, name: String, files: AtomicFileWriter) throws(RenderError) {
        do {
            try files.write(Array(text.utf8), to: directory, name: name)
        } catch {
            throw RenderError(code: .cannotCreate, message: error.message)
        }
    }
}
