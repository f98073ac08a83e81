import FootfallCore

// Radiotap: the radio header in front of an 802.11 frame on LINKTYPE_IEEE802_11_RADIOTAP (127).
//
// Reference: the radiotap specification, https://www.radiotap.org ("Radiotap header",
// "Defined fields", "Vendor Namespace", "Radiotap Namespace", "TLV fields"). All radiotap
// integers are little-endian; every field is aligned to its natural size relative to the
// start of the radiotap header (not to the start of the capture buffer).

/// Bit numbers of the `it_present` words, with the `IEEE80211_RADIOTAP_*` names they map to
/// (radiotap.org, "Defined fields").
internal struct RadiotapField: RawRepresentable, Hashable, Sendable {
    var rawValue: Int
    init(rawValue: Int) { self.rawValue = rawValue }

    /// `IEEE80211_RADIOTAP_TSFT`: u64 µs, align 8.
    static let tsft = RadiotapField(rawValue: 0)
    /// `IEEE80211_RADIOTAP_FLAGS`: u8, see ``RadiotapFlags``.
    static let flags = RadiotapField(rawValue: 1)
    /// `IEEE80211_RADIOTAP_RATE`: u8, 500 kbit/s.
    static let rate = RadiotapField(rawValue: 2)
    /// `IEEE80211_RADIOTAP_CHANNEL`: u16 frequency (MHz), u16 flags; align 2.
    static let channel = RadiotapField(rawValue: 3)
    /// `IEEE80211_RADIOTAP_FHSS`: u8 hop set, u8 hop pattern; align 2.
    static let fhss = RadiotapField(rawValue: 4)
    /// `IEEE80211_RADIOTAP_DBM_ANTSIGNAL`: s8 dBm.
    static let dbmAntennaSignal = RadiotapField(rawValue: 5)
    /// `IEEE80211_RADIOTAP_DBM_ANTNOISE`: s8 dBm.
    static let dbmAntennaNoise = RadiotapField(rawValue: 6)
    /// `IEEE80211_RADIOTAP_LOCK_QUALITY`: u16.
    static let lockQuality = RadiotapField(rawValue: 7)
    /// `IEEE80211_RADIOTAP_TX_ATTENUATION`: u16.
    static let txAttenuation = RadiotapField(rawValue: 8)
    /// `IEEE80211_RADIOTAP_DB_TX_ATTENUATION`: u16.
    static let dbTxAttenuation = RadiotapField(rawValue: 9)
    /// `IEEE80211_RADIOTAP_DBM_TX_POWER`: s8.
    static let dbmTxPower = RadiotapField(rawValue: 10)
    /// `IEEE80211_RADIOTAP_ANTENNA`: u8 antenna index.
    static let antenna = RadiotapField(rawValue: 11)
    /// `IEEE80211_RADIOTAP_DB_ANTSIGNAL`: u8 dB.
    static let dbAntennaSignal = RadiotapField(rawValue: 12)
    /// `IEEE80211_RADIOTAP_DB_ANTNOISE`: u8 dB.
    static let dbAntennaNoise = RadiotapField(rawValue: 13)
    /// `IEEE80211_RADIOTAP_RX_FLAGS`: u16.
    static let rxFlags = RadiotapField(rawValue: 14)
    /// `IEEE80211_RADIOTAP_TX_FLAGS`: u16.
    static let txFlags = RadiotapField(rawValue: 15)
    /// `IEEE80211_RADIOTAP_RTS_RETRIES`: u8.
    static let rtsRetries = RadiotapField(rawValue: 16)
    /// `IEEE80211_RADIOTAP_DATA_RETRIES`: u8.
    static let dataRetries = RadiotapField(rawValue: 17)
    /// XChannel: u32 flags, u16 frequency (MHz), u8 channel, u8 max power; align 4.
    static let xChannel = RadiotapField(rawValue: 18)
    /// `IEEE80211_RADIOTAP_MCS`: u8 known, u8 flags, u8 mcs.
    static let mcs = RadiotapField(rawValue: 19)
    /// `IEEE80211_RADIOTAP_AMPDU_STATUS`: u32 reference, u16 flags, u8 crc, u8 reserved; align 4.
    static let ampduStatus = RadiotapField(rawValue: 20)
    /// `IEEE80211_RADIOTAP_VHT`: 12 bytes, align 2.
    static let vht = RadiotapField(rawValue: 21)
    /// `IEEE80211_RADIOTAP_TIMESTAMP`: u64, u16, u8, u8; align 8.
    static let timestamp = RadiotapField(rawValue: 22)
    /// `IEEE80211_RADIOTAP_HE`: six u16; align 2.
    static let he = RadiotapField(rawValue: 23)
    /// `IEEE80211_RADIOTAP_HE_MU`: u16 flags1, u16 flags2, u8 ru_ch1[4], u8 ru_ch2[4]; align 2.
    static let heMU = RadiotapField(rawValue: 24)
    /// `IEEE80211_RADIOTAP_HE_MU_USER` (HE-MU-other-user): u16, u16, u8, u8; align 2.
    static let heMUOtherUser = RadiotapField(rawValue: 25)
    /// `IEEE80211_RADIOTAP_ZERO_LEN_PSDU`: u8 type.
    static let zeroLengthPSDU = RadiotapField(rawValue: 26)
    /// `IEEE80211_RADIOTAP_LSIG`: u16 data1, u16 data2; align 2.
    static let lSIG = RadiotapField(rawValue: 27)
    /// `IEEE80211_RADIOTAP_TLV`: type-length-value items fill the rest of the header.
    static let tlv = RadiotapField(rawValue: 28)
    /// `IEEE80211_RADIOTAP_RADIOTAP_NAMESPACE`: no data; the next word is in the radiotap namespace.
    static let radiotapNamespace = RadiotapField(rawValue: 29)
    /// `IEEE80211_RADIOTAP_VENDOR_NAMESPACE`: u8 OUI[3], u8 sub_ns, u16 skip_length; align 2.
    static let vendorNamespace = RadiotapField(rawValue: 30)
    /// `IEEE80211_RADIOTAP_EXT`: another `it_present` word follows.
    static let ext = RadiotapField(rawValue: 31)

    /// Alignment and size of a field of the default (radiotap) namespace, packed as
    /// `align << 8 | size`; 0 for a bit whose layout footfall does not know (the walk must
    /// stop there, because the data of every later field would be at an unknown offset).
    ///
    /// Sizes and alignments from radiotap.org "Defined fields", checked against the Linux
    /// (`net/wireless/radiotap.c`) and Wireshark iterator tables.
    @inline(__always)
    static func layout(ofBit bit: Int) -> Int {
        switch bit {
        case 0: 8 << 8 | 8      // TSFT
        case 1: 1 << 8 | 1      // Flags
        case 2: 1 << 8 | 1      // Rate
        case 3: 2 << 8 | 4      // Channel
        case 4: 2 << 8 | 2      // FHSS
        case 5: 1 << 8 | 1      // dBm antenna signal
        case 6: 1 << 8 | 1      // dBm antenna noise
        case 7: 2 << 8 | 2      // lock quality
        case 8: 2 << 8 | 2      // TX attenuation
        case 9: 2 << 8 | 2      // dB TX attenuation
        case 10: 1 << 8 | 1     // dBm TX power
        case 11: 1 << 8 | 1     // antenna
        case 12: 1 << 8 | 1     // dB antenna signal
        case 13: 1 << 8 | 1     // dB antenna noise
        case 14: 2 << 8 | 2     // RX flags
        case 15: 2 << 8 | 2     // TX flags
        case 16: 1 << 8 | 1     // RTS retries
        case 17: 1 << 8 | 1     // data retries
        case 18: 4 << 8 | 8     // XChannel
        case 19: 1 << 8 | 3     // MCS
        case 20: 4 << 8 | 8     // A-MPDU status
        case 21: 2 << 8 | 12    // VHT
        case 22: 8 << 8 | 12    // timestamp
        case 23: 2 << 8 | 12    // HE
        case 24: 2 << 8 | 12    // HE-MU
        case 25: 2 << 8 | 6     // HE-MU-other-user
        case 26: 1 << 8 | 1     // 0-length PSDU
        case 27: 2 << 8 | 4     // L-SIG
        default: 0              // 28 (TLVs) and anything unknown: stop
        }
    }
}

/// The radiotap Flags field (bit 1), kept packed (radiotap.org, "Flags").
internal struct RadiotapFlags: OptionSet, Sendable {
    var rawValue: UInt8
    init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `IEEE80211_RADIOTAP_F_FCS` (0x10): the frame ends with its 4-byte FCS.
    static let fcsAtEnd = RadiotapFlags(rawValue: 0x10)
    /// `IEEE80211_RADIOTAP_F_DATAPAD` (0x20): padding between the 802.11 header and the payload.
    static let dataPad = RadiotapFlags(rawValue: 0x20)
    /// `IEEE80211_RADIOTAP_F_BADFCS` (0x40): the frame failed its FCS check.
    static let badFCS = RadiotapFlags(rawValue: 0x40)
}

/// What footfall takes from a radiotap header.
internal struct RadiotapHeader: Sendable {
    /// `it_len`: where the 802.11 frame starts, already checked against the captured length.
    var length: Int
    /// The Flags field (all occurrences OR-ed), empty when absent.
    var flags: RadiotapFlags
    /// Strongest dBm antenna signal over all occurrences (one per antenna), or `nil`.
    var signalDBm: Int8?
    /// Channel frequency (Channel field, else XChannel), or 0 when neither is present.
    var frequencyMHz: UInt16

    init(length: Int) {
        self.length = length
        self.flags = []
        self.signalDBm = nil
        self.frequencyMHz = 0
    }
}

/// The result of reading a radiotap header.
internal enum RadiotapParse: Sendable {
    case header(RadiotapHeader)
    case malformed(MalformedReason)
}


internal enum Radiotap {
    /// The fixed part: u8 it_version, u8 it_pad, u16 it_len, u32 it_present.
    static let fixedHeaderLength = 8

    /// Most `it_present` words accepted. A receiver with several antennas repeats the
    /// radiotap namespace once per antenna (plus vendor namespaces); real hardware uses
    /// fewer than 8 words. 16 words leave room for that while bounding the walk of a
    /// corrupt header whose words all claim another word follows (every bit 31 set).
    static let maxPresentWords = 16

    /// Reads the radiotap header at the start of `bytes`.
    ///
    /// Malformed as ``MalformedReason/radiotapHeader``: fewer than 8 bytes, a version other
    /// than 0, `it_len` < 8 or beyond the captured length. As ``MalformedReason/radiotapField``:
    /// more than ``maxPresentWords`` present words, present words or a field's data running
    /// past `it_len`. The walk stops quietly (not malformed) at the first field of the
    /// radiotap namespace whose layout is unknown, or at the TLV field (bit 28): the fields
    /// read so far are kept and `it_len` still says where the 802.11 frame starts.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> RadiotapParse {
        var memo = RadiotapLayoutMemo()
        return parse(bytes, memo: &memo)
    }

    /// ``parse(_:)`` that first tries the field offsets `memo` holds for the header's
    /// present-flags word, and remembers them after a walk.
    static func parse(_ bytes: UnsafeRawBufferPointer, memo: inout RadiotapLayoutMemo) -> RadiotapParse {
        let captured = bytes.count
        guard captured >= fixedHeaderLength else { return .malformed(.radiotapHeader) }
        // One length check for the fixed header, then unchecked reads.
        let version = bytes.load(fromByteOffset: 0, as: UInt8.self)
        let itLen = Int(bytes.littleEndian(UInt16.self, at: 2))
        guard version == 0, itLen >= fixedHeaderLength, itLen <= captured else {
            return .malformed(.radiotapHeader)
        }

        // The offsets of the fields are a function of the present words alone, so a header
        // with the remembered word, long enough for the fields the walk found, gives what the
        // walk would; anything else is walked.
        let firstWord = bytes.littleEndian(UInt32.self, at: 4)
        if firstWord == memo.present, itLen >= memo.required {
            return .header(memo.header(in: bytes, length: itLen))
        }
        // Only a lone present word in the radiotap namespace is remembered.
        let memorable = firstWord & 0xE000_0000 == 0
        var fieldsAt = RadiotapLayoutMemo()

        // Count the present words: each word with bit 31 set is followed by another.
        var words = 1
        var wordOffset = 4
        while bytes.littleEndian(UInt32.self, at: wordOffset) & 0x8000_0000 != 0 {
            words &+= 1
            wordOffset &+= 4
            guard words <= maxPresentWords else { return .malformed(.radiotapField) }
            guard wordOffset &+ 4 <= itLen else { return .malformed(.radiotapField) }
        }

        var header = RadiotapHeader(length: itLen)
        var xChannelMHz: UInt16 = 0
        // Data offset, relative to the start of the radiotap header (alignment is too).
        var offset = 4 &+ 4 &* words
        // Bits of the current namespace are numbered from `base` (0, or +32 when a word of
        // the same namespace continues without bit 29/30).
        var base = 0
        var inRadiotapNamespace = true

        for word in 0 ..< words {
            let present = bytes.littleEndian(UInt32.self, at: 4 &+ 4 &* word)
            var fields = present & 0x1FFF_FFFF  // bits 0…28; 29–31 are handled below
            if inRadiotapNamespace {
                while fields != 0 {
                    let bit = base &+ fields.trailingZeroBitCount
                    fields &= fields &- 1
                    let layout = bit < 32 ? RadiotapField.layout(ofBit: bit) : 0
                    guard layout != 0 else {
                        // Unknown size: nothing after this can be located. Keep what we have.
                        header.finish(xChannelMHz: xChannelMHz)
                        if memorable { memo = fieldsAt.remembered(present: firstWord, required: offset) }
                        return .header(header)
                    }
                    let align = layout >> 8
                    let size = layout & 0xFF
                    offset = (offset &+ align &- 1) & ~(align &- 1)
                    guard offset &+ size <= itLen else { return .malformed(.radiotapField) }
                    switch bit {
                    case RadiotapField.flags.rawValue:
                        fieldsAt.flagsAt = offset
                        header.flags.formUnion(RadiotapFlags(rawValue: bytes.load(fromByteOffset: offset, as: UInt8.self)))
                    case RadiotapField.channel.rawValue:
                        fieldsAt.channelAt = offset
                        if header.frequencyMHz == 0 {
                            header.frequencyMHz = bytes.littleEndian(UInt16.self, at: offset)
                        }
                    case RadiotapField.dbmAntennaSignal.rawValue:
                        fieldsAt.signalAt = offset
                        let dBm = bytes.load(fromByteOffset: offset, as: Int8.self)
                        header.signalDBm = max(dBm, header.signalDBm ?? dBm)
                    case RadiotapField.xChannel.rawValue:
                        fieldsAt.xChannelAt = offset
                        if xChannelMHz == 0 {
                            xChannelMHz = bytes.littleEndian(UInt16.self, at: offset &+ 4)
                        }
                    default:
                        break
                    }
                    offset &+= size
                }
            }
            // A vendor namespace's own bits need no walk: its data was skipped as a whole
            // when the Vendor Namespace field announced it.
            var nextBase = base &+ 32
            if present & (1 << 29) != 0 {
                // Radiotap Namespace: no data; the next word restarts the radiotap namespace.
                inRadiotapNamespace = true
                nextBase = 0
            }
            if present & (1 << 30) != 0 {
                // Vendor Namespace: OUI(3) + sub_ns(1) + skip_length(u16 LE), align 2; the
                // vendor's data (skip_length bytes) follows it and is skipped unread.
                offset = (offset &+ 1) & ~1
                guard offset &+ 6 <= itLen else { return .malformed(.radiotapField) }
                let skip = Int(bytes.littleEndian(UInt16.self, at: offset &+ 4))
                offset &+= 6 &+ skip
                guard offset <= itLen else { return .malformed(.radiotapField) }
                inRadiotapNamespace = false
                nextBase = 0
            }
            base = nextBase
        }
        header.finish(xChannelMHz: xChannelMHz)
        if memorable { memo = fieldsAt.remembered(present: firstWord, required: offset) }
        return .header(header)
    }
}

/// Where the walk of ``Radiotap/parse(_:memo:)`` found the fields footfall reads, for one
/// present-flags word. A caller that parses a stream of frames keeps one (replay keeps one
/// per capture file) and passes it to every frame.
///
/// Why: every frame of a capture usually carries the same radiotap fields, yet the walk
/// locates them again per frame, one alignment step and one bounds check per field; with the
/// offsets remembered, a frame costs one compare of its present word and of its length. Only
/// offsets within the radio header are kept, nothing of any frame's content.
public struct RadiotapLayoutMemo: Sendable {
    /// The present word the offsets are for; bit 31 (another word follows) is never set in
    /// a remembered word, and `required` starts out impossible, so a new memo never matches.
    var present: UInt32 = 0
    /// `it_len` must reach the end of the last field the walk read.
    var required = Int.max
    /// Offsets from the start of the radiotap header, -1 when the field is absent.
    var flagsAt = -1
    var channelAt = -1
    var signalAt = -1
    var xChannelAt = -1

    public init() {}

    func remembered(present: UInt32, required: Int) -> RadiotapLayoutMemo {
        var memo = self
        memo.present = present
        memo.required = required
        return memo
    }

    /// The header the walk reads from these offsets: with one present word, each field occurs
    /// at most once, so the first channel and the strongest signal are the only ones.
    @inline(__always)
    func header(in bytes: UnsafeRawBufferPointer, length: Int) -> RadiotapHeader {
        var header = RadiotapHeader(length: length)
        if flagsAt >= 0 { header.flags = RadiotapFlags(rawValue: bytes.load(fromByteOffset: flagsAt, as: UInt8.self)) }
        if channelAt >= 0 { header.frequencyMHz = bytes.littleEndian(UInt16.self, at: channelAt) }
        if signalAt >= 0 { header.signalDBm = bytes.load(fromByteOffset: signalAt, as: Int8.self) }
        header.finish(xChannelMHz: xChannelAt >= 0 ? bytes.littleEndian(UInt16.self, at: xChannelAt &+ 4) : 0)
        return header
    }
}

extension RadiotapHeader {
    @inline(__always)
    mutating func finish(xChannelMHz: UInt16) {
        if frequencyMHz == 0 { frequencyMHz = xChannelMHz }
    }
}
