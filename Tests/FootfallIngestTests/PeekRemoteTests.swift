import FootfallTestSupport
import Testing
import FootfallCore
@testable import FootfallIngest

/// Builds PEEKREMOTE datagrams byte by byte (offsets as in packet-peekremote.c).
enum PeekRemoteBytes {
    /// A minimal 802.11 probe request (24-byte header, wildcard SSID), transmitter 02:00:00:00:00:01.
    static let frame: [UInt8] = [
        0x40, 0x00, 0x00, 0x00, // frame control (type 0 subtype 4), duration
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // addr1 broadcast
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // addr2 transmitter
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // addr3
        0x10, 0x00, // sequence control
        0x00, 0x00, // SSID element, length 0
    ]
    /// Stands in for the FCS; footfall does not check it (neither does tshark by default).
    static let fcs: [UInt8] = [0xDE, 0xAD, 0xBE, 0xEF]

    /// The 20-byte legacy header.
    static func legacy(signal: Int8, noise: Int8 = -95, channel: UInt8 = 6, flags: UInt8 = 0) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 20)
        h[0] = UInt8(bitPattern: signal)
        h[1] = UInt8(bitPattern: noise)
        h[6] = flags
        h[8 ..< 16] = [0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78][...] // TSF
        h[16] = 2 // 1 Mb/s
        h[17] = channel
        h[18] = 60
        h[19] = 5
        return h
    }

    /// The newer header, version 2 unless told otherwise, declaring `size` bytes (55).
    static func version2(signal: Int8, noise: Int8 = -92, channel: UInt16 = 36, frequency: UInt32 = 5180, flags: UInt8 = 0, version: UInt8 = 2, size: UInt32 = 55) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 55)
        h[0 ..< 4] = [0x00, 0xFF, 0xAB, 0xCD][...]
        h[4] = version
        h[5 ..< 9] = be(size, 4)[...]
        h[9 ..< 13] = [0, 0, 0, 6][...] // type: kMediaSpecificHdrType_Wireless3
        h[15 ..< 17] = be(UInt64(channel), 2)[...]
        h[17 ..< 21] = be(UInt64(frequency), 4)[...]
        h[29] = 70
        h[30] = 3
        h[31] = UInt8(bitPattern: signal)
        h[32] = UInt8(bitPattern: noise)
        h[45] = flags
        h[47 ..< 55] = be(0x0102_0304_0506_0708, 8)[...]
        return h
    }

    static func be<T: BinaryInteger>(_ value: T, _ bytes: Int) -> [UInt8] {
        let v = UInt64(value)
        return (0 ..< bytes).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64(bytes - 1 - $0))) }
    }

    static func decode(_ bytes: [UInt8]) throws(PeekRemote.DecodeError) -> PeekRemoteHeader {
        var result: Result<PeekRemoteHeader, PeekRemote.DecodeError> = .failure(.truncatedHeader)
        bytes.withUnsafeBytes { buffer in
            result = Result { () throws(PeekRemote.DecodeError) in try PeekRemote.decode(buffer) }
        }
        return try result.get()
    }

    /// Parses a datagram through the counters, returning the probe request's signal and FCS flag.
    static func parse(_ bytes: [UInt8], counters: inout PeekRemoteCounters, parse: inout ParseCounters) -> (probe: Bool, signal: Int8?, badFCS: Bool) {
        var out: (Bool, Int8?, Bool) = (false, nil, false)
        bytes.withUnsafeBytes { buffer in
            let result = counters.parse(buffer, timestampNanos: 1_710_417_600_000_000_000, counters: &parse)
            switch consume result {
            case .probeRequest(let request): out = (true, request.signalDBm, request.badFCS)
            case .other: break
            case .malformed: break
            }
        }
        return out
    }
}

@Suite("PEEKREMOTE decoder")
struct PeekRemoteTests {
    @Test func theLegacyHeaderGivesSignalNoiseChannelAndTheFrameWithoutItsFCS() throws {
        let bytes = PeekRemoteBytes.legacy(signal: -61, noise: -96, channel: 11) + PeekRemoteBytes.frame + PeekRemoteBytes.fcs
        let header = try PeekRemoteBytes.decode(bytes)
        #expect(header.format == .legacy)
        #expect(header.signalDBm == -61)
        #expect(header.noiseDBm == -96)
        #expect(header.channel == 11)
        #expect(header.frequencyMHz == nil)
        #expect(header.tsfMicroseconds == 0x1234_5678)
        #expect(header.crcError == false)
        #expect(header.payload == 20 ..< 20 + PeekRemoteBytes.frame.count)
    }

    @Test func theVersion2HeaderGivesSignalChannelFrequencyAndTheFrameWithoutItsFCS() throws {
        let bytes = PeekRemoteBytes.version2(signal: -47, noise: -90, channel: 149, frequency: 5745) + PeekRemoteBytes.frame + PeekRemoteBytes.fcs
        let header = try PeekRemoteBytes.decode(bytes)
        #expect(header.format == .version2)
        #expect(header.signalDBm == -47)
        #expect(header.noiseDBm == -90)
        #expect(header.channel == 149)
        #expect(header.frequencyMHz == 5745)
        #expect(header.tsfMicroseconds == 0x0102_0304_0506_0708)
        #expect(header.payload == 55 ..< 55 + PeekRemoteBytes.frame.count)
    }

    @Test func aZeroFrequencyMeansTheAccessPointDidNotSay() throws {
        let header = try PeekRemoteBytes.decode(PeekRemoteBytes.version2(signal: -50, frequency: 0) + PeekRemoteBytes.frame + PeekRemoteBytes.fcs)
        #expect(header.frequencyMHz == nil)
    }

    @Test func theCRCErrorFlagIsReadFromBothHeaders() throws {
        let legacy = try PeekRemoteBytes.decode(PeekRemoteBytes.legacy(signal: -50, flags: 0x02) + PeekRemoteBytes.frame + PeekRemoteBytes.fcs)
        let version2 = try PeekRemoteBytes.decode(PeekRemoteBytes.version2(signal: -50, flags: 0x03) + PeekRemoteBytes.frame + PeekRemoteBytes.fcs)
        let clean = try PeekRemoteBytes.decode(PeekRemoteBytes.version2(signal: -50, flags: 0x01) + PeekRemoteBytes.frame + PeekRemoteBytes.fcs)
        #expect(legacy.crcError)
        #expect(version2.crcError)
        #expect(!clean.crcError)
    }

    @Test func aDatagramEndingInsideTheFCSGivesAnEmptyFrameThatTheParserCountsAsShort() throws {
        let bytes = PeekRemoteBytes.legacy(signal: -50) + [0xDE, 0xAD]
        let header = try PeekRemoteBytes.decode(bytes)
        #expect(header.payload.isEmpty)
        var peek = PeekRemoteCounters()
        var parse = ParseCounters()
        _ = PeekRemoteBytes.parse(bytes, counters: &peek, parse: &parse)
        #expect(parse.malformedShortFrame == 1)
        #expect(parse.isConsistent)
    }

    @Test(arguments: [
        ([UInt8](), PeekRemote.DecodeError.truncatedHeader),
        (Array(repeating: 0, count: 19), .truncatedHeader), // one byte short of the legacy header
        ([0x00, 0xFF, 0xAB, 0xCD, 2, 0, 0, 0], .truncatedHeader), // magic, no complete size field
        (PeekRemoteBytes.version2(signal: -50, version: 1) + PeekRemoteBytes.frame, .unsupportedVersion),
        (PeekRemoteBytes.version2(signal: -50, version: 3) + PeekRemoteBytes.frame, .unsupportedVersion),
        (PeekRemoteBytes.version2(signal: -50, size: 54) + PeekRemoteBytes.frame, .headerLength),
        (PeekRemoteBytes.version2(signal: -50, size: 60) + PeekRemoteBytes.frame, .headerLength),
        (PeekRemoteBytes.version2(signal: -50, size: 55 + 26 + 1) + PeekRemoteBytes.frame, .headerOverrun),
        (PeekRemoteBytes.version2(signal: -50, size: 0xFFFF_FFFF) + PeekRemoteBytes.frame, .headerOverrun),
        (Array(PeekRemoteBytes.version2(signal: -50).prefix(40)), .headerOverrun), // datagram cut inside the header
    ])
    func badHeadersAreRejectedWithTheirReason(bytes: [UInt8], reason: PeekRemote.DecodeError) {
        #expect(throws: reason) { try PeekRemoteBytes.decode(bytes) }
    }

    @Test func withoutTheMagicADatagramIsReadAsTheLegacyHeader() throws {
        // Three of the four magic bytes: not the newer header.
        var bytes = PeekRemoteBytes.legacy(signal: -70) + PeekRemoteBytes.frame + PeekRemoteBytes.fcs
        bytes[0 ..< 4] = [0x00, 0xFF, 0xAB, 0xCE][...]
        let header = try PeekRemoteBytes.decode(bytes)
        #expect(header.format == .legacy)
        #expect(header.signalDBm == 0)
        #expect(header.payload.lowerBound == 20)
    }

    @Test func theHeaderSignalAndCRCFlagGoIntoTheProbeRequestAndTheCounters() {
        var peek = PeekRemoteCounters()
        var parse = ParseCounters()
        let legacy = PeekRemoteBytes.parse(PeekRemoteBytes.legacy(signal: -58, flags: 0x02) + PeekRemoteBytes.frame + PeekRemoteBytes.fcs, counters: &peek, parse: &parse)
        let version2 = PeekRemoteBytes.parse(PeekRemoteBytes.version2(signal: -44) + PeekRemoteBytes.frame + PeekRemoteBytes.fcs, counters: &peek, parse: &parse)
        #expect(legacy.probe && version2.probe)
        #expect(legacy.signal == -58)
        #expect(legacy.badFCS)
        #expect(version2.signal == -44)
        #expect(!version2.badFCS)
        #expect(parse.probeRequests == 2)
        #expect(parse.badFCS == 1)
        #expect(peek.decoded == 2)
        #expect(peek.legacy == 1)
        #expect(parse.isConsistent)
    }

    @Test func aRejectedHeaderIsOneMalformedFrameAndOneRejectionForItsReason() {
        var peek = PeekRemoteCounters()
        var parse = ParseCounters()
        let datagrams: [[UInt8]] = [
            PeekRemoteBytes.version2(signal: -50) + PeekRemoteBytes.frame + PeekRemoteBytes.fcs,
            PeekRemoteBytes.version2(signal: -50, version: 9) + PeekRemoteBytes.frame,
            PeekRemoteBytes.version2(signal: -50, size: 1000) + PeekRemoteBytes.frame,
            PeekRemoteBytes.version2(signal: -50, size: 1000) + PeekRemoteBytes.frame,
            [1, 2, 3],
        ]
        for d in datagrams { _ = PeekRemoteBytes.parse(d, counters: &peek, parse: &parse) }
        #expect(peek.datagrams == 5)
        #expect(peek.decoded == 1)
        #expect(peek.unsupportedVersion == 1)
        #expect(peek.headerOverrun == 2)
        #expect(peek.truncatedHeader == 1)
        #expect(peek.rejected == 4)
        #expect(parse.frames == 5)
        #expect(parse.malformedEncapsulation == 4)
        #expect(parse.probeRequests == 1)
        #expect(parse.isConsistent)
    }

    /// Random datagrams, and good ones with bytes flipped, cut short or lengthened: none may
    /// crash, and every one lands in exactly one bucket of both counters.
    @Test func randomAndMutatedDatagramsNeverCrashAndAreAllCounted() {
        var rng = SplitMix64(seed: 0x7065_656B_7265_6D6F)
        let seeds: [[UInt8]] = [
            PeekRemoteBytes.legacy(signal: -50) + PeekRemoteBytes.frame + PeekRemoteBytes.fcs,
            PeekRemoteBytes.version2(signal: -50) + PeekRemoteBytes.frame + PeekRemoteBytes.fcs,
        ]
        var peek = PeekRemoteCounters()
        var parse = ParseCounters()
        let rounds = 20_000
        for round in 0 ..< rounds {
            var bytes: [UInt8]
            if round % 4 == 0 {
                bytes = (0 ..< Int.random(in: 0 ... 120, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            } else {
                bytes = seeds[round & 1]
                for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) {
                    bytes[Int.random(in: 0 ..< bytes.count, using: &rng)] = UInt8.random(in: 0 ... 255, using: &rng)
                }
                switch Int.random(in: 0 ... 2, using: &rng) {
                case 0: bytes = Array(bytes.prefix(Int.random(in: 0 ... bytes.count, using: &rng)))
                case 1: bytes += (0 ..< Int.random(in: 1 ... 40, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
                default: break
                }
            }
            _ = PeekRemoteBytes.parse(bytes, counters: &peek, parse: &parse)
        }
        #expect(peek.datagrams == rounds)
        #expect(peek.decoded + peek.rejected == rounds)
        #expect(peek.decoded > 0 && peek.rejected > 0)
        #expect(parse.frames == rounds)
        #expect(parse.isConsistent)
        #expect(parse.malformedEncapsulation == peek.rejected)
    }
}
