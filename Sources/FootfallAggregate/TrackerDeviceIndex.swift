import FootfallCore

/// The tracker's pseudonym → device lookup: a flat open-addressing table whose buckets hold
/// only the 32-bit index of the device in the tracker's `devices` array (−1 when empty); the
/// pseudonym itself is read from the device entry, which the caller touches next anyway.
///
/// 4 bytes per bucket at a load of at most 1/2 is 8–16 bytes per device, where
/// `Dictionary<Pseudonym, Int32>` took 16–32 and hashed every key again with its own seed.
/// Pseudonyms are keyed SipHash outputs, so their low bits pick the bucket directly. Linear
/// probing; removal shifts the rest of the probe run back, so there are no tombstones.
struct DeviceIndex {
    private var buckets: [Int32]
    private var mask: Int
    private(set) var count = 0

    init() {
        buckets = Array(repeating: -1, count: 16)
        mask = 15
    }

    @inline(__always)
    private func home(_ pseudonym: Pseudonym) -> Int {
        Int(truncatingIfNeeded: pseudonym.value) & mask
    }

    /// The device holding `pseudonym`, or `nil`.
    @inline(__always)
    func find(_ pseudonym: Pseudonym, in devices: ChunkedArray<DeviceState>) -> Int32? {
        var i = home(pseudonym)
        while true {
            let d = buckets[i]
            if d < 0 { return nil }
            if devices[Int(d)].pseudonym == pseudonym { return d }
            i = (i &+ 1) & mask
        }
    }

    /// Adds `pseudonym` (not present) as device `device`; `devices[device]` must hold it.
    mutating func insert(_ pseudonym: Pseudonym, device: Int32, in devices: ChunkedArray<DeviceState>) {
        if 2 * (count + 1) > buckets.count { grow(devices) }
        var i = home(pseudonym)
        while buckets[i] >= 0 { i = (i &+ 1) & mask }
        buckets[i] = device
        count += 1
    }

    /// Removes `pseudonym`; `devices` must still hold every indexed device's pseudonym.
    mutating func remove(_ pseudonym: Pseudonym, in devices: ChunkedArray<DeviceState>) {
        var i = home(pseudonym)
        while true {
            let d = buckets[i]
            if d < 0 { return }
            if devices[Int(d)].pseudonym == pseudonym { break }
            i = (i &+ 1) & mask
        }
        count -= 1
        var hole = i
        var j = i
        while true {
            j = (j &+ 1) & mask
            let d = buckets[j]
            if d < 0 { break }
            let h = home(devices[Int(d)].pseudonym)
            // Leave the entry where it is when its home lies cyclically in (hole, j].
            let stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j)
            if !stays {
                buckets[hole] = d
                hole = j
            }
        }
        buckets[hole] = -1
    }

    private mutating func grow(_ devices: ChunkedArray<DeviceState>) {
        let old = buckets
        buckets = Array(repeating: -1, count: old.count * 2)
        mask = buckets.count - 1
        for d in old where d >= 0 {
            var i = home(devices[Int(d)].pseudonym)
            while buckets[i] >= 0 { i = (i &+ 1) & mask }
            buckets[i] = d
        }
    }
}
