import FootfallCore
@testable import FootfallAggregate
import FootfallTestSupport
import Testing

@Suite("Pseudonym table")
struct PseudonymTableTests {

    /// Keys share their low bits (long probe runs that wrap around the end of the table) and
    /// include 0, the value the table keeps aside.
    @Test func theTableAgreesWithASetUnderRandomInsertsAndRemoves() {
        var rng = SplitMix64(seed: 42)
        var table = PseudonymTable()
        var reference: [UInt64: Int32] = [:]
        var keys: [UInt64] = [0]
        for i in 1 ..< 300 {
            let low: UInt64 = i % 3 == 0 ? 0xF : UInt64(i % 7)
            keys.append(UInt64(i) << 20 | low)
        }
        for step in 0 ..< 20_000 {
            let key = keys[Int(rng.next() % UInt64(keys.count))]
            let p = Pseudonym(value: key)
            switch rng.next() % 3 {
            case 0:
                let (value, inserted) = table.findOrInsert(p, value: Int32(step))
                #expect(inserted == (reference[key] == nil))
                if inserted { reference[key] = Int32(step) }
                #expect(value == reference[key])
            case 1:
                table.remove(p)
                reference[key] = nil
            default:
                table.set(p, value: -Int32(step))
                reference[key] = -Int32(step)
            }
            #expect(table.count == reference.count)
        }
        for key in keys { #expect(table.value(for: Pseudonym(value: key)) == reference[key]) }
    }

    @Test func aPairOfPseudonymAndScopeIsInsertedOnce() {
        var table = PseudonymTable()
        let a = Pseudonym(value: 0x1234), b = Pseudonym(value: 0x5678)
        let first = table.insert(a, scope: 1)
        let again = table.insert(a, scope: 1)
        let otherHour = table.insert(a, scope: 2)
        let otherDevice = table.insert(b, scope: 1)
        #expect(first && !again && otherHour && otherDevice)
        #expect(table.count == 3)
    }

    /// Key rotation (P4): no pseudonym stays in the table's memory.
    @Test func removeAllOverwritesEveryKey() {
        var table = PseudonymTable()
        for i in 1 ... 1000 { table.insert(Pseudonym(value: UInt64(i) &* 0x9E37_79B9_7F4A_7C15)) }
        table.removeAll()
        #expect(table.count == 0)
        #expect(table.keys.allSatisfy { $0 == 0 })
        #expect(table.value(for: Pseudonym(value: 0x9E37_79B9_7F4A_7C15)) == nil)
    }

    /// P14: printing or dumping a table shows counts, never a key.
    @Test func aTablePrintsAndReflectsAsCountsOnly() {
        var table = PseudonymTable()
        table.insert(Pseudonym(value: 0xDEAD_BEEF_CAFE_F00D))
        var dumped = ""
        dump(table, to: &dumped)
        for text in [String(describing: table), String(reflecting: table), dumped] {
            #expect(text.contains("count"))
            #expect(!text.lowercased().contains("deadbeef") && !text.contains(String(UInt64(0xDEAD_BEEF_CAFE_F00D))))
        }
    }
}
