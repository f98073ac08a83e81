import FootfallCore

/// Link-layer header types footfall reads (the pcap `LINKTYPE_*` values).
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `LINKTYPE_IEEE802_11` (105): 802.11 frames without a radio header (no signal).
    public static let ieee80211 = LinkType(rawValue: 105)
    /// `LINKTYPE_IEEE802_11_RADIOTAP` (127): radiotap header followed by an 802.11 frame.
    public static let ieee80211Radiotap = LinkType(rawValue: 127)

    public var isSupported: Bool { self == .ieee80211 || self == .ieee80211Radiotap }

    public var description: String {
        switch self {
        case .ieee80211: "IEEE802_11 (105)"
        case .ieee80211Radiotap: "IEEE802_11_RADIOTAP (127)"
        default: "linktype \(rawValue)"
        }
    }
}

/// Why a frame was counted as malformed and skipped.
public enum MalformedReason: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Radiotap header shorter than 8 bytes, bad version, or `it_len` beyond the capture.
    case radiotapHeader
    /// A radiotap field ran past `it_len`, or too many `present` words.
    case radiotapField
    /// Fewer bytes than the 802.11 header needs for its type.
    case shortFrame
    /// Information elements that overrun the frame, where they make the frame unusable.
    ///
    /// The 802.11 parser does not produce it: a probe request whose elements overrun the
    /// frame is still a probe request (tshark counts it as one too), so it is returned with
    /// ``ElementSummary/truncated`` set and counted in ``ParseCounters/probeRequests`` and
    /// ``ParseCounters/truncatedElements``. Counting it here as well would count one frame
    /// twice and break `frames == probeRequests + other + malformed`.
    case elements
    /// A TZSP or PEEKREMOTE datagram that could not be decoded.
    case encapsulation

    public var description: String {
        switch self {
        case .radiotapHeader: "radiotap_header"
        case .radiotapField: "radiotap_field"
        case .shortFrame: "short_frame"
        case .elements: "elements"
        case .encapsulation: "encapsulation"
        }
    }
}

/// The 802.11 frame type (frame control bits 2–3).
public enum FrameClass: Int, CaseIterable, Sendable, CustomStringConvertible {
    case management = 0, control = 1, data = 2, extensionType = 3

    public var description: String {
        switch self {
        case .management: "management"
        case .control: "control"
        case .data: "data"
        case .extensionType: "extension"
        }
    }
}

/// Counters the parser keeps; plain integers in fixed fields (no heap storage, so updating
/// them never allocates), bounded dimensions, nothing per device.
///
/// Every record lands in exactly one bucket, so
/// `frames == probeRequests + otherTotal + malformed` always holds (``isConsistent``);
/// `badFCS` and `truncatedElements` are subsets of `probeRequests`, not buckets of their own.
public struct ParseCounters: Sendable, Equatable {
    /// Every record handed to the parser.
    public var frames: Int = 0
    /// Frames with a complete 24-byte management header and type/subtype 0/4 (including
    /// those whose elements or FCS are bad).
    public var probeRequests: Int = 0
    /// Probe requests whose radiotap flags reported a failed FCS (a subset of `probeRequests`).
    public var badFCS: Int = 0
    /// Probe requests whose information elements were cut short or overran the frame (a
    /// subset of `probeRequests`; see ``MalformedReason/elements``).
    public var truncatedElements: Int = 0
    // Other frames by 802.11 type (management frames other than probe requests count as management).
    public var otherManagement: Int = 0
    public var otherControl: Int = 0
    public var otherData: Int = 0
    public var otherExtension: Int = 0
    // Malformed frames by reason.
    public var malformedRadiotapHeader: Int = 0
    public var malformedRadiotapField: Int = 0
    public var malformedShortFrame: Int = 0
    public var malformedElements: Int = 0
    public var malformedEncapsulation: Int = 0

    public init() {}

    /// All malformed frames, whatever the reason.
    public var malformed: Int {
        malformedRadiotapHeader + malformedRadiotapField + malformedShortFrame + malformedElements + malformedEncapsulation
    }

    /// Malformed frames for one reason.
    public subscript(reason: MalformedReason) -> Int {
        get {
            switch reason {
            case .radiotapHeader: malformedRadiotapHeader
            case .radiotapField: malformedRadiotapField
            case .shortFrame: malformedShortFrame
            case .elements: malformedElements
            case .encapsulation: malformedEncapsulation
            }
        }
        set {
            switch reason {
            case .radiotapHeader: malformedRadiotapHeader = newValue
            case .radiotapField: malformedRadiotapField = newValue
            case .shortFrame: malformedShortFrame = newValue
            case .elements: malformedElements = newValue
            case .encapsulation: malformedEncapsulation = newValue
            }
        }
    }

    /// Well-formed frames of one 802.11 type that were not probe requests.
    public subscript(other frameClass: FrameClass) -> Int {
        get {
            switch frameClass {
            case .management: otherManagement
            case .control: otherControl
            case .data: otherData
            case .extensionType: otherExtension
            }
        }
        set {
            switch frameClass {
            case .management: otherManagement = newValue
            case .control: otherControl = newValue
            case .data: otherData = newValue
            case .extensionType: otherExtension = newValue
            }
        }
    }

    /// Well-formed frames that were not probe requests, whatever their type.
    public var otherTotal: Int {
        otherManagement + otherControl + otherData + otherExtension
    }

    /// Whether every frame was counted in exactly one bucket and the subset counters stay
    /// within `probeRequests`. Always true for counters only the parser updated.
    public var isConsistent: Bool {
        frames == probeRequests + otherTotal + malformed
            && badFCS <= probeRequests && truncatedElements <= probeRequests
    }

    public mutating func add(_ other: ParseCounters) {
        frames += other.frames
        probeRequests += other.probeRequests
        badFCS += other.badFCS
        truncatedElements += other.truncatedElements
        for c in FrameClass.allCases { self[other: c] += other[other: c] }
        for r in MalformedReason.allCases { self[r] += other[r] }
    }
}

/// The result of parsing one captured record.
public enum ParseResult: ~Copyable, Sendable {
    /// A probe request. Its elements may still be flagged `truncated`, its FCS bad.
    case probeRequest(ProbeRequest)
    /// A well-formed frame that is not a probe request.
    case other(FrameClass)
    /// A frame that could not be parsed.
    case malformed(MalformedReason)
}
