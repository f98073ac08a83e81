import FootfallCore

/// The addresses of people who asked not to be counted (P16). Their frames are dropped by the
/// ``Gate`` before anything is hashed.
///
/// To match a frame before hashing, the list has to hold the addresses themselves. They stay
/// inside this type: the set is internal to `FootfallCore`, the type prints and reflects as
/// a count only, and parse errors name the line, never its text.
public struct OptOutList: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// 48-bit addresses in the low bits, transmission order (as ``RawMAC`` stores them).
    @usableFromInline internal let addresses: Set<UInt64>

    /// No one has opted out.
    public static let empty = OptOutList(addresses: [])

    internal init(addresses: Set<UInt64>) {
        self.addresses = addresses
    }

    /// Parses the opt-out file's text: one address per line in any common spelling
    /// (`aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff`, `aabb.ccdd.eeff`, `aabbccddeeff`, either
    /// case); `#` starts a comment; blank lines are ignored.
    /// - Throws: ``OptOutListError`` naming the first bad line (by number only). The caller
    ///   keeps the previous list in force, so a typo never un-opts anyone.
    public init(parsing text: String) throws(OptOutListError) {
        var set = Set<UInt64>()
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingASCIIWhitespace()
            if trimmed.isEmpty { continue }
            guard let bits = OptOutList.parseAddress(trimmed) else {
                throw OptOutListError(line: lineNumber, reason: .notAnAddress)
            }
            if (bits >> 40) & 0x01 != 0 {
                throw OptOutListError(line: lineNumber, reason: .groupAddress)
            }
            set.insert(bits)
        }
        self.init(addresses: set)
    }

    /// Number of distinct addresses on the list.
    public var count: Int { addresses.count }

    /// Whether the frame's transmitter is on the list.
    @inlinable
    public func contains(_ mac: borrowing RawMAC) -> Bool {
        !addresses.isEmpty && addresses.contains(mac.bits)
    }

    public var description: String { "OptOutList(\(addresses.count) addresses)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["count": addresses.count]) }

    /// One address in any of the accepted spellings, or `nil`.
    static func parseAddress(_ text: Substring) -> UInt64? {
        let utf8 = Array(text.utf8)
        var digits: [UInt8] = []
        digits.reserveCapacity(12)
        switch utf8.count {
        case 17:
            // aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff, one separator throughout.
            let separator = utf8[2]
            guard separator == UInt8(ascii: ":") || separator == UInt8(ascii: "-") else { return nil }
            for (i, c) in utf8.enumerated() {
                if i % 3 == 2 {
                    guard c == separator else { return nil }
                } else {
                    digits.append(c)
                }
            }
        case 14:
            // aabb.ccdd.eeff
            for (i, c) in utf8.enumerated() {
                if i == 4 || i == 9 {
                    guard c == UInt8(ascii: ".") else { return nil }
                } else {
                    digits.append(c)
                }
            }
        case 12:
            digits = utf8
        default:
            return nil
        }
        var bits: UInt64 = 0
        for c in digits {
            guard let v = hexValue(c) else { return nil }
            bits = bits << 4 | UInt64(v)
        }
        return bits
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A line of the opt-out file that could not be read. Names the line number only: the
/// line's text may be (part of) someone's address.
public struct OptOutListError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case notAnAddress
        case groupAddress
    }

    /// 1-based line number in the file.
    public var line: Int
    public var reason: Reason

    public init(line: Int, reason: Reason) {
        self.line = line
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .notAnAddress:
            "opt-out list line \(line): not a MAC address (write aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff or aabbccddeeff; # starts a comment)"
        case .groupAddress:
            "opt-out list line \(line): a group (multicast) address never transmits a probe request; check the address"
        }
    }
}

extension Substring {
    func trimmingASCIIWhitespace() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return s
    }
}
