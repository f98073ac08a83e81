import FootfallCore

/// PEEKREMOTE ("AiroPeek/OmniPeek encapsulated IEEE 802.11"): how Cisco access points and
/// wireless controllers, and Aruba access points, stream the frames they hear to a collector
/// over UDP (port 5000 by default).
///
/// There is no public specification. The layouts below follow Wireshark's dissector
/// `epan/dissectors/packet-peekremote.c` (the reference tshark uses for
/// `-d udp.port==5000,peekremote`), which knows two headers:
///
/// **Legacy header**, 20 bytes (`dissect_peekremote_legacy`):
/// ```
/// 0       signal dBm (signed)        1   noise dBm (signed)
/// 2..3    packet length              4..5  slice length
/// 6       flags (0x02 CRC error)     7   status
/// 8..15   TSF timestamp, µs          16  data rate (500 kb/s)
/// 17      channel                    18  signal %   19  noise %
/// 20…     802.11 frame, ending with its 4-byte FCS
/// ```
///
/// **Newer header** (`dissect_peekremote_new`), recognised by the magic `00 FF AB CD`:
/// ```
/// 0..3    magic 0x00FFABCD           4   header version (2 is the only one defined)
/// 5..8    header size (55 for version 2, counted from byte 0)
/// 9..12   type                       13..14 MCS index     15..16 channel
/// 17..20  frequency, MHz             21..24 band          25..28 extended flags
/// 29      signal %                   30  noise %
/// 31      signal dBm (signed)        32  noise dBm (signed)
/// 33..36  signal dBm per antenna     37..40 noise dBm per antenna
/// 41..42  packet length              43..44 slice length
/// 45      flags (0x02 CRC error)     46  status           47..54 TSF timestamp
/// 55…     802.11 frame, ending with its 4-byte FCS
/// ```
///
/// All multi-byte fields are big-endian (network order). In both cases the dissector hands
/// the frame to the 802.11 dissector with `fcs_len = 4`: the frame ends with its FCS
/// (IEEE 802.11-2020, 9.2.4.8), which is not part of the frame body and is cut off here.
public enum PeekRemote {
    /// The UDP port access points send to by default (`dissector_add_uint("udp.port", 5000, …)`).
    public static let defaultPort: UInt16 = 5000

    /// Length of the legacy header.
    public static let legacyHeaderLength = 20

    /// First four bytes of the newer header (`magic[4] = { 0x00, 0xFF, 0xAB, 0xCD }`).
    public static let magic: UInt32 = 0x00FF_ABCD

    /// The only version of the newer header whose fields are defined.
    public static let headerVersion2: UInt8 = 2

    /// The size version 2 declares for itself; any other value is "Invalid header size for
    /// that header version" in the dissector.
    public static let headerVersion2Length = 55

    /// Length of the frame check sequence at the end of every frame.
    public static let fcsLength = 4

    /// `flags` bit 0x02, "Has CRC error": the access point received the frame with a bad FCS.
    public static let flagCRCError: UInt8 = 0x02

    /// Which of the two headers a datagram carried.
    public enum Format: Sendable, Equatable {
        case legacy
        case version2
    }

    /// Why a datagram was rejected. Each reason has its own counter in ``PeekRemoteCounters``.
    public enum DecodeError: Error, Sendable, Equatable, CaseIterable, CustomStringConvertible {
        /// Shorter than the 20-byte legacy header, or than the 9 bytes in front of the newer
        /// header's fields.
        case truncatedHeader
        /// The newer header (magic present) with a version other than 2.
        case unsupportedVersion
        /// The newer header's size field is not 55.
        case headerLength
        /// The newer header's size field runs past the datagram.
        case headerOverrun

        public var description: String {
            switch self {
            case .truncatedHeader: "truncated_header"
            case .unsupportedVersion: "unsupported_version"
            case .headerLength: "header_length"
            case .headerOverrun: "header_overrun"
            }
        }
    }

    /// Decodes the PEEKREMOTE header of one UDP payload, in place and without allocating.
    ///
    /// - Parameter datagram: the UDP payload, borrowed for the call only.
    /// - Returns: the header; ``PeekRemoteHeader/payload`` is the range of `datagram` holding
    ///   the 802.11 frame without its FCS (empty when the datagram ends inside the FCS).
    /// - Throws: ``DecodeError`` saying why the datagram cannot carry a frame.
    public static func decode(_ datagram: UnsafeRawBufferPointer) throws(DecodeError) -> PeekRemoteHeader {
        let count = datagram.count
        if count >= 4, datagram.bigEndian(UInt32.self, at: 0) == magic {
            // Magic, version and the 4-byte size precede every field.
            guard count >= 9 else { throw .truncatedHeader }
            guard datagram[4] == headerVersion2 else { throw .unsupportedVersion }
            // The size is a 32-bit number from the wire: compared before it is used as an offset.
            let size = datagram.bigEndian(UInt32.self, at: 5)
            guard UInt64(size) <= UInt64(count) else { throw .headerOverrun }
            guard Int(size) == headerVersion2Length else { throw .headerLength }
            let channel = datagram.bigEndian(UInt16.self, at: 15)
            let frequency = datagram.bigEndian(UInt32.self, at: 17)
            return PeekRemoteHeader(
                format: .version2,
                payload: frameRange(headerEnd: headerVersion2Length, count: count),
                signalDBm: Int8(bitPattern: datagram[31]),
                noiseDBm: Int8(bitPattern: datagram[32]),
                channel: channel,
                // "if (frequency != 0)": zero means the access point did not say.
                frequencyMHz: frequency == 0 ? nil : frequency,
                crcError: datagram[45] & flagCRCError != 0,
                tsfMicroseconds: datagram.bigEndian(UInt64.self, at: 47)
            )
        }
        guard count >= legacyHeaderLength else { throw .truncatedHeader }
        return PeekRemoteHeader(
            format: .legacy,
            payload: frameRange(headerEnd: legacyHeaderLength, count: count),
            signalDBm: Int8(bitPattern: datagram[0]),
            noiseDBm: Int8(bitPattern: datagram[1]),
            channel: UInt16(datagram[17]),
            frequencyMHz: nil,
            crcError: datagram[6] & flagCRCError != 0,
            tsfMicroseconds: datagram.bigEndian(UInt64.self, at: 8)
        )
    }

    /// The frame between the header and the FCS. A datagram that ends inside the FCS gives
    /// an empty range, which the 802.11 parser counts as a short frame.
    private static func frameRange(headerEnd: Int, count: Int) -> Range<Int> {
        let end = count - fcsLength
        return end > headerEnd ? headerEnd ..< end : headerEnd ..< headerEnd
    }
}

/// What a PEEKREMOTE datagram says about the frame it carries.
public struct PeekRemoteHeader: Sendable, Equatable {
    public var format: PeekRemote.Format
    /// Where the 802.11 frame lies in the datagram, after the header and without the FCS.
    public var payload: Range<Int>
    /// Received signal, dBm (both headers carry it).
    public var signalDBm: Int8?
    /// Noise level, dBm.
    public var noiseDBm: Int8?
    /// Channel number.
    public var channel: UInt16
    /// Centre frequency, MHz (newer header only, when not zero).
    public var frequencyMHz: UInt32?
    /// The access point flagged the frame's FCS as failed (`flags` 0x02).
    public var crcError: Bool
    /// The access point's TSF timer, µs. Not a wall-clock time: footfall uses its own
    /// capture time for events.
    public var tsfMicroseconds: UInt64

    public init(format: PeekRemote.Format, payload: Range<Int>, signalDBm: Int8?, noiseDBm: Int8?, channel: UInt16, frequencyMHz: UInt32?, crcError: Bool, tsfMicroseconds: UInt64) {
        self.format = format
        self.payload = payload
        self.signalDBm = signalDBm
        self.noiseDBm = noiseDBm
        self.channel = channel
        self.frequencyMHz = frequencyMHz
        self.crcError = crcError
        self.tsfMicroseconds = tsfMicroseconds
    }
}

/// Counters for PEEKREMOTE datagrams: plain integers in fixed fields, one per rejection reason.
public struct PeekRemoteCounters: Sendable, Equatable {
    /// Every datagram handed to the decoder (or rejected before it, see ``undecodableIP``).
    public var datagrams: Int = 0
    /// Datagrams that carried an 802.11 frame.
    public var decoded: Int = 0
    /// Of ``decoded``, those with the legacy header.
    public var legacy: Int = 0
    /// Captured packets whose link, IPv4 or UDP headers could not be read (see ``UDPDatagram``).
    public var undecodableIP: Int = 0
    /// IPv4 fragments: datagrams are never reassembled.
    public var fragments: Int = 0
    public var truncatedHeader: Int = 0
    public var unsupportedVersion: Int = 0
    public var headerLength: Int = 0
    public var headerOverrun: Int = 0

    public init() {}

    /// Datagrams rejected for one reason.
    public subscript(reason: PeekRemote.DecodeError) -> Int {
        get {
            switch reason {
            case .truncatedHeader: truncatedHeader
            case .unsupportedVersion: unsupportedVersion
            case .headerLength: headerLength
            case .headerOverrun: headerOverrun
            }
        }
        set {
            switch reason {
            case .truncatedHeader: truncatedHeader = newValue
            case .unsupportedVersion: unsupportedVersion = newValue
            case .headerLength: headerLength = newValue
            case .headerOverrun: headerOverrun = newValue
            }
        }
    }

    /// Decodes one UDP payload and counts the outcome.
    public mutating func decode(_ datagram: UnsafeRawBufferPointer) -> PeekRemoteHeader? {
        datagrams += 1
        do {
            let header = try PeekRemote.decode(datagram)
            decoded += 1
            if header.format == .legacy { legacy += 1 }
            return header
        } catch {
            self[error] += 1
            return nil
        }
    }
}
