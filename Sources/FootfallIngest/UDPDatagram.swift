import FootfallCore

/// Link-layer header types a TZSP stream arrives on (pcap `DLT_*` values as `pcap_datalink`
/// returns them on Linux; see pcap-linktype(7)). These are not frames footfall parses as
/// 802.11 (``LinkType/isSupported`` stays false): they only carry the IPv4/UDP datagram.
extension LinkType {
    /// `DLT_NULL` (0): BSD loopback, 4-byte address family in the writer's byte order.
    public static let null = LinkType(rawValue: 0)
    /// `DLT_EN10MB` (1): Ethernet II (Linux `lo` uses it too, with zero addresses).
    public static let ethernet = LinkType(rawValue: 1)
    /// `DLT_RAW` (12 on Linux): the packet starts with the IP header.
    public static let raw = LinkType(rawValue: 12)
    /// `LINKTYPE_RAW` (101): the same, as written in files.
    public static let linktypeRaw = LinkType(rawValue: 101)
    /// `DLT_LOOP` (108): OpenBSD loopback, 4-byte address family, big-endian.
    public static let loop = LinkType(rawValue: 108)
    /// `DLT_LINUX_SLL` (113): Linux "cooked" header, 16 bytes (e.g. the `any` interface).
    public static let linuxSLL = LinkType(rawValue: 113)
    /// `DLT_IPV4` (228): raw IPv4.
    public static let ipv4 = LinkType(rawValue: 228)
    /// `DLT_LINUX_SLL2` (276): Linux "cooked" header v2, 20 bytes.
    public static let linuxSLL2 = LinkType(rawValue: 276)

    /// Whether ``UDPDatagram/decode(_:linkType:)`` can find an IPv4 packet behind this link type.
    public var carriesIPv4: Bool {
        switch self {
        case .null, .ethernet, .raw, .linktypeRaw, .loop, .linuxSLL, .ipv4, .linuxSLL2: true
        default: false
        }
    }
}

/// An IPv4 address as a 32-bit integer, first octet most significant. Used for the address
/// of an access point that streams TZSP (infrastructure, never a visitor).
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    public var value: UInt32

    public init(value: UInt32) { self.value = value }

    /// Parses a dotted quad such as `192.0.2.7`; `nil` for anything else.
    public init?(dottedQuad text: String) {
        var value: UInt32 = 0
        var parts = 0
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard part.count >= 1, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let octet = UInt32(part), octet <= 255 else { return nil }
            value = value << 8 | octet
            parts += 1
        }
        guard parts == 4 else { return nil }
        self.value = value
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}

/// The parts of a captured IPv4/UDP packet a TZSP source needs: who sent it and where the
/// UDP payload lies. Decoded in place from the captured bytes, without allocating.
public struct UDPDatagram: Sendable, Equatable {
    /// The IPv4 source address.
    public var source: IPv4Address
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Where the UDP payload lies in the captured record.
    public var payload: Range<Int>

    public init(source: IPv4Address, sourcePort: UInt16, destinationPort: UInt16, payload: Range<Int>) {
        self.source = source
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.payload = payload
    }

    /// Why a captured packet did not yield a UDP payload.
    public enum DecodeError: Error, Sendable, Equatable, CaseIterable, CustomStringConvertible {
        /// The capture's link type is not one of ``LinkType/carriesIPv4``.
        case unsupportedLinkType
        /// The record is shorter than its link-layer header.
        case truncatedLinkHeader
        /// The link layer says the packet is not IPv4 (e.g. IPv6, ARP).
        case notIPv4
        /// Shorter than the IPv4 header, `IHL` below 5, or the total length beyond the capture.
        case badIPHeader
        /// A fragment (more-fragments flag or a fragment offset): not reassembled.
        case fragment
        /// IPv4 protocol is not UDP (17).
        case notUDP
        /// The UDP header is missing, or its length field disagrees with the IPv4 packet.
        case badUDPHeader

        public var description: String {
            switch self {
            case .unsupportedLinkType: "unsupported_link_type"
            case .truncatedLinkHeader: "truncated_link_header"
            case .notIPv4: "not_ipv4"
            case .badIPHeader: "bad_ip_header"
            case .fragment: "fragment"
            case .notUDP: "not_udp"
            case .badUDPHeader: "bad_udp_header"
            }
        }
    }

    /// Decodes the link-layer, IPv4 and UDP headers of one captured record.
    ///
    /// All header fields are big-endian (network order) except the `DLT_NULL` family, which
    /// is in the byte order of the machine that wrote it.
    ///
    /// - Parameters:
    ///   - bytes: the record as captured, borrowed for the call only.
    ///   - linkType: the capture's link type (`pcap_datalink`).
    /// - Returns: the sender and the range of `bytes` holding the UDP payload.
    public static func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType) throws(DecodeError) -> UDPDatagram {
        let ip = try ipv4Offset(bytes, linkType: linkType)
        let count = bytes.count

        // IPv4 header, RFC 791 §3.1: version/IHL, total length at 2, flags/fragment offset at 6,
        // protocol at 9, source address at 12.
        guard count - ip >= 20 else { throw .badIPHeader }
        let versionIHL = bytes[ip]
        guard versionIHL >> 4 == 4 else { throw .notIPv4 }
        let headerLength = Int(versionIHL & 0x0F) * 4
        let totalLength = Int(bytes.bigEndian(UInt16.self, at: ip + 2))
        // Options are skipped via IHL; the total length bounds the packet (Ethernet pads short frames).
        guard headerLength >= 20, totalLength >= headerLength, totalLength <= count - ip else { throw .badIPHeader }
        let flagsFragment = bytes.bigEndian(UInt16.self, at: ip + 6)
        // More-fragments flag (0x2000) or a non-zero 13-bit fragment offset.
        guard flagsFragment & 0x3FFF == 0 else { throw .fragment }
        guard bytes[ip + 9] == 17 else { throw .notUDP }
        let source = bytes.bigEndian(UInt32.self, at: ip + 12)

        // UDP header, RFC 768: ports, length (header included), checksum.
        let udp = ip + headerLength
        let end = ip + totalLength
        guard end - udp >= 8 else { throw .badUDPHeader }
        let udpLength = Int(bytes.bigEndian(UInt16.self, at: udp + 4))
        guard udpLength >= 8, udpLength <= end - udp else { throw .badUDPHeader }
        return UDPDatagram(
            source: IPv4Address(value: source),
            sourcePort: bytes.bigEndian(UInt16.self, at: udp),
            destinationPort: bytes.bigEndian(UInt16.self, at: udp + 2),
            payload: (udp + 8) ..< (udp + udpLength)
        )
    }

    /// Offset of the IPv4 header behind the link-layer header.
    private static func ipv4Offset(_ bytes: UnsafeRawBufferPointer, linkType: LinkType) throws(DecodeError) -> Int {
        let count = bytes.count
        switch linkType {
        case .ethernet:
            // Ethernet II: destination (6), source (6), EtherType (2, big-endian); up to two
            // 802.1Q / 802.1ad VLAN tags (4 bytes each) before the real EtherType.
            var offset = 12
            for _ in 0 ..< 3 {
                guard count - offset >= 2 else { throw .truncatedLinkHeader }
                let etherType = bytes.bigEndian(UInt16.self, at: offset)
                if etherType == 0x8100 || etherType == 0x88A8 {
                    offset += 4
                    continue
                }
                guard etherType == 0x0800 else { throw .notIPv4 }
                return offset + 2
            }
            throw .notIPv4
        case .linuxSLL:
            // 16 bytes; protocol type (big-endian) at 14.
            guard count >= 16 else { throw .truncatedLinkHeader }
            guard bytes.bigEndian(UInt16.self, at: 14) == 0x0800 else { throw .notIPv4 }
            return 16
        case .linuxSLL2:
            // 20 bytes; protocol type (big-endian) at 0.
            guard count >= 20 else { throw .truncatedLinkHeader }
            guard bytes.bigEndian(UInt16.self, at: 0) == 0x0800 else { throw .notIPv4 }
            return 20
        case .null, .loop:
            // 4-byte address family; AF_INET is 2 everywhere. DLT_NULL is in the writer's
            // byte order, so accept both; DLT_LOOP is big-endian.
            guard count >= 4 else { throw .truncatedLinkHeader }
            let family = bytes.bigEndian(UInt32.self, at: 0)
            guard family == 2 || (linkType == .null && family == 0x0200_0000) else { throw .notIPv4 }
            return 4
        case .raw, .linktypeRaw, .ipv4:
            return 0
        default:
            throw .unsupportedLinkType
        }
    }

}
