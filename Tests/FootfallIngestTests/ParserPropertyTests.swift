import FootfallTestSupport
import Testing
import FootfallCore
@testable import FootfallIngest


/// Checks what must hold for any input: the counters stay balanced and a probe request's
/// fields are within what the frame could have carried.
func expectSane(_ result: Parsed, frameLength: Int, counters: ParseCounters, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(counters.isConsistent, sourceLocation: sourceLocation)
    guard result.kind == .probeRequest else { return }
    #expect(result.source <= 0xFFFF_FFFF_FFFF, sourceLocation: sourceLocation)
    #expect(result.sequenceNumber < 4096, sourceLocation: sourceLocation)
    #expect(frameLength >= IEEE80211.managementHeaderLength, sourceLocation: sourceLocation)
    // Every counted byte came from an element inside the frame.
    let body = frameLength - IEEE80211.managementHeaderLength
    #expect(Int(result.elements.ssidLength) <= body, sourceLocation: sourceLocation)
    #expect(Int(result.elements.rateCount) <= body, sourceLocation: sourceLocation)
    #expect(Int(result.elements.vendorElementCount) * 2 <= body, sourceLocation: sourceLocation)
}

@Suite struct ParserPropertyTests {
    /// Record and probe request counts of the fixture captures, obtained once with
    /// TShark 4.0.17: `tshark -r F | wc -l` and
    /// `tshark -r F -Y 'wlan.fc.type_subtype == 4' | wc -l` (every record in these files is a
    /// probe request). The integration tests re-check footfall against tshark live.
    static let fixtureCounts: [(file: String, records: Int, tsharkProbeRequests: Int)] = [
        ("2024-02-08_position_1.pcap", 13238, 13238),
        ("2024-02-08_position_2.pcap", 15345, 15345),
        ("2024-03-07_position_1.pcap", 13609, 13609),
        ("2024-03-07_position_2.pcap", 15631, 15631),
        ("2024-03-14_position_1.pcap", 17183, 17183),
        ("2024-03-14_position_2.pcap", 20594, 20594),
        ("2024-03-16_position_1.pcap", 2507, 2507),
        ("2024-03-16_position_2.pcap", 4453, 4453),
    ]

    static func loadFixture(_ file: String) throws -> PcapRecords {
        try PcapRecords(path: PcapRecords.fixture("brno-sc6-61/" + file))
    }

    @Test(arguments: fixtureCounts)
    func realCaptureGivesTheProbeRequestCountTsharkReports(file: String, records: Int, tsharkProbeRequests: Int) throws {
        let capture = try Self.loadFixture(file)
        #expect(capture.linkType == UInt32(LinkType.ieee80211Radiotap.rawValue))
        #expect(capture.records.count == records)
        var counters = ParseCounters()
        var withSignal = 0
        for record in capture.records {
            let result = parse(record, counters: &counters)
            if result.kind == .probeRequest, result.signalDBm != nil { withSignal += 1 }
        }
        #expect(counters.frames == records)
        #expect(counters.probeRequests == tsharkProbeRequests)
        #expect(counters.isConsistent)
        // The sniffers write a dBm signal for every frame and never set the FCS flags.
        #expect(withSignal == counters.probeRequests)
        #expect(counters.badFCS == 0)
        // No element in these files overruns its frame. (tshark's `_ws.malformed` marks a few
        // frames, but only for a zero-length element 150 whose content it cannot decode; the
        // element list itself is intact.)
        #expect(counters.truncatedElements == 0)
    }

    @Test func randomBytesNeverBreakTheParser() {
        var rng = SplitMix64(seed: 0x666F_6F74_6661_6C6C)
        var counters = ParseCounters()
        for _ in 0 ..< 20_000 {
            let length = Int.random(in: 0 ... 160, using: &rng)
            var bytes = (0 ..< length).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            // Half the time make the start look like a radiotap header, so the walk gets deep.
            if length >= 8, Bool.random(using: &rng) {
                bytes[0] = 0
                let itLen = UInt16.random(in: 8 ... UInt16(length), using: &rng)
                bytes[2] = UInt8(itLen & 0xFF)
                bytes[3] = UInt8(itLen >> 8)
            }
            for linkType in [LinkType.ieee80211Radiotap, .ieee80211] {
                let result = parse(bytes, linkType: linkType, counters: &counters)
                expectSane(result, frameLength: length, counters: counters)
            }
        }
        #expect(counters.frames == 40_000)
        #expect(counters.isConsistent)
    }

    @Test func mutatedRealFramesNeverBreakTheParser() throws {
        var rng = SplitMix64(seed: 2024_03_16)
        let capture = try Self.loadFixture("2024-03-16_position_2.pcap")
        let originals = capture.records.enumerated().filter { $0.offset % 4 == 0 }.map(\.element)
        var counters = ParseCounters()
        var outcomes: Set<String> = []
        for original in originals {
            for _ in 0 ..< 8 {
                var frame = original
                switch Int.random(in: 0 ..< 5, using: &rng) {
                case 0:  // flip a few bits anywhere
                    for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) {
                        let at = Int.random(in: 0 ..< frame.count, using: &rng)
                        frame[at] ^= 1 << UInt8.random(in: 0 ... 7, using: &rng)
                    }
                case 1:  // truncate
                    frame.removeLast(Int.random(in: 0 ... frame.count, using: &rng))
                case 2:  // set a byte (often an element length) to 0xff
                    frame[Int.random(in: 0 ..< frame.count, using: &rng)] = 0xFF
                case 3:  // change radiotap it_len
                    let itLen = UInt16.random(in: 0 ... UInt16(frame.count + 8), using: &rng)
                    frame[2] = UInt8(itLen & 0xFF)
                    frame[3] = UInt8(itLen >> 8)
                default:  // set the radiotap Flags, extension and namespace bits
                    frame[4] |= 0x02
                    frame[7] |= [0x80, 0x20, 0x40, 0xE0][Int.random(in: 0 ..< 4, using: &rng)]
                    if frame.count > 8 { frame[8] = UInt8.random(in: 0 ... 255, using: &rng) }
                }
                let result = parse(frame, counters: &counters)
                expectSane(result, frameLength: frame.count, counters: counters)
                outcomes.insert("\(result.kind)")
            }
        }
        #expect(counters.frames == originals.count * 8)
        #expect(counters.isConsistent)
        // The mutations reached every kind of outcome, not only one early rejection.
        #expect(counters.probeRequests > 0)
        #expect(counters.truncatedElements > 0)
        #expect(counters[.radiotapHeader] > 0)
        #expect(counters[.radiotapField] > 0)
        #expect(counters[.shortFrame] > 0)
        #expect(outcomes.count >= 5)
    }
}
