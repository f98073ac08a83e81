/// How observations become visits, visitors, passers-by and residents (OUTPUT.md "Definitions").
public struct VisitRules: Sendable, Equatable {
    /// RSSI smoothing slot: a device's zone is decided per slot from the strongest frame any
    /// sensor heard from it in the slot. Must divide 900 so that slots tile every local hour
    /// (all UTC offsets in use are multiples of 15 minutes).
    public var slotSeconds: Int
    /// A gap between two slots in which a device was placed in a zone that is this long or
    /// longer ends its visit; a shorter gap is bridged (the device stays in its last zone).
    public var visitGapSeconds: Int
    /// A visit must have lasted at least this long (by the end of its presence in an hour)
    /// for its device to count as a visitor in that hour; shorter is a passer-by.
    public var minimumDwellSeconds: Int
    /// Frames are processed by capture time; frames more than this behind the newest frame
    /// are counted as late and dropped. At most ``slotSeconds``.
    public var latenessSeconds: Int
    /// A device placed in a zone for at least this many hours in total within one key period
    /// is a resident (till, fixed PC, staff phone): from then on it is left out of every
    /// figure. Must be longer than the longest real visit (a 5-hour stay is still a person).
    public var residentHours: Int

    public init(slotSeconds: Int = 60, visitGapSeconds: Int = 300, minimumDwellSeconds: Int = 120, latenessSeconds: Int = 10, residentHours: Int = 6) {
        self.slotSeconds = slotSeconds
        self.visitGapSeconds = visitGapSeconds
        self.minimumDwellSeconds = minimumDwellSeconds
        self.latenessSeconds = latenessSeconds
        self.residentHours = residentHours
    }
}
