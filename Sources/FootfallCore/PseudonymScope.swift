/// Everything that holds pseudonyms implements this, so that a key rotation can make it
/// forget them (P4: "every table keyed by pseudonyms is dropped").
///
/// The contract: when ``endKeyPeriod(at:)`` returns, the conformer holds no pseudonym made
/// under the old key — not in a table, a cache, a sketch or a pending event. It may first
/// turn what it knows into anonymous counts (close open visits at `instant`, add them to the
/// hour's totals), because counts are not keyed. A device heard again after the rotation is
/// a new device to it.
///
/// The ``FootfallIngest/KeyEpoch`` owns its scope, so a conformer may be `~Copyable` (the
/// tracker is): then no copy of its tables can outlive the key period.
public protocol PseudonymScope: ~Copyable {
    /// The key period ended at `instantSeconds` (seconds since the Unix epoch).
    mutating func endKeyPeriod(at instantSeconds: Int64)
}
