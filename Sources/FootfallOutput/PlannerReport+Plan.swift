import FootfallAggregate
import FootfallCore
import Foundation

/// The floor plan (or, without one, a schematic of the zones) and the day × hour grids.
extension PlannerReport {
    /// Visitor-hours of a zone over the period, and the hours withheld.
    func periodVisitorHours(_ zoneID: String) -> (sum: Int, withheldHours: Int) {
        days.reduce((0, 0)) { acc, day in
            let v = day.visitorHours[zoneID] ?? (0, 0)
            return (acc.0 + v.sum, acc.1 + v.withheldHours)
        }
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// The plan section: zones coloured by their visitor-hours over the period, published
    /// zone-to-zone transitions as arrows whose width grows with their number. Withheld
    /// flows are not drawn.
    func planHTML() -> String {
        let zonesOnly = zones.filter { !$0.isSite }
        let values = Dictionary(uniqueKeysWithValues: zonesOnly.map { ($0.id, periodVisitorHours($0.id)) })
        let top = HeatmapPicture.scale(maximum: Double(values.values.map(\.sum).max() ?? 0), integral: true).top
        let drawn = flows.filter { $0.published > 0 && $0.from != $0.to }
        let widest = Double(drawn.map(\.published).max() ?? 1)

        var out = "<section><h2>Floor plan: visitor-hours per zone and movements between zones</h2>\n<div class=\"plan\">\n"
        // Where each zone is drawn, and the size of the drawing.
        var shapes: [String: [PlanPoint]] = [:]
        var view: PlanRect
        var background = ""
        if let plan = floorPlan, let bounds = plan.bounds, let data = FileManager.default.contents(atPath: plan.path) {
            view = bounds
            let type = plan.path.lowercased().hasSuffix(".png") ? "image/png" : "image/svg+xml"
            // An SVG shown through <image> is static: it can run no script and fetch nothing.
            background = "<image class=\"floor-plan\" href=\"data:\(type);base64,\(data.base64EncodedString())\" x=\"\(bounds.x)\" y=\"\(bounds.y)\" width=\"\(bounds.width)\" height=\"\(bounds.height)\" preserveAspectRatio=\"none\"/>\n"
            for zone in zonesOnly where !zone.area.isEmpty { shapes[zone.id] = zone.area }
        } else {
            // A schematic: one box per zone, four to a row.
            let perRow = min(4, max(1, zonesOnly.count))
            let rows = (zonesOnly.count + perRow - 1) / perRow
            view = PlanRect(x: 0, y: 0, width: Double(perRow) * 220 + 20, height: Double(rows) * 150 + 20)
            for (i, zone) in zonesOnly.enumerated() {
                let x = 20 + Double(i % perRow) * 220, y = 20 + Double(i / perRow) * 150
                shapes[zone.id] = [PlanPoint(x: x, y: y), PlanPoint(x: x + 200, y: y), PlanPoint(x: x + 200, y: y + 130), PlanPoint(x: x, y: y + 130)]
            }
        }
        let unit = max(view.width, view.height) / 60  // text and arrow sizes follow the drawing's scale
        var svg = "<svg class=\"floor\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"\(view.x) \(view.y) \(view.width) \(view.height)\" width=\"640\" height=\"\(Self.fmt(640 * view.height / view.width))\" role=\"img\">\n"
        svg += "<title>\(floorPlan == nil ? "Schematic of the zones" : "Floor plan") coloured by visitor-hours over the period</title>\n"
        svg += "<defs><pattern id=\"plan-withheld\" width=\"\(Self.fmt(unit / 2))\" height=\"\(Self.fmt(unit / 2))\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"\(Self.fmt(unit / 2))\" height=\"\(Self.fmt(unit / 2))\" fill=\"#e4e4e4\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"\(Self.fmt(unit / 2))\" stroke=\"#b0b0b0\" stroke-width=\"\(Self.fmt(unit / 5))\"/></pattern></defs>\n"
        svg += "<rect x=\"\(view.x)\" y=\"\(view.y)\" width=\"\(view.width)\" height=\"\(view.height)\" fill=\"#ffffff\"/>\n"
        svg += background
        var centres: [String: PlanPoint] = [:]
        for zone in zonesOnly {
            guard let shape = shapes[zone.id] else { continue }
            let v = values[zone.id] ?? (0, 0)
            var (fill, dark) = HeatmapPicture.colour(Double(v.sum) / top)
            if v.sum == 0 && v.withheldHours > 0 { (fill, dark) = ("url(#plan-withheld)", true) }
            let points = shape.map { "\(Self.fmt($0.x)),\(Self.fmt($0.y))" }.joined(separator: " ")
            let withheld = v.withheldHours > 0 ? ", withheld in \(v.withheldHours) hours" : ""
            svg += "<g class=\"zone\" data-zone=\"\(Self.h(zone.id))\"><title>\(Self.h(zone.name)): \(v.sum) visitor-hours\(withheld)</title>"
            svg += "<polygon points=\"\(points)\" fill=\"\(fill)\" fill-opacity=\"\(floorPlan == nil ? "1" : "0.62")\" stroke=\"#1a1a1a\" stroke-width=\"\(Self.fmt(unit / 8))\" stroke-linejoin=\"round\"/></g>\n"
            let c = Self.centroid(shape)
            centres[zone.id] = c
            let textColour = floorPlan == nil ? (dark ? "#1a1a1a" : "#ffffff") : "#1a1a1a"
            let halo = floorPlan == nil ? "" : " paint-order=\"stroke\" stroke=\"#ffffff\" stroke-width=\"\(Self.fmt(unit / 4))\""
            svg += "<text x=\"\(Self.fmt(c.x))\" y=\"\(Self.fmt(c.y - unit * 0.4))\" font-size=\"\(Self.fmt(unit * 1.25))\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"\(textColour)\"\(halo)>\(Self.h(zone.name))</text>"
            svg += "<text x=\"\(Self.fmt(c.x))\" y=\"\(Self.fmt(c.y + unit * 1.1))\" font-size=\"\(Self.fmt(unit * 1.05))\" text-anchor=\"middle\" fill=\"\(textColour)\"\(halo)>\(v.sum) visitor-hours\(v.withheldHours > 0 ? " (+ \(v.withheldHours) h &lt; k)" : "")</text>\n"
        }
        // Arrows, offset to the right of their direction so that A→B and B→A do not overlap.
        for flow in drawn {
            guard let a = centres[flow.from], let b = centres[flow.to] else { continue }
            let dx = b.x - a.x, dy = b.y - a.y
            let length = (dx * dx + dy * dy).squareRoot()
            guard length > unit * 4 else { continue }
            let ux = dx / length, uy = dy / length
            let nx = -uy, ny = ux
            let offset = unit * 0.9
            let width = unit * (0.25 + 1.1 * Double(flow.published) / widest)
            let head = max(width * 2.2, unit * 0.9)
            let start = PlanPoint(x: a.x + ux * length * 0.22 + nx * offset, y: a.y + uy * length * 0.22 + ny * offset)
            let tip = PlanPoint(x: b.x - ux * length * 0.22 + nx * offset, y: b.y - uy * length * 0.22 + ny * offset)
            let base = PlanPoint(x: tip.x - ux * head, y: tip.y - uy * head)
            let fromName = zones.first { $0.id == flow.from }?.name ?? flow.from
            let toName = zones.first { $0.id == flow.to }?.name ?? flow.to
            let partly = flow.withheldHours > 0 ? " (at least; withheld in \(flow.withheldHours) hours)" : ""
            svg += "<g class=\"flow\" data-from=\"\(Self.h(flow.from))\" data-to=\"\(Self.h(flow.to))\"><title>\(Self.h(fromName)) → \(Self.h(toName)): \(flow.published) transitions\(partly)</title>"
            svg += "<line x1=\"\(Self.fmt(start.x))\" y1=\"\(Self.fmt(start.y))\" x2=\"\(Self.fmt(base.x))\" y2=\"\(Self.fmt(base.y))\" stroke=\"#c0392b\" stroke-width=\"\(Self.fmt(width))\" stroke-linecap=\"round\" opacity=\"0.85\"/>"
            let l = PlanPoint(x: base.x + nx * head * 0.6, y: base.y + ny * head * 0.6), r = PlanPoint(x: base.x - nx * head * 0.6, y: base.y - ny * head * 0.6)
            svg += "<polygon points=\"\(Self.fmt(tip.x)),\(Self.fmt(tip.y)) \(Self.fmt(l.x)),\(Self.fmt(l.y)) \(Self.fmt(r.x)),\(Self.fmt(r.y))\" fill=\"#c0392b\" opacity=\"0.85\"/></g>\n"
        }
        svg += "</svg>\n"
        out += svg

        // The side panel: the colour scale, the zones and the flows as numbers.
        out += "<div class=\"plan-legend\">\n"
        out += Self.scaleSVG(top: top, label: "visitor-hours per zone")
        out += "<table class=\"zones\"><tr><th>Zone</th><th>Visitor-hours</th></tr>\n"
        for zone in zonesOnly {
            let v = values[zone.id] ?? (0, 0)
            let withheld = v.withheldHours > 0 ? " <span class=\"withheld\">(+ \(v.withheldHours) h &lt; k)</span>" : ""
            let off = floorPlan != nil && zone.area.isEmpty ? " <span class=\"withheld\">(not on the plan)</span>" : ""
            out += "<tr><td>\(Self.h(zone.name))\(off)</td><td>\(v.sum)\(withheld)</td></tr>\n"
        }
        out += "</table>\n"
        if flows.isEmpty {
            out += "<p class=\"note\">No movements between zones were published in the period\(zonesOnly.count < 2 ? " (the site has one zone)" : "").</p>\n"
        } else {
            out += "<table class=\"flows\"><tr><th>From</th><th>To</th><th>Transitions</th></tr>\n"
            for flow in flows {
                let fromName = zones.first { $0.id == flow.from }?.name ?? flow.from
                let toName = zones.first { $0.id == flow.to }?.name ?? flow.to
                let value = flow.published == 0 ? "<span class=\"withheld\">&lt; k</span>" : (flow.withheldHours > 0 ? "≥ \(flow.published)" : "\(flow.published)")
                out += "<tr><td>\(Self.h(fromName))</td><td>\(Self.h(toName))</td><td>\(value)</td></tr>\n"
            }
            out += "</table>\n<p class=\"note\">Arrows: published transitions summed over the period, wider for more; flows withheld in every hour are not drawn.</p>\n"
        }
        out += "</div>\n</div></section>\n"
        return out
    }

    /// The centroid of a polygon (the area-weighted centre; the mean of the corners for a
    /// degenerate one).
    static func centroid(_ p: [PlanPoint]) -> PlanPoint {
        var a = 0.0, cx = 0.0, cy = 0.0
        for i in p.indices {
            let j = (i + 1) % p.count
            let cross = p[i].x * p[j].y - p[j].x * p[i].y
            a += cross
            cx += (p[i].x + p[j].x) * cross
            cy += (p[i].y + p[j].y) * cross
        }
        guard abs(a) > 1e-9 else {
            return PlanPoint(x: p.map(\.x).reduce(0, +) / Double(p.count), y: p.map(\.y).reduce(0, +) / Double(p.count))
        }
        return PlanPoint(x: cx / (3 * a), y: cy / (3 * a))
    }

    /// A horizontal colour bar from 0 to `top`, with round ticks.
    static func scaleSVG(top: Double, label: String) -> String {
        let scale = HeatmapPicture.scale(maximum: top, integral: true)
        var s = "<svg class=\"scale\" xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" height=\"58\" viewBox=\"0 0 300 58\">\n"
        s += "<text x=\"0\" y=\"12\" font-size=\"12\" fill=\"#1a1a1a\">\(h(label))</text>\n"
        let steps = 24
        for i in 0 ..< steps {
            let t0 = Double(i) / Double(steps)
            s += "<rect x=\"\(fmt(8 + t0 * 280))\" y=\"18\" width=\"\(fmt(280 / Double(steps) + 0.5))\" height=\"14\" fill=\"\(HeatmapPicture.colour(t0 + 0.5 / Double(steps)).fill)\"/>"
        }
        s += "\n"
        let ticks = Int((scale.top / scale.step).rounded())
        for i in 0 ... ticks {
            let value = Double(i) * scale.step
            let x = 8 + 280 * value / scale.top
            let anchor = i == 0 ? "start" : (i == ticks ? "end" : "middle")
            s += "<line x1=\"\(fmt(x))\" y1=\"32\" x2=\"\(fmt(x))\" y2=\"36\" stroke=\"#666\"/><text x=\"\(fmt(x))\" y=\"50\" font-size=\"11\" text-anchor=\"\(anchor)\" fill=\"#444\">\(fmt(value))</text>"
        }
        s += "\n</svg>\n"
        return s
    }

    // MARK: Day × hour grids

    /// One grid per zone (configuration order, then the whole site): a row per day, a column
    /// per local hour, each cell the hour's visitors as written, coloured on the viridis scale;
    /// withheld cells hatched “< k”, partial hours framed with a dashed line.
    func gridsHTML() -> String {
        var out = "<section><h2>Visitors per hour, day by day</h2>\n"
        out += "<p class=\"note\">Each cell: the visitors of that zone in that local hour, as in the hourly file; hover for passers-by, people present and dwell (minutes). "
        out += "Hatched “&lt; k”: withheld because fewer than k = \(k) people; orange corner: footfall listened to only part of the hour (listened_s; it started or stopped in it); dashed frame: the hour was still in progress when footfall stopped (partial); blank: no file for the hour.</p>\n"
        for zone in zones {
            out += gridSVG(zone)
        }
        out += "</section>\n"
        return out
    }

    func gridSVG(_ zone: ReportZone) -> String {
        let cellW = 38.0, cellH = 24.0, left = 112.0, topY = 34.0
        let width = left + 24 * cellW + 10
        let height = topY + Double(days.count) * cellH + 8
        var maximum = 0.0
        for day in days {
            for h in day.heatmap.hours.indices {
                if let v = Self.value(day.heatmap, zoneID: zone.id, hour: h, column: "visitors").number { maximum = max(maximum, v) }
            }
        }
        let top = HeatmapPicture.scale(maximum: maximum, integral: true).top
        var s = "<div class=\"zonegrid\" data-zone=\"\(Self.h(zone.id))\">\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.fmt(width))\" height=\"\(Self.fmt(height))\" viewBox=\"0 0 \(Self.fmt(width)) \(Self.fmt(height))\" role=\"img\">\n"
        s += "<title>\(Self.h(zone.name)): visitors per hour</title>\n"
        s += "<defs><pattern id=\"hatch-\(Self.h(zone.id))\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#e4e4e4\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#b0b0b0\" stroke-width=\"2.5\"/></pattern></defs>\n"
        s += "<text x=\"0\" y=\"14\" font-size=\"14\" font-weight=\"bold\" fill=\"#1a1a1a\">\(Self.h(zone.name))\(zone.isSite ? "" : " <tspan font-weight=\"normal\" fill=\"#666\" font-size=\"11\">(\(Self.h(zone.id)))</tspan>")</text>\n"
        s += "<text x=\"\(Self.fmt(width - 10))\" y=\"14\" font-size=\"11\" text-anchor=\"end\" fill=\"#666\">colour: 0 to \(Self.fmt(top)) visitors</text>\n"
        for hour in 0 ..< 24 {
            let x = left + Double(hour) * cellW + cellW / 2
            s += "<text x=\"\(Self.fmt(x))\" y=\"\(Self.fmt(topY - 5))\" font-size=\"10\" text-anchor=\"middle\" fill=\"#555\">\(hour < 10 ? "0" : "")\(hour)</text>"
        }
        s += "\n"
        for (r, day) in days.enumerated() {
            let y = topY + Double(r) * cellH
            s += "<text x=\"\(Self.fmt(left - 8))\" y=\"\(Self.fmt(y + cellH / 2 + 4))\" font-size=\"11\" text-anchor=\"end\" fill=\"#1a1a1a\">\(Self.h(day.label))</text>\n"
            // Columns by local hour; on the night the clocks go back the repeated hour shares
            // its column, each half a cell.
            var byHour: [Int: [Int]] = [:]
            for (h, hour) in day.heatmap.hours.enumerated() {
                byHour[LocalTime(utcSeconds: hour.utcStart, utcOffsetSeconds: hour.utcOffsetSeconds).hour, default: []].append(h)
            }
            for (localHour, indices) in byHour.sorted(by: { $0.key < $1.key }) {
                for (n, h) in indices.enumerated() {
                    let hour = day.heatmap.hours[h]
                    let w = cellW / Double(indices.count)
                    let x = left + Double(localHour) * cellW + Double(n) * w
                    let rect = "x=\"\(Self.fmt(x + 1))\" y=\"\(Self.fmt(y + 1))\" width=\"\(Self.fmt(w - 2))\" height=\"\(Self.fmt(cellH - 2))\" rx=\"2\""
                    guard hour.hasFile, day.heatmap.zoneKeys.contains(zone.id) else {
                        s += "<rect class=\"blank\" \(rect) fill=\"none\" stroke=\"#eeeeee\"/>\n"
                        continue
                    }
                    let title = Self.h(cellTitle(day: day, hour: h, zone: zone))
                    let dash = hour.partial ? " stroke=\"#1a1a1a\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"" : ""
                    let cx = Self.fmt(x + w / 2), cy = Self.fmt(y + cellH / 2 + 4)
                    // Part-heard (listened_s below the hour): a corner mark, so a short hour
                    // is not read as a quiet one.
                    let notch = Self.listenedSeconds(day.heatmap, hour: h).map { $0 < 3600 } == true
                        ? "<polygon class=\"part-heard\" points=\"\(Self.fmt(x + w - 10)),\(Self.fmt(y + 1)) \(Self.fmt(x + w - 1)),\(Self.fmt(y + 1)) \(Self.fmt(x + w - 1)),\(Self.fmt(y + 10))\" fill=\"#e8590c\"/>" : ""
                    switch Self.value(day.heatmap, zoneID: zone.id, hour: h, column: "visitors") {
                    case .value(let v, let text):
                        let (fill, dark) = HeatmapPicture.colour(v / top)
                        s += "<g class=\"cell\" data-date=\"\(day.date)\" data-hour=\"\(localHour)\"><title>\(title)</title><rect \(rect) fill=\"\(fill)\"\(dash)/>"
                        s += "<text x=\"\(cx)\" y=\"\(cy)\" font-size=\"11\" text-anchor=\"middle\" fill=\"\(dark ? "#1a1a1a" : "#ffffff")\">\(Self.h(text))</text>\(notch)</g>\n"
                    case .withheld:
                        s += "<g class=\"cell withheld\" data-date=\"\(day.date)\" data-hour=\"\(localHour)\"><title>\(title)</title><rect \(rect) fill=\"url(#hatch-\(Self.h(zone.id)))\" stroke=\"#9a9a9a\"/>"
                        s += "<text x=\"\(cx)\" y=\"\(cy)\" font-size=\"9.5\" text-anchor=\"middle\" fill=\"#333\">&lt; k</text>\(notch)</g>\n"
                        if hour.partial { s += "<rect \(rect) fill=\"none\"\(dash)/>\n" }
                    case .missing:
                        s += "<rect class=\"blank\" \(rect) fill=\"none\" stroke=\"#eeeeee\"/>\n"
                    }
                }
            }
        }
        s += "</svg>\n</div>\n"
        return s
    }

    /// The hover text of a cell: every figure of the hour's row, dwell in minutes.
    func cellTitle(day: ReportDay, hour h: Int, zone: ReportZone) -> String {
        let hour = day.heatmap.hours[h]
        func v(_ column: String, _ unit: String, minutes: Bool = false) -> String {
            switch Self.value(day.heatmap, zoneID: zone.id, hour: h, column: column) {
            case .value(let x, let text): return minutes ? "\(unit) \(Self.fmt(x / 60)) min" : "\(text) \(unit)"
            case .withheld: return "< k \(unit)"
            case .missing: return "no \(unit)"
            }
        }
        var parts = [v("visitors", "visitors"), v("passersby", "passers-by"), v("avg_present", "present on average"),
                     v("peak_present", "at most at once"), v("median_dwell_s", "median dwell", minutes: true), v("p90_dwell_s", "dwell (90th percentile)", minutes: true)]
        if case .value(let vis, _) = Self.value(day.heatmap, zoneID: zone.id, hour: h, column: "visitors"),
           case .value(let pass, _) = Self.value(day.heatmap, zoneID: zone.id, hour: h, column: "passersby"), vis + pass > 0 {
            parts.append("capture rate \(Int((vis / (vis + pass) * 100).rounded())) %")
        }
        if let listened = Self.listenedSeconds(day.heatmap, hour: h), listened < 3600 { parts.append("footfall listened \(listened / 60) of 60 minutes") }
        if hour.partial { parts.append("partial hour") }
        return "\(zone.name), \(day.label) \(hour.label): " + parts.joined(separator: ", ")
    }
}

/// How long visitors stayed: the day files' dwell bands per zone, added up over the period.
extension PlannerReport {
    static let bandLabels = ["under 5 min", "5–15 min", "15–30 min", "30–60 min", "60 min or more"]

    /// Per zone: visits per band summed over the days with a day file, and the days on which
    /// a band was withheld.
    func dwellDistribution(_ zoneID: String) -> (counts: [Int], withheldDays: Int, days: Int) {
        var counts = [Int](repeating: 0, count: Self.bandLabels.count)
        var withheld = 0, seen = 0
        for day in days {
            guard let totals = day.totals?[zoneID] else { continue }
            seen += 1
            var any = false
            for (i, v) in totals.dwellBands.enumerated() where i < counts.count {
                switch v {
                case .value(let x, _): counts[i] += Int(x)
                case .withheld: any = true
                case .missing: break
                }
            }
            if any { withheld += 1 }
        }
        return (counts, withheld, seen)
    }

    func dwellHTML() -> String {
        var out = "<section><h2>How long visitors stayed</h2>\n"
        guard days.contains(where: { $0.totals != nil }) else {
            out += "<p class=\"note\">No day files (daily-*.csv) in the period: they are written only when the key rotates daily.</p></section>\n"
            return out
        }
        // Five steps of the same colour scale, light to dark: short to long stays.
        let colours = (0 ..< 5).map { HeatmapPicture.colour(0.95 - Double($0) * 0.2) }
        let barWidth = 560.0, rowHeight = 30.0, left = 150.0
        let rows = zones
        let height = 30 + Double(rows.count) * rowHeight + 8
        var svg = "<svg class=\"dwell\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.fmt(left + barWidth + 230))\" height=\"\(Self.fmt(height))\" role=\"img\">\n"
        svg += "<title>Visits by how long they stayed, per zone, over the period</title>\n"
        for (i, label) in Self.bandLabels.enumerated() {
            let x = left + Double(i) * 112
            svg += "<rect x=\"\(Self.fmt(x))\" y=\"4\" width=\"14\" height=\"12\" fill=\"\(colours[i].fill)\"/><text x=\"\(Self.fmt(x + 19))\" y=\"14\" font-size=\"11\" fill=\"#1a1a1a\">\(Self.h(label))</text>\n"
        }
        for (r, zone) in rows.enumerated() {
            let y = 28 + Double(r) * rowHeight
            let d = dwellDistribution(zone.id)
            let total = d.counts.reduce(0, +)
            svg += "<g class=\"dwell-zone\" data-zone=\"\(Self.h(zone.id))\"><text x=\"\(Self.fmt(left - 8))\" y=\"\(Self.fmt(y + 16))\" font-size=\"12\" text-anchor=\"end\" fill=\"#1a1a1a\"\(zone.isSite ? " font-weight=\"bold\"" : "")>\(Self.h(zone.name))</text>"
            var x = left
            for (i, n) in d.counts.enumerated() where n > 0 && total > 0 {
                let w = barWidth * Double(n) / Double(total)
                let pct = Int((Double(n) / Double(total) * 100).rounded())
                svg += "<g class=\"band\"><title>\(Self.h(zone.name)), \(Self.h(Self.bandLabels[i])): \(n) visits (\(pct) %)</title><rect x=\"\(Self.fmt(x))\" y=\"\(Self.fmt(y + 2))\" width=\"\(Self.fmt(w))\" height=\"\(Self.fmt(rowHeight - 8))\" fill=\"\(colours[i].fill)\"/>"
                if w > 34 { svg += "<text x=\"\(Self.fmt(x + w / 2))\" y=\"\(Self.fmt(y + 17))\" font-size=\"10.5\" text-anchor=\"middle\" fill=\"\(colours[i].darkText ? "#1a1a1a" : "#ffffff")\">\(pct) %</text>" }
                svg += "</g>"
                x += w
            }
            let note = total == 0 ? "no published visits" : "\(total) visits" + (d.withheldDays > 0 ? ", bands &lt; k on \(d.withheldDays) day\(d.withheldDays == 1 ? "" : "s")" : "")
            svg += "<text x=\"\(Self.fmt(left + barWidth + 10))\" y=\"\(Self.fmt(y + 16))\" font-size=\"11\" fill=\"#555\">\(note)</text></g>\n"
        }
        svg += "</svg>\n"
        out += svg
        out += "<p class=\"note\">From the day files: each visit once per day, in the band of its longest stay that day; the days' visits added up. Bands withheld on a day (fewer than k visits) are left out of the sums.</p></section>\n"
        return out
    }
}
