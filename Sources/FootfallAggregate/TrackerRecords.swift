import FootfallCore


/// What the tracker counted besides the reports; no per-device information.
public struct TrackerCounters: Sendable, Equatable {
    /// Observations taken into a slot.
    public var observations = 0
    /// Observations dropped because they came after the lateness window.
    public var late = 0
    /// Observations naming a sensor the configuration does not have.
    public var unknownSensor = 0
    /// Device entries forgotten after the visit gap.
    public var evicted = 0
    /// Devices recognised as residents (summed over key periods).
    public var residents = 0
    /// Presence decided for an hour that had already been written (dropped).
    public var afterClose = 0
    /// Key rotations seen.
    public var resets = 0

    public init() {}
}

/// The strongest frame of one device in one slot, with the slot as a full slot number.
struct SlotAggregate {
    /// Rank given to frames without a signal reading: below any real dBm, yet it places the
    /// device in the sensor's zone whatever the threshold (the source cannot tell).
    static let noSignal: Int16 = -1000
    static let none: Int64 = .min

    var slot: Int64 = SlotAggregate.none
    var rank: Int16 = SlotAggregate.noSignal - 1
    var sensor: Int32 = 0

    init(slot: Int64, rank: Int16, sensor: Int32) {
        self.slot = slot
        self.rank = rank
        self.sensor = sensor
    }
}

/// The strongest frame of one device in one slot, in 8 bytes: the slot as an offset from
/// ``Tracker/slotBase``.
struct PackedSlot {
    static let none = Int32.min

    var offset: Int32 = PackedSlot.none
    var rank: Int16 = SlotAggregate.noSignal - 1
    var sensor: Int16 = 0

    init() {}

    @inline(__always)
    init(offset: Int32, rank: Int16, sensor: Int16) {
        self.offset = offset
        self.rank = rank
        self.sensor = sensor
    }

    var isEmpty: Bool { offset == PackedSlot.none }

    @inline(__always)
    mutating func add(rank r: Int16, sensor s: Int16) {
        // Ties go to the lower sensor index so the result does not depend on arrival order.
        if r > rank || (r == rank && s < sensor) {
            rank = r
            sensor = s
        }
    }
}

/// One tracked device, packed into 64 bytes (it is most of the tracker's memory: one per
/// device heard in the last hour or so).
///
/// Slot numbers are stored as 32-bit offsets from the tracker's ``Tracker/slotBase`` (see
/// ``Tracker/rebaseIfNeeded(for:)``), ``PackedSlot/none`` standing for none. A visit is
/// named by its device and its first slot, so it needs no number of its own. Where the
/// device's last presence run and "heard" mark are is only a hint (an index into an hour's
/// records, checked before use), so no hour number is kept either.
struct DeviceState {
    var pseudonym: Pseudonym
    /// Bit i set: heard in slot `lastDecided - i` (the fast resident rule's window).
    var heardMask: UInt64 = 0
    var older = PackedSlot()
    var newer = PackedSlot()
    /// The newest slot decided (all slots up to it are decided: a frame for one of them is
    /// late), which is also the last slot the device was heard in once nothing is pending.
    var lastDecidedOffset = PackedSlot.none
    var visitStartOffset: Int32 = 0
    var lastPlacedOffset = PackedSlot.none
    var localID: UInt32
    /// Slots placed in a zone in this key period (the resident rule).
    var presentSlots: Int32 = 0
    /// Index of the device's last presence run in its hour's ``HourAccumulator/runs``.
    var runIndex: Int32 = -1
    /// Index of the device's last mark in its hour's ``HourAccumulator/marks``.
    var markIndex: Int32 = -1
    var lastZoneIndex: UInt8 = 0
    var flags: UInt8 = DeviceState.liveFlag
    /// The current visit's strongest placed slot, in dB above the threshold of the zone it
    /// was placed in (``VisitRules/peakMarginDB``); `Int16.max` for a frame without signal.
    var visitPeak: Int16 = 0

    init(pseudonym: Pseudonym, localID: UInt32) {
        self.pseudonym = pseudonym
        self.localID = localID
    }

    static let liveFlag: UInt8 = 1 << 0
    static let visitOpenFlag: UInt8 = 1 << 1
    static let residentFlag: UInt8 = 1 << 2
    static let randomisedFlag: UInt8 = 1 << 3
    static let groupFlag: UInt8 = 1 << 4
    static let closeQueuedFlag: UInt8 = 1 << 5
    static let evictQueuedFlag: UInt8 = 1 << 6

    @inline(__always) func flag(_ bit: UInt8) -> Bool { flags & bit != 0 }
    @inline(__always) mutating func setFlag(_ bit: UInt8, _ on: Bool) { flags = on ? flags | bit : flags & ~bit }

    var live: Bool { get { flag(Self.liveFlag) } set { setFlag(Self.liveFlag, newValue) } }
    var visitOpen: Bool { get { flag(Self.visitOpenFlag) } set { setFlag(Self.visitOpenFlag, newValue) } }
    var resident: Bool { get { flag(Self.residentFlag) } set { setFlag(Self.residentFlag, newValue) } }
    /// Heard from a locally administered address (never a resident by the fast rule).
    var randomised: Bool { get { flag(Self.randomisedFlag) } set { setFlag(Self.randomisedFlag, newValue) } }
    /// A group of randomised addresses with one element fingerprint (never a resident).
    var group: Bool { get { flag(Self.groupFlag) } set { setFlag(Self.groupFlag, newValue) } }
    /// The device has a visit-end check queued in the tracker's ``DueWheel`` (at most one).
    var closeQueued: Bool { get { flag(Self.closeQueuedFlag) } set { setFlag(Self.closeQueuedFlag, newValue) } }
    /// The device has a forget check queued in the tracker's ``DueWheel`` (at most one).
    var evictQueued: Bool { get { flag(Self.evictQueuedFlag) } set { setFlag(Self.evictQueuedFlag, newValue) } }

    var lastZone: Int32 {
        get { Int32(lastZoneIndex) }
        set { lastZoneIndex = UInt8(newValue) }
    }
}

/// A device in one zone for consecutive slots `[start, end)` of one visit, within one hour,
/// packed into 24 bytes (one or more per device present in the hour).
///
/// `start` and `end` count slots from the hour's ``HourAccumulator/firstSlot``: every run of
/// an hour has the same base, so lengths and the order of starts and ends are those of the
/// slot numbers themselves. They take 13 bits each (an hour has at most 7,201 one-second
/// slots) and the zone 6 bits (at most 64 zones, ``Tracker/init(settings:)``).
struct Run {
    /// Slots an hour can hold at most: `start` and `end` are below this.
    static let maximumSlot: Int32 = 1 << 13

    var localID: UInt32
    /// The visit's first slot (``DeviceState/visitStartOffset``): with `localID` it names the visit.
    var visitStart: Int32
    private var packed: UInt32
    /// Slots the visit had spent in this zone by `end`.
    var zoneDwellAtEnd: Int32
    /// Slots from the visit's start to `end`.
    var visitDwellAtEnd: Int32
    /// The visit's strongest placed slot by `end`, in dB above its zone's threshold
    /// (``DeviceState/visitPeak``): the hour counts the visit only when it reached
    /// ``VisitRules/peakMarginDB``.
    var peakAtEnd: Int16

    init(localID: UInt32, visitStart: Int32, start: Int32, end: Int32, zone: Int32, zoneDwellAtEnd: Int32, visitDwellAtEnd: Int32, peakAtEnd: Int16) {
        self.localID = localID
        self.visitStart = visitStart
        self.packed = UInt32(start) | UInt32(end) << 13 | UInt32(zone) << 26
        self.zoneDwellAtEnd = zoneDwellAtEnd
        self.visitDwellAtEnd = visitDwellAtEnd
        self.peakAtEnd = peakAtEnd
    }

    var start: Int32 { Int32(packed & 0x1FFF) }
    var end: Int32 { Int32((packed >> 13) & 0x1FFF) }
    var zone: Int32 { Int32(packed >> 26) }

    /// Device and visit in one sortable key.
    var visitKey: UInt64 { UInt64(localID) << 32 | UInt64(UInt32(bitPattern: visitStart)) }

    /// Whether presence of this device and visit in `zone` from slot `at` continues this run.
    @inline(__always)
    func continues(localID: UInt32, visitStart: Int32, zone: Int32, at slot: Int32) -> Bool {
        self.localID == localID && self.visitStart == visitStart && end == slot && self.zone == zone
    }

    mutating func extend(to end: Int32, zoneDwellAtEnd: Int32, visitDwellAtEnd: Int32, peakAtEnd: Int16) {
        packed = packed & ~(UInt32(0x1FFF) << 13) | UInt32(end) << 13
        self.zoneDwellAtEnd = zoneDwellAtEnd
        self.visitDwellAtEnd = visitDwellAtEnd
        self.peakAtEnd = peakAtEnd
    }
}

/// A device heard in a zone in an hour, in a slot too weak to place it there (placed
/// slots are recorded as ``Run``s, which say as much).
struct HeardMark {
    var localID: UInt32
    var zoneIndex: UInt8

    var zone: Int32 { Int32(zoneIndex) }
}

/// A move from one zone to another within a visit (at most 64 zones, so a byte each).
struct Transition {
    var localID: UInt32
    var visitStart: Int32
    var from: UInt8
    var to: UInt8

    var visitKey: UInt64 { UInt64(localID) << 32 | UInt64(UInt32(bitPattern: visitStart)) }
}

/// What one open hour has collected. Holds per-tracker serial numbers, never pseudonyms.
struct HourAccumulator {
    var hour: LocalHour
    /// The slot that ``Run/start`` and ``Run/end`` count from (the slot holding the hour's start).
    let firstSlot: Int64
    var runs = ChunkedArray<Run>()
    var marks = ChunkedArray<HeardMark>()
    var transitions = ChunkedArray<Transition>()
    /// Devices recognised as residents while this hour was open.
    var residents: Set<UInt32> = []
    /// What the hour adds to its day's totals, filled when the hour is closed.
    var day = DayContribution()

    init(hour: LocalHour, firstSlot: Int64) {
        self.hour = hour
        self.firstSlot = firstSlot
    }
}
