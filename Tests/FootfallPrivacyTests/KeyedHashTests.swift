import FootfallCore
import FootfallIngest
import FootfallAggregate
import Foundation
import Testing

/// P2 (keyed PRF with a random key) and P15 (64-bit pseudonyms).
@Suite("P2 keyed hash, P15 64-bit pseudonyms")
struct KeyedHashTests {
    /// The first nine SipHash-2-4 outputs of the reference implementation's `vectors.h`
    /// (`vectors_sip64`, github.com/veorq/SipHash, commit 1a7d041), key `00 01 … 0f`, message
    /// `00 01 … (n−1)` of length n, each output's 8 bytes read little-endian.
    static let referenceVectors: [UInt64] = [
        0x726f_db47_dd0e_0e31, 0x74f8_39c5_93dc_67fd, 0x0d6c_8009_d9a9_4f5a,
        0x8567_6696_d7fb_7e2d, 0xcf27_94e0_2771_87b7, 0x1876_5564_cd99_a68d,
        0xcbc9_466e_58fe_e3ce, 0xab02_00f5_8b01_d137, 0x93f5_f579_9a93_2462,
    ]

    @Test(arguments: 0 ... 8)
    func sipHashMatchesReferenceVectors(length: Int) {
        let k0: UInt64 = 0x0706_0504_0302_0100
        let k1: UInt64 = 0x0f0e_0d0c_0b0a_0908
        var message: UInt64 = 0
        for i in 0 ..< length { message |= UInt64(i) << (8 * UInt64(i)) }
        #expect(SipHash24.hash(k0: k0, k1: k1, message: message, length: length) == Self.referenceVectors[length])
    }

    @Test func twoKeyStoresGiveUnrelatedPseudonymsForTheSameAddresses() {
        let a = KeyStore(), b = KeyStore()
        var equal = 0
        var agreeingBits = 0
        let n = 2000
        for i in 0 ..< n {
            let mac = 0x02AA_0000_0000 | UInt64(i)
            let pa = bits(of: pseudonym(of: mac, keys: a)), pb = bits(of: pseudonym(of: mac, keys: b))
            if pa == pb { equal += 1 }
            agreeingBits += 64 - (pa ^ pb).nonzeroBitCount
        }
        #expect(equal == 0)
        // Unrelated 64-bit values agree in 32 bits on average; over 2000 pairs the mean lies
        // within 31…33 except with negligible probability (σ of the mean ≈ 0.09).
        let meanAgreement = Double(agreeingBits) / Double(n)
        #expect(meanAgreement > 31 && meanAgreement < 33)
    }

    /// A key derived from the time, host name or process id would repeat across stores made in
    /// the same process in the same instant; 200 stores made back to back all differ, and
    /// their key words have the bit balance of random numbers.
    @Test func keysAreFreshRandomNotDerivedFromTimeOrHost() {
        var seen = Set<UInt64>()
        var ones = 0
        let memory = InspectableKeyMemory(wordCount: 2)
        for _ in 0 ..< 200 {
            let keys = KeyStore(slots: 1, memory: memory)
            seen.insert(memory[0])
            seen.insert(memory[1])
            ones += memory[0].nonzeroBitCount + memory[1].nonzeroBitCount
            keys.destroy()
        }
        #expect(seen.count == 400)
        // 25 600 random bits: 12 800 ones expected, σ = 80.
        #expect(abs(ones - 12_800) < 800)
    }

    @Test func keyIsAtLeast128Bits() {
        let memory = InspectableKeyMemory(wordCount: 6)
        let keys = KeyStore(slots: 3, memory: memory)
        // Two independent 64-bit words per slot, all different.
        #expect(Set((0 ..< 6).map { memory[$0] }).count == 6)
        #expect(keys.slots == 3)
    }

    /// P15: with 64-bit pseudonyms, 200 000 devices in one key period collide with
    /// probability about 1e-9; with 32 bits it would be near certain.
    @Test func pseudonymsAre64BitsWideAndDoNotCollide() {
        let keys = KeyStore()
        var seen = Set<UInt64>()
        var highBitsSeen = false
        for i in 0 ..< 200_000 {
            let p = bits(of: pseudonym(of: 0xDCFB_4800_0000 | UInt64(i), keys: keys))
            seen.insert(p)
            if p >> 48 != 0 { highBitsSeen = true }
        }
        #expect(seen.count == 200_000)
        #expect(highBitsSeen)
        #expect(MemoryLayout<Pseudonym>.size == 8)
    }
}
