import FootfallCore

/// The suppressed hour (``Suppression/apply(_:k:)``) is what the CSV files are written from.
extension PublishedHour: PublishableHour {
    public var heatmapRows: [HeatmapRow] {
        zones.map { row in
            HeatmapRow(
                zone: row.zone,
                devices: row.devices.value,
                visitors: row.visitors.value,
                visits: row.visits.value,
                averagePresent: row.averagePresent.value,
                peakPresent: row.peakPresent.value,
                medianDwellSeconds: row.medianDwellSeconds?.value,
                p90DwellSeconds: row.p90DwellSeconds?.value,
                passersby: row.passersby.value,
                suppressed: row.suppressed.map(\.rawValue))
        }
    }

    public var flowRows: [FlowRow] {
        flows.map { FlowRow(from: $0.from, to: $0.to, transitions: $0.transitions.value, suppressed: $0.isSuppressed ? ["transitions"] : []) }
    }
}
