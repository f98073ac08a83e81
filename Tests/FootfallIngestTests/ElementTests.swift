import Testing
import FootfallCore
@testable import FootfallIngest

@Suite struct ElementTests {
    @Test func summaryCountsRatesCapabilitiesAndVendorElements() {
        let elements = element(0, Array("SHOP".utf8))
            + element(1, [0x02, 0x04, 0x0B, 0x16, 0x0C, 0x12, 0x18, 0x24])
            + element(3, [6])                                    // DS Parameter Set
            + element(50, [0x30, 0x48, 0x60, 0x6C])
            + element(45, [0xEF, 0x19] + [UInt8](repeating: 0, count: 24))
            + element(127, [0x04, 0x00, 0x0A, 0x02])
            + element(191, [0x32, 0x00, 0x80, 0x03] + [UInt8](repeating: 0, count: 8))
            + element(255, [35] + [UInt8](repeating: 0x11, count: 20))   // HE Capabilities
            + element(221, [0x00, 0x50, 0xF2, 0x08, 0x00])
            + element(221, [0x00, 0x17, 0xF2, 0x0A])
        let summary = parse(simpleRadiotap() + probeRequest(elements: elements)).elements
        #expect(summary.ssidLength == 4)
        #expect(summary.rateCount == 12)
        #expect(summary.hasHTCapabilities)
        #expect(summary.hasVHTCapabilities)
        #expect(summary.hasHECapabilities)
        #expect(summary.hasExtendedCapabilities)
        #expect(summary.vendorElementCount == 2)
        #expect(summary.truncated == false)
    }

    @Test func zeroLengthSSIDIsAWildcardNotAnError() {
        let summary = parse(simpleRadiotap() + probeRequest(elements: element(0, []) + element(1, [0x82]))).elements
        #expect(summary.ssidLength == 0)
        #expect(summary.rateCount == 1)
        #expect(summary.truncated == false)
    }

    @Test func heCapabilitiesAreRecognisedOnlyByExtensionID35() {
        let he = parse(simpleRadiotap() + probeRequest(elements: element(255, [35, 0x01, 0x02]))).elements
        #expect(he.hasHECapabilities)
        // Extension ID 36 is HE Operation, not capabilities.
        let other = parse(simpleRadiotap() + probeRequest(elements: element(255, [36, 0x01]))).elements
        #expect(!other.hasHECapabilities)
        // An extension element without an extension ID is tolerated.
        let empty = parse(simpleRadiotap() + probeRequest(elements: element(255, []))).elements
        #expect(!empty.hasHECapabilities)
        #expect(!empty.truncated)
    }

    @Test func elementOverrunningTheFrameKeepsTheProbeRequestAndMarksItTruncated() {
        var counters = ParseCounters()
        // Supported rates, then HT Capabilities claiming 26 bytes with only 3 present.
        let elements = element(1, [0x02, 0x04]) + [45, 26, 0xEF, 0x19, 0x00]
        let result = parse(simpleRadiotap() + probeRequest(elements: elements), counters: &counters)
        #expect(result.kind == .probeRequest)
        #expect(result.elements.truncated)
        #expect(result.elements.rateCount == 2)            // read before the bad element
        #expect(result.elements.hasHTCapabilities == false) // the bad element is not trusted
        #expect(counters.probeRequests == 1)
        #expect(counters.truncatedElements == 1)
        #expect(counters.malformed == 0)
        #expect(counters.isConsistent)
    }

    @Test func lengthByte255PastTheEndIsTruncated() {
        let result = parse(simpleRadiotap() + probeRequest(elements: [221, 0xFF, 0x00, 0x50]))
        #expect(result.elements.truncated)
        #expect(result.elements.vendorElementCount == 0)
    }

    @Test func strayOctetAfterTheLastElementIsTruncated() {
        let result = parse(simpleRadiotap() + probeRequest(elements: element(0, []) + [0x01]))
        #expect(result.kind == .probeRequest)
        #expect(result.elements.truncated)
    }

    @Test func rateCountSaturatesInsteadOfOverflowing() {
        let elements = element(1, [UInt8](repeating: 0x02, count: 255)) + element(50, [UInt8](repeating: 0x04, count: 255))
        #expect(parse(simpleRadiotap() + probeRequest(elements: elements)).elements.rateCount == 255)
    }

    @Test func fingerprintStaysTheSameWhenAddressSequenceSSIDAndChannelChange() {
        func layout(ssid: String, channel: UInt8) -> [UInt8] {
            element(0, Array(ssid.utf8)) + element(1, [0x02, 0x04, 0x0B, 0x16]) + element(3, [channel])
                + element(45, [0x2D, 0x01] + [UInt8](repeating: 0, count: 24)) + element(127, [0x00, 0x00, 0x08, 0x04])
                + element(221, [0x00, 0x10, 0x18, 0x02, 0x00])
        }
        let first = parse(simpleRadiotap() + probeRequest(source: [0x02, 0, 0, 0, 0, 1], sequence: 10, elements: layout(ssid: "", channel: 1)))
        let second = parse(simpleRadiotap() + probeRequest(source: [0x06, 9, 9, 9, 9, 9], sequence: 3000, elements: layout(ssid: "home-network", channel: 11)))
        #expect(first.source != second.source)
        #expect(first.elements.fingerprint == second.elements.fingerprint)
        #expect(first.elements.fingerprint != ElementSummary().fingerprint)
    }

    @Test func fingerprintTellsDifferentCapabilitiesApart() {
        let base = element(0, []) + element(1, [0x02, 0x04]) + element(45, [0x2D, 0x01, 0, 0])
            + element(127, [0x00, 0x08]) + element(221, [0x00, 0x10, 0x18, 0x02])
        let variants: [[UInt8]] = [
            base,
            element(0, []) + element(1, [0x02, 0x0B]) + element(45, [0x2D, 0x01, 0, 0]) + element(127, [0x00, 0x08]) + element(221, [0x00, 0x10, 0x18, 0x02]),  // rates
            element(0, []) + element(1, [0x02, 0x04]) + element(45, [0x6F, 0x01, 0, 0]) + element(127, [0x00, 0x08]) + element(221, [0x00, 0x10, 0x18, 0x02]),  // HT info
            element(0, []) + element(1, [0x02, 0x04]) + element(45, [0x2D, 0x01, 0, 0]) + element(127, [0x00, 0x0C]) + element(221, [0x00, 0x10, 0x18, 0x02]),  // ext caps
            element(0, []) + element(1, [0x02, 0x04]) + element(45, [0x2D, 0x01, 0, 0]) + element(127, [0x00, 0x08]) + element(221, [0x00, 0x50, 0xF2, 0x02]),  // vendor OUI
            element(0, []) + element(45, [0x2D, 0x01, 0, 0]) + element(1, [0x02, 0x04]) + element(127, [0x00, 0x08]) + element(221, [0x00, 0x10, 0x18, 0x02]),  // order
            base + element(191, [0, 0, 0, 0]),                                                                                                                  // VHT added
        ]
        let fingerprints = variants.map { parse(simpleRadiotap() + probeRequest(elements: $0)).elements.fingerprint }
        #expect(Set(fingerprints).count == variants.count)
    }

    @Test func summaryHoldsOnlyCountsAndFlagsNeverSSIDText() {
        let ssid = Array("CorporateGuest".utf8)
        let summary = parse(simpleRadiotap() + probeRequest(elements: element(0, ssid))).elements
        #expect(summary.ssidLength == UInt8(ssid.count))
        for child in Mirror(reflecting: summary).children {
            #expect(child.value is UInt8 || child.value is Bool || child.value is UInt64, "\(child.label ?? "?")")
        }
    }
}
