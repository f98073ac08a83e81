import FootfallCapture
import FootfallCore
@testable import FootfallGateway
@testable import FootfallIngest
import FootfallTestSupport
import Foundation
import Testing

/// Checks PEEKREMOTE streams against tshark, which dissects the same datagrams with
/// Wireshark's own PEEKREMOTE and 802.11 dissectors (no code shared with footfall).
///
/// Each packet takes the path of `footfall run`: the stream capture's decoding
/// (``StreamDatagram/decode(_:linkType:timestampNanos:counters:)``), the demultiplexer that
/// puts the frame and its hints into the ``FrameRing``, and the pipeline thread's parse
/// (``LivePipeline/parse(_:meta:timestampNanos:counters:elements:)``).
///
/// The capture is built here: real probe requests from a fixture, wrapped alternately in the
/// legacy and the version 2 header with a correct FCS, in Ethernet/IPv4/UDP to port 5000.
/// The test compares only counts and equality; it never prints an address.
@Suite("PEEKREMOTE decoder against tshark", .serialized)
struct PeekRemoteTsharkTests {
    static let isCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false
    static let tshark: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/tshark"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()

    /// How many fixture records go into the capture (enough for both formats and many signals).
    static let sample = 600

    // When tshark is missing there is no oracle. Outside CI the test is skipped with this
    // reason; with CI set it runs and fails, so a CI image without tshark cannot pass silently.
    @Test(.enabled(if: PeekRemoteTsharkTests.tshark != nil || PeekRemoteTsharkTests.isCI, "tshark (Wireshark) is not installed, so there is no oracle to compare with; install tshark to run this test"))
    func theDecoderFindsTheSameFramesSourcesSignalsAndFCSBoundaryAsTshark() throws {
        let tshark = try #require(Self.tshark, "tshark is not installed but CI is set: install tshark (Wireshark) in the CI image")
        let fixture = try PcapRecords(path: PcapRecords.fixture("brno-sc6-61/2024-03-07_position_1.pcap"))
        try #require(fixture.linkType == 127)
        let frames = fixture.records.prefix(Self.sample).map { record in
            // Radiotap it_len (little-endian at 2); these captures carry no FCS.
            Array(record[(Int(record[2]) | Int(record[3]) << 8)...])
        }
        try #require(frames.count == Self.sample)

        var packets: [[UInt8]] = []
        var sentSignals: [Int8] = []
        for (i, frame) in frames.enumerated() {
            let signal = Int8(-20 - i % 75)
            sentSignals.append(signal)
            let payload = (i % 2 == 0 ? Self.legacyHeader(signal: signal) : Self.version2Header(signal: signal)) + frame + Self.fcs(frame)
            packets.append(Self.ethernetIPv4UDP(payload, source: 0xC000_0200 | UInt32(1 + i % 3), destinationPort: 5000))
        }
        let path = try Self.writePcap(packets)
        defer { try? FileManager.default.removeItem(atPath: path) }

        // Ours: what `footfall run` does with each captured packet.
        var peek = PeekRemoteCounters()
        var parse = ParseCounters()
        var demux = TZSPDemux(routes: (1 ... 3).map { TZSPRoute(sender: IPv4Address(value: 0xC000_0200 | UInt32($0)), sensor: 0) })
        let ring = FrameRing(capacity: 4)
        var ours: [(probe: Bool, source: UInt64, signal: Int8?, frameLength: Int)] = []
        for packet in packets {
            packet.withUnsafeBytes { bytes in
                guard let datagram = PeekRemoteDatagram.decode(bytes, linkType: .ethernet, timestampNanos: 0, counters: &peek) else {
                    ours.append((false, 0, nil, -1))
                    return
                }
                guard case .queued = demux.route(sender: datagram.sender, header: datagram.header, datagram: datagram.bytes, timestampNanos: 0, into: ring) else {
                    ours.append((false, 0, nil, -1))
                    return
                }
                ring.consume(timeoutNanos: 0) { frame, meta in
                    let result = LivePipeline.parse(frame, meta: meta, timestampNanos: 0, counters: &parse, elements: .full)
                    switch consume result {
                    case .probeRequest(let request): ours.append((true, request.source.bits, request.signalDBm, frame.count))
                    case .other: ours.append((false, 0, nil, frame.count))
                    case .malformed: ours.append((false, 0, nil, frame.count))
                    }
                }
            }
        }

        // tshark's: one line per packet. With `wlan.check_checksum` on, `wlan.fcs.status` is 1
        // when the FCS it found matches the frame it delimited (0 bad, 2 unchecked): it puts
        // the FCS exactly where we cut it off.
        let result = try runProgram(tshark, [
            "-n", "-r", path, "-d", "udp.port==5000,peekremote", "-o", "wlan.check_checksum:TRUE",
            "-T", "fields", "-E", "occurrence=f",
            "-e", "wlan.fc.type_subtype", "-e", "wlan.sa", "-e", "peekremote.signal_dbm", "-e", "wlan.fcs.status", "-e", "peekremote.header_version",
        ])
        try #require(result.status == 0, "tshark failed with status \(result.status)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        try #require(lines.count == packets.count, "tshark printed \(lines.count) lines for \(packets.count) packets")

        var probeMismatches = 0, sourceMismatches = 0, signalMismatches = 0, sentSignalMismatches = 0, badFCS = 0, versionMismatches = 0
        for (i, fields) in lines.enumerated() {
            guard fields.count == 5 else { probeMismatches += 1; continue }
            let theirsProbe = Self.integer(fields[0]) == 4
            if theirsProbe != ours[i].probe { probeMismatches += 1 }
            if Self.macBits(fields[1]) != ours[i].source { sourceMismatches += 1 }
            if Int8(fields[2]) != ours[i].signal { signalMismatches += 1 }
            if ours[i].signal != sentSignals[i] { sentSignalMismatches += 1 }
            if fields[3] != "1" { badFCS += 1 }
            // Legacy datagrams have no header version; version 2 ones say 2.
            if fields[4] != (i % 2 == 0 ? "" : "2") { versionMismatches += 1 }
        }
        let notProbeRequests = ours.filter { !$0.probe }.count
        #expect(notProbeRequests == 0)
        #expect(probeMismatches == 0)
        #expect(sourceMismatches == 0)
        #expect(signalMismatches == 0)
        #expect(sentSignalMismatches == 0)
        #expect(badFCS == 0)
        #expect(versionMismatches == 0)
        // Our frame is the fixture's frame, byte for byte in length (header and FCS removed).
        let lengthMismatches = zip(ours, frames).filter { $0.frameLength != $1.count }.count
        #expect(lengthMismatches == 0)
        #expect(peek.decoded == packets.count)
        #expect(peek.legacy == (packets.count + 1) / 2)
        #expect(parse.probeRequests == packets.count)
        #expect(parse.isConsistent)
    }

    // MARK: - Building the capture

    /// Legacy header (packet-peekremote.c, `dissect_peekremote_legacy`): signal dBm at 0.
    static func legacyHeader(signal: Int8) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 20)
        h[0] = UInt8(bitPattern: signal)
        h[1] = UInt8(bitPattern: Int8(-95))
        h[16] = 2 // 1 Mb/s
        h[17] = 1 // channel
        return h
    }

    /// Version 2 header (`dissect_peekremote_new`): magic, version 2, size 55, signal dBm at 31.
    static func version2Header(signal: Int8) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 55)
        h[0 ..< 9] = [0x00, 0xFF, 0xAB, 0xCD, 2, 0, 0, 0, 55][...]
        h[12] = 6 // type
        h[16] = 1 // channel
        h[17 ..< 21] = [0, 0, 0x09, 0x6C][...] // 2412 MHz
        h[31] = UInt8(bitPattern: signal)
        h[32] = UInt8(bitPattern: Int8(-95))
        return h
    }

    /// The 802.11 FCS: CRC-32 (IEEE 802.3 polynomial, reflected) over the frame, sent least
    /// significant byte first (IEEE 802.11-2020, 9.2.4.8).
    static func fcs(_ frame: [UInt8]) -> [UInt8] {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in frame {
            crc ^= UInt32(byte)
            for _ in 0 ..< 8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        crc = ~crc
        return [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)]
    }

    /// Ethernet II, IPv4 (RFC 791, header checksum filled in) and UDP (RFC 768, no checksum)
    /// from `source` to 192.0.2.100.
    static func ethernetIPv4UDP(_ payload: [UInt8], source: UInt32, destinationPort: UInt16) -> [UInt8] {
        func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        let ethernet: [UInt8] = [0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00]
        let udp = be16(5555) + be16(Int(destinationPort)) + be16(8 + payload.count) + [0, 0]
        var ip: [UInt8] = [0x45, 0] + be16(20 + udp.count + payload.count) + [0, 0, 0, 0, 64, 17, 0, 0] + be32(source) + be32(0xC000_0264)
        var sum = 0
        for i in stride(from: 0, to: 20, by: 2) { sum += Int(ip[i]) << 8 | Int(ip[i + 1]) }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        ip[10 ..< 12] = be16(~sum & 0xFFFF)[...]
        return ethernet + ip + udp + payload
    }

    /// A classic little-endian pcap file, link type 1 (Ethernet), in a temporary directory.
    static func writePcap(_ packets: [[UInt8]]) throws -> String {
        func le32(_ v: UInt32) -> [UInt8] { (0 ..< 4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        var out = le32(0xA1B2_C3D4) + [2, 0, 4, 0] + le32(0) + le32(0) + le32(65535) + le32(1)
        for (i, packet) in packets.enumerated() {
            out += le32(1_709_806_800 + UInt32(i)) + le32(0) + le32(UInt32(packet.count)) + le32(UInt32(packet.count)) + packet
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-peekremote-\(UUID().uuidString).pcap")
        try Data(out).write(to: url)
        return url.path
    }

    /// tshark prints `wlan.fc.type_subtype` in hex (`0x0004`) or decimal depending on version.
    static func integer(_ text: String) -> Int? {
        text.hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
    }

    /// `aa:bb:cc:dd:ee:ff` as the low 48 bits, first octet most significant (as ``RawMAC`` stores it).
    static func macBits(_ text: String) -> UInt64? {
        let parts = text.split(separator: ":")
        guard parts.count == 6 else { return nil }
        var bits: UInt64 = 0
        for part in parts {
            guard let octet = UInt8(part, radix: 16) else { return nil }
            bits = bits << 8 | UInt64(octet)
        }
        return bits
    }
}
