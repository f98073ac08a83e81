import FootfallCore

/// What a source knows about a frame's reception that the frame's own bytes may not say:
/// the signal and the FCS verdict. A radiotap header carries both itself; a bare 802.11
/// frame out of an access point's stream (TZSP, PEEKREMOTE) carries neither, and its
/// stream header does. The hints travel with the frame (through the capture ring of
/// `footfall run`) into the one ``FrameParser/parse(_:linkType:hints:timestampNanos:counters:elements:)``
/// every source uses, so a stream's frames are parsed the same way in a test and in `run`.
public struct RadioHints: Sendable, Equatable, BitwiseCopyable {
    /// The signal the source reported, dBm; used when the frame has no reading of its own.
    public var signalDBm: Int8?
    /// The source received the frame with a failed FCS (PEEKREMOTE's "CRC error" flag).
    public var badFCS: Bool

    @inlinable
    public init(signalDBm: Int8? = nil, badFCS: Bool = false) {
        self.signalDBm = signalDBm
        self.badFCS = badFCS
    }

    /// Nothing beyond the frame itself (capture files, monitor interfaces).
    public static let none = RadioHints()
}
