import FootfallCore

/// A 48-bit IEEE 802 MAC address exactly as it came off the air.
///
/// This is the one type in footfall that holds an identifier in clear (privacy promise P1).
/// It is deliberately hard to misuse:
/// - It is `~Copyable`: it cannot be stored in a collection, captured by a closure, passed to
///   `print`, interpolated into a string, `dump`ed or reflected — the compiler rejects all of
///   these for non-copyable types.
/// - Its bits are `internal` to `FootfallCore`: no other module can read them.
/// - The only ways to consume it are the ``Gate`` (opt-out list, randomised-address policy)
///   and the ``Pseudonymiser``, which turns it into a keyed ``Pseudonym``.
///
/// The 48 bits are stored in the low bits of a `UInt64` in transmission order: the first
/// octet on the wire is the most significant of the six (so `aa:bb:cc:dd:ee:ff` is
/// `0xaabbccddeeff`).
public struct RawMAC: ~Copyable, Sendable {
    @usableFromInline
    internal let bits: UInt64

    @inlinable
    internal init(bits: UInt64) {
        self.bits = bits & 0xFFFF_FFFF_FFFF
    }

    /// Whether the locally-administered bit (bit 1 of the first octet) is set: the address
    /// was made up by the device (MAC randomisation) rather than assigned by its vendor.
    @inlinable
    public var isLocallyAdministered: Bool {
        (bits >> 40) & 0x02 != 0
    }

    /// Whether the group (multicast) bit is set; a transmitter address never has it.
    @inlinable
    public var isGroup: Bool {
        (bits >> 40) & 0x01 != 0
    }
}
