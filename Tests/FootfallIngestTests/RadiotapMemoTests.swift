import FootfallTestSupport
import Testing
import FootfallCore
@testable import FootfallIngest

/// Replay parses every frame of a file with one ``RadiotapLayoutMemo``: a frame whose
/// present word was seen before takes the remembered field offsets instead of the walk. That
/// is only right if every result, and every count, is the walk's.
@Suite struct RadiotapMemoTests {
    /// Radiotap headers the way a sensor and a damaged file might write them: one present
    /// word with random defined fields (sometimes TLVs after them, bit 28), random field
    /// bytes, and for each word three lengths: its fields exactly, cut short by 1–6 bytes
    /// (a field then runs past `it_len`, or the walk stops earlier), and 1–9 bytes longer.
    static func headers(count: Int, stream: inout SplitMix64) -> [[UInt8]] {
        var headers: [[UInt8]] = []
        for _ in 0 ..< count {
            var present: UInt32 = 0
            for bit in 0 ..< 28 where stream.below(4) == 0 { present |= 1 << UInt32(bit) }
            if stream.below(8) == 0 { present |= 1 << 28 }
            // One word, or (one in five) the same first word continued by two different
            // second words in the radiotap namespace (bit 29): the same first word, other
            // offsets, so a memo keyed on it alone would be wrong for them.
            var layouts = [[present]]
            if stream.below(5) == 0 {
                let first = present | 1 << 29 | 1 << 31
                func second() -> UInt32 { UInt32(truncatingIfNeeded: stream.next()) & 0x0000_0FFF }
                layouts = [[first, second()], [first, second() | 1 << 31, second()]]
            }
            let needed = 60
            let data = (0 ..< needed).map { _ in UInt8(truncatingIfNeeded: stream.next()) }
            for words in layouts {
            // The length the walk reaches: found by growing it_len until the walk stops
            // saying the fields run past it.
            var exact = 4 + 4 * words.count
            while exact < 4 + 4 * words.count + needed,
                  Radiotap.parse(radiotap(present: words, data: data, itLen: exact) + probeRequest()) == nil {
                exact += 1
            }
            let base = 4 + 4 * words.count
            for itLen in [exact, max(8, exact - 1 - stream.below(6)), exact + 1 + stream.below(9)] {
                let bytes = Array(radiotap(present: words, data: data, itLen: itLen).prefix(itLen))
                headers.append(bytes + Array(repeating: 0xEE, count: max(0, itLen - base - data.count)))
            }
            }
        }
        return headers
    }

    @Test func aRememberedLayoutGivesTheWalksResultAndCountsForEveryFrame() throws {
        var stream = SplitMix64(seed: 2024)
        let headers = Self.headers(count: 300, stream: &stream)
        var memo = RadiotapLayoutMemo()
        var withMemo = ParseCounters()
        var walked = ParseCounters()
        var mismatches = 0
        var remembered = 0
        // Frames in runs from a few headers at a time, as a capture's sensor writes them,
        // so the same word comes back with its other lengths in between.
        for _ in 0 ..< 20_000 {
            let header = headers[stream.below(8) == 0 ? stream.below(headers.count) : stream.below(12)]
            let frame = header + probeRequest()
            let word = UInt32(header[4]) | UInt32(header[5]) << 8 | UInt32(header[6]) << 16 | UInt32(header[7]) << 24
            if word == memo.present, Int(header[2]) | Int(header[3]) << 8 >= memo.required { remembered += 1 }
            let fast = frame.withUnsafeBytes { parseRemembering($0, counters: &withMemo, memo: &memo) }
            let slow = parse(frame, counters: &walked)
            if fast != slow { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(withMemo == walked)
        #expect(withMemo.malformed > 0)  // the cut-short lengths were among them
        #expect(remembered > 1_000)  // the memo was used, not just filled (2,490 frames of 20,000)
    }

    /// The Brno captures through one memo, as replay reads them: the same results and counts.
    @Test func fixtureCapturesParseAlikeWithAndWithoutTheMemo() throws {
        let capture = try PcapRecords(path: PcapRecords.fixture("brno-sc6-61/2024-03-14_position_1.pcap"))
        var memo = RadiotapLayoutMemo()
        var withMemo = ParseCounters()
        var walked = ParseCounters()
        var mismatches = 0
        for record in capture.records {
            let fast = record.withUnsafeBytes { parseRemembering($0, counters: &withMemo, memo: &memo) }
            let slow = parse(record, counters: &walked)
            if fast != slow { mismatches += 1 }
        }
        #expect(capture.records.count == 17_183)
        #expect(mismatches == 0)
        #expect(withMemo == walked)
    }

    /// Parses through `memo`, as replay does, and copies out the result.
    func parseRemembering(_ raw: UnsafeRawBufferPointer, counters: inout ParseCounters, memo: inout RadiotapLayoutMemo) -> Parsed {
        let result = FrameParser.parse(raw, linkType: .ieee80211Radiotap, timestampNanos: 1_700_000_000_000_000_000, counters: &counters, elements: .full, radiotap: &memo)
        switch consume result {
        case .probeRequest(let request):
            return Parsed(kind: .probeRequest, source: request.source.bits, sequenceNumber: request.sequenceNumber, signalDBm: request.signalDBm, frequencyMHz: request.frequencyMHz, badFCS: request.badFCS, elements: request.elements)
        case .other(let frameClass):
            return Parsed(kind: .other(frameClass))
        case .malformed(let reason):
            return Parsed(kind: .malformed(reason))
        }
    }
}

extension Radiotap {
    /// The walk's header for `bytes`, or `nil` when it found the header malformed.
    static func parse(_ bytes: [UInt8]) -> RadiotapHeader? {
        bytes.withUnsafeBytes { raw in
            if case .header(let header) = Radiotap.parse(raw) { return header }
            return nil
        }
    }
}

extension SplitMix64 {
    /// A number in 0 ..< n (the modulo bias is of no matter to these tests).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
