import FootfallTestSupport
import Foundation
import Testing

/// The canary an auditor runs: the real `footfall` executable replays every bundled capture
/// (all four days, both sensors) with trace logging on, prints statistics and audits its own
/// output; then every file it wrote and every line it printed or logged is scanned for every
/// source address of the input, in every common spelling and as unsalted MD5/SHA-1/SHA-256
/// (full and 12-hex-digit prefixes). There must be no hit (P1, P6, P14).
@Suite("P1 P14 end-to-end canary")
struct EndToEndCanaryTests {
    static let days = ["2024-02-08", "2024-03-07", "2024-03-14", "2024-03-16"]

    @Test func rawMACNeverWrittenOrLoggedByTheExecutable() throws {
        guard FootfallExecutable.path != nil else {
            Issue.record("\(FootfallExecutable.notBuilt)")
            return
        }
        var addresses = Set<UInt64>()
        for day in Self.days { addresses.formUnion(try fixtureSources(day: day)) }
        #expect(addresses.count > 1_000)
        let scanner = IdentifierScanner(addresses: addresses)

        let output = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        var printed: [(String, String)] = []
        var captures: [String] = []
        for day in Self.days {
            let inputs = (1 ... 2).map { "Tests/Fixtures/brno-sc6-61/\(day)_position_\($0).pcap" }
            captures += inputs
            let replay = try FootfallExecutable.run([
                "replay", "--log-level", "trace",
                "--config", "config/examples/brno-lab.yaml", "--output", output.path,
            ] + inputs.enumerated().map { "\($1)@position_\($0 + 1)" })
            #expect(replay.status == 0, "replay of \(day) failed: \(replay.stderr.suffix(500))")
            printed.append(("replay \(day) stdout", replay.stdout))
            printed.append(("replay \(day) stderr", replay.stderr))
        }
        let stats = try FootfallExecutable.run(["stats", "--json", "--log-level", "trace"] + captures)
        #expect(stats.status == 0)
        printed.append(("stats stdout", stats.stdout))
        printed.append(("stats stderr", stats.stderr))
        // Its own output passes the auditor's check (retention off: the captures are from 2024).
        let audit = try FootfallExecutable.run(["audit", output.path, "--config", "config/examples/brno-lab.yaml", "--retention-days", "0", "--log-level", "trace"])
        #expect(audit.status == 0, "audit of replay output: \(audit.stdout.prefix(800))")
        printed.append(("audit stdout", audit.stdout))
        printed.append(("audit stderr", audit.stderr))

        // The canary is live: files were written and the scanner sees what a careless line would print.
        let written = try FileManager.default.contentsOfDirectory(atPath: output.path)
        #expect(written.filter { $0.hasPrefix("heatmap-") }.count >= 40)
        #expect(!scanner.scan("probe from " + IdentifierScanner.hex(addresses.first!), source: "control").isEmpty)

        var findings = scanner.scan(directory: output)
        for (source, text) in printed { findings += scanner.scan(text, source: source) }
        #expect(findings.isEmpty, "\(findings.prefix(5))")
    }
}
