import FootfallCore

/// A published cell: its value, or withheld because it could single someone out (P7).
public enum Published<Value: Sendable & Equatable>: Sendable, Equatable {
    case value(Value)
    case withheld

    /// The value, or `nil` when withheld.
    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }

    public var isWithheld: Bool { self == .withheld }
}

/// The heatmap's columns that can be withheld, named as in the CSV header (P6).
public enum HeatmapColumn: String, CaseIterable, Sendable, Equatable {
    case devices
    case visitors
    case visits
    case averagePresent = "avg_present"
    case peakPresent = "peak_present"
    case medianDwell = "median_dwell_s"
    case p90Dwell = "p90_dwell_s"
    case passersby
}

/// One zone's (or the site's) row as it may be published.
public struct PublishedZoneRow: Sendable, Equatable {
    public var zone: String
    public var devices: Published<Int>
    public var visitors: Published<Int>
    public var visits: Published<Int>
    public var averagePresent: Published<Double>
    public var peakPresent: Published<Int>
    /// `nil` when there were no visits to measure (an empty cell, not a withheld one).
    public var medianDwellSeconds: Published<Double>?
    public var p90DwellSeconds: Published<Double>?
    public var passersby: Published<Int>
    /// The columns withheld in this row, in header order (the CSV's `suppressed` column).
    public var suppressed: [HeatmapColumn]

    public var isSuppressed: Bool { !suppressed.isEmpty }
}

/// One zone-to-zone flow as it may be published.
public struct PublishedFlow: Sendable, Equatable {
    public var from: String
    public var to: String
    public var transitions: Published<Int>

    public var isSuppressed: Bool { transitions.isWithheld }
}

/// An hour as it may be written: the same rows as the ``HourReport`` with every count that
/// could single someone out withheld (P6, P7).
public struct PublishedHour: Sendable, Equatable {
    public var hourStart: Int64
    public var utcOffsetSeconds: Int
    public var partial: Bool
    /// Zone rows in configuration order, then the site-wide row, as in the report.
    public var zones: [PublishedZoneRow]
    public var flows: [PublishedFlow]
    /// The threshold the hour was suppressed with.
    public var k: Int
}

/// Small-count suppression with complementary suppression (P7). See PRIVACY.md, "Small
/// counts", for the rule and why it is enough.
///
/// 1. Primary: every count of devices (devices, visitors, visits, peak_present, passersby)
///    with `0 < value < k` is withheld, in zone rows and in the site row. Zero is published:
///    it describes nobody.
/// 2. Complementary, across zones: in each column, the site row is read as the total of the
///    zone rows. If any zone cell is withheld while the site cell is published, at least two
///    zone cells must be withheld and their values must add up to at least `k`, so that
///    "site minus the published zones" neither recovers one cell nor is itself a small
///    count. Until that holds, the smallest non-zero published zone cell is withheld too;
///    if none is left, the site cell is withheld. If the site cell is withheld and every
///    zone cell is published, the smallest non-zero zone cell is withheld (otherwise the
///    site value would be their sum).
/// 3. Complementary, within a row: `devices = visitors + passersby`; if exactly one of the
///    three is withheld, the smallest non-zero other one is withheld too.
/// 4. Rules 2 and 3 repeat until nothing changes (each step only adds withheld cells, so
///    this ends).
/// 5. `avg_present` is withheld wherever `visitors` is (it is additive across zones too, and
///    the visitors rule already leaves two or more of them withheld). Dwell statistics are
///    withheld when they rest on fewer than `k` visits. Flows are withheld when
///    `0 < transitions < k`; no flow totals are published, so nothing can be subtracted.
public enum Suppression {
    /// The integer columns that count devices, in header order.
    static let countColumns: [HeatmapColumn] = [.devices, .visitors, .visits, .peakPresent, .passersby]

    /// Suppresses one hour.
    /// - Parameters:
    ///   - report: the hour's aggregates (with noise already added when P8 is on).
    ///   - k: the smallest count that may be published (``PrivacySettings/k``).
    /// - Returns: the rows to write.
    public static func apply(_ report: HourReport, k: Int) -> PublishedHour {
        let rows = report.zones
        let site = rows.firstIndex { $0.zone == ZoneHour.siteWide }
        let zoneRows = rows.indices.filter { $0 != site }

        // withheld[row][column index in countColumns]
        var withheld = rows.map { row in countColumns.map { column in isSmall(count(row, column), k: k) } }

        var changed = true
        while changed {
            changed = false
            for (c, column) in countColumns.enumerated() {
                changed = protectColumn(c, column, rows: rows, zoneRows: zoneRows, site: site, k: k, withheld: &withheld) || changed
            }
            for r in rows.indices {
                changed = protectRow(r, row: rows[r], withheld: &withheld) || changed
            }
        }

        let published = rows.enumerated().map { r, row -> PublishedZoneRow in
            func cell(_ column: HeatmapColumn) -> Published<Int> {
                let c = countColumns.firstIndex(of: column)!
                return withheld[r][c] ? .withheld : .value(count(row, column))
            }
            let visitorsWithheld = withheld[r][countColumns.firstIndex(of: .visitors)!]
            let dwellWithheld = row.visits < k
            func dwell(_ value: Double?) -> Published<Double>? {
                guard let value else { return nil }
                return dwellWithheld ? .withheld : .value(value)
            }
            var out = PublishedZoneRow(
                zone: row.zone,
                devices: cell(.devices),
                visitors: cell(.visitors),
                visits: cell(.visits),
                averagePresent: visitorsWithheld ? .withheld : .value(row.averagePresent),
                peakPresent: cell(.peakPresent),
                medianDwellSeconds: dwell(row.medianDwellSeconds),
                p90DwellSeconds: dwell(row.p90DwellSeconds),
                passersby: cell(.passersby),
                suppressed: []
            )
            out.suppressed = HeatmapColumn.allCases.filter { column in
                switch column {
                case .devices: out.devices.isWithheld
                case .visitors: out.visitors.isWithheld
                case .visits: out.visits.isWithheld
                case .averagePresent: out.averagePresent.isWithheld
                case .peakPresent: out.peakPresent.isWithheld
                case .medianDwell: out.medianDwellSeconds?.isWithheld ?? false
                case .p90Dwell: out.p90DwellSeconds?.isWithheld ?? false
                case .passersby: out.passersby.isWithheld
                }
            }
            return out
        }

        let flows = report.flows.map { flow in
            PublishedFlow(from: flow.from, to: flow.to, transitions: isSmall(flow.transitions, k: k) ? .withheld : .value(flow.transitions))
        }

        return PublishedHour(hourStart: report.hourStart, utcOffsetSeconds: report.utcOffsetSeconds, partial: report.partial, zones: published, flows: flows, k: k)
    }

    /// Noise (when configured, P8) and then suppression (P7): what the writer publishes.
    public static func publish(_ report: HourReport, privacy: PrivacySettings) -> PublishedHour {
        guard let epsilon = privacy.epsilon else { return apply(report, k: privacy.k) }
        var rng = SystemRandomNumberGenerator()
        return apply(DifferentialPrivacy.addNoise(to: report, epsilon: epsilon, using: &rng), k: privacy.k)
    }

    @inline(__always)
    static func isSmall(_ value: Int, k: Int) -> Bool { value > 0 && value < k }

    static func count(_ row: ZoneHour, _ column: HeatmapColumn) -> Int {
        switch column {
        case .devices: row.devices
        case .visitors: row.visitors
        case .visits: row.visits
        case .peakPresent: row.peakPresent
        case .passersby: row.passersby
        case .averagePresent, .medianDwell, .p90Dwell: 0
        }
    }

    /// Rule 2 for one column. Returns whether it withheld anything.
    static func protectColumn(_ c: Int, _ column: HeatmapColumn, rows: [ZoneHour], zoneRows: [Int], site: Int?, k: Int, withheld: inout [[Bool]]) -> Bool {
        guard let site else {
            // No total is published: no subtraction is possible.
            return false
        }
        var changed = false
        func smallestPublishedNonZeroZone() -> Int? {
            zoneRows.filter { !withheld[$0][c] && count(rows[$0], column) > 0 }
                .min { count(rows[$0], column) < count(rows[$1], column) }
        }
        if withheld[site][c] {
            if !zoneRows.contains(where: { withheld[$0][c] }), let r = smallestPublishedNonZeroZone() {
                withheld[r][c] = true
                changed = true
            }
            return changed
        }
        while true {
            let hidden = zoneRows.filter { withheld[$0][c] }
            if hidden.isEmpty { return changed }
            let total = hidden.reduce(0) { $0 + count(rows[$1], column) }
            if hidden.count >= 2 && total >= k { return changed }
            if let r = smallestPublishedNonZeroZone() {
                withheld[r][c] = true
            } else {
                withheld[site][c] = true
                return true
            }
            changed = true
        }
    }

    /// Rule 3 for one row. Returns whether it withheld anything.
    static func protectRow(_ r: Int, row: ZoneHour, withheld: inout [[Bool]]) -> Bool {
        let trio = [HeatmapColumn.devices, .visitors, .passersby].map { countColumns.firstIndex(of: $0)! }
        let hidden = trio.filter { withheld[r][$0] }
        guard hidden.count == 1 else { return false }
        let candidates = trio.filter { !withheld[r][$0] && count(row, countColumns[$0]) > 0 }
        guard let pick = candidates.min(by: { count(row, countColumns[$0]) < count(row, countColumns[$1]) }) else { return false }
        withheld[r][pick] = true
        return true
    }
}
