import Crypto
import Foundation

/// Looks for any trace of a set of device addresses in text: every common spelling of each
/// address, and unsalted MD5, SHA-1 and SHA-256 digests of those spellings (whole or cut to 12
/// hex digits), which is what a careless "anonymisation" would leave behind (P14).
///
/// Text is cut into maximal runs of hex digits and separators (`:`, `-`, `.`); separators are
/// removed, the rest lower-cased, and every 12-digit window looked up in a set — so one pass
/// catches all separator styles and both cases. Digit-only runs are also compared with the
/// decimal value of each address.
public struct IdentifierScanner: Sendable {
    /// 12-hex-digit needles: address in transmission order, in reversed byte order, and the
    /// first 12 hex digits of every digest.
    private var needles12: Set<String> = []
    /// Whole digests (32, 40 or 64 hex digits).
    private var digests: Set<String> = []
    /// Decimal values of the 48-bit addresses (both byte orders).
    private var decimals: Set<String> = []
    public let addressCount: Int

    public struct Finding: CustomStringConvertible, Equatable, Sendable {
        public var source: String
        public var kind: String
        /// Where in the source; the matched text is deliberately not kept.
        public var offset: Int
        public var description: String { "\(source) @\(offset): \(kind)" }
    }

    public init<S: Sequence>(addresses: S) where S.Element == UInt64 {
        var count = 0
        for mac in addresses {
            count += 1
            for order in [mac, Self.reversed(mac)] {
                let plain = Self.hex(order)
                needles12.insert(plain)
                decimals.insert(String(order))
                for spelling in Self.spellings(plain) {
                    let data = Data(spelling.utf8)
                    for digest in [Self.hex(Insecure.MD5.hash(data: data)), Self.hex(Insecure.SHA1.hash(data: data)), Self.hex(SHA256.hash(data: data))] {
                        digests.insert(digest)
                        needles12.insert(String(digest.prefix(12)))
                    }
                }
            }
        }
        addressCount = count
    }

    public static func reversed(_ mac: UInt64) -> UInt64 { (mac.byteSwapped >> 16) & 0xFFFF_FFFF_FFFF }

    public static func hex(_ mac: UInt64) -> String {
        let s = String(mac, radix: 16)
        return String(repeating: "0", count: 12 - s.count) + s
    }

    public static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    /// `aabbccddeeff` → colon, dash, dot (`aabb.ccdd.eeff`) and bare spellings, lower and upper case.
    public static func spellings(_ plain: String) -> [String] {
        let c = Array(plain)
        let pairs = stride(from: 0, to: 12, by: 2).map { String(c[$0 ..< $0 + 2]) }
        let quads = stride(from: 0, to: 12, by: 4).map { String(c[$0 ..< $0 + 4]) }
        let lower = [pairs.joined(separator: ":"), pairs.joined(separator: "-"), quads.joined(separator: "."), plain]
        return lower + lower.map { $0.uppercased() }
    }

    /// Every trace of an address in `text`; `source` names where the text came from.
    public func scan(_ text: String, source: String) -> [Finding] {
        var findings: [Finding] = []
        var run: [UInt8] = []
        var runStart = 0
        var digits: [UInt8] = []
        var digitStart = 0
        func flushRun() {
            defer { run.removeAll(keepingCapacity: true) }
            guard run.count >= 12 else { return }
            let hex = String(decoding: run, as: UTF8.self)
            let chars = Array(hex)
            for length in [64, 40, 32] where chars.count >= length {
                for i in 0 ... (chars.count - length) where digests.contains(String(chars[i ..< i + length])) {
                    findings.append(Finding(source: source, kind: "digest of an address", offset: runStart))
                }
            }
            for i in 0 ... (chars.count - 12) where needles12.contains(String(chars[i ..< i + 12])) {
                findings.append(Finding(source: source, kind: "address or digest prefix", offset: runStart))
            }
        }
        func flushDigits() {
            defer { digits.removeAll(keepingCapacity: true) }
            if !digits.isEmpty && decimals.contains(String(decoding: digits, as: UTF8.self)) {
                findings.append(Finding(source: source, kind: "address as a decimal number", offset: digitStart))
            }
        }
        for (i, b) in text.utf8.enumerated() {
            let lower = (b >= 65 && b <= 70) ? b + 32 : b
            let isDigit = b >= 48 && b <= 57
            let isHex = isDigit || (lower >= 97 && lower <= 102)
            if isDigit {
                if digits.isEmpty { digitStart = i }
                digits.append(b)
            } else {
                flushDigits()
            }
            if isHex {
                if run.isEmpty { runStart = i }
                run.append(lower)
            } else if b == UInt8(ascii: ":") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") {
                continue  // separators join a run without adding to it
            } else {
                flushRun()
            }
        }
        flushDigits()
        flushRun()
        return findings
    }

    /// Scans every regular file under `directory`.
    public func scan(directory: URL) -> [Finding] {
        var findings: [Finding] = []
        guard let e = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        while let p = e.nextObject() as? String {
            let url = directory.appendingPathComponent(p)
            guard let data = try? Data(contentsOf: url) else { continue }
            findings += scan(String(decoding: data, as: UTF8.self), source: p)
        }
        return findings
    }
}
