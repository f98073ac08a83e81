import FootfallCore

/// How many phones stand behind the randomised addresses of one element layout, from the
/// layout's probe rate alone (docs/crowds.md).
///
/// Phones of one model and OS share an element layout, and phones of today draw a new random
/// address every scan burst (some every channel of a burst): counting layouts counts models,
/// counting addresses counts scans. What grows with the number of phones is the layout's
/// *rate*: N phones of a layout send about N times the probes of one (RateCount, arXiv
/// 2507.03873: counts from rates alone, no linking). So per layout the tracker measures the
/// rate over the last ``VisitRules/crowdWindowSeconds`` and splits the layout into
/// `L = max(1, round(rate / phone rate))` devices, *lanes*; each new address of the layout
/// takes the next lane in turn (round robin over L) and keeps it, so one address (one burst)
/// is in one lane, and each lane gets about one phone's share of the layout's bursts — it is
/// present, visits and dwells like a phone. Taking turns rather than hashing the address makes
/// the split a function of the capture alone, not of the run's random key: two replays of one
/// capture write the same files, and a burst of new addresses is spread evenly over the lanes.
///
/// The unit of rate is the **probe unit**: each address counts its first
/// ``framesPerAddress`` frames. Measured on the five labelled phones (docs/crowds.md), one
/// phone-hour is 68–134 scan bursts but 114–970 addresses and 900–10,000 frames: phones
/// that change address every channel send 1–2 frames per address, phones that keep one
/// address for a burst send 20–80. Capping each address at 8 frames brings the five
/// within a factor of 2.8 of each other (676–1,827 units per phone-hour; the three tuning
/// phones within 2.05) while staying additive: two overlapping bursts of two phones count
/// twice, which time-based burst detection cannot promise in a crowd of 300 phones of one
/// model (their bursts overlap all the time).
///
/// What is linked, and for how long (PRIVACY.md, R): nothing between addresses. Per layout
/// the tracker keeps counts per slot of the window; per address, while it is in a small
/// cache of 65,536 entries in sets of four (seconds in a busy store, until the key rotates in a
/// quiet one), how many of its frames it has counted, which sensor heard it first and its
/// lane; per layout, the lane the next new address takes (a small number, no address). All
/// of it is keyed by pseudonyms of the current key period and dropped at a rotation.
///
/// Assumptions (docs/crowds.md "Failure modes"): the phones of a layout probe at about the
/// phone rate of the configuration; a layout that probes much faster (a phone in active
/// scanning, a settings screen open) is counted as several phones, much slower ones (idle,
/// screen off) together as fewer. A single phone is always at least one device.
public struct RandomisedCrowd {
    /// Frames of one address that count toward its layout's rate.
    public static let framesPerAddress: UInt8 = 8

    let slotsPerWindow: Int
    /// Probe units one phone sends in one slot (from `phone_probe_rate` per hour).
    let unitsPerPhoneSlot: Double

    // Layout table: open addressing on the keyed fingerprint; value index into `layouts`.
    var keys: [UInt64]
    var slotOf: [Int32]
    var layouts: [Layout] = []
    var mask: Int

    // Address cache: sets of four 16-byte entries (one 64-byte cache line), chosen by bits
    // of the address pseudonym; per set, the entry the next new address replaces (first in,
    // first out). Four ways instead of one: which addresses share a set follows the run's
    // random key, so an address pushed out by another and heard again would count again
    // under one key and not under another; with four ways that needs five addresses of one
    // key period in one set, the oldest of which is heard again (docs/crowds.md).
    var cache: [CacheEntry]
    var victims: [UInt8]
    static let cacheBits = 16
    static let ways = 4

    struct CacheEntry {
        var address: UInt64 = 0
        var count: UInt8 = 0
        var sensor: Int16 = 0
        /// The lane the address took when it was first seen (fits the 16 bytes).
        var lane: UInt32 = 0
    }

    struct Layout {
        /// Units per slot over the window, a ring indexed by slot modulo its size.
        var ring: [UInt32]
        /// Newest slot with a unit, and the first slot the layout was heard in.
        var newestSlot: Int64
        /// `newestSlot` modulo the ring's size, kept so a frame needs no division.
        var newestIndex: Int32
        var firstSlot: Int64
        /// Sum of the ring over the completed slots of the window.
        var windowUnits: UInt32
        var lanes: UInt32
        /// The lane the next new address of the layout takes (round robin over `lanes`).
        var nextLane: UInt32
    }

    /// - Parameters:
    ///   - phoneProbeRate: probe units one phone sends per hour (``VisitRules/phoneProbeRate``); 0 turns lanes off.
    ///   - windowSeconds: how far back the rate is measured.
    ///   - slotSeconds: the tracker's slot.
    public init(phoneProbeRate: Int, windowSeconds: Int, slotSeconds: Int) {
        slotsPerWindow = max(1, windowSeconds / max(1, slotSeconds))
        unitsPerPhoneSlot = Double(phoneProbeRate) * Double(slotSeconds) / 3600
        keys = Array(repeating: 0, count: 64)
        slotOf = Array(repeating: -1, count: 64)
        mask = 63
        let size = phoneProbeRate > 0 ? 1 << Self.cacheBits : Self.ways
        cache = Array(repeating: CacheEntry(), count: size)
        victims = Array(repeating: 0, count: size / Self.ways)
    }

    /// Whether layouts are split into lanes at all (`phone_probe_rate` > 0).
    @inline(__always)
    public var enabled: Bool { unitsPerPhoneSlot > 0 }

    /// The device a frame of a randomised address counts for: its layout's lane for the
    /// address. Lane 0 is the layout's fingerprint itself (so a layout of one phone is the
    /// device `group` always made of it); lane i > 0 is the fingerprint mixed with i.
    /// An address takes its lane when it enters the cache: the layout's next lane in turn,
    /// after this frame has moved the rate. It keeps it while the layout has that many lanes
    /// (if the layout shrinks below it, it folds onto lane `lane mod L`); an address the cache
    /// forgot and hears again takes a new turn, as it also counts again.
    /// - Parameter sensor: the sensor that heard the frame; only the frames of the sensor
    ///   that heard the address first count toward the rate, so a phone heard by two sensors
    ///   is not two phones.
    @inline(__always)
    public mutating func entity(layout: Pseudonym, address: Pseudonym, sensor: Int, slot: Int64) -> Pseudonym {
        let l = layoutIndex(layout.value | (layout.value == 0 ? 1 : 0), slot: slot)
        // Count the address's first frames (the cache forgets an address when another takes
        // its entry: it then counts again, a few units more, never fewer).
        let set = Int(truncatingIfNeeded: address.value >> 20) & (victims.count - 1)
        let s = Int16(truncatingIfNeeded: sensor)
        var fresh = false
        var c = set &* Self.ways
        let counted = cache.withUnsafeMutableBufferPointer { entries in
            var found = false
            for way in 0 ..< Self.ways where entries[c &+ way].address == address.value {
                c &+= way
                found = true
                break
            }
            if !found {
                // An empty entry of the set if there is one (they fill in order), else the
                // oldest: the victim pointer goes round the four.
                c &+= victims.withUnsafeMutableBufferPointer { v in
                    let way = Int(v[set])
                    v[set] = UInt8((way &+ 1) & (Self.ways - 1))
                    return way
                }
                entries[c] = CacheEntry(address: address.value, count: 0, sensor: s, lane: 0)
                fresh = true
            }
            guard entries[c].count < Self.framesPerAddress && entries[c].sensor == s else { return false }
            entries[c].count &+= 1
            return true
        }
        if counted {
            advance(l, to: slot)
            // The slot in progress is the ring's newest one (a late frame of an older slot,
            // rare, takes the division).
            let i = slot == layouts[l].newestSlot ? Int(layouts[l].newestIndex) : Int(slot % Int64(layouts[l].ring.count))
            layouts[l].ring[i] &+= 1
        }
        let lanes = layouts[l].lanes
        var lane: UInt32
        if fresh {
            // Round robin: the next lane in turn, from 0 again past the last one.
            lane = layouts[l].nextLane < lanes ? layouts[l].nextLane : 0
            layouts[l].nextLane = lane &+ 1
            cache.withUnsafeMutableBufferPointer { $0[c].lane = lane }
        } else {
            lane = cache.withUnsafeBufferPointer { $0[c].lane }
            if lane >= lanes { lane %= max(1, lanes) }
        }
        if lane == 0 { return layout }
        return Pseudonym(value: layout.value ^ (UInt64(lane) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// Moves a layout's ring to `slot`: each slot that completes joins the window sum and the
    /// slot that falls out of the window leaves it; then the lane count is recomputed as the
    /// window's units over what one phone sends in a window (a layout heard for less than a
    /// window is measured over a whole one, so one phone's first burst never makes it many).
    @inline(__always)
    mutating func advance(_ l: Int, to slot: Int64) {
        let newest = layouts[l].newestSlot
        guard slot > newest else { return }
        let w = Int64(slotsPerWindow)
        let size = w + 1
        if slot - newest > size {
            // Silent for longer than the window: nothing of it is left.
            for i in layouts[l].ring.indices { layouts[l].ring[i] = 0 }
            layouts[l].windowUnits = 0
        } else {
            var c = newest
            while c < slot {
                layouts[l].windowUnits &+= layouts[l].ring[Int(c % size)]
                // The window is now the w slots up to c; slot c − w leaves. Its ring entry is
                // the one slot c + 1 takes over, so read it before clearing it.
                let next = Int((c + 1) % size)
                if c - w >= layouts[l].firstSlot { layouts[l].windowUnits &-= layouts[l].ring[next] }
                layouts[l].ring[next] = 0
                c += 1
            }
        }
        layouts[l].newestSlot = slot
        layouts[l].newestIndex = Int32(truncatingIfNeeded: slot % size)
        let phones = Double(layouts[l].windowUnits) / (unitsPerPhoneSlot * Double(w))
        layouts[l].lanes = UInt32(max(1, min(1_048_576, phones.rounded())))
    }

    @inline(__always)
    mutating func layoutIndex(_ key: UInt64, slot: Int64) -> Int {
        var i = Int(truncatingIfNeeded: key) & mask
        while true {
            let k = keys[i]
            if k == key { return Int(slotOf[i]) }
            if k == 0 { break }
            i = (i &+ 1) & mask
        }
        if 2 * (layouts.count + 1) > keys.count {
            grow()
            return layoutIndex(key, slot: slot)
        }
        keys[i] = key
        slotOf[i] = Int32(layouts.count)
        // The ring holds the window and the slot in progress.
        layouts.append(Layout(ring: Array(repeating: 0, count: slotsPerWindow + 1), newestSlot: slot, newestIndex: Int32(truncatingIfNeeded: slot % Int64(slotsPerWindow + 1)), firstSlot: slot, windowUnits: 0, lanes: 1, nextLane: 0))
        return layouts.count - 1
    }

    mutating func grow() {
        let oldKeys = keys, oldSlots = slotOf
        keys = Array(repeating: 0, count: oldKeys.count * 2)
        slotOf = Array(repeating: -1, count: oldKeys.count * 2)
        mask = keys.count - 1
        for (k, s) in zip(oldKeys, oldSlots) where k != 0 {
            var i = Int(truncatingIfNeeded: k) & mask
            while keys[i] != 0 { i = (i &+ 1) & mask }
            keys[i] = k
            slotOf[i] = s
        }
    }

    /// Forgets every layout and address (key rotation: all of it is keyed by the old key).
    /// The keyed values are overwritten in place (one bulk store per array), not only released.
    public mutating func reset() {
        keys.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        slotOf.withUnsafeMutableBufferPointer { $0.update(repeating: -1) }
        layouts.removeAll()
        cache.withUnsafeMutableBufferPointer { $0.update(repeating: CacheEntry()) }
        victims.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Layouts held (for memory accounting and tests).
    public var layoutCount: Int { layouts.count }
}
