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
    /// Visits per dwell band (``DwellBand``): events, guarded by the people they describe.
    case dwellUnder5Minutes = "dwell_0_5m"
    case dwell5To15Minutes = "dwell_5_15m"
    case dwell15To30Minutes = "dwell_15_30m"
    case dwell30To60Minutes = "dwell_30_60m"
    case dwellHourOrMore = "dwell_60m_plus"

    /// The band a dwell-band column counts, `nil` for the other columns.
    public var dwellBand: DwellBand? { DwellBand.allCases.first { $0.column == self } }
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
    /// Visits per ``DwellBand``, in band order.
    public var dwellBands: [Published<Int>]
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
    /// Seconds footfall listened in the hour (not a count of people; published as is).
    public var listenedSeconds: Int?
    /// The days that ended with this hour, suppressed by the same rules (``DayReport``).
    public var days: [PublishedDay] = []
}

/// Small-count suppression by people, with complementary suppression (P7). See PRIVACY.md,
/// "Small counts", for the rule and why it is enough.
///
/// Every published value describes at least `k` distinct devices:
///
/// 1. Primary: every count of people — `devices`, `visitors`, `peak_present`, `passersby`,
///    and the distinct devices of a flow — with `0 < value < k` is withheld, in zone rows and
///    in the site row (a flow also when its `transitions` are). Zero is published: it
///    describes nobody.
/// 2. Columns that are not counts of people are guarded by the people they describe:
///    `visits`, `avg_present`, `median_dwell_s` and `p90_dwell_s` are withheld wherever
///    `visitors` is, and visits also when they are fewer than k: one person making five
///    visits must not be published as `visits=5` with their own dwell as the median. A flow
///    is withheld when either of its zones' visitors is. The dwell bands (visits by how long
///    they stayed) likewise: a band is withheld wherever `visits` is, and when its visits
///    or the distinct devices that made them are fewer than k (``protectDwellBands``).
/// 3. Complementary, across zones: in each column, the site row is read as the total of the
///    zone rows. If any zone cell is withheld while the site cell is published, at least two
///    zone cells must be withheld and their values must add up to at least `k`; until that
///    holds, the smallest non-zero published zone cell is withheld too, and if none is left,
///    the site cell. If the site cell is withheld and every zone cell is published, the
///    smallest non-zero zone cell is withheld.
/// 4. Complementary, within a row: `devices = visitors + passersby`; if exactly one of the
///    three is withheld, the smallest non-zero other one is withheld too.
/// 5. Differences: zones overlap (one phone is heard in two zones), so the site row is not
///    their sum, and a reader who subtracts one published count from another whose people
///    contain the first's learns a count of people ("ALL 11 − entrance 10 = 1 person never
///    at the entrance"; a flow out of the entrance against the entrance's visitors). For
///    every such pair (``containmentPairs(rows:flows:site:)``: within a row, zone against
///    site, a flow against its zones and the site) the published values differ by 0 or by
///    at least k; otherwise the zone cell or the flow (within a row, the smaller) is
///    withheld.
/// 6. Rules 3–5 repeat until nothing changes (each step only adds withheld cells, so this
///    ends).
///
/// With noise (P8), every decision is taken on the true counts, and the noisy values are
/// published in the cells that are published (see ``publish(_:privacy:)``).
public enum Suppression {
    /// The integer columns that count people, in header order (visits are events).
    static let peopleColumns: [HeatmapColumn] = [.devices, .visitors, .peakPresent, .passersby]

    /// Suppresses one hour.
    /// - Parameters:
    ///   - report: the hour's aggregates; every decision is taken on these.
    ///   - k: the smallest number of people a published value may describe (``PrivacySettings/k``).
    /// - Returns: the rows to write.
    public static func apply(_ report: HourReport, k: Int) -> PublishedHour {
        apply(report, k: k, values: nil)
    }

    /// - Parameter values: the values to publish in the cells that are published (the noisy
    ///   report under P8); `nil` publishes `report`'s own. Dwell statistics, visits and flows
    ///   are not published with noise (their sensitivity to one device is not bounded).
    static func apply(_ report: HourReport, k: Int, values: HourReport?) -> PublishedHour {
        let rows = report.zones
        let site = rows.firstIndex { $0.zone == ZoneHour.siteWide }
        let zoneRows = rows.indices.filter { $0 != site }
        let visitorsColumn = peopleColumns.firstIndex(of: .visitors)!

        // withheld[row][column index in peopleColumns]
        var withheld = rows.map { row in peopleColumns.map { column in isSmall(count(row, column), k: k) } }
        // A flow is guarded by the people who made it, not by its moves (and, as a published
        // count, by its own value).
        var flowWithheld = report.flows.map { isSmall($0.devices, k: k) || isSmall($0.transitions, k: k) }
        let rowOfZone = Dictionary(rows.indices.map { (rows[$0].zone, $0) }, uniquingKeysWith: { a, _ in a })

        var changed = true
        while changed {
            changed = false
            for (c, column) in peopleColumns.enumerated() {
                changed = protectColumn(c, column, rows: rows, zoneRows: zoneRows, site: site, k: k, withheld: &withheld) || changed
            }
            for r in rows.indices {
                changed = protectRow(r, row: rows[r], withheld: &withheld) || changed
            }
            for (f, flow) in report.flows.enumerated() where !flowWithheld[f] {
                let ends = [rowOfZone[flow.from], rowOfZone[flow.to]].compactMap { $0 }
                if ends.contains(where: { withheld[$0][visitorsColumn] }) {
                    flowWithheld[f] = true
                    changed = true
                }
            }
            changed = protectDifferences(rows: rows, flows: report.flows, site: site, k: k, withheld: &withheld, flowWithheld: &flowWithheld) || changed
        }

        let noisy = values != nil
        let shown = values ?? report
        let bandWithheld = protectDwellBands(rows: rows, site: site, k: k, withheld: withheld)
        let published = rows.enumerated().map { r, row -> PublishedZoneRow in
            let shownRow = shown.zones.indices.contains(r) ? shown.zones[r] : row
            func cell(_ column: HeatmapColumn) -> Published<Int> {
                let c = peopleColumns.firstIndex(of: column)!
                if withheld[r][c] { return .withheld }
                return .value(publishedValue(trueValue: count(row, column), shown: count(shownRow, column), k: k))
            }
            // Guarded by the people they describe: the visitors.
            let visitorsWithheld = withheld[r][visitorsColumn]
            func dwell(_ value: Double?) -> Published<Double>? {
                guard let value else { return nil }
                return visitorsWithheld || noisy ? .withheld : .value(value)
            }
            let bands = bandWithheld[r]
            var out = PublishedZoneRow(
                zone: row.zone,
                devices: cell(.devices),
                visitors: cell(.visitors),
                visits: visitorsWithheld || isSmall(row.visits, k: k) || (noisy && row.visits > 0) ? .withheld : .value(row.visits),
                averagePresent: visitorsWithheld ? .withheld : .value(shownRow.averagePresent),
                peakPresent: cell(.peakPresent),
                medianDwellSeconds: dwell(row.medianDwellSeconds),
                p90DwellSeconds: dwell(row.p90DwellSeconds),
                passersby: cell(.passersby),
                dwellBands: DwellBand.allCases.map { b in
                    bands[b.rawValue] || (noisy && row.visits(in: b) > 0) ? .withheld : .value(row.visits(in: b))
                },
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
                case .dwellUnder5Minutes, .dwell5To15Minutes, .dwell15To30Minutes, .dwell30To60Minutes, .dwellHourOrMore:
                    out.dwellBands[column.dwellBand!.rawValue].isWithheld
                }
            }
            return out
        }

        let flows = report.flows.enumerated().map { f, flow in
            PublishedFlow(from: flow.from, to: flow.to, transitions: flowWithheld[f] || (noisy && flow.transitions > 0) ? .withheld : .value(flow.transitions))
        }

        return PublishedHour(hourStart: report.hourStart, utcOffsetSeconds: report.utcOffsetSeconds, partial: report.partial, zones: published, flows: flows, k: k,
                             listenedSeconds: report.listenedSeconds, days: report.days.map { publish($0, privacy: PrivacySettings(k: k)) })
    }

    /// Noise (when configured, P8) and then suppression (P7): what the writer publishes.
    /// Suppression decides on the true counts; the published cells get the noisy values.
    public static func publish(_ report: HourReport, privacy: PrivacySettings) -> PublishedHour {
        guard let epsilon = privacy.epsilon else { return apply(report, k: privacy.k) }
        var rng = SystemRandomNumberGenerator()
        var noisy = DifferentialPrivacy.addNoise(to: report, epsilon: epsilon, using: &rng)
        noisy.days = []
        var published = apply(report, k: privacy.k, values: noisy)
        // Each day gets noise of its own on the way, like an hour.
        published.days = report.days.map { publish($0, privacy: privacy) }
        return published
    }

    /// The value a published count cell shows: its true value, or with noise the noisy value
    /// held at `k` or above (a cell is only published when its true count is 0 or ≥ k, so
    /// that says nothing the decision did not), and 0 where the true count is 0.
    static func publishedValue(trueValue: Int, shown: Int, k: Int) -> Int {
        if trueValue == 0 { return 0 }
        return shown == trueValue ? trueValue : max(k, shown)
    }

    @inline(__always)
    static func isSmall(_ value: Int, k: Int) -> Bool { value > 0 && value < k }

    /// Rule 5: where one count's people contain another's, the two published values differ
    /// by 0 or by at least `k`. Returns whether it withheld anything.
    static func protectDifferences(rows: [ZoneHour], flows: [FlowCount], site: Int?, k: Int, withheld: inout [[Bool]], flowWithheld: inout [Bool]) -> Bool {
        var changed = false
        for (part, whole) in containmentPairs(rows: rows, flows: flows, site: site) {
            func value(_ cell: Cell) -> Int { cell.row < 0 ? flows[cell.column].transitions : count(rows[cell.row], peopleColumns[cell.column]) }
            func isWithheld(_ cell: Cell) -> Bool { cell.row < 0 ? flowWithheld[cell.column] : withheld[cell.row][cell.column] }
            guard !isWithheld(part), !isWithheld(whole), isSmall(abs(value(whole) - value(part)), k: k) else { continue }
            // The part goes (a flow, a zone cell): the site row is what most readers use. Within
            // one row, the smaller.
            let drop = part.row == whole.row && value(whole) < value(part) ? whole : part
            if drop.row < 0 { flowWithheld[drop.column] = true } else { withheld[drop.row][drop.column] = true }
            changed = true
        }
        return changed
    }

    /// A count cell: a row and an index into ``peopleColumns``, or a flow (row −1, column =
    /// the flow's index).
    struct Cell: Equatable {
        var row: Int
        var column: Int
    }

    /// The pairs of counts whose difference a reader can take as a count of people: one row's
    /// columns among themselves (`devices` ⊇ `visitors`, `passersby`, `peak_present`), any
    /// zone cell and any site cell (the site's people contain every zone's), a flow and the
    /// cells of its two zones and of the site. Two different zones are not paired: a reader
    /// cannot know whether one's people contain the other's.
    static func containmentPairs(rows: [ZoneHour], flows: [FlowCount], site: Int?) -> [(part: Cell, whole: Cell)] {
        var pairs: [(Cell, Cell)] = []
        for r in rows.indices {
            for a in peopleColumns.indices { for b in peopleColumns.indices where a < b {
                pairs.append((Cell(row: r, column: b), Cell(row: r, column: a)))
            } }
            guard let site, r != site else { continue }
            for c in peopleColumns.indices { for d in peopleColumns.indices {
                pairs.append((Cell(row: r, column: c), Cell(row: site, column: d)))
            } }
        }
        let rowOfZone = Dictionary(rows.indices.map { (rows[$0].zone, $0) }, uniquingKeysWith: { a, _ in a })
        for (f, flow) in flows.enumerated() {
            for row in Set([rowOfZone[flow.from], rowOfZone[flow.to], site].compactMap { $0 }).sorted() {
                for c in peopleColumns.indices { pairs.append((Cell(row: -1, column: f), Cell(row: row, column: c))) }
            }
        }
        return pairs
    }

    static func count(_ row: ZoneHour, _ column: HeatmapColumn) -> Int {
        switch column {
        case .devices: row.devices
        case .visitors: row.visitors
        case .visits: row.visits
        case .peakPresent: row.peakPresent
        case .passersby: row.passersby
        case .averagePresent, .medianDwell, .p90Dwell: 0
        case .dwellUnder5Minutes, .dwell5To15Minutes, .dwell15To30Minutes, .dwell30To60Minutes, .dwellHourOrMore:
            row.visits(in: column.dwellBand!)
        }
    }

    /// Rule 3 for one column. Returns whether it withheld anything.
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

    /// Rule 4 for one row. Returns whether it withheld anything.
    static func protectRow(_ r: Int, row: ZoneHour, withheld: inout [[Bool]]) -> Bool {
        let trio = [HeatmapColumn.devices, .visitors, .passersby].map { peopleColumns.firstIndex(of: $0)! }
        let hidden = trio.filter { withheld[r][$0] }
        guard hidden.count == 1 else { return false }
        let candidates = trio.filter { !withheld[r][$0] && count(row, peopleColumns[$0]) > 0 }
        guard let pick = candidates.min(by: { count(row, peopleColumns[$0]) < count(row, peopleColumns[$1]) }) else { return false }
        withheld[r][pick] = true
        return true
    }
}

extension Suppression {
    /// The dwell bands of every row: which are withheld. A band counts visits (events) of
    /// some devices, so it is guarded by those devices (``ZoneHour/dwellBandDevices``) like
    /// `visits` by the visitors:
    ///
    /// - withheld wherever `visits` is (its visitors withheld, or fewer than k visits), and
    ///   where the band's visits or its distinct devices are `0 < n < k`;
    /// - within a row the bands add up to `visits`: while exactly one band of a row whose
    ///   visits are published is withheld, the smallest non-zero other band goes too;
    /// - across zones, read as the site band being the zones' total (conservative; a visit's
    ///   site dwell can fall in another band than its zone dwell): the zone bands withheld in
    ///   a column number at least two and add up to at least k, else the smallest non-zero
    ///   published zone band is withheld too, or the site band.
    ///
    /// Decided on the true counts, after the rows' own people columns are settled.
    static func protectDwellBands(rows: [ZoneHour], site: Int?, k: Int, withheld: [[Bool]]) -> [[Bool]] {
        let visitorsColumn = peopleColumns.firstIndex(of: .visitors)!
        let bands = DwellBand.allCases
        func visitsWithheld(_ r: Int) -> Bool { withheld[r][visitorsColumn] || isSmall(rows[r].visits, k: k) }
        var out = rows.indices.map { r in
            bands.map { b in
                visitsWithheld(r) || isSmall(rows[r].visits(in: b), k: k) || isSmall(rows[r].devices(in: b), k: k)
            }
        }
        let zoneRows = rows.indices.filter { $0 != site }
        var changed = true
        while changed {
            changed = false
            for r in rows.indices where !visitsWithheld(r) {
                let hidden = bands.filter { out[r][$0.rawValue] }
                guard hidden.count == 1 else { continue }
                let candidates = bands.filter { !out[r][$0.rawValue] && rows[r].visits(in: $0) > 0 }
                if let pick = candidates.min(by: { rows[r].visits(in: $0) < rows[r].visits(in: $1) }) {
                    out[r][pick.rawValue] = true
                    changed = true
                }
            }
            guard let site else { continue }
            for b in bands where out[site][b.rawValue] && !zoneRows.contains(where: { out[$0][b.rawValue] }) {
                // The site band withheld and every zone's published: it would be their sum.
                if let r = zoneRows.filter({ rows[$0].visits(in: b) > 0 }).min(by: { rows[$0].visits(in: b) < rows[$1].visits(in: b) }) {
                    out[r][b.rawValue] = true
                    changed = true
                }
            }
            for b in bands where !out[site][b.rawValue] {
                while true {
                    let hidden = zoneRows.filter { out[$0][b.rawValue] }
                    let total = hidden.reduce(0) { $0 + rows[$1].visits(in: b) }
                    // Hidden zero bands (withheld with their visits) tell nothing when subtracted.
                    if hidden.isEmpty || total == 0 || (hidden.count >= 2 && total >= k) { break }
                    let candidates = zoneRows.filter { !out[$0][b.rawValue] && rows[$0].visits(in: b) > 0 }
                    changed = true
                    if let r = candidates.min(by: { rows[$0].visits(in: b) < rows[$1].visits(in: b) }) {
                        out[r][b.rawValue] = true
                    } else {
                        out[site][b.rawValue] = true
                        break
                    }
                }
            }
        }
        return out
    }
}
