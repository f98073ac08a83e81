import Testing
import FootfallCore
@testable import FootfallIngest

@Suite struct RadiotapTests {
    @Test func commonHeaderGivesSignalFrequencyAndTheFrameAfterItLen() {
        let result = parse(simpleRadiotap(frequencyMHz: 2437, signal: -67) + probeRequest())
        #expect(result.kind == .probeRequest)
        #expect(result.signalDBm == -67)
        #expect(result.frequencyMHz == 2437)
        #expect(result.source == 0x02_11_22_33_44_55)
    }

    @Test func missingSignalFieldGivesNilSignal() {
        // Only Channel (bit 3) is present: no dBm antenna signal.
        let header = radiotap(present: [bits(3)], data: UInt16(2412).le + UInt16(0x00A0).le)
        let result = parse(header + probeRequest())
        #expect(result.kind == .probeRequest)
        #expect(result.signalDBm == nil)
        #expect(result.frequencyMHz == 2412)
    }

    @Test func headerWithNoFieldsAtAllStillLocatesTheFrame() {
        let result = parse(radiotap(present: [0], data: []) + probeRequest())
        #expect(result.kind == .probeRequest)
        #expect(result.signalDBm == nil)
        #expect(result.frequencyMHz == 0)
    }

    @Test func fieldsAreAlignedRelativeToTheHeaderAcrossExtendedPresentWords() {
        // Two present words (bit 31 in the first), so data starts at offset 12:
        //   12…15 padding, TSFT aligned to 8 at 16…23, Flags at 24, 1 pad byte,
        //   Channel aligned to 2 at 26…29, dBm signal at 30; it_len 31.
        let header = radiotap(
            present: [bits(0, 1, 3, 5, 31), 0],
            data: [0xEE, 0xEE, 0xEE, 0xEE]                         // padding to 8
                + [1, 2, 3, 4, 5, 6, 7, 8]                          // TSFT
                + [0x00]                                            // Flags
                + [0xEE]                                            // padding to 2
                + UInt16(5180).le + UInt16(0x0140).le               // Channel
                + [UInt8(bitPattern: -48)]                          // dBm antenna signal
        )
        #expect(header.count == 31)
        let result = parse(header + probeRequest())
        #expect(result.kind == .probeRequest)
        #expect(result.frequencyMHz == 5180)
        #expect(result.signalDBm == -48)
    }

    @Test func multipleAntennasGiveTheStrongestSignal() {
        // Word 0: Flags, Channel, signal, then "radiotap namespace next" + ext.
        // Words 1 and 2: per-antenna signal + antenna index, each restarting the namespace.
        let header = radiotap(
            present: [bits(1, 3, 5, 29, 31), bits(5, 11, 29, 31), bits(5, 11)],
            data: [0x00, 0xEE] + UInt16(2462).le + UInt16(0x00A0).le + [UInt8(bitPattern: -71)]  // 16…21
                + [UInt8(bitPattern: -80), 0]    // antenna 0
                + [UInt8(bitPattern: -55), 1]    // antenna 1
        )
        let result = parse(header + probeRequest())
        #expect(result.signalDBm == -55)
        #expect(result.frequencyMHz == 2462)
    }

    @Test func vendorNamespaceDataIsSkippedBySkipLength() {
        // Word 0 (radiotap): Channel, then a Vendor Namespace field, ext.
        // Word 1 (vendor): vendor bits 0 and 5 (meaningless to us), radiotap namespace next, ext.
        // Word 2 (radiotap): dBm signal.
        // Data from offset 16: Channel 16…19; vendor field aligned to 2 at 20…25
        // (OUI 00:11:22, sub_ns 0, skip_length 5); 5 vendor bytes 26…30 that look like a
        // signal of -1 dBm; then the real signal at 31.
        let header = radiotap(
            present: [bits(3, 30, 31), bits(0, 5, 29, 31), bits(5)],
            data: UInt16(2412).le + UInt16(0x00A0).le
                + [0x00, 0x11, 0x22, 0x00] + UInt16(5).le
                + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
                + [UInt8(bitPattern: -42)]
        )
        #expect(header.count == 32)
        let result = parse(header + probeRequest())
        #expect(result.kind == .probeRequest)
        #expect(result.signalDBm == -42)
        #expect(result.frequencyMHz == 2412)
    }

    @Test func vendorSkipLengthBeyondItLenIsMalformedField() {
        let header = radiotap(present: [bits(30)], data: [0x00, 0x11, 0x22, 0x00] + UInt16(200).le)
        var counters = ParseCounters()
        #expect(parse(header + probeRequest(), counters: &counters).kind == .malformed(.radiotapField))
        #expect(counters[.radiotapField] == 1)
        #expect(counters.probeRequests == 0)
    }

    @Test func fcsFlagStripsTheLastFourBytes() {
        // The 4 FCS bytes would read as a vendor element claiming 255 bytes.
        let fcs: [UInt8] = [0xDD, 0xFF, 0x12, 0x34]
        let withFlag = parse(simpleRadiotap(flags: 0x10) + probeRequest() + fcs)
        #expect(withFlag.kind == .probeRequest)
        #expect(withFlag.elements.truncated == false)
        #expect(withFlag.elements.vendorElementCount == 1)
        #expect(withFlag.elements == parse(simpleRadiotap() + probeRequest()).elements)

        let withoutFlag = parse(simpleRadiotap(flags: 0x00) + probeRequest() + fcs)
        #expect(withoutFlag.elements.truncated == true)
    }

    @Test func fcsFlagOnAFrameShorterThanItsFCSIsShort() {
        #expect(parse(simpleRadiotap(flags: 0x10) + [0x40, 0x00]).kind == .malformed(.shortFrame))
    }

    @Test func badFCSFlagIsCountedAndTheProbeRequestKept() {
        var counters = ParseCounters()
        let result = parse(simpleRadiotap(flags: 0x40) + probeRequest(), counters: &counters)
        #expect(result.kind == .probeRequest)
        #expect(result.badFCS)
        #expect(counters.badFCS == 1)
        #expect(counters.probeRequests == 1)
        #expect(counters.isConsistent)
    }

    @Test func itLenLargerThanTheCaptureIsMalformedHeader() {
        var counters = ParseCounters()
        let header = radiotap(present: [0], data: [], itLen: 4000)
        #expect(parse(header + probeRequest(), counters: &counters).kind == .malformed(.radiotapHeader))
        #expect(counters[.radiotapHeader] == 1)
        #expect(counters.frames == 1)
        #expect(counters.isConsistent)
    }

    @Test(arguments: [0, 4, 7])
    func itLenBelowEightIsMalformedHeader(itLen: Int) {
        let header = radiotap(present: [0], data: [], itLen: itLen)
        #expect(parse(header + probeRequest()).kind == .malformed(.radiotapHeader))
    }

    @Test func captureShorterThanTheFixedHeaderIsMalformedHeader() {
        #expect(parse([]).kind == .malformed(.radiotapHeader))
        #expect(parse([0, 0, 8, 0, 0, 0, 0]).kind == .malformed(.radiotapHeader))
    }

    @Test func versionOtherThanZeroIsMalformedHeader() {
        var header = simpleRadiotap()
        header[0] = 1
        #expect(parse(header + probeRequest()).kind == .malformed(.radiotapHeader))
    }

    @Test func tooManyPresentWordsIsMalformedField() {
        // 17 words that each announce another: more than the cap of 16, all within it_len.
        let words = [UInt32](repeating: bits(31), count: 17) + [0]
        let header = radiotap(present: words, data: [])
        #expect(Radiotap.maxPresentWords == 16)
        #expect(parse(header + probeRequest()).kind == .malformed(.radiotapField))
    }

    @Test func sixteenPresentWordsAreAccepted() {
        let words = [UInt32](repeating: bits(31), count: 15) + [bits(5)]
        let header = radiotap(present: words, data: [UInt8(bitPattern: -33)])
        let result = parse(header + probeRequest())
        // Word 0 continues without bit 29, so word 1 numbers its bits from 32: unknown, the
        // walk stops without reading the signal of word 15, but the frame is located.
        #expect(result.kind == .probeRequest)
    }

    @Test func presentWordsRunningPastItLenAreMalformedField() {
        // Bit 31 says another word follows, but it_len (8) ends after the first.
        let header = radiotap(present: [bits(31)], data: [], itLen: 8)
        #expect(parse(header + probeRequest()).kind == .malformed(.radiotapField))
    }

    @Test func fieldRunningPastItLenIsMalformedField() {
        // Channel (4 bytes) announced but it_len leaves room for 2.
        let header = radiotap(present: [bits(3)], data: [0x6C, 0x09], itLen: 10)
        var counters = ParseCounters()
        #expect(parse(header + probeRequest(), counters: &counters).kind == .malformed(.radiotapField))
        #expect(counters.isConsistent)
    }

    @Test func unknownFieldStopsTheWalkAndKeepsWhatWasRead() {
        // Word 0 has the signal and continues (bit 31) without naming a namespace, so word 1
        // numbers its bits from 32, which radiotap does not define: its size is unknown and
        // nothing after it can be located. The signal read before it is kept and it_len
        // still locates the frame.
        let header = radiotap(
            present: [bits(5, 31), bits(0, 5)],
            data: [UInt8(bitPattern: -61)] + [0xAB, 0xCD, 0xEF]
        )
        let result = parse(header + probeRequest())
        #expect(result.kind == .probeRequest)
        #expect(result.signalDBm == -61)
        #expect(result.source == 0x02_11_22_33_44_55)
    }

    @Test func tlvFieldEndsTheWalk() {
        // Bit 28: TLVs fill the rest of the header (type 5 length 1 would be a bogus signal).
        let header = radiotap(
            present: [bits(5, 28)],
            data: [UInt8(bitPattern: -50), 0, 0, 0] + UInt16(5).le + UInt16(1).le + [0x7F, 0, 0, 0]
        )
        let result = parse(header + probeRequest())
        #expect(result.kind == .probeRequest)
        #expect(result.signalDBm == -50)
    }

    @Test func xChannelGivesTheFrequencyWhenChannelIsAbsent() {
        // dBm signal (bit 5) at 8, 3 pad bytes, then XChannel (bit 18, align 4) at 12…19:
        // u32 flags, u16 frequency, u8 channel, u8 max power.
        let header = radiotap(
            present: [bits(5, 18)],
            data: [UInt8(bitPattern: -40), 0xEE, 0xEE, 0xEE]
                + UInt32(0x0000_0140).le + UInt16(5745).le + [149, 30]
        )
        let result = parse(header + probeRequest())
        #expect(result.signalDBm == -40)
        #expect(result.frequencyMHz == 5745)
    }

    /// (bit, alignment, size) from radiotap.org "Defined fields".
    static let specifiedLayouts: [(Int, Int, Int)] = [
        (0, 8, 8), (1, 1, 1), (2, 1, 1), (3, 2, 4), (4, 2, 2), (5, 1, 1), (6, 1, 1), (7, 2, 2),
        (8, 2, 2), (9, 2, 2), (10, 1, 1), (11, 1, 1), (12, 1, 1), (13, 1, 1), (14, 2, 2),
        (15, 2, 2), (16, 1, 1), (17, 1, 1), (18, 4, 8), (19, 1, 3), (20, 4, 8), (21, 2, 12),
        (22, 8, 12), (23, 2, 12), (24, 2, 12), (25, 2, 6), (26, 1, 1), (27, 2, 4),
    ]

    @Test(arguments: specifiedLayouts)
    func fieldLayoutMatchesTheSpecification(bit: Int, align: Int, size: Int) {
        #expect(RadiotapField.layout(ofBit: bit) == align << 8 | size)
    }

    @Test(arguments: [28, 29, 30, 31, 32, 63])
    func bitsWithoutAFixedLayoutStopTheWalk(bit: Int) {
        #expect(RadiotapField.layout(ofBit: bit) == 0)
    }
}
