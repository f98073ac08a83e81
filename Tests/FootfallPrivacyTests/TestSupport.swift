// The only file of the privacy tests that reaches into FootfallIngest's internals: tests need
// to make raw addresses and element fingerprints that the parser would otherwise produce, and
// to compare key-dependent values. Production code outside FootfallIngest cannot do this (see
// `sourcesOutsideIngestNeverReachIntoRawAddressBits`).
import FootfallCore
@testable import FootfallIngest
import FootfallAggregate
import FootfallTestSupport
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A probe request from `mac` (48 bits, first octet most significant), as the parser makes it.
func makeProbe(mac: UInt64, timestampNanos: Int64 = 1_709_820_000_000_000_000, signalDBm: Int8? = -50, fingerprint: UInt64 = 0x1234_5678_9abc_def0) -> ProbeRequest {
    var elements = ElementSummary()
    elements.fingerprint = fingerprint
    return ProbeRequest(
        timestampNanos: timestampNanos,
        source: RawMAC(bits: mac),
        sequenceNumber: 1,
        signalDBm: signalDBm,
        frequencyMHz: 2417,
        badFCS: false,
        elements: elements
    )
}

/// The pseudonym of `mac` under slot `slot` of `keys`.
func pseudonym(of mac: UInt64, keys: KeyStore, slot: Int = 0) -> Pseudonym {
    Pseudonymiser(keys: keys).pseudonym(of: RawMAC(bits: mac), slot: slot)
}

/// The 64 bits of a pseudonym, for statistical checks only.
func bits(of pseudonym: Pseudonym) -> UInt64 { pseudonym.value }

/// The statistical tests' seeded generator.
typealias SeededGenerator = SplitMix64

/// The repository root, found from this file's path (Tests/FootfallPrivacyTests/…).
let repositoryRoot: URL = FootfallTestSupport.packageRoot
let fixturesDirectory = repositoryRoot.appendingPathComponent("Tests/Fixtures/brno-sc6-61")
let sourcesDirectory = repositoryRoot.appendingPathComponent("Sources")

/// Every `.swift` file under `directory`, with its path relative to it.
func swiftFiles(under directory: URL) -> [(path: String, text: String)] {
    let fm = FileManager.default
    guard let e = fm.enumerator(atPath: directory.path) else { return [] }
    var out: [(String, String)] = []
    while let p = e.nextObject() as? String {
        guard p.hasSuffix(".swift") || p.hasSuffix(".h") || p.hasSuffix(".c") else { continue }
        if let text = try? String(contentsOfFile: directory.path + "/" + p, encoding: .utf8) { out.append((p, text)) }
    }
    return out.sorted { $0.0 < $1.0 }
}

/// The transmitter addresses (addr2) of the probe requests in a pcap file, read straight from
/// the bytes (pcap record headers, radiotap length, 802.11 header). Test code may read raw
/// addresses; production code never can.
func probeRequestSources(inPcap url: URL) throws -> [UInt64] {
    let data = try Data(contentsOf: url)
    let bytes = [UInt8](data)
    guard bytes.count >= 24 else { return [] }
    func u32(_ i: Int, little: Bool) -> Int {
        let b = bytes[i ..< i + 4].map(Int.init)
        return little ? b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24 : b[3] | b[2] << 8 | b[1] << 16 | b[0] << 24
    }
    let magic = u32(0, little: true)
    let little = magic == 0xA1B2_C3D4 || magic == 0xA1B2_3C4D
    guard little || u32(0, little: false) == 0xA1B2_C3D4 || u32(0, little: false) == 0xA1B2_3C4D else { return [] }
    let linkType = u32(20, little: little)
    var sources: [UInt64] = []
    var offset = 24
    while offset + 16 <= bytes.count {
        let caplen = u32(offset + 8, little: little)
        let start = offset + 16
        offset = start + caplen
        guard offset <= bytes.count else { break }
        var frame = start
        if linkType == 127 {
            guard caplen >= 4 else { continue }
            frame += Int(bytes[start + 2]) | Int(bytes[start + 3]) << 8  // it_len, little-endian
        }
        guard frame + 16 <= offset else { continue }
        // Frame control: type 0 (management), subtype 4 (probe request) → first octet 0x40.
        guard bytes[frame] & 0xFC == 0x40 else { continue }
        var mac: UInt64 = 0
        for i in 10 ..< 16 { mac = mac << 8 | UInt64(bytes[frame + i]) }
        sources.append(mac)
    }
    return sources
}

/// Distinct probe-request sources of the fixture captures of one day.
func fixtureSources(day: String = "2024-03-16") throws -> Set<UInt64> {
    var all = Set<UInt64>()
    for position in 1 ... 2 {
        all.formUnion(try probeRequestSources(inPcap: fixturesDirectory.appendingPathComponent("\(day)_position_\(position).pcap")))
    }
    return all
}

/// A fresh, empty temporary directory.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-privacy-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Key memory whose words a test can read, to check what the key store does to them: the
/// tests' stand-in for `LockedKeyMemory` (``KeyMemory`` is `package`, so only footfall's
/// own modules and tests can lend memory to a key store).
final class InspectableKeyMemory: KeyMemory, @unchecked Sendable {
    let words: UnsafeMutablePointer<UInt64>
    let wordCount: Int

    init(wordCount: Int) {
        self.wordCount = wordCount
        words = .allocate(capacity: wordCount)
        words.initialize(repeating: 0, count: wordCount)
    }

    deinit { words.deallocate() }

    subscript(index: Int) -> UInt64 { words[index] }
}

/// Every way a 64-bit secret (a pseudonym or a key word) could be spelled in a log line:
/// hex with and without leading zeros, lower and upper case, and decimal.
func secretSpellings(_ value: UInt64) -> [String] {
    let hex = String(value, radix: 16)
    let padded = String(repeating: "0", count: 16 - hex.count) + hex
    return Array(Set([hex, padded, hex.uppercased(), padded.uppercased(), String(value), String(Int64(bitPattern: value))]))
        .filter { $0.count >= 6 }
}

/// The key words of a key store as they are now (a test knows its injected key).
func keyWords(of keys: KeyStore) -> [UInt64] {
    (0 ..< 2 * keys.slots).map { keys.words[$0] }
}
