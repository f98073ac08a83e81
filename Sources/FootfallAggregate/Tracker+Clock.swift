import FootfallCore

/// What live collection (`footfall run`) needs from the tracker beyond replay: time that
/// passes without frames, and a configuration reload that keeps the counts.
extension Tracker {
    /// Moves event time forward without a frame, so that hours close by the wall clock when
    /// nobody is around (live mode feeds this once a second).
    ///
    /// Time never goes backwards here: an earlier instant than the newest frame or tick is
    /// ignored, so a wall-clock step back cannot produce a negative duration.
    /// - Parameter nanos: event time, nanoseconds since the Unix epoch.
    public mutating func advanceClock(toNanos nanos: Int64) {
        guard nanos > newestNanos else { return }
        newestNanos = nanos
        if nanos >= nextTickNanos { tick() }
    }

    /// Live mode: footfall started listening at `nanos` (its first tick), so the hour it
    /// started in counts as listened to from then, whether or not a frame came soon. Replay
    /// does not call it: there listening starts with the first frame of the captures.
    public mutating func startListening(atNanos nanos: Int64) {
        guard firstSlot == .min else { return }
        firstSlot = nanos.floorDiv(slotNanos)
    }

    /// Live mode: for `nanos` nanoseconds up to `endNanos` no source could hear anything
    /// (every source down), so that time is not counted as listened to (`listened_s`), and
    /// presence is not averaged over it.
    public mutating func noteUnheard(nanos: Int64, endingAt endNanos: Int64) {
        guard nanos > 0 else { return }
        let hourStart = clock.hourStart(containing: endNanos.floorDiv(1_000_000_000), cache: &utcOffsets)
        if hourStart < closedThrough { return }
        unheardNanos[hourStart, default: 0] += nanos
        // Hours already closed have no use for theirs (a handful of entries at most).
        if unheardNanos.count > 2 { unheardNanos = unheardNanos.filter { $0.key >= closedThrough } }
    }

    /// The newest event time seen (frame or clock), nanoseconds since the Unix epoch; `nil`
    /// before the first.
    public var eventTimeNanos: Int64? { newestNanos == .min ? nil : newestNanos }

    /// Whether ``applyPlacement(from:)`` can take these settings: the same zones in the same
    /// order and the same number of sensors (the tables are indexed by both).
    public func canApplyPlacement(from settings: Settings) -> Bool {
        settings.zones.map(\.id) == zoneIDs && settings.sensors.count == sensorZone.count
            && settings.sensors.allSatisfy { $0.zone >= 0 && $0.zone < zoneIDs.count }
    }

    /// Configuration reload: new zone thresholds and sensor placement apply to the slots
    /// decided from now on. Nothing already counted changes and no device is forgotten.
    /// - Precondition: ``canApplyPlacement(from:)``.
    public mutating func applyPlacement(from settings: Settings) {
        precondition(canApplyPlacement(from: settings), "zones or sensors changed; a restart is needed")
        zoneThreshold = settings.zones.map { Int16(clamping: $0.rssiThreshold) }
        sensorZone = settings.sensors.map { Int32($0.zone) }
    }
}
