import FootfallCore

/// What the parser keeps of one received probe request (802.11 management subtype 4).
///
/// It holds the raw transmitter address and is therefore `~Copyable` too (see ``RawMAC``):
/// it lives from the parser to the ``Pseudonymiser`` and no further. The SSID text is never
/// kept, only its length.
public struct ProbeRequest: ~Copyable, Sendable {
    /// Capture time, nanoseconds since the Unix epoch (UTC), from the capture record.
    public var timestampNanos: Int64
    /// Transmitter address (802.11 addr2).
    public var source: RawMAC
    /// 802.11 sequence number (12 bits).
    public var sequenceNumber: UInt16
    /// Strongest dBm antenna signal reported by radiotap, or `nil` when the link type or the
    /// radiotap header carries none.
    public var signalDBm: Int8?
    /// Channel centre frequency in MHz from radiotap, or 0 when unknown.
    public var frequencyMHz: UInt16
    /// Radiotap said the frame failed its FCS check.
    public var badFCS: Bool
    /// A summary of the information elements (no SSID text).
    public var elements: ElementSummary

    public init(
        timestampNanos: Int64,
        source: consuming RawMAC,
        sequenceNumber: UInt16,
        signalDBm: Int8?,
        frequencyMHz: UInt16,
        badFCS: Bool,
        elements: ElementSummary
    ) {
        self.timestampNanos = timestampNanos
        self.source = source
        self.sequenceNumber = sequenceNumber
        self.signalDBm = signalDBm
        self.frequencyMHz = frequencyMHz
        self.badFCS = badFCS
        self.elements = elements
    }
}

/// What the information elements of a probe request say, without their contents.
///
/// `fingerprint` is a 64-bit digest of the element layout (element ids, lengths and the
/// capability bits that stay the same when a phone randomises its address). It can single
/// out a device model and so is treated like an identifier (P10): the ``Pseudonymiser`` hashes
/// it under the current key before anything downstream sees it.
public struct ElementSummary: Sendable, Equatable {
    /// Length of the SSID element (0 = wildcard/broadcast probe). The text is never kept.
    public var ssidLength: UInt8
    /// Number of supported + extended supported rates.
    public var rateCount: UInt8
    public var hasHTCapabilities: Bool
    public var hasVHTCapabilities: Bool
    public var hasHECapabilities: Bool
    public var hasExtendedCapabilities: Bool
    /// Number of vendor-specific elements (id 221).
    public var vendorElementCount: UInt8
    /// Unkeyed digest of the element layout; never leaves ``FootfallCore`` unkeyed.
    @usableFromInline internal var fingerprint: UInt64
    /// The elements were cut short or overran the frame (the frame is still a probe request).
    public var truncated: Bool

    public init() {
        ssidLength = 0
        rateCount = 0
        hasHTCapabilities = false
        hasVHTCapabilities = false
        hasHECapabilities = false
        hasExtendedCapabilities = false
        vendorElementCount = 0
        fingerprint = 0
        truncated = false
    }
}
