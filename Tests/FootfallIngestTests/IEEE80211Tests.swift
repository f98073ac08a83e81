import Testing
import FootfallCore
@testable import FootfallIngest

@Suite struct IEEE80211Tests {
    @Test func probeRequestGivesTransmitterAddressFirstOctetMostSignificant() {
        let result = parse(simpleRadiotap() + probeRequest(source: [0xDC, 0xFB, 0x48, 0x01, 0x02, 0x03]))
        #expect(result.kind == .probeRequest)
        #expect(result.source == 0xDC_FB_48_01_02_03)
    }

    @Test(arguments: [UInt16(0), 1, 0x0ABC, 4095])
    func sequenceNumberIsTheTopTwelveBitsOfSequenceControl(sequence: UInt16) {
        var frame = simpleRadiotap() + probeRequest(sequence: sequence)
        // Set fragment number bits (0…3) too: they must not leak into the sequence number.
        frame[15 + 22] |= 0x0F
        #expect(parse(frame).sequenceNumber == sequence)
    }

    @Test func linkType105FramesParseWithoutSignal() {
        var counters = ParseCounters()
        let result = parse(probeRequest(), linkType: .ieee80211, counters: &counters)
        #expect(result.kind == .probeRequest)
        #expect(result.signalDBm == nil)
        #expect(result.frequencyMHz == 0)
        #expect(result.source == 0x02_11_22_33_44_55)
        #expect(counters.probeRequests == 1)
    }

    @Test func linkType105DoesNotReadARadiotapHeader() {
        // The same bytes as a radiotap capture are not a probe request under 105.
        let result = parse(simpleRadiotap() + probeRequest(), linkType: .ieee80211)
        #expect(result.kind != .probeRequest)
    }

    @Test func otherManagementFramesAreCountedAsManagement() {
        var counters = ParseCounters()
        // Beacon (subtype 8) and probe response (subtype 5).
        #expect(parse(simpleRadiotap() + managementHeader(subtype: 8) + [0, 0], counters: &counters).kind == .other(.management))
        #expect(parse(simpleRadiotap() + managementHeader(subtype: 5), counters: &counters).kind == .other(.management))
        #expect(counters[other: .management] == 2)
        #expect(counters.probeRequests == 0)
    }

    @Test func controlFramesAreClassifiedByTypeWithTheirShortHeader() {
        var counters = ParseCounters()
        // Ack (type 1, subtype 13): Frame Control, Duration, RA = 10 bytes.
        let ack: [UInt8] = [0xD4, 0x00, 0x00, 0x00] + broadcast
        #expect(parse(simpleRadiotap() + ack, counters: &counters).kind == .other(.control))
        // RTS (subtype 11): 16 bytes.
        let rts: [UInt8] = [0xB4, 0x00, 0x10, 0x00] + broadcast + testSource
        #expect(parse(simpleRadiotap() + rts, counters: &counters).kind == .other(.control))
        #expect(counters[other: .control] == 2)
        // 9 bytes cannot be any control frame.
        #expect(parse(simpleRadiotap() + Array(ack.prefix(9))).kind == .malformed(.shortFrame))
    }

    @Test func dataFramesAreClassifiedWithTheirHeaderLength() {
        // Data (type 2, subtype 0), 24-byte header.
        let data: [UInt8] = [0x08, 0x01, 0, 0] + broadcast + testSource + broadcast + [0x10, 0x00]
        #expect(parse(simpleRadiotap() + data).kind == .other(.data))
        // To DS + From DS: a fourth address makes the header 30 bytes.
        var fourAddress = data
        fourAddress[1] = 0x03
        #expect(parse(simpleRadiotap() + fourAddress).kind == .malformed(.shortFrame))
        #expect(parse(simpleRadiotap() + fourAddress + testSource).kind == .other(.data))
        // QoS Data (subtype 8) adds QoS Control: 26 bytes.
        var qos = data
        qos[0] = 0x88
        #expect(parse(simpleRadiotap() + qos).kind == .malformed(.shortFrame))
        #expect(parse(simpleRadiotap() + qos + [0, 0]).kind == .other(.data))
    }

    @Test func extensionTypeFramesAreClassified() {
        // Type 3 (extension), e.g. DMG Beacon.
        #expect(parse(simpleRadiotap() + [0x0C, 0x00, 0, 0]).kind == .other(.extensionType))
    }

    @Test(arguments: [0, 1, 10, 23])
    func probeRequestShorterThanItsManagementHeaderIsShortFrame(length: Int) {
        var counters = ParseCounters()
        let frame = Array(probeRequest(elements: []).prefix(length))
        #expect(parse(simpleRadiotap() + frame, counters: &counters).kind == .malformed(.shortFrame))
        #expect(counters.probeRequests == 0)
        #expect(counters[.shortFrame] == 1)
        #expect(counters.isConsistent)
    }

    @Test func probeRequestWithExactlyTheHeaderAndNoElementsIsAProbeRequest() {
        let result = parse(simpleRadiotap() + probeRequest(elements: []))
        #expect(result.kind == .probeRequest)
        #expect(result.elements.truncated == false)
        #expect(result.elements.rateCount == 0)
    }

    @Test func unsupportedLinkTypeIsCountedNotTrapped() {
        var counters = ParseCounters()
        // LINKTYPE_ETHERNET (1).
        #expect(parse(probeRequest(), linkType: LinkType(rawValue: 1), counters: &counters).kind == .malformed(.encapsulation))
        #expect(counters.frames == 1)
        #expect(counters.isConsistent)
    }
}
