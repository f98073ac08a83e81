/// How observations become visits, visitors, passers-by and residents (docs/output.md).
public struct VisitRules: Sendable, Equatable {
    /// RSSI smoothing slot: a device's zone is decided per slot from the strongest frame any
    /// sensor heard from it in the slot. Must divide 900 so that slots tile every local hour
    /// (all UTC offsets in use are multiples of 15 minutes).
    public var slotSeconds: Int
    /// A gap between two slots in which a device was placed in a zone that is this long or
    /// longer ends its visit; a shorter gap is bridged (the device stays in its last zone).
    /// Phones probe in bursts, minutes apart when idle, so the gap must outlast the usual
    /// silence between bursts or one stay falls apart into many.
    public var visitGapSeconds: Int
    /// After the last placed slot of a visit the device is still counted present for this
    /// long (at most ``visitGapSeconds``). A phone's last probe is not the moment its owner
    /// left: idle phones probe every few minutes, so on average the owner stays about half a
    /// probe interval longer. Counts toward presence (`avg_present`, `peak_present`), not
    /// toward dwell.
    public var presenceTailSeconds: Int
    /// A visit must have lasted at least this long (by the end of its presence in an hour)
    /// for its device to count as a visitor in that hour; shorter is a passer-by.
    public var minimumDwellSeconds: Int
    /// Frames are processed by capture time; frames more than this behind the newest frame
    /// are counted as late and dropped. At most ``slotSeconds``.
    public var latenessSeconds: Int
    /// A device address placed in a zone for at least this many hours in total within one key
    /// period is a resident (till, staff phone) from then on. Must be longer than the longest
    /// real visit (a 5-hour stay is still a person). Never applies to a group of randomised
    /// addresses (`privacy.randomised_addresses: group`), which stands for many devices.
    public var residentHours: Int
    /// The window of the fast resident rule: a vendor-assigned (not randomised) address heard
    /// in at least ``residentCoverage`` of the slots of the last window is a fixed device (PC,
    /// till, printer, smart display) and a resident from then on. At most 64 slots.
    public var residentWindowSeconds: Int
    /// Share of the window's slots (0 < c ≤ 1) in which a fixed device must have been heard,
    /// at any signal strength. A phone in a pocket probes in bursts minutes apart and stays
    /// far below it; a powered-on PC probes every minute.
    public var residentCoverage: Double

    /// Under `privacy.randomised_addresses: group`: the probe units (the first
    /// ``RandomisedCrowd/framesPerAddress`` frames of each address) one phone sends per hour.
    /// A layout whose rate is n times this is counted as n phones (at least one); 0 counts
    /// each layout as one device. Measured on labelled phones (docs/crowds.md).
    public var phoneProbeRate: Int
    /// How far back a layout's rate is measured: long enough to hold several scan bursts of
    /// an idle phone, short enough to follow a crowd that grows or leaves.
    public var crowdWindowSeconds: Int
    /// A visit counts (presence, visitor, dwell) only once one of its placed slots was heard at
    /// least this many dB above the threshold of the zone that slot was placed in; until then
    /// its device is only heard (a passer-by). Devices behind a wall or in the next room are
    /// heard for hours just above the threshold and never come near; a person in the room
    /// does, now and then. 0 turns the rule off (every placed slot is at or above the
    /// threshold). Chosen by leave-one-day-out cross-validation on the lab (docs/crowds.md).
    public var peakMarginDB: Int

    public init(slotSeconds: Int = 60, visitGapSeconds: Int = 600, presenceTailSeconds: Int = 300, minimumDwellSeconds: Int = 120, latenessSeconds: Int = 10, residentHours: Int = 6, residentWindowSeconds: Int = 1800, residentCoverage: Double = 0.9, phoneProbeRate: Int = 1200, crowdWindowSeconds: Int = 600, peakMarginDB: Int = 11) {
        self.peakMarginDB = peakMarginDB
        self.phoneProbeRate = phoneProbeRate
        self.crowdWindowSeconds = crowdWindowSeconds
        self.slotSeconds = slotSeconds
        self.visitGapSeconds = visitGapSeconds
        self.presenceTailSeconds = presenceTailSeconds
        self.minimumDwellSeconds = minimumDwellSeconds
        self.latenessSeconds = latenessSeconds
        self.residentHours = residentHours
        self.residentWindowSeconds = residentWindowSeconds
        self.residentCoverage = residentCoverage
    }

    /// The longest resident window the tracker supports: one bit per slot in a 64-bit word.
    public static let maximumResidentWindowSlots = 64
}
