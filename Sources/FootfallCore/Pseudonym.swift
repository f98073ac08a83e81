/// A keyed, 64-bit pseudonym of a device address (or of an element fingerprint), valid only
/// for the key period it was made in (P2, P4, P15).
///
/// It prints as `Pseudonym(redacted)` and reflects nothing: a pseudonym must never reach a
/// file, a log line or an error message (P14). Equal pseudonyms in one key period mean the
/// same address; across periods they mean nothing.
public struct Pseudonym: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `package`: the ingest side makes pseudonyms, the aggregate side hashes its tables on
    /// them; no client of the library can read or forge one.
    @usableFromInline
    package let value: UInt64

    @inlinable
    package init(value: UInt64) {
        self.value = value
    }

    public var description: String { "Pseudonym(redacted)" }
    public var debugDescription: String { "Pseudonym(redacted)" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
