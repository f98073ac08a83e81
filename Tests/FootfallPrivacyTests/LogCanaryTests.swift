@testable import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallOutput
import FootfallPlatform
import Crypto
import Foundation
import FootfallTestSupport
import Logging
import Synchronization
import Testing


/// Collects everything a run could leave behind — log lines at trace level, error messages,
/// printed values, output files — and scans it for the input's addresses (P14).
///
/// To extend the canary to a new stage, pass `canary.logger` into it, `record` whatever it
/// prints or throws, and write its outputs under `canary.outputDirectory`; `findings()`
/// covers all of it.
final class PrivacyCanary {
    let handler = RecordingLogHandler()
    let logger: Logger
    let outputDirectory: URL
    private var texts: [(String, String)] = []

    init() throws {
        let handler = self.handler
        var logger = Logger(label: "footfall.canary") { _ in handler }
        logger.logLevel = .trace
        self.logger = logger
        outputDirectory = try makeTemporaryDirectory()
    }

    deinit { try? FileManager.default.removeItem(at: outputDirectory) }

    func record(_ text: String, source: String) { texts.append((source, text)) }

    func findings(using scanner: IdentifierScanner) -> [IdentifierScanner.Finding] {
        var all = scanner.scan(handler.text, source: "log")
        for (source, text) in texts { all += scanner.scan(text, source: source) }
        all += scanner.scan(directory: outputDirectory)
        return all
    }
}

@Suite("P14 no identifiers in logs, errors or output")
struct LogCanaryTests {
    static let planted: [UInt64] = [0xDCFB_4868_BEE4, 0x40EC_99F9_34A6]

    @Test func scannerFindsPlantedAddressesInEverySpelling() {
        let scanner = IdentifierScanner(addresses: Self.planted)
        let spellings = ["dc:fb:48:68:be:e4", "DC-FB-48-68-BE-E4", "dcfb.4868.bee4", "DCFB4868BEE4", "e4:be:68:48:fb:dc", "a6-34-f9-99-ec-40", String(0xDCFB_4868_BEE4 as UInt64)]
        for s in spellings {
            #expect(!scanner.scan("level=trace msg=\"device \(s) seen\"", source: "t").isEmpty, "missed \(s)")
        }
        #expect(scanner.scan("hour_start,zone,devices\n2024-03-07T10:00:00+01:00,entrance,40\n", source: "t").isEmpty)
        #expect(scanner.scan("dc:fb:48:68:be:e5 is someone else", source: "t").isEmpty)
    }

    @Test func scannerFindsPlantedUnsaltedHashes() {
        let scanner = IdentifierScanner(addresses: Self.planted)
        let md5 = IdentifierScanner.hex(Insecure.MD5.hash(data: Data("dc:fb:48:68:be:e4".utf8)))
        let sha1 = IdentifierScanner.hex(Insecure.SHA1.hash(data: Data("DCFB4868BEE4".utf8)))
        let sha256 = IdentifierScanner.hex(SHA256.hash(data: Data("40-ec-99-f9-34-a6".utf8)))
        for planted in [md5, sha1, sha256, String(sha256.prefix(12)), sha1.uppercased()] {
            #expect(!scanner.scan("visitor=\(planted) zone=bakery", source: "t").isEmpty, "missed a digest")
        }
        let other = IdentifierScanner.hex(SHA256.hash(data: Data("aa:bb:cc:dd:ee:ff".utf8)))
        #expect(scanner.scan("visitor=\(other)", source: "t").isEmpty)
    }

    /// Runs every stage that exists on the addresses of a real capture, with a trace-level
    /// logger, and finds no trace of any address anywhere. Stages: opt-out parsing (with a
    /// broken line), gate, pseudonymiser, key rotation, suppression, CSV output, audit of a
    /// directory holding a planted address (its report must not repeat it), the key memory
    /// report. (The hardening report is in the executables' logs that
    /// `rawMACNeverWrittenOrLoggedByTheExecutable` scans: hardening the test process here
    /// would make its children look hardened.)
    @Test func noIdentifierReachesLogsErrorsOrOutput() throws {
        let sources = try fixtureSources(day: "2024-03-07")
        #expect(sources.count > 100)
        let scanner = IdentifierScanner(addresses: sources)
        let canary = try PrivacyCanary()
        let log = canary.logger
        let macs = sources.sorted()

        // Opt-out list: one good line, one typo that contains most of an address.
        let optOutText = IdentifierScanner.spellings(IdentifierScanner.hex(macs[0]))[0] + "\n" + IdentifierScanner.spellings(IdentifierScanner.hex(macs[1]))[0] + ":ff\n"
        var optOut = OptOutList.empty
        do { optOut = try OptOutList(parsing: optOutText) } catch {
            log.warning("opt-out list rejected", metadata: ["error": "\(error)"])
            canary.record(error.description, source: "opt-out error")
        }
        optOut = try OptOutList(parsing: String(optOutText.split(separator: "\n")[0]))
        log.info("opt-out list loaded", metadata: ["list": "\(optOut)"])

        let (keys, lockStatus) = try LockedKeyMemory.keyStore(slots: 1)
        log.info("key memory", metadata: ["status": "\(lockStatus)", "keys": "\(keys)"])

        let tz = TimeZone(identifier: "Europe/Prague")!
        var gate = Gate(privacy: PrivacySettings(rssiFloor: -90), openingHours: .alwaysOpen, timeZone: tz, optOut: optOut, sensorCount: 2)
        struct Seen: PseudonymScope {
            var devices = Set<Pseudonym>()
            mutating func endKeyPeriod(at instant: Int64) { devices.removeAll() }
        }
        var epoch = KeyEpoch(keys: keys, schedule: KeySchedule(rotation: .hourly, timeZone: tz), scope: Seen())
        var t: Int64 = 1_710_579_600 * 1_000_000_000  // 2024-03-16 10:00 CET
        for (i, mac) in macs.enumerated() {
            t += 20_000_000_000
            let probe = makeProbe(mac: mac, timestampNanos: t, signalDBm: Int8(-40 - i % 60))
            let decision = gate.admit(probe, sensor: i % 2)
            log.trace("frame", metadata: ["decision": "\(decision)", "sensor": "\(i % 2)"])
            guard decision == .admit else { continue }
            if epoch.advance(to: t / 1_000_000_000) {
                log.debug("key rotated", metadata: ["generation": "\(keys.generation)", "keys": "\(keys)"])
            }
            let observation = epoch.pseudonymiser.observe(probe, sensor: i % 2)
            epoch.scope.devices.insert(observation.device)
            var dumped = ""
            dump(observation, to: &dumped)
            log.trace("observation", metadata: ["observation": "\(observation)", "device": "\(observation.device)", "dump": "\(dumped)"])
        }
        log.info("gate", metadata: ["counters": "\(gate.counters)"])
        #expect(gate.counters.admitted > 100)
        #expect(gate.counters.optedOut + gate.counters.belowRSSIFloor > 0)

        let hour = TestCSV.sampleHour()
        log.debug("hour published", metadata: ["hour": "\(hour)"])
        try TestCSV.heatmap([hour]).write(to: canary.outputDirectory.appendingPathComponent("heatmap-2024-03-07T10.csv"), atomically: true, encoding: .utf8)

        // The audit finds a planted address but its report names only file and line.
        let auditDir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: auditDir) }
        try (Audit.heatmapHeader + "\n2024-03-07T10:00:00+01:00,\(IdentifierScanner.spellings(IdentifierScanner.hex(macs[2]))[1]),,,,,,,,,,0\n")
            .write(to: auditDir.appendingPathComponent("heatmap-2024-03-07T10.csv"), atomically: true, encoding: .utf8)
        let audit = try Audit.run(directory: auditDir.path, k: 5, retentionDays: nil, now: 1_710_028_800)
        #expect(!audit.isClean)
        canary.record(audit.text, source: "audit report")
        log.warning("audit", metadata: ["report": "\(audit.text)"])

        let findings = canary.findings(using: scanner)
        #expect(findings.isEmpty, "\(findings.prefix(5))")
        // The canary is live: the handler saw trace lines, and the scanner does catch an
        // address written the way a careless log line would.
        #expect(canary.handler.lines.withLock { $0.count } > 100)
        #expect(!scanner.scan("probe from \(IdentifierScanner.spellings(IdentifierScanner.hex(macs[3]))[0])", source: "control").isEmpty)
    }
}
