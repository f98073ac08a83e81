import Testing
import FootfallCore
@testable import FootfallIngest

/// Builds TZSP datagrams byte by byte (numbers as in packet-tzsp.c).
private enum TZSPBytes {
    static let header80211: [UInt8] = [0x01, 0x00, 0x00, 0x12] // version 1, received, encapsulation 18
    /// A minimal 802.11 probe request (24-byte header, wildcard SSID), transmitter 02:00:00:00:00:01.
    static let frame: [UInt8] = [
        0x40, 0x00, 0x00, 0x00, // frame control (type 0 subtype 4), duration
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // addr1 broadcast
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // addr2 transmitter
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // addr3
        0x10, 0x00, // sequence control
        0x00, 0x00, // SSID element, length 0
    ]

    static func decode(_ bytes: [UInt8]) throws(TZSP.DecodeError) -> TZSPHeader {
        var result: Result<TZSPHeader, TZSP.DecodeError> = .failure(.truncatedHeader)
        bytes.withUnsafeBytes { buffer in
            result = Result { () throws(TZSP.DecodeError) in try TZSP.decode(buffer) }
        }
        return try result.get()
    }
}

@Suite("TZSP decoder")
struct TZSPTests {
    @Test func readsSignalNoiseChannelAndSensorTagsThenThePayloadAfterTheEndTag() throws {
        let bytes = TZSPBytes.header80211 + [
            10, 1, 0xC4, // signal -60 dBm
            11, 1, 0xA1, // noise -95 dBm
            18, 1, 6, // channel 6
            60, 6, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // sensor MAC
            1, // end
        ] + TZSPBytes.frame
        let header = try TZSPBytes.decode(bytes)
        #expect(header.signalDBm == -60)
        #expect(header.noiseDBm == -95)
        #expect(header.channel == 6)
        #expect(header.sensorMAC == 0x0011_2233_4455)
        #expect(header.encapsulation == 18)
        #expect(header.payload == (bytes.count - TZSPBytes.frame.count) ..< bytes.count)
    }

    @Test func paddingBytesTakeNoLength() throws {
        let bytes = TZSPBytes.header80211 + [0, 0, 10, 1, 0xD8, 0, 1] + TZSPBytes.frame
        let header = try TZSPBytes.decode(bytes)
        #expect(header.signalDBm == -40)
        #expect(header.payload.lowerBound == 11)
    }

    @Test func unknownTagsAreSkippedByTheirLength() throws {
        // Rate (12), timestamp (13, 4 bytes), an unassigned tag 200 whose value holds bytes
        // that would be tags if read as such.
        let bytes = TZSPBytes.header80211 + [12, 1, 0x6C, 13, 4, 0, 0, 1, 0, 200, 3, 1, 10, 60, 18, 1, 11, 1] + TZSPBytes.frame
        let header = try TZSPBytes.decode(bytes)
        #expect(header.channel == 11)
        #expect(header.signalDBm == nil)
        #expect(header.sensorMAC == nil)
        #expect(header.payload.lowerBound == bytes.count - TZSPBytes.frame.count)
    }

    @Test func anEndTagWithNothingAfterItGivesAnEmptyPayload() throws {
        let header = try TZSPBytes.decode(TZSPBytes.header80211 + [1])
        #expect(header.payload.isEmpty)
    }

    @Test(arguments: [
        ([UInt8](), TZSP.DecodeError.truncatedHeader),
        ([0x01, 0x00, 0x00], .truncatedHeader),
        ([0x02, 0x00, 0x00, 0x12, 1], .unsupportedVersion),
        ([0x01, 0x04, 0x00, 0x12, 1], .unsupportedType), // keepalive
        ([0x01, 0x00, 0x00, 0x01, 1], .unsupportedEncapsulation), // Ethernet
        ([0x01, 0x00, 0x00, 0x77, 1], .unsupportedEncapsulation), // Prism
        ([0x01, 0x00, 0x00, 0x12, 10], .tagOverrun), // length byte missing
        ([0x01, 0x00, 0x00, 0x12, 60, 6, 0, 0x11, 0x22], .tagOverrun), // value runs past the end
        ([0x01, 0x00, 0x00, 0x12, 200, 255, 1], .tagOverrun), // unknown tag claiming 255 bytes
        ([0x01, 0x00, 0x00, 0x12, 10, 2, 0xC4, 0, 1], .tagLength),
        ([0x01, 0x00, 0x00, 0x12, 60, 4, 1, 2, 3, 4, 1], .tagLength),
        ([0x01, 0x00, 0x00, 0x12], .missingEndTag),
        ([0x01, 0x00, 0x00, 0x12, 10, 1, 0xC4, 0, 0], .missingEndTag),
    ])
    func badDatagramsAreRejectedWithTheirReason(bytes: [UInt8], reason: TZSP.DecodeError) {
        #expect(throws: reason) { try TZSPBytes.decode(bytes) }
    }

    @Test func everyTruncationOfAGoodDatagramBeforeItsEndTagIsRejectedNotMisread() {
        let good = TZSPBytes.header80211 + [10, 1, 0xC4, 60, 6, 1, 2, 3, 4, 5, 6, 1]
        for length in 0 ..< good.count {
            #expect(throws: TZSP.DecodeError.self) { try TZSPBytes.decode(Array(good.prefix(length))) }
        }
    }

    @Test func countersCountEachRejectionReasonSeparately() {
        var counters = TZSPCounters()
        let datagrams: [[UInt8]] = [
            TZSPBytes.header80211 + [1] + TZSPBytes.frame,
            [0x01, 0x00, 0x00, 0x01, 1], // Ethernet
            [0x01, 0x00, 0x00, 0x01, 1], // Ethernet
            [0x01, 0x00, 0x00, 0x12], // no end tag
            [0x01], // truncated
        ]
        for d in datagrams { _ = d.withUnsafeBytes { counters.decode($0) } }
        #expect(counters.datagrams == 5)
        #expect(counters.decoded == 1)
        #expect(counters.unsupportedEncapsulation == 2)
        #expect(counters.missingEndTag == 1)
        #expect(counters.truncatedHeader == 1)
        #expect(counters.rejected == 4)
    }

    @Test func theTZSPSignalBecomesTheProbeRequestsSignal() throws {
        let bytes = TZSPBytes.header80211 + [10, 1, 0xC4, 1] + TZSPBytes.frame
        let header = try TZSPBytes.decode(bytes)
        var counters = ParseCounters()
        var signal: Int8?
        var isProbeRequest = false
        bytes.withUnsafeBytes { buffer in
            let result = header.parseFrame(in: buffer, timestampNanos: 1_710_417_600_000_000_000, counters: &counters)
            switch consume result {
            case .probeRequest(let request):
                isProbeRequest = true
                signal = request.signalDBm
            case .other:
                break
            case .malformed:
                break
            }
        }
        #expect(isProbeRequest)
        #expect(signal == -60)
        #expect(counters.probeRequests == 1)
    }

    @Test func aFrameThatIsNotAProbeRequestIsCountedByTheParserAsUsual() throws {
        var beacon = TZSPBytes.frame
        beacon[0] = 0x80 // management subtype 8
        let bytes = TZSPBytes.header80211 + [1] + beacon
        let header = try TZSPBytes.decode(bytes)
        var counters = ParseCounters()
        bytes.withUnsafeBytes { buffer in
            _ = header.parseFrame(in: buffer, timestampNanos: 0, counters: &counters)
        }
        #expect(counters.frames == 1)
        #expect(counters.probeRequests == 0)
    }
}
