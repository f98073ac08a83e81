import FootfallCore
import Foundation
import Testing

/// P1: raw addresses exist only in RAM, inside FootfallCore, for as short a time as possible.
///
/// The strongest part of P1 is a compile error: `RawMAC` and `ProbeRequest` are `~Copyable`
/// and `RawMAC.bits` is internal, so no other module can store, print, interpolate, reflect or
/// read an address. A test cannot prove a compile error; these tests prove what can be
/// checked at run time and by reading the sources.
@Suite("P1 raw addresses stay in the core")
struct RawAddressTests {
    static let mac: UInt64 = 0x3C22_FB11_2233

    @Test func pseudonymPrintsAndReflectsAsRedacted() {
        let keys = KeyStore()
        let p = pseudonym(of: Self.mac, keys: keys)
        let value = bits(of: p)
        var dumped = ""
        dump(p, to: &dumped)
        let texts = [String(describing: p), String(reflecting: p), "\(p)", dumped]
        for text in texts {
            #expect(text.contains("redacted"))
            #expect(!text.contains(String(value)))
            #expect(!text.lowercased().contains(String(value, radix: 16)))
        }
        #expect(Mirror(reflecting: p).children.isEmpty)
    }

    @Test func observationRevealsNoPseudonymOrKeyWhenPrintedOrDumped() {
        let keys = KeyStore()
        let observation = Pseudonymiser(keys: keys).observe(makeProbe(mac: Self.mac), sensor: 0)
        var dumped = ""
        dump(observation, to: &dumped)
        let text = String(describing: observation) + String(reflecting: observation) + dumped
        for secret in [bits(of: observation.device), bits(of: observation.fingerprint), Self.mac] {
            #expect(!text.contains(String(secret)))
            #expect(!text.lowercased().contains(String(secret, radix: 16)))
        }
        // Every pseudonym field reflects as having no children.
        let device = Mirror(reflecting: observation).children.first { $0.label == "device" }
        #expect(device != nil)
        #expect(Mirror(reflecting: device!.value).children.isEmpty)
    }

    @Test func keyStoreAndOptOutListPrintNoKeyOrAddress() throws {
        let memory = UnsafeMutablePointer<UInt64>.allocate(capacity: 2)
        defer { memory.deallocate() }
        let keys = KeyStore(slots: 1, memory: memory)
        let list = try OptOutList(parsing: "3c:22:fb:11:22:33\n")
        var dumped = ""
        dump(keys, to: &dumped)
        dump(list, to: &dumped)
        let text = dumped + String(describing: list) + String(reflecting: list)
        for secret in [memory[0], memory[1], Self.mac] {
            #expect(!text.contains(String(secret)))
            #expect(!text.lowercased().contains(String(secret, radix: 16)))
        }
        #expect(!text.contains("3c:22"))
        _ = keys
    }

    /// The compile-time part can be circumvented only by `@testable import` in production
    /// code (which reaches internals when built for testing) or by a module other than the
    /// core naming the internal `.bits`. Neither occurs in Sources/.
    @Test func sourcesOutsideCoreNeverReachIntoRawAddressBits() {
        let files = swiftFiles(under: sourcesDirectory)
        #expect(files.count > 10)
        for (path, text) in files {
            #expect(!text.contains("@testable"), "\(path) uses @testable")
            if !path.hasPrefix("FootfallCore/") {
                #expect(!text.contains(".bits"), "\(path) names .bits outside FootfallCore")
            }
        }
    }
}
