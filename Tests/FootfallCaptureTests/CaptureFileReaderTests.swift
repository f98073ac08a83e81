import Foundation
import Testing
@testable import FootfallCapture
import FootfallCore
import FootfallIngest

/// Reads a whole file; returns the records' bytes and timestamps, and the error that ended it.
private func readAll(_ path: String) throws(CaptureError) -> (records: [(bytes: [UInt8], nanos: Int64)], error: CaptureError?) {
    let reader = try CaptureFileReader(path: path)
    var records: [(bytes: [UInt8], nanos: Int64)] = []
    do {
        while let record = try reader.next() {
            records.append((Array(record.bytes), record.timestampNanos))
        }
    } catch {
        return (records, error)
    }
    return (records, nil)
}

private let frameA: [UInt8] = Array(repeating: 0xA1, count: 40)
private let frameB: [UInt8] = Array(repeating: 0xB2, count: 57)
private let frameC: [UInt8] = Array(repeating: 0xC3, count: 33)

@Suite("Capture file reader")
struct CaptureFileReaderTests {
    @Test(arguments: PcapFixtures.fixtureNames)
    func readerDeliversEveryRecordOfARealCapture(name: String) throws {
        let path = PcapFixtures.fixtureDirectory.appendingPathComponent(name).path
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let offsets = PcapFixtures.recordOffsets(data)
        let reader = try CaptureFileReader(path: path)
        #expect(reader.linkType == .ieee80211Radiotap)
        var count = 0
        var capturedBytes = 0
        var firstSeconds: Int64?
        while let record = try reader.next() {
            if count == 0 { firstSeconds = record.timestampNanos / 1_000_000_000 }
            count += 1
            capturedBytes += record.bytes.count
        }
        #expect(offsets.count > 0)
        #expect(count == offsets.count)
        #expect(capturedBytes == offsets.reduce(0) { $0 + Int(PcapFixtures.readLE32(data, $1 + 8)) })
        #expect(firstSeconds == Int64(PcapFixtures.readLE32(data, offsets[0])))
        // After the end, the reader stays at the end.
        #expect(try reader.next() == nil)
    }

    @Test func recordsCarryTheCapturedBytesAndNanosecondTimestamps() throws {
        let dir = try PcapFixtures.temporaryDirectory()
        let micro = try PcapFixtures.write(PcapFixtures.file(linkType: 105, records: [
            .init(seconds: 1_710_417_600, fraction: 123_456, bytes: frameA),
            .init(seconds: 1_710_417_601, fraction: 0, bytes: frameB),
        ]), to: dir, name: "micro.pcap")
        let nano = try PcapFixtures.write(PcapFixtures.file(linkType: 127, records: [
            .init(seconds: 1_710_417_600, fraction: 123_456_789, bytes: frameC),
        ], nanosecond: true), to: dir, name: "nano.pcap")

        let (microRecords, microError) = try readAll(micro)
        #expect(microError == nil)
        #expect(microRecords.map(\.bytes) == [frameA, frameB])
        #expect(microRecords.map(\.nanos) == [1_710_417_600_123_456_000, 1_710_417_601_000_000_000])
        #expect(try CaptureFileReader(path: micro).linkType == .ieee80211)

        let (nanoRecords, _) = try readAll(nano)
        #expect(nanoRecords.map(\.bytes) == [frameC])
        #expect(nanoRecords.map(\.nanos) == [1_710_417_600_123_456_789])
    }

    @Test(arguments: [5, 16, 16 + 20, 16 + 57 - 1])
    func aFileCutInsideARecordReportsTheRecordsOffsetAfterDeliveringEveryEarlierRecord(cutInsideThirdRecord: Int) throws {
        let whole = PcapFixtures.file(linkType: 127, records: [
            .init(seconds: 1, fraction: 0, bytes: frameA),
            .init(seconds: 2, fraction: 0, bytes: frameC),
            .init(seconds: 3, fraction: 0, bytes: frameB),
        ])
        let thirdRecordOffset = 24 + (16 + frameA.count) + (16 + frameC.count)
        let dir = try PcapFixtures.temporaryDirectory()
        let path = try PcapFixtures.write(Array(whole.prefix(thirdRecordOffset + cutInsideThirdRecord)), to: dir, name: "cut.pcap")

        let (records, error) = try readAll(path)
        #expect(records.map(\.bytes) == [frameA, frameC])
        let failure = try #require(error)
        #expect(failure.code == .truncated)
        #expect(failure.byteOffset == Int64(thirdRecordOffset))
        #expect(failure.message.contains("byte offset \(thirdRecordOffset)"))
        #expect(failure.message.contains(path))
    }

    @Test func aFileThatEndsExactlyAfterARecordIsNotTruncated() throws {
        let dir = try PcapFixtures.temporaryDirectory()
        let path = try PcapFixtures.write(PcapFixtures.file(linkType: 127, records: [.init(seconds: 1, fraction: 0, bytes: frameA)]), to: dir, name: "whole.pcap")
        let (records, error) = try readAll(path)
        #expect(records.count == 1)
        #expect(error == nil)
    }

    @Test func aRealCaptureCutShortKeepsEveryWholeRecordBeforeTheCut() throws {
        let source = PcapFixtures.fixtureDirectory.appendingPathComponent("2024-03-16_position_1.pcap")
        let data = [UInt8](try Data(contentsOf: source))
        let offsets = PcapFixtures.recordOffsets(data)
        let cutRecord = offsets.count / 2
        let dir = try PcapFixtures.temporaryDirectory()
        let path = try PcapFixtures.write(Array(data.prefix(offsets[cutRecord] + 10)), to: dir, name: "half.pcap")
        let (records, error) = try readAll(path)
        #expect(records.count == cutRecord)
        #expect(error?.code == .truncated)
        #expect(error?.byteOffset == Int64(offsets[cutRecord]))
    }

    @Test(arguments: [(UInt32(1), "link type 1 (EN10MB)"), (UInt32(113), "link type 113 (LINUX_SLL)"), (UInt32(163), "link type 163 (IEEE802_11_RADIO_AVS)")])
    func aCaptureOfAnotherLinkTypeIsRejectedNamingIt(linkType: UInt32, named: String) throws {
        let dir = try PcapFixtures.temporaryDirectory()
        let path = try PcapFixtures.write(PcapFixtures.file(linkType: linkType, records: [.init(seconds: 1, fraction: 0, bytes: frameA)]), to: dir, name: "ether.pcap")
        let error = #expect(throws: CaptureError.self) { try CaptureFileReader(path: path) }
        #expect(error?.code == .unsupportedLinkType)
        #expect(error?.message.contains(named) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("ether.pcap") == true)
        #expect(error?.message.contains("radiotap (127)") == true)
    }

    @Test func aMissingFileCannotBeOpenedAndTheErrorNamesIt() {
        let error = #expect(throws: CaptureError.self) { try CaptureFileReader(path: "/nonexistent/footfall/capture.pcap") }
        #expect(error?.code == .cannotOpen)
        #expect(error?.message.contains("/nonexistent/footfall/capture.pcap") == true)
    }

    @Test func aFileThatIsNotACaptureCannotBeOpened() throws {
        let dir = try PcapFixtures.temporaryDirectory()
        let path = try PcapFixtures.write(Array("time,zone,count\n".utf8), to: dir, name: "notes.csv")
        let error = #expect(throws: CaptureError.self) { try CaptureFileReader(path: path) }
        #expect(error?.code == .cannotOpen)
    }

    // pcapng files are made with Wireshark's editcap; the test cannot build one without it.
    @Test(.enabled(if: PcapFixtures.tool("editcap") != nil, "editcap (Wireshark) is not installed, so no pcapng file can be made to read"))
    func aPcapngCopyYieldsTheSameRecordsAsThePcapOriginal() throws {
        let source = PcapFixtures.fixtureDirectory.appendingPathComponent("2024-03-16_position_1.pcap").path
        let dir = try PcapFixtures.temporaryDirectory()
        let converted = dir.appendingPathComponent("converted.pcapng").path
        #expect(try PcapFixtures.run(PcapFixtures.tool("editcap")!, ["-F", "pcapng", source, converted]) == 0)

        let (original, originalError) = try readAll(source)
        let (copy, copyError) = try readAll(converted)
        #expect(originalError == nil)
        #expect(copyError == nil)
        #expect(copy.count == original.count)
        #expect(copy.map(\.nanos) == original.map(\.nanos))
        #expect(copy.map(\.bytes) == original.map(\.bytes))
    }

    @Test(.enabled(if: PcapFixtures.tool("editcap") != nil, "editcap (Wireshark) is not installed, so no pcapng file can be made to cut"))
    func aPcapngFileCutInsideABlockReportsTheBlocksOffset() throws {
        let source = PcapFixtures.fixtureDirectory.appendingPathComponent("2024-03-16_position_1.pcap").path
        let dir = try PcapFixtures.temporaryDirectory()
        let converted = dir.appendingPathComponent("converted.pcapng").path
        #expect(try PcapFixtures.run(PcapFixtures.tool("editcap")!, ["-F", "pcapng", source, converted]) == 0)
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: converted)))
        let blocks = PcapFixtures.pcapngPacketBlockOffsets(data)
        let cutBlock = blocks.count / 3
        let path = try PcapFixtures.write(Array(data.prefix(blocks[cutBlock] + 20)), to: dir, name: "cut.pcapng")

        let (records, error) = try readAll(path)
        #expect(records.count == cutBlock)
        #expect(error?.code == .truncated)
        #expect(error?.byteOffset == Int64(blocks[cutBlock]))
    }
}
