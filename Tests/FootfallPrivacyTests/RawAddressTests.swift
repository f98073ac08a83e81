import FootfallCore
import FootfallIngest
import FootfallAggregate
import Foundation
import Testing

/// P1: raw addresses exist only in RAM, inside FootfallIngest, for as short a time as possible.
///
/// The strongest part of P1 is a compile error: `RawMAC` and `ProbeRequest` are `~Copyable`
/// and `RawMAC.bits` is internal to FootfallIngest, so no other module can store, print,
/// interpolate, reflect or read an address; and the modules that count and publish do not
/// depend on FootfallIngest at all. A test cannot prove a compile error; these tests prove
/// what can be checked at run time and by reading the sources and the package manifest.
@Suite("P1 raw addresses stay left of the pseudonymiser")
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
        let memory = InspectableKeyMemory(wordCount: 2)
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
        #expect(String(describing: keys) == "KeyStore(slots: 1, generation: 1)")
        #expect(Set(Mirror(reflecting: keys).children.compactMap(\.label)) == ["slots", "generation"])
    }

    /// The compile-time part can be circumvented only by `@testable import` in production
    /// code (which reaches internals when built for testing) or by a module other than the
    /// ingest module naming the internal `.bits`. Neither occurs in Sources/.
    @Test func sourcesOutsideIngestNeverReachIntoRawAddressBits() {
        let files = swiftFiles(under: sourcesDirectory)
        #expect(files.count > 10)
        for (path, text) in files {
            #expect(!text.contains("@testable"), "\(path) uses @testable")
            if !path.hasPrefix("FootfallIngest/") {
                #expect(!text.contains(".bits"), "\(path) names .bits outside FootfallIngest")
            }
        }
    }

    /// The aggregate side (tracker, hours, suppression, noise) and the writers compile
    /// without FootfallIngest: their targets do not depend on it, directly or through
    /// another target, and none of their files imports it. So nothing there can name
    /// `RawMAC`, an unkeyed fingerprint or a key, whatever the access levels inside Ingest.
    @Test func aggregateAndOutputModulesCannotSeeRawAddressesOrKeys() throws {
        let manifest = try String(contentsOf: repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        let dependencies = targetDependencies(manifest)
        #expect(dependencies["FootfallIngest"] != nil, "the manifest parser found no FootfallIngest target")
        for module in ["FootfallCore", "FootfallAggregate", "FootfallOutput"] {
            #expect(dependencies[module] != nil, "no target \(module) in Package.swift")
            let reachable = closure(of: module, in: dependencies)
            #expect(!reachable.contains("FootfallIngest"), "\(module) can reach FootfallIngest through \(reachable.sorted())")
            for (path, text) in swiftFiles(under: sourcesDirectory.appendingPathComponent(module)) {
                #expect(!text.contains("import FootfallIngest"), "\(module)/\(path) imports FootfallIngest")
                #expect(!text.contains("struct RawMAC"), "\(module)/\(path) defines a RawMAC")
            }
        }
        // And the one that holds raw bits is the ingest module, not the tracker's.
        let ingest = swiftFiles(under: sourcesDirectory.appendingPathComponent("FootfallIngest"))
        #expect(ingest.contains { $0.text.contains("public struct RawMAC: ~Copyable") })
        #expect(!ingest.contains { $0.text.contains("struct Tracker") })
    }

    /// Each target's direct dependencies on other targets of this package, read from
    /// `.target(name: "X", dependencies: ["A", "B", .product(...)])` blocks.
    func targetDependencies(_ manifest: String) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        let blocks = manifest.components(separatedBy: ".target(").dropFirst()
            + manifest.components(separatedBy: ".executableTarget(").dropFirst()
        for block in blocks {
            let body = block.components(separatedBy: "swiftSettings")[0]
            guard let nameRange = body.range(of: #"name: "([A-Za-z-]+)""#, options: .regularExpression) else { continue }
            let name = String(body[nameRange].dropFirst(7).dropLast())
            var deps: Set<String> = []
            if let open = body.range(of: "dependencies: [") {
                let list = body[open.upperBound...]
                var rest = Substring(list)
                while let quoted = rest.range(of: #""[A-Za-z-]+""#, options: .regularExpression) {
                    // Product dependencies (`.product(name: "X", package: "y")`) are external.
                    let before = rest[rest.startIndex ..< quoted.lowerBound]
                    let word = String(rest[quoted].dropFirst().dropLast())
                    if !before.hasSuffix("name: "), !before.hasSuffix("package: ") { deps.insert(word) }
                    rest = rest[quoted.upperBound...]
                }
            }
            result[name] = deps
        }
        return result
    }

    func closure(of module: String, in dependencies: [String: Set<String>]) -> Set<String> {
        var seen: Set<String> = []
        var stack = Array(dependencies[module] ?? [])
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            stack += dependencies[next] ?? []
        }
        return seen
    }
}
