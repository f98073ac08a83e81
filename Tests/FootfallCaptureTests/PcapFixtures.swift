import Foundation

/// Writes and walks classic pcap files in code, so each test's input is visible in the test
/// (file format: pcap-savefile(5) / draft-ietf-opsawg-pcap; all fields little-endian here).
enum PcapFixtures {
    struct Record {
        var seconds: UInt32
        var fraction: UInt32
        var bytes: [UInt8]
    }

    /// A whole pcap file. `nanosecond` selects the 0xA1B23C4D magic (fraction in ns).
    static func file(linkType: UInt32, records: [Record], nanosecond: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out += le32(nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        out += le16(2) + le16(4) // version 2.4
        out += le32(0) + le32(0) // thiszone, sigfigs
        out += le32(65535) // snaplen
        out += le32(linkType)
        for r in records {
            out += le32(r.seconds) + le32(r.fraction) + le32(UInt32(r.bytes.count)) + le32(UInt32(r.bytes.count))
            out += r.bytes
        }
        return out
    }

    /// Offsets of every record header in a classic pcap file (little-endian, as the fixtures are).
    static func recordOffsets(_ data: [UInt8]) -> [Int] {
        var offsets: [Int] = []
        var offset = 24
        while offset + 16 <= data.count {
            let captured = Int(readLE32(data, offset + 8))
            guard offset + 16 + captured <= data.count else { break }
            offsets.append(offset)
            offset += 16 + captured
        }
        return offsets
    }

    /// Offsets of every enhanced packet block (type 6) in a pcapng file.
    static func pcapngPacketBlockOffsets(_ data: [UInt8]) -> [Int] {
        var offsets: [Int] = []
        var offset = 0
        while offset + 12 <= data.count {
            let type = readLE32(data, offset)
            let length = Int(readLE32(data, offset + 4))
            guard length >= 12, offset + length <= data.count else { break }
            if type == 6 { offsets.append(offset) }
            offset += length
        }
        return offsets
    }

    static func readLE32(_ data: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(data[offset]) | UInt32(data[offset + 1]) << 8 | UInt32(data[offset + 2]) << 16 | UInt32(data[offset + 3]) << 24
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0 ..< 4).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    /// A fresh directory for one test's files.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-capture-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ bytes: [UInt8], to directory: URL, name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// The repository's real captures (Tests/Fixtures/brno-sc6-61).
    static let fixtureDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/brno-sc6-61")

    static let fixtureNames: [String] = [
        "2024-02-08_position_1.pcap", "2024-02-08_position_2.pcap",
        "2024-03-07_position_1.pcap", "2024-03-07_position_2.pcap",
        "2024-03-14_position_1.pcap", "2024-03-14_position_2.pcap",
        "2024-03-16_position_1.pcap", "2024-03-16_position_2.pcap",
    ]

    /// Full path of a tool such as `editcap`, if it is installed.
    static func tool(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
