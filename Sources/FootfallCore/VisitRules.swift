/// How observations become visits, visitors, passers-by and residents (README "Definitions").
public struct VisitRules: Sendable, Equatable {
    /// RSSI smoothing slot: a device's zone is decided per slot from its strongest sensor.
    public var slotSeconds: Int
    /// A gap in hearing a device longer than this ends its visit.
    public var visitGapSeconds: Int
    /// A device present for less than this in an hour is a passer-by, not a visitor.
    public var minimumDwellSeconds: Int
    /// Frames are processed by capture time; frames later than this behind the newest are dropped.
    public var latenessSeconds: Int

    public init(slotSeconds: Int = 60, visitGapSeconds: Int = 300, minimumDwellSeconds: Int = 120, latenessSeconds: Int = 10) {
        self.slotSeconds = slotSeconds
        self.visitGapSeconds = visitGapSeconds
        self.minimumDwellSeconds = minimumDwellSeconds
        self.latenessSeconds = latenessSeconds
    }
}
