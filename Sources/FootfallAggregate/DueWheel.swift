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
/// name a device by its index (never its pseudonym).
///
/// Bucket `s % size` holds the entries due in slot `s`, for the `size` slots after the last
/// tick; a due time further ahead is brought forward to the last of them (it fires early and
/// is queued again). The entries live in blocks of 64 from one pool (``ChunkedArray``) that
/// buckets take from and give back, so the wheel holds about as much as is queued (4 bytes an
/// entry), never an array per bucket grown to its busiest slot, and steady operation
/// allocates nothing.
struct DueWheel {
    /// What an entry stands for: a pending slot (fires once), or the device's one queued
    /// visit-end or forget check (``DeviceState/closeQueued``, ``DeviceState/evictQueued``).
    enum Kind: UInt32 {
        case pending = 0
        case close = 1
        case evict = 2
    }

    /// The device's index in the device table, the kind in the top two bits. No serial
    /// number is needed to tell an entry left behind by a forgotten device: every entry of a
    /// device is due no later than the tick that forgets it (see
    /// ``Tracker/settle(device:wSlot:goneSlot:)``), and its index is reused only by a frame,
    /// after the tick (`DueWheelTests` counts the checks queued against the devices held).
    struct Entry {
        var tagged: UInt32

        var device: Int { Int(tagged & 0x3FFF_FFFF) }
        var kind: Kind { Kind(rawValue: tagged >> 30) ?? .pending }
    }

    /// A bucket's blocks: a list from `head` to `tail` through ``next``; `fill` entries are
    /// used in the tail block (every other block is full).
    struct Bucket {
        var head: Int32 = -1
        var tail: Int32 = -1
        var fill: Int32 = 0
    }

    static let blockShift = 6
    static var blockSize: Int { 1 << blockShift }

    private var buckets: [Bucket]
    private let mask: Int64
    /// Every block's entries, block `b` at `b * blockSize ..< (b + 1) * blockSize`.
    private var pool = ChunkedArray<Entry>()
    /// Per block: the next block of its bucket, or of the free list; −1 at the end.
    private var next = ChunkedArray<Int32>()
    private var freeBlocks: Int32 = -1
    /// The slot of the last tick (absolute slot number); `.min` before the first.
    private(set) var processedThrough: Int64 = .min

    /// - Parameter horizonSlots: how far ahead due times usually lie (an hour and a visit
    ///   gap); the wheel has the next power of two of buckets, at least 64.
    init(horizonSlots: Int) {
        var size = 64
        while size < horizonSlots && size < 1 << 14 { size <<= 1 }
        buckets = [Bucket](repeating: Bucket(), count: size)
        mask = Int64(size - 1)
    }

    var size: Int { buckets.count }

    /// Queues `device` to be looked at in slot `due` (absolute), or in the next tick's slot
    /// if that is earlier.
    @inline(__always)
    mutating func push(device: Int, kind: Kind, due: Int64) {
        var slot = due
        if processedThrough != .min {
            if slot <= processedThrough { slot = processedThrough &+ 1 }
            if slot > processedThrough &+ (mask &+ 1) { slot = processedThrough &+ (mask &+ 1) }
        }
        let entry = Entry(tagged: UInt32(truncatingIfNeeded: device) | kind.rawValue << 30)
        let b = Int(slot & mask)
        var bucket = buckets[b]
        if bucket.head < 0 {
            let block = takeBlock()
            bucket = Bucket(head: block, tail: block, fill: 0)
        } else if bucket.fill == Int32(Self.blockSize) {
            let block = takeBlock()
            next[Int(bucket.tail)] = block
            bucket.tail = block
            bucket.fill = 0
        }
        pool[Int(bucket.tail) << Self.blockShift + Int(bucket.fill)] = entry
        bucket.fill += 1
        buckets[b] = bucket
    }

    private mutating func takeBlock() -> Int32 {
        if freeBlocks >= 0 {
            let block = freeBlocks
            freeBlocks = next[Int(block)]
            next[Int(block)] = -1
            return block
        }
        let block = Int32(next.count)
        next.append(-1)
        pool.append(repeating: Entry(tagged: 0), count: Self.blockSize)
        return block
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

    /// Empties the bucket of `slot` and returns its blocks; read them with ``entry(_:_:)``
    /// and ``entries(in:of:)``, and give each back with ``release(_:)`` once read.
    mutating func take(_ slot: Int64) -> Bucket {
        let b = Int(slot & mask)
        let bucket = buckets[b]
        buckets[b] = Bucket()
        return bucket
    }

    /// How many entries block `block` of a taken bucket holds.
    func entries(in block: Int32, of bucket: Bucket) -> Int {
        block == bucket.tail ? Int(bucket.fill) : Self.blockSize
    }

    func entry(_ block: Int32, _ i: Int) -> Entry { pool[Int(block) << Self.blockShift + i] }

    func nextBlock(after block: Int32) -> Int32 { next[Int(block)] }

    /// Gives a block that has been read back to the pool.
    mutating func release(_ block: Int32) {
        next[Int(block)] = freeBlocks
        freeBlocks = block
    }

    /// How many entries of each kind are queued (tests: every visit-end and forget check
    /// queued belongs to a device that is still held; walks every bucket).
    func queuedCounts() -> [Kind: Int] {
        var counts: [Kind: Int] = [:]
        for bucket in buckets {
            var block = bucket.head
            while block >= 0 {
                for i in 0 ..< entries(in: block, of: bucket) { counts[entry(block, i).kind, default: 0] += 1 }
                block = nextBlock(after: block)
            }
        }
        return counts
    }

    /// Drops every entry and frees the pool (the device table is dropped); the slot of the
    /// last tick stays.
    mutating func removeAll() {
        for i in buckets.indices { buckets[i] = Bucket() }
        pool.removeAll()
        next.removeAll()
        freeBlocks = -1
    }
}
