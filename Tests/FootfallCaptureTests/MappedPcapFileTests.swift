@testable import FootfallCapture
import FootfallCore
import FootfallIngest
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

private func readAll(_ path: String, mapping: Bool) throws -> Reading {
    let reader = try CaptureFileReader(path: path, mapping: mapping)
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
private func pcapFile(bigEndian: Bool, nanosecond: Bool, records: [(seconds: UInt32, fraction: UInt32, bytes: [UInt8])]) -> [UInt8] {
    func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian, Array.init) }
    func u16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian, Array.init) }
    var out = u32(nanosecond ? 0xa1b2_3c4d : 0xa1b2_c3d4) + u16(2) + u16(4) + u32(0) + u32(0) + u32(65535) + u32(127)
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

@Suite("Mapped pcap reading agrees with libpcap")
struct MappedPcapFileTests {
    @Test func mappedReadingReturnsExactlyWhatLibpcapReturnsForARealCapture() throws {
        let path = fixtures + "/2024-03-14_position_1.pcap"
        let mapped = try readAll(path, mapping: true)
        let viaLibpcap = try readAll(path, mapping: false)
        #expect(mapped.records.count == 17183)
        #expect(mapped == viaLibpcap)
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func bothByteOrdersAndResolutionsGiveTheSameRecordsAsLibpcap(bigEndian: Bool, nanosecond: Bool) throws {
        let file = pcapFile(bigEndian: bigEndian, nanosecond: nanosecond, records: [
            (1_710_421_200, 999_999, [0, 0, 8, 0, 0, 0, 0, 0, 0x40, 0]),
            (1_710_421_201, 5, [1, 2, 3]),
        ])
        let path = try temporaryFile(file)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let mapped = try readAll(path, mapping: true)
        #expect(mapped == (try readAll(path, mapping: false)))
        let unit: Int64 = nanosecond ? 1 : 1000
        #expect(mapped.times == [1_710_421_200 * 1_000_000_000 + 999_999 * unit, 1_710_421_201 * 1_000_000_000 + 5 * unit])
        #expect(mapped.records == [[0, 0, 8, 0, 0, 0, 0, 0, 0x40, 0], [1, 2, 3]])
    }

    @Test(arguments: [3, 10, 30])
    func aFileCutInsideARecordIsTruncatedAtThatRecordAfterEveryRecordBeforeIt(cutBytes: Int) throws {
        let whole = pcapFile(bigEndian: false, nanosecond: false, records: [
            (100, 1, Array(repeating: 7, count: 20)),
            (101, 2, Array(repeating: 8, count: 20)),
        ])
        let path = try temporaryFile(Array(whole.dropLast(cutBytes)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let mapped = try readAll(path, mapping: true)
        #expect(mapped.records.count == 1)
        #expect(mapped.errorCode == .truncated)
        #expect(mapped.errorOffset == Int64(24 + 16 + 20))
        #expect(mapped == (try readAll(path, mapping: false)))
    }
}
