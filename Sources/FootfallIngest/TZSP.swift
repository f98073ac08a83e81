import FootfallCore

/// The TaZmen Sniffer Protocol (TZSP): how access points (MikroTik, some Aruba and Ubiquiti
/// firmware) stream the frames they hear to a collector over UDP (port 37008, `0x9090`).
///
/// There is no RFC. The numbers below follow the protocol note by Network Chemistry
/// ("TZSP", application note AN001, archived 2005) as implemented by Wireshark's dissector
/// `epan/dissectors/packet-tzsp.c`:
///
/// ```
/// 0        1        2                 4
/// +--------+--------+--------+--------+----- tags ----+ end (1) +- encapsulated frame -+
/// |version | type   | encapsulation   | tag len value |   0x01  |                      |
/// +--------+--------+--------+--------+---------------+---------+----------------------+
/// ```
///
/// All multi-byte fields are big-endian (network order). Tags 0 (padding) and 1 (end) are a
/// single byte; every other tag is `tag, length, value[length]`.
public enum TZSP {
    /// The UDP port access points send TZSP to by default (`UDP_PORT_TZSP 0x9090` in packet-tzsp.c).
    public static let defaultPort: UInt16 = 37008

    /// The only header version in use (`version` byte).
    public static let version: UInt8 = 1

    /// TZSP packet types (`tzsp_type[]` in packet-tzsp.c). Only received frames carry a capture.
    public struct PacketType: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// 0, "Received tag list": a frame the sensor received, preceded by tags.
        public static let receivedTagList = PacketType(rawValue: 0)
    }

    /// TZSP encapsulation values (`TZSP_ENCAP_*` in packet-tzsp.c). These are TZSP's own
    /// numbers, not pcap link types.
    public struct Encapsulation: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// `TZSP_ENCAP_ETHERNET` (1).
        public static let ethernet = Encapsulation(rawValue: 1)
        /// `TZSP_ENCAP_IEEE_802_11` (18): a bare 802.11 frame (pcap link type 105).
        public static let ieee80211 = Encapsulation(rawValue: 18)
        /// `TZSP_ENCAP_PRISM_HEADER` (119).
        public static let prismHeader = Encapsulation(rawValue: 119)
        /// `TZSP_ENCAP_WLAN_AVS` (127).
        public static let wlanAVS = Encapsulation(rawValue: 127)
    }

    /// Tag numbers (`TZSP_HDR_*` and `WLAN_RADIO_HDR_*` in packet-tzsp.c).
    public struct Tag: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `TZSP_HDR_PAD` (0): one byte, no length.
        public static let padding = Tag(rawValue: 0)
        /// `TZSP_HDR_END` (1): one byte, no length; the frame follows.
        public static let end = Tag(rawValue: 1)
        /// `WLAN_RADIO_HDR_SIGNAL` (10): received signal, dBm, signed byte.
        public static let signal = Tag(rawValue: 10)
        /// `WLAN_RADIO_HDR_NOISE` (11): noise level, dBm, signed byte.
        public static let noise = Tag(rawValue: 11)
        /// `WLAN_RADIO_HDR_CHANNEL` (18): channel number, unsigned byte.
        public static let channel = Tag(rawValue: 18)
        /// `TZSP_HDR_SENSOR` (60): the sensor's own MAC address, 6 bytes.
        public static let sensorMAC = Tag(rawValue: 60)
    }

    /// Why a datagram was rejected. Each reason has its own counter in ``TZSPCounters``.
    public enum DecodeError: Error, Sendable, Equatable, CaseIterable, CustomStringConvertible {
        /// Fewer than the 4 header bytes.
        case truncatedHeader
        /// `version` is not 1.
        case unsupportedVersion
        /// `type` is not 0 (received tag list): keepalives, configuration, transmit requests.
        case unsupportedType
        /// The frame inside is not bare 802.11 (e.g. Ethernet, Prism, AVS).
        case unsupportedEncapsulation
        /// A tag's length byte is missing or its value runs past the datagram.
        case tagOverrun
        /// A known tag with the wrong length (signal, noise and channel are 1 byte, the sensor MAC 6).
        case tagLength
        /// The datagram ended before the end tag.
        case missingEndTag

        public var description: String {
            switch self {
            case .truncatedHeader: "truncated_header"
            case .unsupportedVersion: "unsupported_version"
            case .unsupportedType: "unsupported_type"
            case .unsupportedEncapsulation: "unsupported_encapsulation"
            case .tagOverrun: "tag_overrun"
            case .tagLength: "tag_length"
            case .missingEndTag: "missing_end_tag"
            }
        }
    }

    /// Decodes the TZSP header and tags of one UDP payload, in place and without allocating.
    ///
    /// - Parameter datagram: the UDP payload, borrowed for the call only.
    /// - Returns: the header; ``TZSPHeader/payload`` is the range of `datagram` holding the
    ///   802.11 frame.
    /// - Throws: ``DecodeError`` saying why the datagram cannot carry a frame.
    public static func decode(_ datagram: UnsafeRawBufferPointer) throws(DecodeError) -> TZSPHeader {
        let count = datagram.count
        // One length check for the fixed header, then plain reads.
        guard count >= 4 else { throw .truncatedHeader }
        guard datagram[0] == version else { throw .unsupportedVersion }
        guard datagram[1] == PacketType.receivedTagList.rawValue else { throw .unsupportedType }
        // Big-endian (network order).
        let encapsulation = datagram.bigEndian(UInt16.self, at: 2)
        guard encapsulation == Encapsulation.ieee80211.rawValue else { throw .unsupportedEncapsulation }

        var header = TZSPHeader(encapsulation: encapsulation)
        var offset = 4
        // Every iteration consumes at least one byte, so the loop is bounded by the datagram.
        while offset < count {
            let tag = datagram[offset]
            offset += 1
            if tag == Tag.padding.rawValue { continue }
            if tag == Tag.end.rawValue {
                header.payload = offset ..< count
                return header
            }
            guard offset < count else { throw .tagOverrun }
            let length = Int(datagram[offset])
            offset += 1
            guard length <= count - offset else { throw .tagOverrun }
            switch tag {
            case Tag.signal.rawValue:
                guard length == 1 else { throw .tagLength }
                header.signalDBm = Int8(bitPattern: datagram[offset])
            case Tag.noise.rawValue:
                guard length == 1 else { throw .tagLength }
                header.noiseDBm = Int8(bitPattern: datagram[offset])
            case Tag.channel.rawValue:
                guard length == 1 else { throw .tagLength }
                header.channel = datagram[offset]
            case Tag.sensorMAC.rawValue:
                guard length == 6 else { throw .tagLength }
                // Transmission order, first octet most significant (as RawMAC stores it).
                header.sensorMAC = datagram.bigEndian48(at: offset)
            default:
                break // Unknown or uninteresting tag (rate, timestamp, FCS flag, …): skipped by length.
            }
            offset += length
        }
        throw .missingEndTag
    }
}

/// What a TZSP datagram says about the frame it carries.
public struct TZSPHeader: Sendable, Equatable {
    /// Where the 802.11 frame lies in the datagram (after the end tag); may be empty.
    public var payload: Range<Int>
    /// Received signal, dBm (tag 10), if the sensor sent it.
    public var signalDBm: Int8?
    /// Noise level, dBm (tag 11).
    public var noiseDBm: Int8?
    /// Channel number (tag 18).
    public var channel: UInt8?
    /// The access point's own MAC address (tag 60) in the low 48 bits, first octet most
    /// significant. It is infrastructure, not a visitor, and is used only to tell sensors
    /// apart when several share one sender address.
    public var sensorMAC: UInt64?
    /// The TZSP encapsulation value (always ``TZSP/Encapsulation/ieee80211`` once decoded).
    public var encapsulation: UInt16

    public init(payload: Range<Int> = 0 ..< 0, signalDBm: Int8? = nil, noiseDBm: Int8? = nil, channel: UInt8? = nil, sensorMAC: UInt64? = nil, encapsulation: UInt16) {
        self.payload = payload
        self.signalDBm = signalDBm
        self.noiseDBm = noiseDBm
        self.channel = channel
        self.sensorMAC = sensorMAC
        self.encapsulation = encapsulation
    }

    /// TZSP as read here carries no FCS verdict (``AccessPointStreamHeader/parseFrame(in:timestampNanos:counters:)``).
    public var crcError: Bool { false }
}

/// Counters for TZSP datagrams: plain integers in fixed fields, one per rejection reason.
public struct TZSPCounters: Sendable, Equatable {
    /// Every datagram handed to the decoder (or rejected before it, see ``undecodableIP``).
    public var datagrams: Int = 0
    /// Datagrams that carried an 802.11 frame.
    public var decoded: Int = 0
    /// Captured packets whose link, IPv4 or UDP headers could not be read (see ``UDPDatagram``).
    public var undecodableIP: Int = 0
    /// IPv4 fragments: TZSP datagrams are never reassembled.
    public var fragments: Int = 0
    public var truncatedHeader: Int = 0
    public var unsupportedVersion: Int = 0
    public var unsupportedType: Int = 0
    public var unsupportedEncapsulation: Int = 0
    public var tagOverrun: Int = 0
    public var tagLength: Int = 0
    public var missingEndTag: Int = 0

    public init() {}

    /// Datagrams rejected for one reason.
    public subscript(reason: TZSP.DecodeError) -> Int {
        get {
            switch reason {
            case .truncatedHeader: truncatedHeader
            case .unsupportedVersion: unsupportedVersion
            case .unsupportedType: unsupportedType
            case .unsupportedEncapsulation: unsupportedEncapsulation
            case .tagOverrun: tagOverrun
            case .tagLength: tagLength
            case .missingEndTag: missingEndTag
            }
        }
        set {
            switch reason {
            case .truncatedHeader: truncatedHeader = newValue
            case .unsupportedVersion: unsupportedVersion = newValue
            case .unsupportedType: unsupportedType = newValue
            case .unsupportedEncapsulation: unsupportedEncapsulation = newValue
            case .tagOverrun: tagOverrun = newValue
            case .tagLength: tagLength = newValue
            case .missingEndTag: missingEndTag = newValue
            }
        }
    }

    /// Decodes one UDP payload and counts the outcome.
    public mutating func decode(_ datagram: UnsafeRawBufferPointer) -> TZSPHeader? {
        datagrams += 1
        do {
            let header = try TZSP.decode(datagram)
            decoded += 1
            return header
        } catch {
            self[error] += 1
            return nil
        }
    }
}
