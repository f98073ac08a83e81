import FootfallCore

/// A flat open-addressing hash table from pseudonyms to 32-bit values (linear probing,
/// power-of-two capacity, at most half full).
///
/// Why not `Dictionary<Pseudonym, …>`: a pseudonym is already the output of a keyed hash
/// (SipHash-2-4 under a secret key), so its low bits are uniform and can pick the bucket
/// directly; `Dictionary` would hash it again with its own per-process seed on every probe.
/// Each entry costs 12 bytes (two parallel arrays), 24–48 bytes per entry at the load this
/// table allows, and a lookup is one or two cache lines.
///
/// Entries are removed with backward-shift deletion (no tombstones), so a long-running table
/// that sees devices come and go does not degrade. ``removeAll()`` overwrites every key, so
/// no pseudonym stays behind in the table's memory after a key rotation (P4).
public struct PseudonymTable: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Key 0 marks an empty bucket; the pseudonym whose value is 0 is kept aside.
    @usableFromInline var keys: [UInt64]
    @usableFromInline var values: [Int32]
    @usableFromInline var mask: Int
    @usableFromInline var zeroValue: Int32?
    @usableFromInline var _count: Int = 0
    /// Entries in the table.
    public var count: Int { _count }

    /// - Parameter minimumCapacity: entries the table should hold before it first grows.
    public init(minimumCapacity: Int = 8) {
        var buckets = 16
        while buckets < 2 * minimumCapacity { buckets <<= 1 }
        keys = Array(repeating: 0, count: buckets)
        values = Array(repeating: 0, count: buckets)
        mask = buckets - 1
    }

    /// Buckets allocated (twice the entries the table holds before it grows, or more).
    public var capacity: Int { keys.count }

    /// Counts only: the keys are pseudonyms, which never reach a log line or a dump (P14).
    public var description: String { "PseudonymTable(count: \(count), capacity: \(capacity))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["count": count, "capacity": capacity]) }

    /// The value stored for `pseudonym`, or `nil`.
    @inlinable
    public func value(for pseudonym: Pseudonym) -> Int32? {
        let key = pseudonym.value
        if key == 0 { return zeroValue }
        var i = Int(truncatingIfNeeded: key) & mask
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == 0 { return nil }
            i = (i &+ 1) & mask
        }
    }

    /// Looks `pseudonym` up and inserts it with `value` when it is missing.
    /// - Returns: the value now stored, and whether this call inserted it.
    @inlinable
    public mutating func findOrInsert(_ pseudonym: Pseudonym, value: Int32) -> (value: Int32, inserted: Bool) {
        let key = pseudonym.value
        if key == 0 {
            if let existing = zeroValue { return (existing, false) }
            zeroValue = value
            _count += 1
            return (value, true)
        }
        var i = Int(truncatingIfNeeded: key) & mask
        while true {
            let k = keys[i]
            if k == key { return (values[i], false) }
            if k == 0 { break }
            i = (i &+ 1) & mask
        }
        if 2 * (_count + 1) > keys.count {
            grow()
            return findOrInsert(pseudonym, value: value)
        }
        keys[i] = key
        values[i] = value
        _count += 1
        return (value, true)
    }

    /// Inserts `pseudonym` (with value 0) when it is missing; `true` when it was.
    @inlinable @discardableResult
    public mutating func insert(_ pseudonym: Pseudonym) -> Bool {
        findOrInsert(pseudonym, value: 0).inserted
    }

    /// Inserts the pair (`pseudonym`, `scope`) — e.g. a device in one hour — when it is
    /// missing; `true` when it was. The pair is stored as one 64-bit key (the pseudonym xor a
    /// multiple of `scope`), a bijection for each scope; two different pairs share a key with
    /// probability about n²/2⁶⁵ for n pairs, far below one in a billion for any real count.
    /// Use a table for pairs or for plain pseudonyms, not both.
    @inlinable @discardableResult
    public mutating func insert(_ pseudonym: Pseudonym, scope: Int64) -> Bool {
        let mixed = pseudonym.value ^ (UInt64(bitPattern: scope) &* 0x9E37_79B9_7F4A_7C15)
        return findOrInsert(Pseudonym(value: mixed), value: 0).inserted
    }

    /// Sets the value of an entry that exists, or inserts it.
    @inlinable
    public mutating func set(_ pseudonym: Pseudonym, value: Int32) {
        let key = pseudonym.value
        if key == 0 {
            if zeroValue == nil { _count += 1 }
            zeroValue = value
            return
        }
        var i = Int(truncatingIfNeeded: key) & mask
        while true {
            let k = keys[i]
            if k == key { values[i] = value; return }
            if k == 0 { break }
            i = (i &+ 1) & mask
        }
        _ = findOrInsert(pseudonym, value: value)
    }

    /// Removes `pseudonym` when present; the entries after it in its probe run move back, so
    /// every remaining entry stays reachable without tombstones.
    public mutating func remove(_ pseudonym: Pseudonym) {
        let key = pseudonym.value
        if key == 0 {
            if zeroValue != nil { zeroValue = nil; _count -= 1 }
            return
        }
        var i = Int(truncatingIfNeeded: key) & mask
        while true {
            let k = keys[i]
            if k == key { break }
            if k == 0 { return }
            i = (i &+ 1) & mask
        }
        _count -= 1
        var hole = i
        var j = i
        while true {
            j = (j &+ 1) & mask
            let k = keys[j]
            if k == 0 { break }
            let home = Int(truncatingIfNeeded: k) & mask
            // Move k back into the hole unless its home lies cyclically in (hole, j].
            let homeAfterHole = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j)
            if !homeAfterHole {
                keys[hole] = k
                values[hole] = values[j]
                hole = j
            }
        }
        keys[hole] = 0
        values[hole] = 0
    }

    /// Forgets every entry, overwriting the keys in place.
    /// - Parameter keepingCapacity: keep the buckets allocated (the usual case at a key
    ///   rotation: about as many devices come back under the new key).
    public mutating func removeAll(keepingCapacity: Bool = true) {
        if keepingCapacity {
            for i in keys.indices { keys[i] = 0 }
            for i in values.indices { values[i] = 0 }
        } else {
            for i in keys.indices { keys[i] = 0 }
            self = PseudonymTable()
        }
        zeroValue = nil
        _count = 0
    }

    /// Calls `body` with every entry's value (in no particular order).
    public func forEachValue(_ body: (Int32) throws -> Void) rethrows {
        if let zeroValue { try body(zeroValue) }
        for i in keys.indices where keys[i] != 0 { try body(values[i]) }
    }

    @usableFromInline
    mutating func grow() {
        var oldKeys = keys
        let oldValues = values
        let buckets = keys.count * 2
        keys = Array(repeating: 0, count: buckets)
        values = Array(repeating: 0, count: buckets)
        mask = buckets - 1
        for j in oldKeys.indices where oldKeys[j] != 0 {
            var i = Int(truncatingIfNeeded: oldKeys[j]) & mask
            while keys[i] != 0 { i = (i &+ 1) & mask }
            keys[i] = oldKeys[j]
            values[i] = oldValues[j]
            oldKeys[j] = 0 // leave no pseudonym behind in the memory about to be freed
        }
    }
}
