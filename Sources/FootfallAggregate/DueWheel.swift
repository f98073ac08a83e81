import FootfallCore

/// Which devices the tracker's once-a-slot tick must look at: a timing wheel of device
/// numbers keyed by the slot in which something of theirs falls due.
///
/// Why: the tick used to sweep every device entry each slot to find the few whose pending
/// slot could be decided, whose visit was over or who could be forgotten. With thousands of
/// devices in the table and one tick a minute that sweep was the largest single cost of a
/// replay (docs/performance.md). Now a device is touched only in the slots where the wheel
/// says something may be due, and then by exactly the code the sweep ran for it
/// (``Tracker/settle(device:wSlot:goneSlot:)``), so every decision falls in the same tick as
/// before and the outputs are the same.
///
/// An entry is a lower bound: firing early is harmless (the device is settled, which does
/// only what is due, and its check is queued again), firing late is never allowed. Entries
/// name a device by its index and its serial number (never its pseudonym), so an entry left
/// behind by a forgotten device is recognised and dropped when its index is reused.
///
/// Bucket `s % size` holds the entries due in slot `s`, for the `size` slots after the last
/// tick; a due time further ahead is brought forward to the last of them (it fires early and
/// is queued again). Buckets keep their capacity, so steady operation allocates nothing.
struct DueWheel {
    /// What an entry stands for: a pending slot (fires once), or the device's one queued
    /// visit-end or forget check (``DeviceState/closeQueued``, ``DeviceState/evictQueued``).
    enum Kind: UInt32 {
        case pending = 0
        case close = 1
        case evict = 2
    }

    struct Entry {
        /// The device's index in the device table, the kind in the top two bits.
        var tagged: UInt32
        /// The device's serial number: an entry of a device forgotten since is dropped.
        var localID: UInt32

        var device: Int { Int(tagged & 0x3FFF_FFFF) }
        var kind: Kind { Kind(rawValue: tagged >> 30) ?? .pending }
    }

    private var buckets: [[Entry]]
    private let mask: Int64
    /// An emptied bucket, handed to the next bucket that is taken (so capacity is reused).
    private var spare: [Entry] = []
    /// The slot of the last tick (absolute slot number); `.min` before the first.
    private(set) var processedThrough: Int64 = .min

    /// - Parameter horizonSlots: how far ahead due times usually lie (an hour and a visit
    ///   gap); the wheel has the next power of two of buckets, at least 64.
    init(horizonSlots: Int) {
        var size = 64
        while size < horizonSlots && size < 1 << 14 { size <<= 1 }
        buckets = [[Entry]](repeating: [], count: size)
        mask = Int64(size - 1)
    }

    var size: Int { buckets.count }

    /// Queues `device` to be looked at in slot `due` (absolute), or in the next tick's slot
    /// if that is earlier.
    @inline(__always)
    mutating func push(device: Int, localID: UInt32, kind: Kind, due: Int64) {
        var slot = due
        if processedThrough != .min {
            if slot <= processedThrough { slot = processedThrough &+ 1 }
            if slot > processedThrough &+ (mask &+ 1) { slot = processedThrough &+ (mask &+ 1) }
        }
        let entry = Entry(tagged: UInt32(truncatingIfNeeded: device) | kind.rawValue << 30, localID: localID)
        buckets[Int(slot & mask)].append(entry)
    }

    /// Starts a tick at slot `wSlot`: returns the slots whose buckets are now due, oldest
    /// first (at most one lap of the wheel), and moves the wheel on so that entries queued
    /// while they are worked through fall due after `wSlot`.
    mutating func advance(to wSlot: Int64) -> ClosedRange<Int64>? {
        let previous = processedThrough
        guard wSlot > previous else { return nil }
        processedThrough = wSlot
        guard previous != .min else { return nil }
        return (previous + 1) ... min(wSlot, previous + mask + 1)
    }

    /// The entries of the bucket of `slot`, which is left empty; give the array back with
    /// ``recycle(_:)``.
    mutating func take(_ slot: Int64) -> [Entry] {
        var out = spare
        spare = []
        swap(&out, &buckets[Int(slot & mask)])
        return out
    }

    mutating func recycle(_ list: [Entry]) {
        var list = list
        list.removeAll(keepingCapacity: true)
        spare = list
    }

    /// Drops every entry (the device table is dropped); the slot of the last tick stays.
    mutating func removeAll() {
        for i in buckets.indices { buckets[i] = [] }
        spare = []
    }
}
