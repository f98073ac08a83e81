import FootfallCore

// The parts of the 802.11 MAC header footfall reads.
//
// Reference: IEEE Std 802.11-2020, 9.2.3 (general frame format), 9.2.4.1 (Frame Control),
// 9.2.4.4 (Sequence Control), 9.3.1 (control frames), 9.3.2 (data frames), 9.3.3.2
// (management frame format). Multi-octet fields are little-endian (9.2.2); addresses are
// transmitted first octet first.

/// The Frame Control field, kept packed (IEEE 802.11-2020, 9.2.4.1, Figure 9-2).
internal struct FrameControl: Sendable, Equatable {
    var rawValue: UInt16
    init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Protocol Version, bits 0–1 (0 for every frame footfall reads).
    var protocolVersion: UInt16 { rawValue & 0x3 }
    /// Type, bits 2–3 (0 management, 1 control, 2 data, 3 extension).
    var type: UInt16 { (rawValue >> 2) & 0x3 }
    /// Subtype, bits 4–7 (meaning depends on the type; Table 9-1).
    var subtype: UInt16 { (rawValue >> 4) & 0xF }
    /// To DS, bit 8.
    var toDS: Bool { rawValue & 0x0100 != 0 }
    /// From DS, bit 9.
    var fromDS: Bool { rawValue & 0x0200 != 0 }

    var frameClass: FrameClass {
        switch type {
        case 0: .management
        case 1: .control
        case 2: .data
        default: .extensionType
        }
    }

    /// Type 0 (management), subtype 4 (Probe Request), Table 9-1. The same test as tshark's
    /// `wlan.fc.type_subtype == 4`.
    var isProbeRequest: Bool { rawValue & 0x00FC == 0x0040 }
}


internal enum IEEE80211 {
    /// Frame Control (2) + Duration (2) + Address 1, 2, 3 (6 each) + Sequence Control (2):
    /// the management frame header (9.3.3.2, Figure 9-32; no HT Control, which only follows
    /// when the Order bit is set in frames that footfall does not read beyond the header).
    static let managementHeaderLength = 24
    /// The shortest control frames, CTS and Ack: Frame Control + Duration + RA (9.3.1.3, 9.3.1.4).
    static let minimumControlLength = 10
    /// Frame Control + Duration + Address 1–3 + Sequence Control (9.3.2.1, Figure 9-60).
    static let dataHeaderLength = 24
    /// Offset of Address 2 (the transmitter address, TA/SA) in management and data headers.
    static let address2Offset = 10
    /// Offset of Sequence Control in management and data headers.
    static let sequenceControlOffset = 22

    /// The smallest length a frame of this type must have for footfall to classify it.
    ///
    /// Management and data frames need their whole header (data frames with both To DS and
    /// From DS carry a fourth address, QoS data subtypes (subtype bit 3) a QoS Control field);
    /// control frames only the shortest control header, since they are only counted by type.
    /// Extension-type frames need their Frame Control only.
    @inline(__always)
    static func minimumLength(of fc: FrameControl) -> Int {
        switch fc.type {
        case 0: return managementHeaderLength
        case 1: return minimumControlLength
        case 2:
            var length = dataHeaderLength
            if fc.toDS && fc.fromDS { length &+= 6 }   // Address 4
            if fc.subtype & 0x8 != 0 { length &+= 2 }  // QoS Control
            return length
        default: return 2
        }
    }

    /// Reads a MAC address at `offset` (6 bytes, caller checked) as a 48-bit integer with
    /// the first octet on the wire as the most significant (see ``RawMAC``).
    @inline(__always)
    static func address(in bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        bytes.bigEndian48(at: offset)
    }
}
