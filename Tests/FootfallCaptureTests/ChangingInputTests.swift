@testable import FootfallCapture
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Inputs that are not a file sitting still: a capture cut short while it is being read, and
/// a FIFO (`footfall replay <(ssh ap tcpdump -w -)`). The reader that reads regular files in
/// blocks must end a file that shrinks as truncated and must not open the path a second time
/// (a FIFO would block).
@Suite("Captures that change or stream while read")
struct ChangingInputTests {
    /// 40,000 records of 200 bytes: about 8.6 MB, several blocks long.
    static func bigCapture() -> [UInt8] {
        let frame = [UInt8](repeating: 0x5a, count: 200)
        let records = (0 ..< 40_000).map { PcapFixtures.Record(seconds: 1_710_000_000 + UInt32($0 / 100), fraction: UInt32($0 % 100), bytes: frame) }
        return PcapFixtures.file(linkType: 127, records: records)
    }

    @Test(.timeLimit(.minutes(1)))
    func aCaptureThatShrinksWhileReadEndsWithTruncatedAtTheFirstMissingRecordInsteadOfCrashing() throws {
        let bytes = Self.bigCapture()
        let directory = try PcapFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try PcapFixtures.write(bytes, to: directory, name: "shrinking.pcap")
        let reader = try CaptureFileReader(path: path, buffering: true)
        #expect(reader.isBuffered)
        var read = 0
        for _ in 0 ..< 1000 {
            guard try reader.next() != nil else { break }
            read += 1
        }
        #expect(read == 1000)
        // Cut the file to 4 MiB, past the block read so far.
        let newSize = 4 << 20
        #expect(truncate(path, off_t(newSize)) == 0)
        let offsets = PcapFixtures.recordOffsets(bytes)
        let whole = offsets.filter { $0 + 216 <= newSize }.count
        let firstCut = offsets.first { $0 + 216 > newSize }
        var failure: CaptureError?
        do {
            while try reader.next() != nil { read += 1 }
        } catch {
            failure = error
        }
        #expect(read == whole)
        #expect(failure?.code == .truncated)
        #expect(failure?.byteOffset == firstCut.map(Int64.init))
        #expect(failure?.message.contains("shrank") == true, "\(failure?.message ?? "no error")")
    }

    @Test(.timeLimit(.minutes(1)))
    func aFIFOIsStreamedToTheEndInsteadOfHanging() throws {
        let bytes = Self.bigCapture()
        let directory = try PcapFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("stream.pcap").path
        #expect(mkfifo(path, 0o600) == 0)
        let writer = Thread {
            let fd = open(path, O_WRONLY)
            guard fd >= 0 else { return }
            bytes.withUnsafeBytes { buffer in
                var at = 0
                while at < buffer.count {
                    let n = write(fd, buffer.baseAddress! + at, buffer.count - at)
                    if n <= 0 { break }
                    at += n
                }
            }
            close(fd)
        }
        writer.start()
        let reader = try CaptureFileReader(path: path, buffering: true)
        #expect(!reader.isBuffered)
        var read = 0
        while try reader.next() != nil { read += 1 }
        #expect(read == 40_000)
    }
}
