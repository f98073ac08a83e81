import FootfallCore

/// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012) over inputs
/// of at most 8 bytes, which is all footfall hashes (a 48-bit address or a 64-bit
/// fingerprint). Specialised so that one call is one compression round plus finalisation,
/// with no allocation.
///
/// Public so that an auditor's test can check it against the reference test vectors
/// (PRIVACY.md, P2); it is a pure function and knows no key of its own.
public enum SipHash24 {
    @inline(__always) @usableFromInline
    static func rotl(_ x: UInt64, _ b: UInt64) -> UInt64 { (x << b) | (x >> (64 &- b)) }

    @inline(__always) @usableFromInline
    static func round(_ v0: inout UInt64, _ v1: inout UInt64, _ v2: inout UInt64, _ v3: inout UInt64) {
        v0 = v0 &+ v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
        v2 = v2 &+ v3; v3 = rotl(v3, 16); v3 ^= v2
        v0 = v0 &+ v3; v3 = rotl(v3, 21); v3 ^= v0
        v2 = v2 &+ v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    }

    /// SipHash-2-4 of `length` (0…7) little-endian bytes held in `message`, or of exactly
    /// 8 bytes when `length` is 8, under the key `(k0, k1)` (each read little-endian from
    /// the 16 key bytes, as the reference implementation does).
    ///
    /// - Parameters:
    ///   - k0: key bytes 0…7, little-endian.
    ///   - k1: key bytes 8…15, little-endian.
    ///   - message: the message bytes, first byte in the least significant position.
    ///   - length: number of message bytes, 0…8; bytes of `message` above it are ignored.
    /// - Returns: the 64-bit tag (the reference output's 8 bytes read little-endian).
    @inlinable
    public static func hash(k0: UInt64, k1: UInt64, message: UInt64, length: Int) -> UInt64 {
        var v0: UInt64 = 0x736f6d6570736575 ^ k0
        var v1: UInt64 = 0x646f72616e646f6d ^ k1
        var v2: UInt64 = 0x6c7967656e657261 ^ k0
        var v3: UInt64 = 0x7465646279746573 ^ k1
        var last = UInt64(truncatingIfNeeded: length) << 56
        if length == 8 {
            v3 ^= message
            round(&v0, &v1, &v2, &v3); round(&v0, &v1, &v2, &v3)
            v0 ^= message
        } else {
            last |= message & ((1 << (UInt64(length) * 8)) &- 1)
        }
        v3 ^= last
        round(&v0, &v1, &v2, &v3); round(&v0, &v1, &v2, &v3)
        v0 ^= last
        v2 ^= 0xff
        round(&v0, &v1, &v2, &v3); round(&v0, &v1, &v2, &v3)
        round(&v0, &v1, &v2, &v3); round(&v0, &v1, &v2, &v3)
        return v0 ^ v1 ^ v2 ^ v3
    }
}
