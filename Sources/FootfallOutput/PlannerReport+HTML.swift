import FootfallAggregate
import FootfallCore
import Foundation

/// The HTML of the report: one file with inline CSS and SVG, no script and no reference to
/// anything outside it (the floor plan is embedded as a `data:` image), so it can be mailed,
/// opened offline and printed on A4 landscape. Hover details are SVG `<title>`s.
extension PlannerReport {
    static func h(_ text: String) -> String { HeatmapPicture.xml(text) }

    static let css = """
    @page { size: A4 landscape; margin: 10mm; }
    * { box-sizing: border-box; }
    body { font-family: "DejaVu Sans", Verdana, Arial, Helvetica, sans-serif; color: #1a1a1a; margin: 0 auto; padding: 18px 24px; max-width: 1180px; background: #fff; font-size: 13px; }
    h1 { font-size: 22px; margin: 0 0 4px; }
    h2 { font-size: 16px; margin: 22px 0 8px; border-bottom: 2px solid #31688e; padding-bottom: 3px; }
    p.sub { color: #555; margin: 0 0 10px; }
    table { border-collapse: collapse; margin: 4px 0 6px; }
    th, td { padding: 4px 9px; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; font-size: 12.5px; }
    th { background: #eef2f5; font-weight: bold; }
    th:first-child, td:first-child { text-align: left; }
    td.up { color: #1b6e3a; } td.down { color: #a23a12; }
    .note { color: #555; font-size: 11.5px; margin: 2px 0 8px; }
    .withheld { color: #555; font-style: italic; }
    .cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0 4px; }
    .card { border: 1px solid #cfd8df; border-radius: 6px; padding: 8px 12px; flex: 1 1 0; min-width: 120px; }
    .card .v { font-size: 20px; font-weight: bold; white-space: nowrap; }
    .card .l { color: #555; font-size: 11.5px; }
    .plan { display: flex; gap: 18px; align-items: flex-start; flex-wrap: wrap; }
    .plan svg.floor { flex: 0 0 auto; max-width: 100%; height: auto; }
    .plan-legend { flex: 1 1 280px; min-width: 260px; }
    .zonegrid { margin: 6px 0 14px; break-inside: avoid; }
    section { break-inside: avoid-page; }
    svg text { font-family: "DejaVu Sans", Verdana, Arial, Helvetica, sans-serif; }
    @media print { body { padding: 0; max-width: none; } h2 { break-after: avoid; } }
    """

    /// The whole document.
    public func html() -> String {
        let first = days.first!, last = days.last!
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>Footfall report: \(Self.h(siteName)), \(first.date) to \(last.date)</title>\n"
        out += "<style>\n\(Self.css)\n</style>\n</head>\n<body>\n"
        out += "<h1>Footfall: \(Self.h(siteName))</h1>\n"
        out += "<p class=\"sub\">\(Self.h(first.label)) to \(Self.h(last.label)) · \(days.count) day\(days.count == 1 ? "" : "s") with data · \(hourFiles) hourly files · counts below k = \(k) are withheld (hatched, “&lt; k”)</p>\n"
        out += cardsHTML()
        out += weeksHTML()
        out += daysHTML()
        out += planHTML()
        out += dwellHTML()
        out += gridsHTML()
        out += "<p class=\"note\">Every number is as written in footfall's files (heatmap-*.csv, flows-*.csv, daily-*.csv), which footfall audit checks; sums add up published values only. "
        out += "A visitor stayed at least the minimum dwell; a passer-by was heard but did not stay or was too far away. People whose phones do not send probe requests are not counted.</p>\n"
        out += "</body>\n</html>\n"
        return out
    }

    // MARK: Headline

    /// A published count, "< k" when withheld, "–" when not in the files.
    static func cell(_ v: ReportValue?) -> String {
        switch v {
        case .value(_, let text)?: return h(text)
        case .withheld?: return "<span class=\"withheld\">&lt; k</span>"
        case .missing?, nil: return "–"
        }
    }

    static func percent(_ rate: Double?) -> String {
        rate.map { "\(Int(($0 * 100).rounded())) %" } ?? "–"
    }

    /// Dwell in minutes, from the file's seconds.
    static func minutes(_ v: ReportValue?) -> String {
        switch v {
        case .value(let s, _)?: return "\(fmt(s / 60)) min"
        case .withheld?: return "<span class=\"withheld\">&lt; k</span>"
        case .missing?, nil: return "–"
        }
    }

    func cardsHTML() -> String {
        let visitors = weeks.compactMap(\.visitors).reduce(0, +)
        let passersby = weeks.compactMap(\.passersby).reduce(0, +)
        let haveTotals = weeks.contains { $0.visitors != nil }
        let busiest = days.max { $0.busyness < $1.busyness }
        let peak = days.compactMap(\.peakPresent).max()
        var out = "<div class=\"cards\">\n"
        func card(_ value: String, _ label: String, id: String) {
            out += "<div class=\"card\" id=\"\(id)\"><div class=\"v\">\(value)</div><div class=\"l\">\(label)</div></div>\n"
        }
        if haveTotals {
            card("\(visitors)", "visitors (each day's, added up)", id: "card-visitors")
            card("\(passersby)", "passers-by (each day's, added up)", id: "card-passersby")
            card(Self.percent(visitors + passersby > 0 ? Double(visitors) / Double(visitors + passersby) : nil), "capture rate (visitors ÷ all heard)", id: "card-capture")
        } else {
            let visitorHours = days.reduce(0) { $0 + ($1.visitorHours[ZoneHour.siteWide]?.sum ?? 0) }
            card("\(visitorHours)", "visitor-hours (a visitor counts in each hour present)", id: "card-visitor-hours")
        }
        card(peak.map(String.init) ?? "–", "most people present at once", id: "card-peak")
        card(Self.h(busiest?.label ?? "–"), "busiest day", id: "card-busiest-day")
        out += "</div>\n"
        return out
    }

    func weeksHTML() -> String {
        var out = "<section><h2>Weeks</h2>\n<table class=\"weeks\">\n<tr><th>Week</th><th>Days with data</th><th>Visitors</th><th>Passers-by</th><th>Capture rate</th><th>Visitors vs the week before</th><th>Visitor-hours</th><th>Busiest day</th></tr>\n"
        for (i, week) in weeks.enumerated() {
            var change = "<td class=\"withheld\">no data the week before</td>"
            if i > 0, Self.weekAfter(weeks[i - 1].week) == week.week {
                // Visitors when both weeks have them, else visitor-hours.
                let (now, before, what) = week.visitors != nil && weeks[i - 1].visitors != nil
                    ? (week.visitors!, weeks[i - 1].visitors!, "") : (week.visitorHours, weeks[i - 1].visitorHours, " visitor-hours")
                if before > 0 {
                    let pct = (Double(now - before) / Double(before) * 100).rounded()
                    let sign = pct > 0 ? "+" : (pct < 0 ? "−" : "±")
                    change = "<td class=\"\(pct >= 0 ? "up" : "down")\">\(sign)\(Int(abs(pct))) % (\(now - before >= 0 ? "+" : "−")\(abs(now - before))\(what))</td>"
                } else {
                    change = "<td>from 0</td>"
                }
            }
            let missing = week.daysWithoutVisitors > 0 && week.visitors != nil ? " <span class=\"withheld\">(\(week.daysWithoutVisitors) day\(week.daysWithoutVisitors == 1 ? "" : "s") without)</span>" : ""
            let withheld = week.withheldHours > 0 ? " <span class=\"withheld\">(+ \(week.withheldHours) h &lt; k)</span>" : ""
            out += "<tr class=\"week\" data-week=\"\(week.week)\"><td>\(week.week)</td><td>\(week.days.count)</td><td>\(week.visitors.map(String.init) ?? "–")\(missing)</td><td>\(week.passersby.map(String.init) ?? "–")</td>"
            out += "<td>\(Self.percent(week.captureRate))</td>\(change)<td>\(week.visitorHours)\(withheld)</td><td>\(Self.h(week.busiestDay ?? "–"))</td></tr>\n"
        }
        out += "</table>\n<p class=\"note\">Weeks are ISO weeks (Monday to Sunday). Visitors and passers-by of a week are its days' added up (someone who came on two days counts twice); a week compares with the week just before it when that week has data.</p></section>\n"
        return out
    }

    /// The ISO week after `2024-W10` (weeks 52/53 roll over by the calendar).
    static func weekAfter(_ week: String) -> String {
        // The Thursday of the week, plus seven days.
        let parts = week.split(separator: "-W")
        guard parts.count == 2, let year = Int(parts[0]), let w = Int(parts[1]) else { return "" }
        let jan4 = LocalTime.days(fromCivil: year, month: 1, day: 4)
        let jan4Weekday = Int(((jan4 % 7) + 7 + 3) % 7) + 1
        let thursday = jan4 - Int64(jan4Weekday - 1) + 3 + Int64((w - 1) * 7) + 7
        let t = LocalTime(utcSeconds: thursday * 86400, utcOffsetSeconds: 0)
        return isoWeek("\(t.year)-\(t.month < 10 ? "0" : "")\(t.month)-\(t.day < 10 ? "0" : "")\(t.day)")
    }

    func daysHTML() -> String {
        var out = "<section><h2>Days</h2>\n<table class=\"days\">\n<tr><th>Day</th><th>Visitors</th><th>Passers-by</th><th>Capture rate</th><th>Median dwell</th><th>Busiest hour</th><th>Present then (mean)</th><th>Most at once</th><th>Visitor-hours</th></tr>\n"
        for day in days {
            let all = day.visitorHours[ZoneHour.siteWide] ?? (0, 0)
            let withheld = all.withheldHours > 0 ? " <span class=\"withheld\">(+ \(all.withheldHours) h &lt; k)</span>" : ""
            let hoursWithData = day.heatmap.hours.filter(\.hasFile).count
            let partial = day.heatmap.hours.contains(where: \.partial) ? ", the last one partial" : ""
            let site = day.site
            let part = site?.partial == true ? " <span class=\"withheld\">(heard in part)</span>" : ""
            out += "<tr class=\"day\" data-date=\"\(day.date)\" title=\"\(hoursWithData) hours with data\(partial)\"><td>\(Self.h(day.label))\(part)</td>"
            out += "<td class=\"visitors\">\(Self.cell(site?.visitors))</td><td class=\"passersby\">\(Self.cell(site?.passersby))</td>"
            out += "<td class=\"capture\">\(Self.percent(site?.captureRate))</td><td class=\"dwell\">\(Self.minutes(site?.medianDwellSeconds))</td>"
            out += "<td>\(Self.h(day.busiestHour?.label ?? "–"))</td><td class=\"present\">\(Self.h(day.busiestHour?.present ?? "–"))</td>"
            out += "<td>\(day.peakPresent.map(String.init) ?? "–")</td><td class=\"visitor-hours\">\(all.sum)\(withheld)</td></tr>\n"
        }
        out += "</table>\n<p class=\"note\">Visitors, passers-by and median dwell of a day are footfall's day totals (daily-*.csv: each person once per day"
        out += days.contains { $0.totals == nil } ? "; “–” where there is no day file, which is written only when the key rotates daily" : ""
        out += days.contains { $0.site?.partial == true } ? "; “heard in part”: footfall started, stopped or was restarted during the day, so its totals cover only part of it" : ""
        out += "). Capture rate: visitors ÷ (visitors + passers-by). Busiest hour: the hour with the most people present on average. Visitor-hours: the hourly visitors added up over the day.</p></section>\n"
        return out
    }
}
