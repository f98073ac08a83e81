import FootfallCore

/// The dwell distribution of the heatmap and day files: how many visits stayed under 5
/// minutes, 5–15, 15–30, 30–60, and an hour or more (the bands planners' tools use; the
/// edges are whole multiples of every allowed slot length, so no visit sits on a boundary
/// by rounding). Each band counts visits, and so people: it is guarded by k like every
/// other count of people (``Suppression``).
public enum DwellBand: Int, CaseIterable, Sendable {
    case under5Minutes
    case from5To15Minutes
    case from15To30Minutes
    case from30To60Minutes
    case hourOrMore

    /// Lower edges in seconds: a dwell `d` is in the last band whose edge is `≤ d`.
    static let lowerEdges: [Int64] = [0, 300, 900, 1800, 3600]

    /// The band of a dwell of `slots` slots of `slotSeconds` each.
    static func of(slots: Int32, slotSeconds: Int64) -> DwellBand {
        let seconds = Int64(slots) * slotSeconds
        return DwellBand(rawValue: lowerEdges.lastIndex { $0 <= seconds } ?? 0)!
    }

    /// Visits per band, from their dwell in slots.
    static func counts(_ dwell: [Int32], slotSeconds: Int64) -> [Int] {
        var counts = [Int](repeating: 0, count: allCases.count)
        for d in dwell { counts[of(slots: d, slotSeconds: slotSeconds).rawValue] += 1 }
        return counts
    }

    /// The column of the band in the CSV files.
    public var column: HeatmapColumn {
        switch self {
        case .under5Minutes: .dwellUnder5Minutes
        case .from5To15Minutes: .dwell5To15Minutes
        case .from15To30Minutes: .dwell15To30Minutes
        case .from30To60Minutes: .dwell30To60Minutes
        case .hourOrMore: .dwellHourOrMore
        }
    }
}
