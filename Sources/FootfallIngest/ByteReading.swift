/// The one way footfall reads an integer out of wire bytes: unaligned, with the byte order
/// said at the call (STYLE 4: radiotap and 802.11 fields are little-endian; TZSP,
/// PEEKREMOTE, IPv4 and UDP headers big-endian, network order).
///
/// No bounds check beyond the standard library's debug one: every caller checks the length
/// of a header once and then reads within it (STYLE 3), so a read never needs its own.
extension UnsafeRawBufferPointer {
    /// The little-endian integer of type `T` at `offset` (caller checked the bounds).
    @inlinable @inline(__always)
    package func littleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// The big-endian (network order) integer of type `T` at `offset` (caller checked the bounds).
    @inlinable @inline(__always)
    package func bigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Six bytes in transmission order as a 48-bit integer, the first octet most significant:
    /// a MAC address as ``RawMAC`` stores it (caller checked the bounds).
    @inlinable @inline(__always)
    package func bigEndian48(at offset: Int) -> UInt64 {
        UInt64(bigEndian(UInt32.self, at: offset)) << 16 | UInt64(bigEndian(UInt16.self, at: offset &+ 4))
    }
}
