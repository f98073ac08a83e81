@testable import FootfallAggregate
import FootfallTestSupport
import Testing

/// A day's table of zone masks per device serial (``DayMasks``) against a dictionary doing
/// the same, for every entry width.
@Suite("Day masks")
struct DayMasksTests {
    static func collect(_ masks: DayMasks) -> [(UInt64, UInt64)] {
        var out: [(UInt64, UInt64)] = []
        masks.forEach { out.append(($0, $1)) }
        return out
    }

    @Test(arguments: [1, 2, 3, 16, 17, 32, 33, 64])
    func mergingKeepsEveryDevicesZonesAsADictionaryWould(zones: Int) {
        var generator = SplitMix64(seed: UInt64(zones))
        var masks = DayMasks(zoneCount: zones)
        var reference: [UInt32: (UInt64, UInt64)] = [:]
        let all: UInt64 = zones == 64 ? ~0 : (1 << UInt64(zones)) - 1
        // Serials from 5,000 on, then some older ones (a device kept from before midnight).
        for step in 0 ..< 6000 {
            let serial = step < 5000 ? UInt32(5000 + Int.random(in: 0 ..< 3000, using: &generator)) : UInt32(Int.random(in: 4000 ..< 8000, using: &generator))
            let zone = UInt64(Int.random(in: 0 ..< zones, using: &generator))
            let heard: UInt64 = 1 << zone | (UInt64.random(in: 0 ... .max, using: &generator) & all & 0x5)
            let visited: UInt64 = Bool.random(using: &generator) ? heard & UInt64.random(in: 0 ... .max, using: &generator) : 0
            masks.merge(localID: serial, heard: heard, visited: visited)
            let old = reference[serial] ?? (0, 0)
            reference[serial] = (old.0 | heard, old.1 | visited)
        }
        #expect(masks.count == reference.count)
        let expected = reference.sorted { $0.key < $1.key }.map(\.value)
        let got = Self.collect(masks)
        #expect(got.count == expected.count)
        #expect(zip(got, expected).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }, "masks in serial order, as merged")
    }

    @Test func aOneZoneSiteTakesTwoBitsPerDevice() {
        #expect(DayMasks(zoneCount: 1).entryBits == 2)
        #expect(DayMasks(zoneCount: 3).entryBits == 8)
        #expect(DayMasks(zoneCount: 32).entryBits == 64)
        #expect(DayMasks(zoneCount: 33).entryBits == 128)
    }
}
