// Builders for the frames the tests feed to the parser, written byte by byte so that every
// offset, padding byte and length in a test can be read off the code.
import FootfallCore
@testable import FootfallIngest

/// A copyable picture of one parse result (``ParseResult`` and ``ProbeRequest`` are
/// `~Copyable`, so tests copy out what they check).
struct Parsed: Equatable {
    enum Kind: Equatable {
        case probeRequest
        case other(FrameClass)
        case malformed(MalformedReason)
    }

    var kind: Kind
    var source: UInt64 = 0
    var sequenceNumber: UInt16 = 0
    var signalDBm: Int8? = nil
    var frequencyMHz: UInt16 = 0
    var badFCS = false
    var elements = ElementSummary()
}

/// Parses `bytes` once and returns what came out, updating `counters`.
func parse(_ bytes: [UInt8], linkType: LinkType = .ieee80211Radiotap, counters: inout ParseCounters) -> Parsed {
    bytes.withUnsafeBytes { raw in
        parse(raw, linkType: linkType, counters: &counters)
    }
}

/// Parses `bytes` with fresh counters.
func parse(_ bytes: [UInt8], linkType: LinkType = .ieee80211Radiotap) -> Parsed {
    var counters = ParseCounters()
    return parse(bytes, linkType: linkType, counters: &counters)
}

func parse(_ raw: UnsafeRawBufferPointer, linkType: LinkType, counters: inout ParseCounters, elements: ElementDetail = .full) -> Parsed {
    let result = FrameParser.parse(raw, linkType: linkType, timestampNanos: 1_700_000_000_000_000_000, counters: &counters, elements: elements)
    switch consume result {
    case .probeRequest(let request):
        return Parsed(
            kind: .probeRequest,
            source: request.source.bits,
            sequenceNumber: request.sequenceNumber,
            signalDBm: request.signalDBm,
            frequencyMHz: request.frequencyMHz,
            badFCS: request.badFCS,
            elements: request.elements
        )
    case .other(let frameClass):
        return Parsed(kind: .other(frameClass))
    case .malformed(let reason):
        return Parsed(kind: .malformed(reason))
    }
}

extension UInt16 {
    /// The two bytes of `self`, least significant first (radiotap and 802.11 byte order).
    var le: [UInt8] { [UInt8(self & 0xFF), UInt8(self >> 8)] }
}

extension UInt32 {
    var le: [UInt8] { [UInt8(self & 0xFF), UInt8((self >> 8) & 0xFF), UInt8((self >> 16) & 0xFF), UInt8(self >> 24)] }
}

/// A radiotap header: `it_version` 0, `it_pad` 0, `it_len`, the present words, then `data`
/// exactly as given (the caller writes any alignment padding itself).
func radiotap(present: [UInt32], data: [UInt8], itLen: Int? = nil) -> [UInt8] {
    let length = itLen ?? 4 + 4 * present.count + data.count
    return [0, 0] + UInt16(length).le + present.flatMap(\.le) + data
}

/// Bits of an `it_present` word.
func bits(_ numbers: Int...) -> UInt32 {
    numbers.reduce(0) { $0 | 1 << UInt32($1) }
}

/// The radiotap header most monitor-mode drivers write: Flags (offset 8), one pad byte,
/// Channel (10…13, aligned to 2), dBm antenna signal (14); `it_len` 15.
func simpleRadiotap(flags: UInt8 = 0, frequencyMHz: UInt16 = 2412, signal: Int8 = -60) -> [UInt8] {
    radiotap(
        present: [bits(1, 3, 5)],
        data: [flags, 0x00] + frequencyMHz.le + UInt16(0x00A0).le + [UInt8(bitPattern: signal)]
    )
}

/// One information element: id, length, body.
func element(_ id: UInt8, _ body: [UInt8]) -> [UInt8] {
    [id, UInt8(body.count)] + body
}

let broadcast: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
/// A locally administered (randomised-looking) address used as the transmitter in tests.
let testSource: [UInt8] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]

/// A management frame header (24 bytes): Frame Control, Duration, addr1 (broadcast),
/// addr2 = `source`, addr3 (broadcast BSSID), Sequence Control (`sequence << 4`).
func managementHeader(subtype: UInt8, source: [UInt8] = testSource, sequence: UInt16 = 0x0ABC) -> [UInt8] {
    [subtype << 4, 0x00, 0x00, 0x00] + broadcast + source + broadcast + (sequence << 4).le
}

/// Typical probe request elements: wildcard SSID, 8 supported rates, 4 extended rates,
/// HT capabilities, extended capabilities, one vendor element.
let typicalElements: [UInt8] =
    element(0, [])
    + element(1, [0x02, 0x04, 0x0B, 0x16, 0x0C, 0x12, 0x18, 0x24])
    + element(50, [0x30, 0x48, 0x60, 0x6C])
    + element(45, [0xEF, 0x19] + [UInt8](repeating: 0, count: 24))
    + element(127, [0x04, 0x00, 0x0A, 0x02, 0x01, 0x40, 0x40, 0x00])
    + element(221, [0x00, 0x50, 0xF2, 0x08, 0x00, 0x10, 0x00])

func probeRequest(source: [UInt8] = testSource, sequence: UInt16 = 0x0ABC, elements: [UInt8] = typicalElements) -> [UInt8] {
    managementHeader(subtype: 4, source: source, sequence: sequence) + elements
}
