import Testing
import FootfallCore
@testable import FootfallIngest

/// IPv4/UDP packets built byte by byte (RFC 791, RFC 768; big-endian fields).
private enum Packet {
    static func ipv4UDP(source: [UInt8] = [192, 0, 2, 7], sourcePort: UInt16 = 5000, port: UInt16 = 37008, payload: [UInt8], options: [UInt8] = [], flagsFragment: UInt16 = 0x4000, proto: UInt8 = 17, extraTrailer: Int = 0) -> [UInt8] {
        precondition(options.count % 4 == 0)
        let ihl = 5 + options.count / 4
        let udpLength = 8 + payload.count
        let total = ihl * 4 + udpLength
        var p: [UInt8] = [UInt8(0x40 | ihl), 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 0, UInt8(flagsFragment >> 8), UInt8(flagsFragment & 0xFF), 64, proto, 0, 0]
        p += source + [127, 0, 0, 1] + options
        p += [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xFF), UInt8(port >> 8), UInt8(port & 0xFF), UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0]
        return p + payload + [UInt8](repeating: 0, count: extraTrailer)
    }

    static func ethernet(_ ip: [UInt8], etherType: [UInt8] = [0x08, 0x00], vlan: Bool = false) -> [UInt8] {
        [UInt8](repeating: 0, count: 12) + (vlan ? [0x81, 0x00, 0x00, 0x05] : []) + etherType + ip
    }

    static func decode(_ bytes: [UInt8], _ linkType: LinkType) throws(UDPDatagram.DecodeError) -> UDPDatagram {
        var result: Result<UDPDatagram, UDPDatagram.DecodeError> = .failure(.badIPHeader)
        bytes.withUnsafeBytes { buffer in
            result = Result { () throws(UDPDatagram.DecodeError) in try UDPDatagram.decode(buffer, linkType: linkType) }
        }
        return try result.get()
    }
}

@Suite("IPv4/UDP headers of a TZSP stream")
struct UDPDatagramTests {
    let payload: [UInt8] = [1, 0, 0, 18, 1, 0xAA]

    @Test func ethernetFrameYieldsSenderPortsAndPayloadRange() throws {
        let bytes = Packet.ethernet(Packet.ipv4UDP(payload: payload))
        let d = try Packet.decode(bytes, .ethernet)
        #expect(d.source == IPv4Address(value: 0xC000_0207))
        #expect(d.source.description == "192.0.2.7")
        #expect(d.sourcePort == 5000)
        #expect(d.destinationPort == 37008)
        #expect(Array(bytes[d.payload]) == payload)
    }

    @Test func ipv4OptionsAreSkippedUsingIHL() throws {
        let bytes = Packet.ethernet(Packet.ipv4UDP(payload: payload, options: [0x94, 0x04, 0, 0, 1, 1, 1, 0]))
        let d = try Packet.decode(bytes, .ethernet)
        #expect(Array(bytes[d.payload]) == payload)
    }

    @Test func ethernetPaddingAfterTheIPPacketIsNotPartOfThePayload() throws {
        let bytes = Packet.ethernet(Packet.ipv4UDP(payload: payload, extraTrailer: 12))
        let d = try Packet.decode(bytes, .ethernet)
        #expect(Array(bytes[d.payload]) == payload)
    }

    @Test func vlanTaggedEthernetIsUnwrapped() throws {
        let bytes = Packet.ethernet(Packet.ipv4UDP(payload: payload), vlan: true)
        #expect(Array(bytes[try Packet.decode(bytes, .ethernet).payload]) == payload)
    }

    @Test func cookedRawAndLoopbackLinkTypesAreUnwrapped() throws {
        let ip = Packet.ipv4UDP(payload: payload)
        let sll: [UInt8] = [0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00] + ip
        let sll2: [UInt8] = [0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0] + ip
        let nullLE: [UInt8] = [2, 0, 0, 0] + ip
        let nullBE: [UInt8] = [0, 0, 0, 2] + ip
        for (bytes, linkType) in [(sll, LinkType.linuxSLL), (sll2, .linuxSLL2), (nullLE, .null), (nullBE, .null), (nullBE, .loop), (ip, .raw), (ip, .ipv4)] {
            let d = try Packet.decode(bytes, linkType)
            #expect(Array(bytes[d.payload]) == payload, "link type \(linkType.rawValue)")
        }
    }

    @Test(arguments: [
        (Packet.ethernet(Packet.ipv4UDP(payload: [1]), etherType: [0x86, 0xDD]), UDPDatagram.DecodeError.notIPv4),
        ([UInt8](repeating: 0, count: 13), .truncatedLinkHeader),
        (Packet.ethernet(Array(Packet.ipv4UDP(payload: [1]).prefix(19))), .badIPHeader),
        (Packet.ethernet(Array(Packet.ipv4UDP(payload: [1, 2, 3]).dropLast(2))), .badIPHeader), // total length beyond capture
        (Packet.ethernet(Packet.ipv4UDP(payload: [1], flagsFragment: 0x2000)), .fragment), // more fragments
        (Packet.ethernet(Packet.ipv4UDP(payload: [1], flagsFragment: 0x0010)), .fragment), // offset 128
        (Packet.ethernet(Packet.ipv4UDP(payload: [1], proto: 6)), .notUDP),
    ])
    func undecodablePacketsAreRejectedWithTheirReason(bytes: [UInt8], reason: UDPDatagram.DecodeError) {
        #expect(throws: reason) { try Packet.decode(bytes, .ethernet) }
    }

    @Test func ihlBelowFiveIsRejected() {
        var ip = Packet.ipv4UDP(payload: [1])
        ip[0] = 0x44
        #expect(throws: UDPDatagram.DecodeError.badIPHeader) { try Packet.decode(ip, .raw) }
    }

    @Test func udpLengthBeyondTheIPPacketIsRejected() {
        var ip = Packet.ipv4UDP(payload: [1, 2])
        ip[25] = 200 // UDP length low byte
        #expect(throws: UDPDatagram.DecodeError.badUDPHeader) { try Packet.decode(ip, .raw) }
    }

    @Test func everyTruncationOfAPacketIsRejectedNotMisread() {
        let bytes = Packet.ethernet(Packet.ipv4UDP(payload: payload))
        for length in 0 ..< bytes.count {
            #expect(throws: UDPDatagram.DecodeError.self) { try Packet.decode(Array(bytes.prefix(length)), .ethernet) }
        }
    }

    @Test func radiotapIsNotALinkTypeThatCarriesIPv4() {
        #expect(throws: UDPDatagram.DecodeError.unsupportedLinkType) { try Packet.decode(Packet.ipv4UDP(payload: [1]), .ieee80211Radiotap) }
    }

    @Test(arguments: ["192.0.2.7", "10.0.0.1", "255.255.255.255", "0.0.0.0"])
    func dottedQuadsRoundTrip(text: String) {
        #expect(IPv4Address(dottedQuad: text)?.description == text)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1..2.3", "a.b.c.d", "1.2.3.-4", " 1.2.3.4", "1.2.3.0004"])
    func malformedDottedQuadsAreRejected(text: String) {
        #expect(IPv4Address(dottedQuad: text) == nil)
    }
}
