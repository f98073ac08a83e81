import FootfallCore
@testable import FootfallAggregate
import FootfallTestSupport
import Testing

@Suite("Chunked array")
struct ChunkedArrayTests {
    /// More than two chunks' worth, so reads and writes cross chunk boundaries.
    static let n = 2 * ChunkedArray<Int>.chunkSize + 37

    @Test func elementsReadBackInOrderAcrossChunks() {
        var array = ChunkedArray<Int>()
        for i in 0 ..< Self.n { array.append(i * 3) }
        #expect(array.count == Self.n)
        #expect(array.indices.allSatisfy { array[$0] == $0 * 3 })
        array[ChunkedArray<Int>.chunkSize] = -1
        #expect(array[ChunkedArray<Int>.chunkSize] == -1)
        #expect(array[ChunkedArray<Int>.chunkSize - 1] == (ChunkedArray<Int>.chunkSize - 1) * 3)
    }

    @Test func aCopyIsIndependentOfTheOriginal() {
        var original = ChunkedArray<Int>()
        for i in 0 ..< Self.n { original.append(i) }
        var copy = original
        copy[5] = 500
        copy.append(7)
        original[6] = 600
        #expect(original[5] == 5 && original.count == Self.n)
        #expect(copy[6] == 6 && copy.count == Self.n + 1)
        #expect(copy[5] == 500 && original[6] == 600)
    }

    @Test func aPointerStaysValidWhileTheArrayGrows() {
        var array = ChunkedArray<Int>()
        array.append(1)
        let first = array.pointer(at: 0)
        for i in 0 ..< Self.n { array.append(i) }
        first.pointee = 42
        #expect(array[0] == 42)
    }

    @Test func sortingByKeyOrdersTheElementsAndKeepsEveryOne() {
        var random = SplitMix64(seed: 0x5EED)
        for size in [0, 1, 2, 3, 100, Self.n] {
            var array = ChunkedArray<UInt64>()
            var expected: [UInt64] = []
            for _ in 0 ..< size {
                // Few distinct keys, so equal keys are common.
                let value = random.next() % 500
                array.append(value)
                expected.append(value)
            }
            array.sort { $0 }
            #expect(array.indices.map { array[$0] } == expected.sorted(), "size \(size)")
        }
    }

    @Test func removeAllEmptiesTheArrayForReuse() {
        var array = ChunkedArray<Int>()
        for i in 0 ..< Self.n { array.append(i) }
        array.removeAll()
        #expect(array.isEmpty)
        array.append(9)
        #expect(array.count == 1 && array[0] == 9)
    }
}
