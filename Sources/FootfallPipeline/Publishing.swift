import FootfallCore
import FootfallOutput

/// Turns a raw hour into what may be published (suppression of small counts, P7).
protocol HourPublishing {
    func publish(_ report: HourReport, k: Int) -> PublishedTable
}

/// PLACEHOLDER until the privacy module's `Suppression.apply(report, k:)` is merged: a
/// conservative stand-in that withholds a whole row when it covers fewer than `k` devices
/// and a flow with fewer than `k` transitions. It never publishes more than the real
/// suppression will.
struct PlaceholderSuppression: HourPublishing {
    static let countColumns = ["devices", "visitors", "visits", "avg_present", "peak_present", "median_dwell_s", "p90_dwell_s", "passersby"]

    func publish(_ report: HourReport, k: Int) -> PublishedTable {
        let rows = report.zones.map { zone -> HeatmapRow in
            if zone.devices < k {
                return HeatmapRow(zone: zone.zone, devices: nil, visitors: nil, visits: nil, averagePresent: nil, peakPresent: nil, medianDwellSeconds: nil, p90DwellSeconds: nil, passersby: nil, suppressed: PlaceholderSuppression.countColumns)
            }
            var withheld: [String] = []
            func keep(_ value: Int, _ column: String) -> Int? {
                if value > 0 && value < k { withheld.append(column); return nil }
                return value
            }
            let visitors = keep(zone.visitors, "visitors")
            let visits = keep(zone.visits, "visits")
            let passersby = keep(zone.passersby, "passersby")
            let dwellWithheld = zone.visits > 0 && zone.visits < k
            if dwellWithheld { withheld += ["median_dwell_s", "p90_dwell_s"] }
            let presenceWithheld = visitors == nil
            if presenceWithheld { withheld += ["avg_present", "peak_present"] }
            let order = PlaceholderSuppression.countColumns
            withheld.sort { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! }
            return HeatmapRow(
                zone: zone.zone, devices: zone.devices, visitors: visitors, visits: visits,
                averagePresent: presenceWithheld ? nil : zone.averagePresent,
                peakPresent: presenceWithheld ? nil : zone.peakPresent,
                medianDwellSeconds: dwellWithheld ? nil : zone.medianDwellSeconds,
                p90DwellSeconds: dwellWithheld ? nil : zone.p90DwellSeconds,
                passersby: passersby, suppressed: withheld)
        }
        let flows = report.flows.map { flow in
            flow.transitions < k
                ? FlowRow(from: flow.from, to: flow.to, transitions: nil, suppressed: ["transitions"])
                : FlowRow(from: flow.from, to: flow.to, transitions: flow.transitions, suppressed: [])
        }
        return PublishedTable(hourStart: report.hourStart, utcOffsetSeconds: report.utcOffsetSeconds, partial: report.partial, heatmapRows: rows, flowRows: flows)
    }
}
