import FootfallCore

/// Turns raw addresses into keyed pseudonyms under the current key period's key (P1, P2, P4).
///
/// The key bytes live in memory the ``KeyStore`` owns (locked, excluded from core dumps where
/// the platform allows); the pseudonymiser only reads them. `rotate` overwrites them with
/// fresh random bytes, so the old key is gone and the old pseudonyms can no longer be made.
public struct Pseudonymiser: ~Copyable {
    @usableFromInline let keys: KeyStore

    public init(keys: KeyStore) {
        self.keys = keys
    }

    /// Consumes a probe request that passed the gate and returns what the aggregation may see.
    /// - Parameters:
    ///   - request: the parsed frame; its raw address ends here.
    ///   - sensor: index of the sensor that heard it.
    ///   - keySlot: which key to use (always 0 except in strict mode, where each zone has its own).
    @inlinable
    public func observe(_ request: consuming ProbeRequest, sensor: Int, keySlot: Int = 0) -> Observation {
        let randomised = request.source.isLocallyAdministered
        let device = pseudonym(of: request.source, slot: keySlot)
        let fingerprint = Pseudonym(value: keys.hash(request.elements.fingerprint, length: 8, slot: keySlot))
        return Observation(
            timestampNanos: request.timestampNanos,
            device: device,
            fingerprint: fingerprint,
            sensor: sensor,
            signalDBm: request.signalDBm,
            randomised: randomised
        )
    }

    /// ``observe(_:sensor:keySlot:)`` for the ``Tracker``, which reads the fingerprint only
    /// of a randomised address under the `group` policy (it counts every other frame by its
    /// address pseudonym). Only then is the fingerprint hashed; otherwise the observation
    /// carries the zero pseudonym in its place, which saves one SipHash-2-4 on most frames.
    /// A fingerprint that is computed is keyed as always (P10); the zero value is the same
    /// for every frame and says nothing about the device.
    /// - Parameter grouping: `privacy.randomised_addresses` is `group`.
    @inlinable
    public func observeForTracker(_ request: consuming ProbeRequest, sensor: Int, keySlot: Int, grouping: Bool) -> Observation {
        let randomised = request.source.isLocallyAdministered
        let device = pseudonym(of: request.source, slot: keySlot)
        let fingerprint = grouping && randomised
            ? Pseudonym(value: keys.hash(request.elements.fingerprint, length: 8, slot: keySlot))
            : Pseudonym(value: 0)
        return Observation(
            timestampNanos: request.timestampNanos,
            device: device,
            fingerprint: fingerprint,
            sensor: sensor,
            signalDBm: request.signalDBm,
            randomised: randomised
        )
    }

    /// The pseudonym of an address in the current key period.
    @inlinable
    public func pseudonym(of mac: borrowing RawMAC, slot: Int = 0) -> Pseudonym {
        Pseudonym(value: keys.hash(mac.bits, length: 6, slot: slot))
    }
}

/// Memory that someone else owns and lends to a ``KeyStore`` for its key words: in
/// production `FootfallPlatform.LockedKeyMemory` (locked in RAM, excluded from core dumps).
///
/// `package`, like every way to the key words: no client of footfall's libraries can hand
/// in memory it could read the key from, or get a pointer to it.
package protocol KeyMemory: AnyObject, Sendable {
    /// The first word; stays valid as long as the conformer lives.
    var words: UnsafeMutablePointer<UInt64> { get }
    /// How many 64-bit words there are (at least 2 per key slot).
    var wordCount: Int { get }
}

/// Holds the secret keys of the current key period.
///
/// Key bytes come from the operating system's CSPRNG (`SystemRandomNumberGenerator`, which
/// is `getrandom(2)` on Linux): 128 bits per slot, never derived from the time, the host or
/// the configuration, never written anywhere, and never copied out: hashing reads them in
/// place. `FootfallPlatform.LockedKeyMemory` hands in memory that is locked (not swapped)
/// and excluded from core dumps, through ``KeyMemory``.
///
/// Replacing and destroying the keys are `package` operations: the ``KeyEpoch`` (and, for
/// its per-run key, `footfall stats`) do it; nothing outside footfall can.
public final class KeyStore: @unchecked Sendable, CustomStringConvertible, CustomReflectable {
    /// `2 × slots` words: `k0, k1` of each slot.
    @usableFromInline let words: UnsafeMutablePointer<UInt64>
    public let slots: Int
    /// Whoever owns `words` when they were lent (kept alive as long as the keys); `nil` when
    /// the store allocated them itself.
    private let memory: (any KeyMemory)?
    /// How many keys this store has had (1 after init); says nothing about the key.
    public private(set) var generation: Int = 0
    /// `destroy()` was called and no key has been made since: every word is zero.
    public private(set) var isDestroyed: Bool = false

    /// Keys in ordinary memory the store allocates (tests, and where no locked memory can
    /// be mapped).
    /// - Parameter slots: number of independent keys (one per zone in strict mode).
    public convenience init(slots: Int = 1) {
        self.init(slots: slots, words: .allocate(capacity: 2 * slots), memory: nil)
    }

    /// Keys in memory someone else owns (locked, undumpable); the store keeps `memory`
    /// alive and zeroes the keys before it lets go of it.
    /// - Parameters:
    ///   - slots: number of independent keys.
    ///   - memory: at least `2 × slots` words.
    package convenience init(slots: Int, memory: any KeyMemory) {
        precondition(memory.wordCount >= 2 * slots, "key memory too small for \(slots) slots")
        self.init(slots: slots, words: memory.words, memory: memory)
    }

    private init(slots: Int, words: UnsafeMutablePointer<UInt64>, memory: (any KeyMemory)?) {
        precondition(slots >= 1)
        self.slots = slots
        self.words = words
        self.memory = memory
        rotate()
    }

    deinit {
        destroy()
        if memory == nil { words.deallocate() }
    }

    /// Replaces every key with fresh random bytes; the old bytes are overwritten in place,
    /// so no copy of the old key survives in this store (P4).
    package func rotate() {
        var rng = SystemRandomNumberGenerator()
        for i in 0 ..< 2 * slots { words[i] = rng.next() }
        generation += 1
        isDestroyed = false
    }

    /// Overwrites every key with zeros. After this the store makes only meaningless
    /// pseudonyms (of the all-zero key) until `rotate()`.
    package func destroy() {
        KeyStore.zero(words, count: 2 * slots)
        isDestroyed = true
    }
    /// Zeroes `count` words in a function the optimiser may not look into, so the stores are
    /// not removed as dead (the memory is often freed right after).
    @inline(never) @_optimize(none)
    static func zero(_ words: UnsafeMutablePointer<UInt64>, count: Int) {
        for i in 0 ..< count { words[i] = 0 }
    }

    /// Says how many keys and which generation; never anything about the key bytes.
    public var description: String { "KeyStore(slots: \(slots), generation: \(generation))" }
    public var customMirror: Mirror { Mirror(self, children: ["slots": slots, "generation": generation]) }

    @inlinable
    func hash(_ message: UInt64, length: Int, slot: Int) -> UInt64 {
        precondition(slot >= 0 && slot < slots, "key slot out of range")
        return SipHash24.hash(k0: words[2 &* slot], k1: words[2 &* slot &+ 1], message: message, length: length)
    }
}
