@testable import FootfallCapture
import FootfallCore
import FootfallIngest
import FootfallTestSupport
import Foundation
import Testing

private let fixtures = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/brno-sc6-61").path

/// Everything a reader returns: each record's bytes and time, then the error that ended it.
private struct Reading: Equatable {
    var records: [[UInt8]] = []
    var times: [Int64] = []
    var errorCode: CaptureError.Code?
    var errorOffset: Int64?
}

private func readAll(_ path: String, buffering: Bool) throws -> Reading {
    let reader = try CaptureFileReader(path: path, buffering: buffering)
    var reading = Reading()
    do {
        while let record = try reader.next() {
            reading.records.append(Array(record.bytes))
            reading.times.append(record.timestampNanos)
        }
    } catch {
        reading.errorCode = error.code
        reading.errorOffset = error.byteOffset
    }
    return reading
}

/// A classic pcap file built from bytes: the 24-byte file header and 16-byte record headers
/// in the chosen byte order and time resolution, radiotap link type.
private func pcapFile(bigEndian: Bool, nanosecond: Bool, snapshotLength: UInt32 = 65535, records: [(seconds: UInt32, fraction: UInt32, bytes: [UInt8])]) -> [UInt8] {
    func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian, Array.init) }
    func u16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian, Array.init) }
    var out = u32(nanosecond ? 0xa1b2_3c4d : 0xa1b2_c3d4) + u16(2) + u16(4) + u32(0) + u32(0) + u32(snapshotLength) + u32(127)
    for r in records {
        out += u32(r.seconds) + u32(r.fraction) + u32(UInt32(r.bytes.count)) + u32(UInt32(r.bytes.count)) + r.bytes
    }
    return out
}

private func temporaryFile(_ bytes: [UInt8]) throws -> String {
    let path = NSTemporaryDirectory() + "footfall-reader-\(UUID().uuidString).pcap"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

@Suite("Pcap files read in blocks agree with libpcap")
struct BufferedPcapFileTests {
    @Test func readingInBlocksReturnsExactlyWhatLibpcapReturnsForARealCapture() throws {
        let path = fixtures + "/2024-03-14_position_1.pcap"
        let buffered = try readAll(path, buffering: true)
        let viaLibpcap = try readAll(path, buffering: false)
        #expect(buffered.records.count == 17183)
        #expect(buffered == viaLibpcap)
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func bothByteOrdersAndResolutionsGiveTheSameRecordsAsLibpcap(bigEndian: Bool, nanosecond: Bool) throws {
        let file = pcapFile(bigEndian: bigEndian, nanosecond: nanosecond, records: [
            (1_710_421_200, 999_999, [0, 0, 8, 0, 0, 0, 0, 0, 0x40, 0]),
            (1_710_421_201, 5, [1, 2, 3]),
        ])
        let path = try temporaryFile(file)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let buffered = try readAll(path, buffering: true)
        #expect(buffered == (try readAll(path, buffering: false)))
        let unit: Int64 = nanosecond ? 1 : 1000
        #expect(buffered.times == [1_710_421_200 * 1_000_000_000 + 999_999 * unit, 1_710_421_201 * 1_000_000_000 + 5 * unit])
        #expect(buffered.records == [[0, 0, 8, 0, 0, 0, 0, 0, 0x40, 0], [1, 2, 3]])
    }

    /// Records of every size up to the largest libpcap takes (256 KiB), in a file of several
    /// 1 MiB blocks: records cut by a block's end, and records larger than what is left of a
    /// block, come out whole and as libpcap reads them.
    @Test(arguments: [65535 as UInt32, 262_144])
    func recordsOfEverySizeAcrossBlockBoundariesAreReadAsLibpcapReadsThem(snapshotLength: UInt32) throws {
        var generator = SplitMix64(seed: 20_261_201)
        var records: [(seconds: UInt32, fraction: UInt32, bytes: [UInt8])] = []
        var total = 0
        var index: UInt32 = 0
        while total < 5 * BufferedPcapFile.blockSize {
            let roll = generator.next() % 100
            let count = roll < 3 ? BufferedPcapFile.maximumCaptureLength : roll < 10 ? Int(generator.next() % 200_000) : Int(generator.next() % 3000)
            let fill = UInt8(truncatingIfNeeded: index)
            records.append((1_710_421_200 + index / 1000, index % 1000, [UInt8](repeating: fill, count: count)))
            total += 16 + count
            index += 1
        }
        let path = try temporaryFile(pcapFile(bigEndian: false, nanosecond: false, snapshotLength: snapshotLength, records: records))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let buffered = try readAll(path, buffering: true)
        #expect(buffered.records.count == records.count)
        #expect(buffered.errorCode == nil)
        #expect(buffered == (try readAll(path, buffering: false)))
        // Each record is its own bytes, cut to the snapshot length.
        #expect(buffered.records.enumerated().allSatisfy { i, bytes in
            bytes.count == min(records[i].bytes.count, Int(snapshotLength)) && bytes.allSatisfy { $0 == UInt8(truncatingIfNeeded: i) }
        })
    }

    @Test(arguments: [3, 10, 30])
    func aFileCutInsideARecordIsTruncatedAtThatRecordAfterEveryRecordBeforeIt(cutBytes: Int) throws {
        let whole = pcapFile(bigEndian: false, nanosecond: false, records: [
            (1_710_000_100, 1, Array(repeating: 7, count: 20)),
            (1_710_000_101, 2, Array(repeating: 8, count: 20)),
        ])
        let path = try temporaryFile(Array(whole.dropLast(cutBytes)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let buffered = try readAll(path, buffering: true)
        #expect(buffered.records.count == 1)
        #expect(buffered.errorCode == .truncated)
        #expect(buffered.errorOffset == Int64(24 + 16 + 20))
        #expect(buffered == (try readAll(path, buffering: false)))
    }
}
