@testable import FootfallCapture
import Foundation
import Testing

/// A record whose time is far from the records around it is damaged input; a capture that
/// goes quiet for hours and then carries on is not. Both ways of reading (in blocks, libpcap)
/// must agree, because a FIFO or a pcapng file is read the second way.
@Suite("Records far from their neighbours in time")
struct OutlierTimeTests {
    static let start: UInt32 = 1_710_417_600  // 2024-03-14T12:00:00Z
    static let day: Int64 = 86_400

    /// One 20-byte record per second from `start`, the record numbered `i` timed by `time(i)`
    /// (seconds after `start`), its bytes all `i` so the test can see which came back.
    static func file(count: Int, time: (Int) -> Int64) -> [UInt8] {
        let records = (0 ..< count).map { i in
            PcapFixtures.Record(seconds: UInt32(Int64(start) + time(i)), fraction: 0, bytes: Array(repeating: UInt8(i & 0xFF), count: 20))
        }
        return PcapFixtures.file(linkType: 105, records: records)
    }

    struct Read: Equatable {
        var kept: [UInt8] = []
        var outliers = 0
        var firstOffset: Int64?
    }

    static func read(_ bytes: [UInt8], buffering: Bool) throws -> Read {
        let path = try PcapFixtures.write(bytes, to: PcapFixtures.temporaryDirectory(), name: "outlier.pcap")
        let reader = try CaptureFileReader(path: path, buffering: buffering)
        var read = Read()
        while let record = try reader.next() { read.kept.append(record.bytes[0]) }
        read.outliers = reader.outlierTimes
        read.firstOffset = reader.firstOutlierOffset
        return read
    }

    /// Offset of record `i` in ``file(count:time:)``: 24-byte file header, 36 bytes a record.
    static func offset(_ i: Int) -> Int64 { Int64(24 + 36 * i) }

    @Test(arguments: [day, -day, 365 * day, 2 * 3600, -2 * 3600] as [Int64])
    func aLoneRecordFarFromItsNeighboursIsDroppedWhicheverWayTheFileIsRead(shift: Int64) throws {
        let bytes = Self.file(count: 40) { $0 == 17 ? Int64($0) + shift : Int64($0) }
        for buffering in [true, false] {
            let read = try Self.read(bytes, buffering: buffering)
            #expect(read.kept == (0 ..< 40).filter { $0 != 17 }.map { UInt8($0) }, "buffering \(buffering)")
            #expect(read.outliers == 1)
            #expect(read.firstOffset == Self.offset(17))
        }
    }

    @Test func recordsLargerThanACopySlotComeBackWhole() throws {
        // 6,000-byte records (more than the 4 KiB a look-ahead slot starts with), the first
        // of them, judged on its own, and one in the middle a day off.
        let records = (0 ..< 20).map { i in
            PcapFixtures.Record(seconds: UInt32(Int64(Self.start) + (i == 9 ? Self.day : Int64(i))), fraction: 0,
                                bytes: (0 ..< 6000).map { UInt8(truncatingIfNeeded: $0 &+ i) })
        }
        let path = try PcapFixtures.write(PcapFixtures.file(linkType: 105, records: records), to: PcapFixtures.temporaryDirectory(), name: "large.pcap")
        for buffering in [true, false] {
            let reader = try CaptureFileReader(path: path, buffering: buffering)
            var kept: [[UInt8]] = []
            while let record = try reader.next() { kept.append(Array(record.bytes)) }
            #expect(kept == records.enumerated().filter { $0.offset != 9 }.map(\.element.bytes), "buffering \(buffering)")
        }
    }

    @Test func aRecordHalfAnHourFromItsNeighboursIsKept() throws {
        let bytes = Self.file(count: 20) { $0 == 7 ? 1800 : Int64($0) }
        let read = try Self.read(bytes, buffering: true)
        #expect(read.kept.count == 20)
        #expect(read.outliers == 0)
    }

    @Test func severalDamagedRecordsInARowAreAllDropped() throws {
        let bytes = Self.file(count: 40) { (10 ..< 15).contains($0) ? Int64($0) + Self.day : Int64($0) }
        for buffering in [true, false] {
            let read = try Self.read(bytes, buffering: buffering)
            #expect(read.kept == (0 ..< 40).filter { !(10 ..< 15).contains($0) }.map { UInt8($0) })
            #expect(read.outliers == 5)
            #expect(read.firstOffset == Self.offset(10))
        }
    }

    @Test func aSnifferOffOvernightThenOnAgainIsAGapNotDamage() throws {
        // Records 0–19 in the evening, 20–39 the next morning (14 h later), staying there.
        let bytes = Self.file(count: 40) { $0 < 20 ? Int64($0) : Int64($0) + 14 * 3600 }
        for buffering in [true, false] {
            let read = try Self.read(bytes, buffering: buffering)
            #expect(read.kept == (0 ..< 40).map { UInt8($0) })
            #expect(read.outliers == 0)
        }
    }

    @Test func aDamagedFirstRecordIsDroppedAndTheRestKept() throws {
        let bytes = Self.file(count: 20) { $0 == 0 ? -Self.day : Int64($0) }
        let read = try Self.read(bytes, buffering: false)
        #expect(read.kept == (1 ..< 20).map { UInt8($0) })
        #expect(read.outliers == 1)
        #expect(read.firstOffset == Self.offset(0))
    }

    @Test func aDamagedLastRecordWithNothingAfterItIsDropped() throws {
        let bytes = Self.file(count: 20) { $0 == 19 ? Self.day : Int64($0) }
        let read = try Self.read(bytes, buffering: true)
        #expect(read.kept == (0 ..< 19).map { UInt8($0) })
        #expect(read.outliers == 1)
    }

    @Test func aFileCutShortRightAfterADamagedRecordStillEndsAsTruncatedAfterTheRecordsBeforeIt() throws {
        var bytes = Self.file(count: 12) { $0 == 9 ? Self.day : Int64($0) }
        bytes.removeLast(10)  // record 11 is cut short
        for buffering in [true, false] {
            let path = try PcapFixtures.write(bytes, to: PcapFixtures.temporaryDirectory(), name: "cut.pcap")
            let reader = try CaptureFileReader(path: path, buffering: buffering)
            var kept: [UInt8] = []
            var code: CaptureError.Code?
            do {
                while let record = try reader.next() { kept.append(record.bytes[0]) }
            } catch {
                code = error.code
            }
            #expect(kept == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10], "buffering \(buffering)")
            #expect(code == .truncated)
            #expect(reader.outlierTimes == 1)
        }
    }
}
