import FootfallCore

/// An encapsulation that access points wrap the 802.11 frames they hear in, to stream them
/// to a collector over UDP: ``TZSP`` and ``PeekRemote``. Capturing, counting and routing
/// such streams is written once, against this.
public protocol AccessPointStream {
    associatedtype Header: AccessPointStreamHeader
    associatedtype DecodeError: Error & CaseIterable & Equatable
    associatedtype Counters: AccessPointStreamCounters where Counters.Header == Header, Counters.DecodeError == DecodeError
    /// The UDP port access points send to by default.
    static var defaultPort: UInt16 { get }
}

/// What a stream's header says about the frame it carries.
public protocol AccessPointStreamHeader: Sendable {
    /// The bare 802.11 frame (no FCS) in the datagram the header was decoded from.
    var payload: Range<Int> { get }
    /// The access point's signal reading for the frame, in dBm.
    var signalDBm: Int8? { get }
    /// The access point reported the frame's FCS as failed.
    var crcError: Bool { get }
}

extension AccessPointStreamHeader {
    /// The bare 802.11 frame (no FCS) this header describes, in the datagram it was decoded from.
    @inlinable
    public func frame(in datagram: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: datagram[payload])
    }

    /// What the access point reported about the frame: its signal (bare 802.11 frames carry
    /// no radio header of their own) and a CRC error, which marks the probe request (and
    /// ``ParseCounters/badFCS``) as the radiotap bad-FCS flag would.
    @inlinable
    public var hints: RadioHints { RadioHints(signalDBm: signalDBm, badFCS: crcError) }

    /// Parses the 802.11 frame this header describes with its ``hints``: exactly what
    /// `footfall run` does with the frame and hints it carried through its ring.
    ///
    /// - Parameters:
    ///   - datagram: the same UDP payload the header was decoded from.
    ///   - timestampNanos: capture time of the datagram, nanoseconds since the Unix epoch.
    ///   - counters: the parser's counters, updated as for any other frame.
    ///   - elements: which probe requests get the full element summary.
    public func parseFrame(in datagram: UnsafeRawBufferPointer, timestampNanos: Int64, counters: inout ParseCounters, elements: ElementDetail = .full) -> ParseResult {
        FrameParser.parse(frame(in: datagram), linkType: .ieee80211, hints: hints, timestampNanos: timestampNanos, counters: &counters, elements: elements)
    }
}

/// Counters of a stream's datagrams by outcome: plain integers, one per rejection reason.
public protocol AccessPointStreamCounters: Sendable, Equatable {
    associatedtype Header
    associatedtype DecodeError: CaseIterable
    init()
    /// Every datagram handed to the decoder (or rejected before it, see ``undecodableIP``).
    var datagrams: Int { get set }
    /// Captured packets whose link, IPv4 or UDP headers could not be read (see ``UDPDatagram``).
    var undecodableIP: Int { get set }
    /// IPv4 fragments: datagrams are never reassembled.
    var fragments: Int { get set }
    /// Datagrams rejected for one reason.
    subscript(reason: DecodeError) -> Int { get }
    /// Decodes one UDP payload and counts the outcome.
    mutating func decode(_ datagram: UnsafeRawBufferPointer) -> Header?
}

extension AccessPointStreamCounters {
    /// All datagrams that did not yield a frame, whatever the reason.
    public var rejected: Int {
        undecodableIP + fragments + DecodeError.allCases.reduce(0) { $0 + self[$1] }
    }
}

extension AccessPointStreamCounters where Header: AccessPointStreamHeader {
    /// Decodes one UDP payload and parses the frame inside, counting both: a datagram whose
    /// header cannot be read is one `.malformed(.encapsulation)` frame in `parse` as well as
    /// one rejection here, so `parse` stays consistent (every datagram in one bucket).
    public mutating func parse(_ datagram: UnsafeRawBufferPointer, timestampNanos: Int64, counters parse: inout ParseCounters) -> ParseResult {
        guard let header = decode(datagram) else {
            parse.frames += 1
            parse[.encapsulation] += 1
            return .malformed(.encapsulation)
        }
        return header.parseFrame(in: datagram, timestampNanos: timestampNanos, counters: &parse)
    }
}

extension TZSP: AccessPointStream {
    public typealias Header = TZSPHeader
    public typealias Counters = TZSPCounters
}

extension TZSPHeader: AccessPointStreamHeader {}

extension TZSPCounters: AccessPointStreamCounters {}

extension PeekRemote: AccessPointStream {
    public typealias Header = PeekRemoteHeader
    public typealias Counters = PeekRemoteCounters
}

extension PeekRemoteHeader: AccessPointStreamHeader {}

extension PeekRemoteCounters: AccessPointStreamCounters {}
