import FootfallCore

/// Entry point of the frame parser: radiotap (``Radiotap``), then the 802.11 header
/// (``IEEE80211``), then the probe request's elements (``ElementSummary``).
///
/// It reads the borrowed record in place, with one length check per header and unaligned
/// little-endian loads, and allocates nothing.
///
/// ## What counts as what
/// Every record is counted in `frames` and in exactly one of three buckets, so
/// `frames == probeRequests + otherTotal + malformed` (``ParseCounters/isConsistent``):
///
/// - **probe request**: the 802.11 frame (after the radiotap header, without a trailing FCS)
///   holds a complete 24-byte management header and its Frame Control says type 0 subtype 4.
///   Nothing else is required: a probe request whose elements overrun the frame is still
///   one (`elements.truncated`, also counted in `truncatedElements`), and so is one whose
///   FCS failed (`badFCS`, also counted in `badFCS`). This is the set tshark selects with
///   `wlan.fc.type_subtype == 4`, except that tshark also selects frames cut off inside the
///   24-byte header, which footfall cannot use (no transmitter address) and counts as
///   malformed `.shortFrame`.
/// - **other**: any other frame long enough for its type's header, counted by type.
/// - **malformed**: a radiotap header that is cut short, has a version other than 0, an
///   `it_len` below 8 or beyond the capture (`.radiotapHeader`); present words or field data
///   running past `it_len`, or too many present words (`.radiotapField`); an 802.11 frame
///   shorter than its header (`.shortFrame`); a link type the parser does not read
///   (`.encapsulation`). A radiotap header that contradicts itself gives no signal or FCS
///   information worth trusting, so such a frame is not looked at further, although tshark
///   would still dissect the 802.11 frame behind it.
public enum FrameParser {
    /// Parses one captured record in place, without allocating.
    ///
    /// - Parameters:
    ///   - bytes: the record as captured (`caplen` bytes), borrowed for the call only.
    ///   - linkType: the capture's link type; should be ``LinkType/isSupported`` (any other
    ///     is counted as malformed `.encapsulation`).
    ///   - timestampNanos: capture time, nanoseconds since the Unix epoch.
    ///   - counters: updated for every record (frames, probe requests, bad FCS, other, malformed).
    ///   - elements: which probe requests get the full element summary (all by default). A
    ///     caller that reads less of the information elements gets, where it says so, an
    ///     ``ElementSummary`` that holds only `truncated` (every other field at its default,
    ///     the fingerprint 0), which takes a fraction of the full walk. What is counted and
    ///     everything else returned is the same.
    /// - Returns: the probe request, or what else the record was.
    @inlinable
    public static func parse(
        _ bytes: UnsafeRawBufferPointer,
        linkType: LinkType,
        timestampNanos: Int64,
        counters: inout ParseCounters,
        elements detail: ElementDetail = .full
    ) -> ParseResult {
        var memo = RadiotapLayoutMemo()
        return parseRecord(bytes, linkType: linkType, hints: .none, timestampNanos: timestampNanos, counters: &counters, elements: detail, radiotap: &memo)
    }

    /// ``parse(_:linkType:timestampNanos:counters:elements:)`` for a caller that parses a
    /// stream of records from one source: `radiotap` remembers where the last radiotap
    /// header's fields were (``RadiotapLayoutMemo``), so that records with the same fields
    /// are not walked again. Every result is the one the walk gives.
    @inlinable
    public static func parse(
        _ bytes: UnsafeRawBufferPointer,
        linkType: LinkType,
        timestampNanos: Int64,
        counters: inout ParseCounters,
        elements detail: ElementDetail,
        radiotap memo: inout RadiotapLayoutMemo
    ) -> ParseResult {
        parseRecord(bytes, linkType: linkType, hints: .none, timestampNanos: timestampNanos, counters: &counters, elements: detail, radiotap: &memo)
    }

    /// The one parse every source goes through: capture files and monitor interfaces with
    /// no hints, a frame out of a TZSP or PEEKREMOTE stream with its header's
    /// (``AccessPointStreamHeader/hints``). `footfall run` carries the hints with the frame
    /// through its ring and calls this on the pipeline thread.
    ///
    /// - Parameters:
    ///   - hints: the source's signal (used when the frame carries none) and FCS verdict (a
    ///     failed one marks the probe request, and ``ParseCounters/badFCS``, as the radiotap
    ///     bad-FCS flag would).
    ///   - elements: which probe requests get the full element summary.
    @inlinable
    public static func parse(
        _ bytes: UnsafeRawBufferPointer,
        linkType: LinkType,
        hints: RadioHints,
        timestampNanos: Int64,
        counters: inout ParseCounters,
        elements detail: ElementDetail
    ) -> ParseResult {
        var memo = RadiotapLayoutMemo()
        return parseRecord(bytes, linkType: linkType, hints: hints, timestampNanos: timestampNanos, counters: &counters, elements: detail, radiotap: &memo)
    }
}

/// The body of ``FrameParser/parse(_:linkType:timestampNanos:counters:elements:)``, a free
/// function the inlinable entry points call directly. Why: as a static method of
/// ``FrameParser`` it takes the unused metatype, so the optimiser compiles a copy without it
/// and leaves the public symbol as a thunk that other modules call; the thunk copies the
/// ~40-byte result once more, and reading it back right after the callee's narrower stores
/// stalls store forwarding (about 4 % of a replay in the profile).
@usableFromInline
func parseRecord(
    _ bytes: UnsafeRawBufferPointer,
    linkType: LinkType,
    hints: RadioHints,
    timestampNanos: Int64,
    counters: inout ParseCounters,
    elements detail: ElementDetail,
    radiotap memo: inout RadiotapLayoutMemo
) -> ParseResult {
    counters.frames += 1

    var start = 0
    var end = bytes.count
    var signalDBm: Int8? = hints.signalDBm
    var frequencyMHz: UInt16 = 0
    var badFCS = hints.badFCS

    switch linkType {
    case .ieee80211Radiotap:
        switch Radiotap.parse(bytes, memo: &memo) {
        case .malformed(let reason):
            counters[reason] += 1
            return .malformed(reason)
        case .header(let radiotap):
            start = radiotap.length
            // The frame's own radio header wins over what the source says about it.
            if let own = radiotap.signalDBm { signalDBm = own }
            frequencyMHz = radiotap.frequencyMHz
            badFCS = badFCS || radiotap.flags.contains(.badFCS)
            if radiotap.flags.contains(.fcsAtEnd) {
                // The 4-byte FCS is not part of the frame body (IEEE 802.11-2020, 9.2.4.8).
                guard end &- start >= 4 else {
                    counters[.shortFrame] += 1
                    return .malformed(.shortFrame)
                }
                end &-= 4
            }
        }
    case .ieee80211:
        // LINKTYPE_IEEE802_11 does not say whether frames end with an FCS; none is
        // assumed (tshark's default too). A trailing FCS would at worst show up as
        // `truncated` elements.
        break
    default:
        counters[.encapsulation] += 1
        return .malformed(.encapsulation)
    }

    let length = end &- start
    guard length >= 2 else {
        counters[.shortFrame] += 1
        return .malformed(.shortFrame)
    }
    let fc = FrameControl(rawValue: bytes.littleEndian(UInt16.self, at: start))
    guard length >= IEEE80211.minimumLength(of: fc) else {
        counters[.shortFrame] += 1
        return .malformed(.shortFrame)
    }
    guard fc.isProbeRequest else {
        let frameClass = fc.frameClass
        counters[other: frameClass] += 1
        return .other(frameClass)
    }

    // A complete management header: read it without further checks.
    let source = RawMAC(bits: IEEE80211.address(in: bytes, at: start &+ IEEE80211.address2Offset))
    let sequenceControl = bytes.littleEndian(UInt16.self, at: start &+ IEEE80211.sequenceControlOffset)
    let bodyStart = start &+ IEEE80211.managementHeaderLength
    let full = switch detail {
    case .full: true
    case .fullIfLocallyAdministered: source.isLocallyAdministered
    case .truncationOnly: false
    }
    let elements = full
        ? ElementSummary.parse(bytes, from: bodyStart, to: end)
        : ElementSummary.truncationOnly(bytes, from: bodyStart, to: end)

    counters.probeRequests += 1
    if badFCS { counters.badFCS += 1 }
    if elements.truncated { counters.truncatedElements += 1 }
    return .probeRequest(ProbeRequest(
        timestampNanos: timestampNanos,
        source: source,
        sequenceNumber: sequenceControl >> 4,  // Sequence Number, bits 4–15 (9.2.4.4.1)
        signalDBm: signalDBm,
        frequencyMHz: frequencyMHz,
        badFCS: badFCS,
        elements: elements
    ))
}

/// How much of a probe request's information elements a caller reads, so that the parser
/// can leave out the rest (see ``FrameParser/parse(_:linkType:timestampNanos:counters:elements:)``).
/// The unkeyed fingerprint is seen only by the parser and the ``Pseudonymiser``; one that is
/// left out is 0 and must not be hashed in place of the real one (P10: a fingerprint that
/// is computed is keyed).
public enum ElementDetail: Sendable, Equatable {
    /// The whole ``ElementSummary``, fingerprint included, for every probe request.
    case full
    /// The whole summary for probe requests from a locally administered (randomised)
    /// address, only `truncated` for the others: what the ``Tracker`` reads under
    /// `privacy.randomised_addresses: group`, which groups just those by fingerprint
    /// (``Pseudonymiser/observeForTracker(_:sensor:keySlot:grouping:)``).
    case fullIfLocallyAdministered
    /// Only `truncated` (which the counters need), for a caller that tells devices apart by
    /// address alone (`footfall stats`, the tracker under the other policies).
    case truncationOnly
}
