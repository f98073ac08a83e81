import FootfallCore
import FootfallAggregate
import Foundation

/// The SVG drawing of one day. Self-contained (no fonts, scripts or links), so the file can
/// be mailed or printed as is.
extension HeatmapPicture {
    enum Layout {
        static let margin = 24.0
        static let cellWidth = 50.0
        static let cellHeight = 34.0
        /// Space between the zone rows and the site row.
        static let siteGap = 8.0
        static let headerLine = 13.0
        static let font = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
    }

    /// viridis (matplotlib's default colour map; perceptually uniform, readable with the
    /// common colour-vision deficiencies and in grey print) sampled at 0, 1/8, …, 1 and
    /// interpolated linearly.
    static let viridis: [(Double, Double, Double)] = [
        (0x44, 0x01, 0x54), (0x48, 0x28, 0x78), (0x3E, 0x49, 0x89), (0x31, 0x68, 0x8E), (0x26, 0x82, 0x8E),
        (0x1F, 0x9E, 0x89), (0x35, 0xB7, 0x79), (0x6E, 0xCE, 0x58), (0xFD, 0xE7, 0x25),
    ]

    /// The colour of `t` in 0…1, and whether text on it should be dark.
    static func colour(_ t: Double) -> (fill: String, darkText: Bool) {
        let x = min(max(t.isFinite ? t : 0, 0), 1) * Double(viridis.count - 1)
        let i = min(Int(x), viridis.count - 2)
        let f = x - Double(i)
        let a = viridis[i], b = viridis[i + 1]
        let rgb = [a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f]
        // Relative luminance (WCAG 2.1, sRGB approximated by gamma 2.2) decides the text colour:
        // above 0.18 near-black text has the higher contrast ratio (WCAG 2.1 §1.4.3), below it white.
        let lum = 0.2126 * pow22(rgb[0] / 255) + 0.7152 * pow22(rgb[1] / 255) + 0.0722 * pow22(rgb[2] / 255)
        let hex = rgb.map { v -> String in
            let n = Int(v.rounded())
            let digits = "0123456789abcdef".map { $0 }
            return String([digits[n / 16], digits[n % 16]])
        }.joined()
        return ("#" + hex, lum > 0.18)
    }

    /// sRGB to linear light, approximated by gamma 2.2 (enough to pick a text colour).
    static func pow22(_ v: Double) -> Double { pow(v, 2.2) }

    /// XML 1.0 §2.4 / §3.3.3: the five characters with a meaning in text and attributes.
    static func xml(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // Control characters are not allowed in XML 1.0 documents at all.
                if c.value < 0x20 && c != "\t" && c != "\n" && c != "\r" { out += "?" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    static func number(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// The top of the colour scale and its tick step: the day's largest value rounded up to a
    /// multiple of a 1–2–2.5–5 step (at most five steps), so the legend reads in round numbers.
    static func scale(maximum: Double, integral: Bool) -> (top: Double, step: Double) {
        guard maximum > 0, maximum.isFinite else { return (1, integral ? 1 : 0.25) }
        let rough = maximum / 5
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        var step = magnitude * 10
        for m in [1, 2, 2.5, 5] where m * magnitude >= rough {
            if integral && (m * magnitude).rounded() != m * magnitude { continue }
            step = m * magnitude
            break
        }
        if integral { step = max(step, 1) }
        return ((maximum / step).rounded(.up) * step, step)
    }

    /// The picture of one day.
    /// - Parameters:
    ///   - day: a day read by ``days(in:clock:)``.
    ///   - metric: the column the cells are coloured by.
    /// - Returns: a complete SVG document.
    public static func svg(_ day: HeatmapDay, metric: HeatmapMetric) -> String {
        typealias L = Layout
        let zoneCount = day.zones.count
        let columnCount = day.hours.count
        let longest = day.zones.map { $0.isSite ? 9 : $0.text.count }.max() ?? 4
        let labelWidth = max(96, Double(longest) * 7.6 + 24)
        let offsets = Set(day.hours.map(\.utcOffsetSeconds))
        let mixedOffsets = offsets.count > 1
        let headerLines = 1 + (mixedOffsets ? 1 : 0) + (day.hours.contains(where: \.partial) ? 1 : 0) + (day.hours.contains(where: \.partHeard) ? 1 : 0)
        let gridLeft = L.margin + labelWidth
        let gridTop = 92.0 + Double(headerLines) * L.headerLine
        let hasSite = day.zones.last?.isSite ?? false
        func rowY(_ r: Int) -> Double {
            gridTop + Double(r) * L.cellHeight + (hasSite && r == zoneCount - 1 && zoneCount > 1 ? L.siteGap : 0)
        }
        let gridBottom = zoneCount == 0 ? gridTop : rowY(zoneCount - 1) + L.cellHeight
        let gridRight = gridLeft + Double(columnCount) * L.cellWidth

        // The scales: 0 to the largest value of the day. For counts and people present the
        // site row is about the sum of the zones and would push every zone into the dark end,
        // so it gets a scale of its own when there are several zones; dwell is comparable
        // across rows and shares one.
        let separateSite = metric != .medianDwell && hasSite && zoneCount > 2
        var zoneMaximum = 0.0, siteMaximum = 0.0
        for z in 0 ..< zoneCount {
            for h in 0 ..< columnCount {
                guard case .value(let v, _) = day.cell(zone: z, hour: h, metric: metric) else { continue }
                if separateSite && day.zones[z].isSite { siteMaximum = max(siteMaximum, v) } else { zoneMaximum = max(zoneMaximum, v) }
            }
        }
        let integral = metric != .averagePresent
        let zoneScale = scale(maximum: zoneMaximum, integral: integral)
        let siteScale = separateSite ? scale(maximum: siteMaximum, integral: integral) : zoneScale

        var body = ""
        // Title.
        let weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        let weekday = day.hours.first.map { weekdays[LocalTime(utcSeconds: $0.utcStart + 43200, utcOffsetSeconds: $0.utcOffsetSeconds).weekday - 1] } ?? ""
        let offsetText = mixedOffsets ? "clocks changed this day" : "UTC\(day.hours.first?.offsetLabel ?? "")"
        body += "<text x=\"\(L.margin)\" y=\"38\" font-size=\"20\" font-weight=\"bold\" fill=\"#1a1a1a\">Footfall, \(weekday) \(xml(day.date)) — \(xml(metric.caption))</text>\n"
        body += "<text x=\"\(L.margin)\" y=\"62\" font-size=\"13\" fill=\"#555\">One row per zone, one column per local hour (\(xml(offsetText))); ALL is the whole site. Values as in the hourly CSV files.</text>\n"

        // Column headers.
        for (h, hour) in day.hours.enumerated() {
            let x = gridLeft + Double(h) * L.cellWidth + L.cellWidth / 2
            let iso = hour.hourStart ?? LocalTime(utcSeconds: hour.utcStart, utcOffsetSeconds: hour.utcOffsetSeconds).iso8601
            let listened = hour.listenedSeconds.map { " data-listened=\"\($0)\"" } ?? ""
            body += "<g class=\"hour\" data-hour=\"\(xml(iso))\" data-file=\"\(hour.hasFile)\" data-partial=\"\(hour.partial)\"\(listened)>"
            var y = 92.0
            body += "<text x=\"\(x)\" y=\"\(y)\" font-size=\"12\" text-anchor=\"middle\" fill=\"\(hour.hasFile ? "#1a1a1a" : "#999")\">\(xml(hour.label))</text>"
            if mixedOffsets {
                y += L.headerLine
                body += "<text x=\"\(x)\" y=\"\(y)\" font-size=\"9.5\" text-anchor=\"middle\" fill=\"#666\">\(xml(hour.offsetLabel))</text>"
            }
            if hour.partial {
                y += L.headerLine
                body += "<text x=\"\(x)\" y=\"\(y)\" font-size=\"9.5\" font-style=\"italic\" text-anchor=\"middle\" fill=\"#1a1a1a\">partial</text>"
            }
            // Part-heard: the figures cover only the minutes footfall heard its sensors.
            if let listened = hour.listenedSeconds, listened < 3600 {
                y += L.headerLine
                body += "<text class=\"heard\" x=\"\(x)\" y=\"\(y)\" font-size=\"9.5\" text-anchor=\"middle\" fill=\"#b35900\">heard \(listened / 60) min</text>"
            }
            body += "</g>\n"
        }

        // Rows.
        for (z, zone) in day.zones.enumerated() {
            let y = rowY(z)
            let name = zone.isSite ? "ALL (site)" : zone.text
            body += "<text class=\"zone\" x=\"\(gridLeft - 10)\" y=\"\(y + L.cellHeight / 2)\" font-size=\"13\" text-anchor=\"end\" dominant-baseline=\"central\" fill=\"#1a1a1a\"\(zone.isSite ? " font-weight=\"bold\"" : "")>\(xml(name))</text>\n"
            for h in 0 ..< columnCount {
                let hour = day.hours[h]
                let x = gridLeft + Double(h) * L.cellWidth
                let cx = x + L.cellWidth / 2, cy = y + L.cellHeight / 2
                let rect = "x=\"\(x + 1)\" y=\"\(y + 1)\" width=\"\(L.cellWidth - 2)\" height=\"\(L.cellHeight - 2)\" rx=\"3\""
                let iso = xml(hour.hourStart ?? "")
                guard let cell = day.cell(zone: z, hour: h, metric: metric) else {
                    // No file (or no row) for this hour: left blank, a faint outline keeps the grid readable.
                    body += "<rect class=\"blank\" \(rect) fill=\"none\" stroke=\"#e6e6e6\"/>\n"
                    continue
                }
                let open = "<g class=\"cell\" data-zone=\"\(xml(zone.text))\" data-hour=\"\(iso)\" data-partial=\"\(hour.partial)\""
                switch cell {
                case .value(let v, let text):
                    let (fill, dark) = colour(v / (zone.isSite ? siteScale.top : zoneScale.top))
                    let size = text.count > 6 ? 10 : 12
                    body += "\(open) data-state=\"value\"><title>\(xml(name)) \(xml(hour.label)): \(xml(text))</title><rect \(rect) fill=\"\(fill)\"/>"
                    body += "<text x=\"\(cx)\" y=\"\(cy)\" font-size=\"\(size)\" text-anchor=\"middle\" dominant-baseline=\"central\" fill=\"\(dark ? "#1a1a1a" : "#ffffff")\">\(xml(text))</text></g>\n"
                case .withheld:
                    body += "\(open) data-state=\"withheld\"><title>\(xml(name)) \(xml(hour.label)): withheld (count below k)</title><rect \(rect) fill=\"url(#withheld)\" stroke=\"#9a9a9a\"/>"
                    body += "<text x=\"\(cx)\" y=\"\(cy)\" font-size=\"11\" text-anchor=\"middle\" dominant-baseline=\"central\" fill=\"#333\">&lt; k</text></g>\n"
                case .empty:
                    body += "\(open) data-state=\"empty\"><title>\(xml(name)) \(xml(hour.label)): no visits</title><rect \(rect) fill=\"#f2f2f2\"/>"
                    body += "<text x=\"\(cx)\" y=\"\(cy)\" font-size=\"12\" text-anchor=\"middle\" dominant-baseline=\"central\" fill=\"#888\">–</text></g>\n"
                }
            }
        }
        // Partial hours: a dashed frame around the whole column.
        for (h, hour) in day.hours.enumerated() where hour.partial {
            let x = gridLeft + Double(h) * L.cellWidth
            body += "<rect class=\"partial\" x=\"\(x - 0.5)\" y=\"\(gridTop - 1.5)\" width=\"\(L.cellWidth + 1)\" height=\"\(gridBottom - gridTop + 3)\" fill=\"none\" stroke=\"#1a1a1a\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
        }

        // Legend: the scale, then the special cells.
        var y = gridBottom + 34
        let barWidth = 260.0
        let barLeft = L.margin + 110
        func bar(_ label: String, _ scale: (top: Double, step: Double), at y: Double) {
            body += "<text x=\"\(L.margin)\" y=\"\(y + 11)\" font-size=\"12\" fill=\"#1a1a1a\">\(xml(label))</text>\n"
            body += "<rect x=\"\(barLeft)\" y=\"\(y)\" width=\"\(barWidth)\" height=\"14\" fill=\"url(#scale)\" stroke=\"#999\" stroke-width=\"0.5\"/>\n"
            let ticks = Int((scale.top / scale.step).rounded())
            for i in 0 ... ticks {
                let value = Double(i) * scale.step
                let x = barLeft + barWidth * value / scale.top
                let anchor = i == 0 ? "start" : (i == ticks ? "end" : "middle")
                body += "<line x1=\"\(x)\" y1=\"\(y + 14)\" x2=\"\(x)\" y2=\"\(y + 18)\" stroke=\"#666\"/>"
                body += "<text x=\"\(x)\" y=\"\(y + 30)\" font-size=\"11\" text-anchor=\"\(anchor)\" fill=\"#444\">\(xml(number(value)))</text>\n"
            }
        }
        if separateSite {
            bar("zones", zoneScale, at: y)
            bar("ALL (site)", siteScale, at: y + 44)
        } else {
            bar(metric.rawValue, zoneScale, at: y)
        }
        var x = barLeft + barWidth + 36
        func swatch(_ shape: String, _ label: String, width: Double) {
            body += shape.replacingOccurrences(of: "$X", with: "\(x)").replacingOccurrences(of: "$Y", with: "\(y - 4)")
            body += "<text x=\"\(x + 30)\" y=\"\(y + 10)\" font-size=\"12\" fill=\"#1a1a1a\">\(xml(label))</text>\n"
            x += width
        }
        swatch("<rect x=\"$X\" y=\"$Y\" width=\"24\" height=\"20\" rx=\"3\" fill=\"url(#withheld)\" stroke=\"#9a9a9a\"/>", "withheld: count below k", width: 190)
        if metric == .medianDwell {
            swatch("<rect x=\"$X\" y=\"$Y\" width=\"24\" height=\"20\" rx=\"3\" fill=\"#f2f2f2\"/>", "no visits", width: 110)
        }
        swatch("<rect x=\"$X\" y=\"$Y\" width=\"24\" height=\"20\" rx=\"3\" fill=\"none\" stroke=\"#d0d0d0\"/>", "no file for the hour", width: 170)
        swatch("<rect x=\"$X\" y=\"$Y\" width=\"24\" height=\"20\" fill=\"none\" stroke=\"#1a1a1a\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>", "partial: in progress at shutdown", width: 250)
        if day.hours.contains(where: \.partHeard) {
            swatch("<text x=\"$X\" y=\"$Y\" dy=\"14\" font-size=\"9.5\" fill=\"#b35900\">heard</text>", "heard N min: footfall heard its sensors only N minutes of the hour", width: 420)
        }
        let legendRight = x

        // Flows of the day.
        y += separateSite ? 106 : 62
        body += "<text x=\"\(L.margin)\" y=\"\(y)\" font-size=\"15\" font-weight=\"bold\" fill=\"#1a1a1a\">Zone-to-zone flows, whole day (transitions summed over the hours)</text>\n"
        y += 12
        var flowsRight = L.margin
        if day.flows.isEmpty {
            y += 14
            body += "<text class=\"no-flows\" x=\"\(L.margin)\" y=\"\(y)\" font-size=\"12\" fill=\"#555\">No transitions between zones were published for this day.</text>\n"
            y += 10
        } else {
            var fromZones: [ZoneLabel] = [], toZones: [ZoneLabel] = []
            for f in day.flows {
                if !fromZones.contains(f.from) { fromZones.append(f.from) }
                if !toZones.contains(f.to) { toZones.append(f.to) }
            }
            let order = day.zones
            func sorted(_ zones: [ZoneLabel]) -> [ZoneLabel] {
                zones.sorted { (order.firstIndex(of: $0) ?? Int.max) < (order.firstIndex(of: $1) ?? Int.max) }
            }
            fromZones = sorted(fromZones)
            toZones = sorted(toZones)
            let flowCell = max(76, Double(toZones.map(\.text.count).max() ?? 4) * 7.2 + 16)
            let left = L.margin + labelWidth
            body += "<text x=\"\(left - 10)\" y=\"\(y + 16)\" font-size=\"11\" text-anchor=\"end\" fill=\"#666\">from ↓  to →</text>\n"
            for (c, to) in toZones.enumerated() {
                body += "<text x=\"\(left + Double(c) * flowCell + flowCell / 2)\" y=\"\(y + 16)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1a1a1a\">\(xml(to.text))</text>\n"
            }
            y += 24
            for (r, from) in fromZones.enumerated() {
                let rowTop = y + Double(r) * 28
                body += "<text x=\"\(left - 10)\" y=\"\(rowTop + 14)\" font-size=\"12\" text-anchor=\"end\" dominant-baseline=\"central\" fill=\"#1a1a1a\">\(xml(from.text))</text>\n"
                for (c, to) in toZones.enumerated() {
                    let cx = left + Double(c) * flowCell
                    let rect = "x=\"\(cx + 1)\" y=\"\(rowTop + 1)\" width=\"\(flowCell - 2)\" height=\"26\" rx=\"3\""
                    let mid = "x=\"\(cx + flowCell / 2)\" y=\"\(rowTop + 14)\" font-size=\"12\" text-anchor=\"middle\" dominant-baseline=\"central\""
                    let open = "<g class=\"flow\" data-from=\"\(xml(from.text))\" data-to=\"\(xml(to.text))\""
                    guard let flow = day.flows.first(where: { $0.from == from && $0.to == to }) else {
                        body += "<rect \(rect) fill=\"none\" stroke=\"#eeeeee\"/>\n"
                        continue
                    }
                    if flow.withheldHours == 0 {
                        body += "\(open) data-state=\"value\"><rect \(rect) fill=\"#f4f4f4\"/><text \(mid) fill=\"#1a1a1a\">\(flow.published)</text></g>\n"
                    } else if flow.published == 0 {
                        body += "\(open) data-state=\"withheld\"><title>withheld in \(flow.withheldHours) h</title><rect \(rect) fill=\"url(#withheld)\" stroke=\"#9a9a9a\"/><text \(mid) fill=\"#333\">&lt; k</text></g>\n"
                    } else {
                        body += "\(open) data-state=\"partly-withheld\"><title>\(flow.published) published, withheld in \(flow.withheldHours) h</title><rect \(rect) fill=\"url(#withheld)\" stroke=\"#9a9a9a\"/><text \(mid) fill=\"#1a1a1a\">≥ \(flow.published)</text></g>\n"
                    }
                }
            }
            y += Double(fromZones.count) * 28 + 18
            body += "<text x=\"\(L.margin)\" y=\"\(y)\" font-size=\"11\" fill=\"#555\">Hatched: withheld in at least one hour (count below k); “≥ n” is the sum of the hours that were published.</text>\n"
            flowsRight = left + Double(toZones.count) * flowCell
        }

        let width = max(gridRight, legendRight, flowsRight, 760) + L.margin
        let height = y + L.margin
        var svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(width))\" height=\"\(number(height))\" viewBox=\"0 0 \(number(width)) \(number(height))\" font-family=\"\(L.font)\" role=\"img\">\n"
        svg += "<title>Footfall \(xml(day.date)): \(xml(metric.caption))</title>\n"
        svg += "<defs>\n"
        svg += "<pattern id=\"withheld\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#e4e4e4\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#b0b0b0\" stroke-width=\"2.5\"/></pattern>\n"
        svg += "<linearGradient id=\"scale\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">"
        for i in 0 ... 16 {
            let t = Double(i) / 16
            svg += "<stop offset=\"\(number(t * 100))%\" stop-color=\"\(colour(t).fill)\"/>"
        }
        svg += "</linearGradient>\n</defs>\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        svg += body
        svg += "</svg>\n"
        return svg
    }
}
