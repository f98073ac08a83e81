import FootfallTestSupport
import Testing
import FootfallCore
@testable import FootfallIngest

/// The lighter element walks (``ElementDetail``) leave out only what their callers do not
/// read: the counters, the frame fields and `truncated` are those of the full walk.
@Suite struct ElementDetailTests {
    /// Parses `bytes` with the given detail and copies out what came back.
    func parse(_ bytes: [UInt8], detail: ElementDetail, counters: inout ParseCounters) -> Parsed {
        bytes.withUnsafeBytes { FootfallIngestTests.parse($0, linkType: .ieee80211Radiotap, counters: &counters, elements: detail) }
    }

    /// Real frames of one fixture day, and copies cut short or with a length byte set to 0xff
    /// anywhere, so that elements overrun, end on a stray octet or end exactly.
    func frames() throws -> [[UInt8]] {
        var rng = SplitMix64(seed: 2024_03_07)
        let capture = try PcapRecords(path: PcapRecords.fixture("brno-sc6-61/2024-03-07_position_1.pcap"))
        var frames: [[UInt8]] = []
        for original in capture.records {
            frames.append(original)
            var cut = original
            cut.removeLast(Int.random(in: 0 ... min(40, cut.count), using: &rng))
            frames.append(cut)
            var overrun = original
            overrun[Int.random(in: 0 ..< overrun.count, using: &rng)] = 0xFF
            frames.append(overrun)
        }
        return frames
    }

    @Test func lighterWalksCountTheSameAndKeepTruncatedAndEverythingOutsideTheElements() throws {
        var full = ParseCounters()
        var ifRandomised = ParseCounters()
        var truncationOnly = ParseCounters()
        var randomisedProbes = 0
        var vendorAssignedProbes = 0
        for frame in try frames() {
            let a = parse(frame, detail: .full, counters: &full)
            let b = parse(frame, detail: .fullIfLocallyAdministered, counters: &ifRandomised)
            let c = parse(frame, detail: .truncationOnly, counters: &truncationOnly)
            // Full summary for randomised addresses, truncated only for the others.
            var expectedB = a
            var expectedC = a
            expectedC.elements = ElementSummary()
            expectedC.elements.truncated = a.elements.truncated
            if a.kind == .probeRequest {
                let randomised = (a.source >> 40) & 0x02 != 0
                if randomised { randomisedProbes += 1 } else { vendorAssignedProbes += 1 }
                if !randomised { expectedB = expectedC }
            }
            #expect(b == expectedB)
            #expect(c == expectedC)
        }
        #expect(ifRandomised == full)
        #expect(truncationOnly == full)
        // The frames reached every case: both kinds of address, and elements cut short.
        #expect(randomisedProbes > 0)
        #expect(vendorAssignedProbes > 0)
        #expect(full.truncatedElements > 0)
        #expect(full.truncatedElements < full.probeRequests)
    }

    @Test func truncationOnlyFindsAStrayOctetAnOverrunAndAnExactEnd() {
        let intact = element(0, []) + element(1, [0x82, 0x84])
        let cases: [(elements: [UInt8], truncated: Bool)] = [
            ([], false),
            (intact, false),
            (intact + [0xDD], true),              // a single stray octet
            (intact + [0xDD, 0x05, 0x00], true),  // a length past the end
            (intact + [0xDD, 0x00], false),       // an empty element ending exactly
        ]
        for (elements, truncated) in cases {
            var counters = ParseCounters()
            let light = parse(simpleRadiotap() + probeRequest(elements: elements), detail: .truncationOnly, counters: &counters)
            #expect(light.kind == .probeRequest)
            #expect(light.elements.truncated == truncated)
            #expect(counters.truncatedElements == (truncated ? 1 : 0))
        }
    }
}
