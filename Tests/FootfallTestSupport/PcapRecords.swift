// A tiny reader for classic pcap files (no libpcap in the parser's tests): a 24-byte
// global header, then records of a 16-byte header and `incl_len` captured bytes. Only the
// little-endian microsecond format (magic 0xa1b2c3d4 written little-endian) is read, which
// is what the fixtures use.
import Foundation

public struct PcapRecords {
    public var linkType: UInt32
    /// Each record's captured bytes.
    public var records: [[UInt8]]

    public enum Failure: Error, CustomStringConvertible {
        case unreadable(String), notLittleEndianPcap(String), truncated(String, offset: Int)
        public var description: String {
            switch self {
            case .unreadable(let path): "\(path): cannot be read"
            case .notLittleEndianPcap(let path): "\(path): not a little-endian pcap file"
            case .truncated(let path, let offset): "\(path): record at byte \(offset) is cut short"
            }
        }
    }

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure.unreadable(path) }
        let bytes = [UInt8](data)
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        guard bytes.count >= 24, u32(0) == 0xA1B2_C3D4 else { throw Failure.notLittleEndianPcap(path) }
        linkType = u32(20)
        records = []
        var at = 24
        while at < bytes.count {
            guard at + 16 <= bytes.count else { throw Failure.truncated(path, offset: at) }
            let included = Int(u32(at + 8))
            guard at + 16 + included <= bytes.count else { throw Failure.truncated(path, offset: at) }
            records.append(Array(bytes[(at + 16) ..< (at + 16 + included)]))
            at += 16 + included
        }
    }

    /// `Tests/Fixtures/<relative>`, found from this source file so the tests need no
    /// working directory and nothing outside the repository.
    public static func fixture(_ relative: String) -> String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()   // FootfallTestSupport
            .deletingLastPathComponent()   // Tests
            .appendingPathComponent("Fixtures")
            .appendingPathComponent(relative)
            .path
    }
}
