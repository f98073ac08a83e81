import FootfallAggregate
import FootfallCore
import Foundation
import SystemPackage

/// The figures of one published cell as `footfall report` shows it: the value exactly as in
/// the file, or withheld. Nothing in the report is estimated, smoothed or filled in.
public enum ReportValue: Sendable, Equatable {
    case value(Double, text: String)
    case withheld
    /// Not in the files (no file, no row, or an empty dwell statistic).
    case missing

    var number: Double? {
        if case .value(let v, _) = self { return v }
        return nil
    }
}

/// One zone of the report: its id in the files, its name from the configuration and its
/// outline on the floor plan.
public struct ReportZone: Sendable, Equatable {
    public var id: String
    public var name: String
    public var area: [PlanPoint]
    public var isSite: Bool
}

/// A local day of the period.
public struct ReportDay: Sendable {
    public var date: String
    /// `Thu 14 Mar 2024`.
    public var label: String
    /// ISO 8601 week (`2024-W11`).
    public var week: String
    /// The hours read from the hourly files (23, 24 or 25 columns), see ``HeatmapDay``.
    public var heatmap: HeatmapDay
    /// The hour of the day with the most people present on average (ALL row's
    /// `avg_present`), with that value as written; `nil` when no hour has a published value.
    public var busiestHour: (label: String, present: String)?
    /// The largest published `peak_present` of the ALL row.
    public var peakPresent: Int?
    /// Per zone id (and `ALL`): the published hourly visitors summed over the day, and in how
    /// many hours they were withheld.
    public var visitorHours: [String: (sum: Int, withheldHours: Int)]
    /// The day's distinct counts from `daily-<date>.csv`, per zone id; `nil` without that
    /// file (it is written only with daily key rotation).
    public var totals: [String: DayTotals]?

    /// The whole site's totals of the day.
    public var site: DayTotals? { totals?[ZoneHour.siteWide] }
}

/// An ISO week of the period: the sums of its days.
public struct ReportWeek: Sendable {
    public var week: String
    public var days: [String]
    /// Sum over the week's days of the ALL row's hourly visitors.
    public var visitorHours: Int
    public var withheldHours: Int
    public var busiestDay: String?
    /// The days' visitors and passers-by of the whole site added up (a person who came on
    /// two days counts twice), over the days with a published value; `nil` when no day has one.
    public var visitors: Int?
    public var passersby: Int?
    /// Days whose visitors (or passers-by) were withheld or have no day file.
    public var daysWithoutVisitors: Int

    public var captureRate: Double? {
        guard let v = visitors, let p = passersby, v + p > 0 else { return nil }
        return Double(v) / Double(v + p)
    }
}

/// What `footfall report` draws: the days of an output directory within a period, with the
/// zones' names and outlines from the configuration.
///
/// Everything shown comes from footfall's own files, as `footfall audit` checks them (the
/// hourly heatmap and flows CSV files), read by the same strict reader as `footfall render`;
/// the configuration adds only names, outlines, the floor plan and `k`.
public struct PlannerReport: Sendable {
    public var siteName: String
    public var k: Int
    public var zones: [ReportZone]
    public var days: [ReportDay]
    public var weeks: [ReportWeek]
    public var floorPlan: FloorPlan?
    /// Published transitions summed over the period, per ordered pair of zone ids, and the
    /// hours in which each pair was withheld.
    public var flows: [(from: String, to: String, published: Int, withheldHours: Int)]
    public var hourFiles: Int

    /// Column indices of `heatmap-*.csv` (``HeatmapCSV/heatmapHeader``).
    enum Column {
        static let devices = 2, visitors = 3, visits = 4, averagePresent = 5, peakPresent = 6
        static let medianDwell = 7, p90Dwell = 8, passersby = 9
        static let names = HeatmapCSV.heatmapHeader.split(separator: ",").map(String.init)
        static let suppressed = names.firstIndex(of: "suppressed")!
        static let listened = names.firstIndex(of: "listened_s")!
    }

    /// Reads `directory` and keeps the days from `from` to `to` (local dates, inclusive).
    /// - Throws: ``RenderError`` when the directory cannot be read, a file is malformed, or
    ///   no day of the period has a file.
    public static func read(directory: String, settings: Settings, from: String? = nil, to: String? = nil) throws(RenderError) -> PlannerReport {
        let clock: HourClock? = settings.site.clock
        var days = try HeatmapPicture.days(in: directory, clock: clock)
        if let from { days = days.filter { $0.date >= from } }
        if let to { days = days.filter { $0.date <= to } }
        let fileCount = days.reduce(0) { $0 + $1.hours.filter(\.hasFile).count }
        guard !days.isEmpty else {
            let period = from == nil && to == nil ? "" : " from \(from ?? "the start") to \(to ?? "the end")"
            throw RenderError(code: .noInput, message: "\(directory): no hourly heatmap files\(period) (heatmap-YYYY-MM-DDTHH.csv)")
        }
        // Zones in configuration order with their names; ids found only in the files keep the
        // label the picture reader gives them (never arbitrary text).
        var zones = settings.zones.map { ReportZone(id: $0.id, name: $0.name, area: $0.area, isSite: false) }
        for day in days {
            for (i, key) in day.zoneKeys.enumerated() where key != ZoneHour.siteWide && !zones.contains(where: { $0.id == key }) {
                zones.append(ReportZone(id: key, name: day.zones[i].text, area: [], isSite: false))
            }
        }
        zones.append(ReportZone(id: ZoneHour.siteWide, name: "Whole site", area: [], isSite: true))

        var reportDays = days.map { reportDay($0) }
        for i in reportDays.indices { reportDays[i].totals = try readDaily(directory: directory, date: reportDays[i].date) }
        var weeks: [ReportWeek] = []
        for day in reportDays {
            let all = day.visitorHours[ZoneHour.siteWide] ?? (0, 0)
            if let i = weeks.firstIndex(where: { $0.week == day.week }) {
                weeks[i].days.append(day.date)
                weeks[i].visitorHours += all.sum
                weeks[i].withheldHours += all.withheldHours
            } else {
                weeks.append(ReportWeek(week: day.week, days: [day.date], visitorHours: all.sum, withheldHours: all.withheldHours, busiestDay: nil,
                                        visitors: nil, passersby: nil, daysWithoutVisitors: 0))
            }
            let w = weeks.firstIndex { $0.week == day.week }!
            if let v = day.site?.visitors.number, let p = day.site?.passersby.number {
                weeks[w].visitors = (weeks[w].visitors ?? 0) + Int(v)
                weeks[w].passersby = (weeks[w].passersby ?? 0) + Int(p)
            } else {
                weeks[w].daysWithoutVisitors += 1
            }
        }
        for i in weeks.indices {
            let inWeek = reportDays.filter { $0.week == weeks[i].week }
            weeks[i].busiestDay = inWeek.max { $0.busyness < $1.busyness }?.label
        }

        var flows: [(from: String, to: String, published: Int, withheldHours: Int)] = []
        for day in days {
            for f in day.flows {
                guard let fromID = day.zoneKey(of: f.from), let toID = day.zoneKey(of: f.to) else { continue }
                if let i = flows.firstIndex(where: { $0.from == fromID && $0.to == toID }) {
                    flows[i].published += f.published
                    flows[i].withheldHours += f.withheldHours
                } else {
                    flows.append((fromID, toID, f.published, f.withheldHours))
                }
            }
        }
        return PlannerReport(siteName: settings.site.name, k: settings.privacy.k, zones: zones, days: reportDays, weeks: weeks,
                             floorPlan: settings.site.floorPlan, flows: flows, hourFiles: fileCount)
    }

    static func reportDay(_ day: HeatmapDay) -> ReportDay {
        var busiest: (label: String, present: String, value: Double)?
        var peak: Int?
        var sums: [String: (sum: Int, withheldHours: Int)] = [:]
        for (h, hour) in day.hours.enumerated() where hour.hasFile {
            for (z, key) in day.zoneKeys.enumerated() {
                switch value(day, zone: z, hour: h, column: Column.visitors) {
                case .value(let v, _): sums[key, default: (0, 0)].sum += Int(v)
                case .withheld: sums[key, default: (0, 0)].withheldHours += 1
                case .missing: break
                }
                guard key == ZoneHour.siteWide else { continue }
                if case .value(let v, let text) = value(day, zone: z, hour: h, column: Column.averagePresent), v > (busiest?.value ?? 0) {
                    busiest = (hour.label, text, v)
                }
                if case .value(let v, _) = value(day, zone: z, hour: h, column: Column.peakPresent) { peak = max(peak ?? 0, Int(v)) }
            }
        }
        return ReportDay(date: day.date, label: dayLabel(day.date), week: isoWeek(day.date), heatmap: day,
                         busiestHour: busiest.map { ($0.label, $0.present) }, peakPresent: peak, visitorHours: sums, totals: nil)
    }

    /// The value of a column of a zone's row in an hour of a day, as written.
    static func value(_ day: HeatmapDay, zone: Int, hour: Int, column: Int) -> ReportValue {
        guard let fields = day.hours[hour].rows[day.zoneKeys[zone]] else { return .missing }
        if fields[Column.suppressed].split(separator: ";").contains(Substring(Column.names[column])) { return .withheld }
        guard !fields[column].isEmpty, let v = Double(fields[column]) else { return .missing }
        return .value(v, text: fields[column])
    }

    /// `listened_s` of an hour (the same on every row), when its file has it.
    static func listenedSeconds(_ day: HeatmapDay, hour: Int) -> Int? {
        for fields in day.hours[hour].rows.values { return Int(fields[Column.listened]) }
        return nil
    }

    /// The value of a column for a zone id in an hour of a day.
    public static func value(_ day: HeatmapDay, zoneID: String, hour: Int, column: String) -> ReportValue {
        guard let z = day.zoneKeys.firstIndex(of: zoneID), let c = Column.names.firstIndex(of: column) else { return .missing }
        return value(day, zone: z, hour: hour, column: c)
    }

    static let weekdayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func civil(_ date: String) -> (year: Int, month: Int, day: Int) {
        let p = date.split(separator: "-").compactMap { Int($0) }
        return (p[0], p[1], p[2])
    }

    /// ISO weekday, 1 = Monday.
    static func weekday(_ date: String) -> Int {
        let c = civil(date)
        let days = LocalTime.days(fromCivil: c.year, month: c.month, day: c.day)
        // 1970-01-01 was a Thursday (4).
        return Int(((days % 7) + 7 + 3) % 7) + 1
    }

    /// `Thu 14 Mar 2024`.
    static func dayLabel(_ date: String) -> String {
        let c = civil(date)
        return "\(weekdayNames[weekday(date) - 1]) \(c.day) \(monthNames[c.month - 1]) \(c.year)"
    }

    /// ISO 8601 week of a date (`2024-W11`): the week of its Thursday, in that Thursday's year.
    static func isoWeek(_ date: String) -> String {
        let c = civil(date)
        let days = LocalTime.days(fromCivil: c.year, month: c.month, day: c.day)
        let thursday = days + Int64(4 - weekday(date))
        let t = LocalTime(utcSeconds: thursday * 86400, utcOffsetSeconds: 0)
        let ordinal = Int(thursday - LocalTime.days(fromCivil: t.year, month: 1, day: 1)) + 1
        let week = (ordinal - 1) / 7 + 1
        return "\(t.year)-W\(week < 10 ? "0" : "")\(week)"
    }

    // MARK: Writing

    /// Writes the report as one self-contained HTML file (mode 0640, atomically).
    /// - Returns: the number of bytes written.
    @discardableResult
    public func write(to path: String) throws(RenderError) -> Int {
        let html = self.html()
        let file = FilePath(path)
        let parent = file.removingLastComponent()
        guard let name = file.lastComponent?.string else { throw RenderError(code: .usage, message: "\(path): not a file name") }
        let bytes = Array(html.utf8)
        do {
            try AtomicFileWriter().write(bytes, to: parent.isEmpty ? FilePath(".") : parent, name: name)
        } catch {
            throw RenderError(code: .cannotCreate, message: error.message)
        }
        return bytes.count
    }
}

extension ReportDay {
    /// What "busiest" compares: the day's visitors when published, else its visitor-hours.
    var busyness: (Int, Int) {
        (site?.visitors.number.map { Int($0) } ?? -1, visitorHours[ZoneHour.siteWide]?.sum ?? 0)
    }
}

extension HeatmapDay {
    /// The zone id a label of this day stands for.
    func zoneKey(of label: ZoneLabel) -> String? {
        guard let i = zones.firstIndex(of: label) else { return nil }
        return zoneKeys[i]
    }
}
