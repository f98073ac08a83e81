import FootfallCore

/// Per device serial number, the zones a device was heard in and the zones it was a visitor
/// of during one local day (a day's tally, ``DayTally``): a flat table of bit masks indexed by
/// the serial number, in chunks that never move.
///
/// Why not a dictionary: a day can hold every device of a busy key period, and
/// `[UInt32: (heard: UInt64, visited: UInt64)]` cost about 40 bytes per device (20-byte
/// entries at most three quarters full, plus the table left behind each time it doubled);
/// here a device takes two bits per zone, rounded up to a power of two (two bits in a
/// one-zone site). Serial numbers are handed out in order (``Tracker/nextLocalID``), so the
/// serials of one day are close together and the table has few unused entries.
///
/// Serial numbers only, never pseudonyms; the table goes when its day is reported.
struct DayMasks {
    /// Bits per entry: the heard mask in the low half, the visited mask in the high half; a
    /// power of two from 2 to 64 (at most 32 zones), or 128 (two words per entry) for more.
    let entryBits: Int
    private var words = ChunkedArray<UInt64>()
    /// The serial number of entry 0 (set by the first device merged).
    private var base: UInt32 = 0
    /// Entries that can be addressed without growing.
    private var capacity = 0
    /// Devices with an entry (every merged device was heard in some zone).
    private(set) var count = 0

    init(zoneCount: Int) {
        var bits = 2
        while bits < 2 * zoneCount { bits <<= 1 }
        entryBits = bits
    }

    private var perWord: Int { entryBits >= 64 ? 1 : 64 / entryBits }

    /// Adds a device's zones of one hour (`heard` non-zero) to its day.
    mutating func merge(localID: UInt32, heard: UInt64, visited: UInt64) {
        if capacity == 0 { base = localID }
        var distance = localID &- base
        if distance >= 1 << 31 {
            // A serial older than the first one merged (a device kept from before it): start
            // again from that serial (rare; only a device table kept across midnight has one).
            rebase(to: localID)
            distance = 0
        }
        let i = Int(distance)
        if i >= capacity { grow(toHold: i) }
        let (h, v) = entry(i)
        if h == 0 { count += 1 }
        setEntry(i, heard: h | heard, visited: v | visited)
    }

    /// Calls `body` with the masks of every device in the table.
    func forEach(_ body: (_ heard: UInt64, _ visited: UInt64) -> Void) {
        for i in 0 ..< capacity {
            let (h, v) = entry(i)
            if h != 0 { body(h, v) }
        }
    }

    private func entry(_ i: Int) -> (heard: UInt64, visited: UInt64) {
        if entryBits == 128 { return (words[2 * i], words[2 * i + 1]) }
        let half = entryBits / 2
        let word = words[i / perWord]
        let bits = entryBits == 64 ? word : (word >> UInt64((i % perWord) * entryBits)) & ((1 << UInt64(entryBits)) - 1)
        let halfMask: UInt64 = (1 << UInt64(half)) - 1
        return (bits & halfMask, bits >> UInt64(half))
    }

    private mutating func setEntry(_ i: Int, heard: UInt64, visited: UInt64) {
        if entryBits == 128 {
            words[2 * i] = heard
            words[2 * i + 1] = visited
            return
        }
        let half = UInt64(entryBits / 2)
        let bits = heard | visited << half
        if entryBits == 64 {
            words[i] = bits
            return
        }
        let shift = UInt64((i % perWord) * entryBits)
        let mask: UInt64 = ((1 << UInt64(entryBits)) - 1) << shift
        let w = i / perWord
        words[w] = (words[w] & ~mask) | (bits << shift)
    }

    private mutating func grow(toHold i: Int) {
        let wordsNeeded = entryBits == 128 ? 2 * (i + 1) : i / perWord + 1
        words.append(repeating: 0, count: wordsNeeded - words.count)
        capacity = entryBits == 128 ? words.count / 2 : words.count * perWord
    }

    private mutating func rebase(to newBase: UInt32) {
        var fresh = DayMasks(entryBits: entryBits)
        fresh.base = newBase
        // The first merge sets the base only on an empty table: grow it first.
        fresh.grow(toHold: 0)
        for i in 0 ..< capacity {
            let (h, v) = entry(i)
            if h != 0 { fresh.merge(localID: base &+ UInt32(i), heard: h, visited: v) }
        }
        self = fresh
    }

    private init(entryBits: Int) {
        self.entryBits = entryBits
    }
}
