import FootfallCore

// The information elements of a probe request, summarised without their contents.
//
// Reference: IEEE Std 802.11-2020, 9.3.3.9 (Probe Request frame body), 9.4.2.1 (element
// format, Table 9-92 "Element IDs"); IEEE Std 802.11ax-2021, 9.4.2.248 (HE Capabilities,
// Element ID Extension 35).

/// Element IDs footfall looks at, with their names in IEEE 802.11-2020 Table 9-92.
internal struct ElementID: RawRepresentable, Hashable, Sendable {
    var rawValue: UInt8
    init(rawValue: UInt8) { self.rawValue = rawValue }

    /// SSID (0). Only its length is kept; the text is never read.
    static let ssid = ElementID(rawValue: 0)
    /// Supported Rates and BSS Membership Selectors (1).
    static let supportedRates = ElementID(rawValue: 1)
    /// HT Capabilities (45); its first two octets are the HT Capability Information field.
    static let htCapabilities = ElementID(rawValue: 45)
    /// Extended Supported Rates and BSS Membership Selectors (50).
    static let extendedSupportedRates = ElementID(rawValue: 50)
    /// Extended Capabilities (127).
    static let extendedCapabilities = ElementID(rawValue: 127)
    /// VHT Capabilities (191); its first four octets are the VHT Capabilities Information field.
    static let vhtCapabilities = ElementID(rawValue: 191)
    /// Vendor Specific (221): OUI (3 octets) and, for the common OUIs, a type octet.
    static let vendorSpecific = ElementID(rawValue: 221)
    /// Element ID Extension (255): the first octet of the body is the extension ID.
    static let elementExtension = ElementID(rawValue: 255)

    /// Element ID Extension of HE Capabilities (802.11ax-2021, Table 9-92 amended).
    static let heCapabilitiesExtension: UInt8 = 35
}

/// An unkeyed 64-bit digest, fed word by word: FNV-1a's xor-then-multiply step on 64-bit
/// words (one multiply per word instead of per byte), finished with the MurmurHash3
/// `fmix64` avalanche. It only has to tell element layouts apart; it is never published
/// unkeyed (the ``Pseudonymiser`` keys it with SipHash before anything else sees it).
internal struct LayoutDigest {
    var state: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a 64-bit offset basis

    init() {}

    @inline(__always)
    mutating func mix(_ word: UInt64) {
        state = (state ^ word) &* 0x0000_0100_0000_01b3  // FNV-1a 64-bit prime
    }

    /// Mixes `count` bytes at `offset` (caller checked they are in bounds), 8 at a time.
    @inline(__always)
    mutating func mix(_ bytes: UnsafeRawBufferPointer, at offset: Int, count: Int) {
        var at = offset
        var left = count
        while left >= 8 {
            mix(bytes.littleEndian(UInt64.self, at: at))
            at &+= 8
            left &-= 8
        }
        if left > 0 {
            var tail: UInt64 = 0
            if at &+ 8 <= bytes.count {
                // One load and a mask instead of a loop over the last 1–7 bytes; the bytes
                // past `count` are inside the record and masked off, so the word is the same.
                let word = bytes.littleEndian(UInt64.self, at: at)
                tail = word & ((1 << (8 &* UInt64(left))) &- 1)
            } else {
                for i in 0 ..< left {
                    tail |= UInt64(bytes.load(fromByteOffset: at &+ i, as: UInt8.self)) << (8 &* UInt64(i))
                }
            }
            mix(tail)
        }
    }

    
    var value: UInt64 {
        var h = state
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }
}

extension ElementSummary {
    /// Walks the information elements in `bytes[start ..< end]` (the probe request body,
    /// without FCS), with a bounds check per element.
    ///
    /// An element whose length runs past `end`, or a single stray octet at the end, sets
    /// ``truncated`` and ends the walk; what was read before it is kept.
    ///
    /// The fingerprint covers what stays the same when a phone randomises its address: the
    /// ordered element IDs (with the extension ID for ID 255), the lengths of the capability
    /// and rate elements, the rates themselves, the HT and VHT capability information, the
    /// extended capability bits, and each vendor element's OUI and type. It leaves out the
    /// SSID (length and text: the same phone sends wildcard and directed probes), the DS
    /// Parameter Set channel, and everything else that changes from probe to probe, and it
    /// never sees the address or the sequence number.
    static func parse(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> ElementSummary {
        var summary = ElementSummary()
        var digest = LayoutDigest()
        var rates = 0
        var vendors = 0
        var at = start
        while at < end {
            guard end &- at >= 2 else { summary.truncated = true; break }
            let id = bytes.load(fromByteOffset: at, as: UInt8.self)
            let length = Int(bytes.load(fromByteOffset: at &+ 1, as: UInt8.self))
            let body = at &+ 2
            guard length <= end &- body else { summary.truncated = true; break }
            let idAndLength = UInt64(id) | UInt64(length) << 8

            switch ElementID(rawValue: id) {
            case .ssid:
                summary.ssidLength = UInt8(truncatingIfNeeded: length)
                digest.mix(UInt64(id))
            case .supportedRates, .extendedSupportedRates:
                rates &+= length
                digest.mix(idAndLength)
                digest.mix(bytes, at: body, count: length)
            case .htCapabilities:
                summary.hasHTCapabilities = true
                digest.mix(idAndLength)
                digest.mix(bytes, at: body, count: min(length, 2))
            case .vhtCapabilities:
                summary.hasVHTCapabilities = true
                digest.mix(idAndLength)
                digest.mix(bytes, at: body, count: min(length, 4))
            case .extendedCapabilities:
                summary.hasExtendedCapabilities = true
                digest.mix(idAndLength)
                digest.mix(bytes, at: body, count: length)
            case .vendorSpecific:
                vendors &+= 1
                // OUI (3) + vendor type (1), or fewer if the element is shorter.
                digest.mix(UInt64(id))
                digest.mix(bytes, at: body, count: min(length, 4))
            case .elementExtension:
                if length >= 1 {
                    let extensionID = bytes.load(fromByteOffset: body, as: UInt8.self)
                    if extensionID == ElementID.heCapabilitiesExtension {
                        summary.hasHECapabilities = true
                        digest.mix(idAndLength | UInt64(extensionID) << 16)
                    } else {
                        digest.mix(UInt64(id) | UInt64(extensionID) << 16)
                    }
                } else {
                    digest.mix(idAndLength)
                }
            default:
                digest.mix(UInt64(id))
            }
            at = body &+ length
        }
        summary.rateCount = UInt8(clamping: rates)
        summary.vendorElementCount = UInt8(clamping: vendors)
        summary.fingerprint = digest.value
        return summary
    }

    /// Only the ``truncated`` flag of ``parse(_:from:to:)``, for a caller that reads nothing
    /// else of the elements: the same element-by-element bounds walk, without looking at the
    /// IDs or digesting the layout (every other field keeps its default, the fingerprint 0).
    ///
    /// Why: the full walk branches on each element ID, which a stream of probe requests from
    /// many phone models makes unpredictable, and its digest is a chain of multiplies; when
    /// neither is read (counting by address), skipping both is most of the parser's time.
    static func truncationOnly(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> ElementSummary {
        var summary = ElementSummary()
        var at = start
        // Same stops as the full walk: a stray octet, or a length past `end`.
        while end &- at >= 2 {
            at &+= 2 &+ Int(bytes.load(fromByteOffset: at &+ 1, as: UInt8.self))
        }
        summary.truncated = at != end
        return summary
    }
}
