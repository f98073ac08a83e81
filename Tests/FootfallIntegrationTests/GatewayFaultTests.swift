#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import FootfallTestSupport
import Foundation
import Testing

/// Faults an operator meets in the field, tried on the built binary as it is wired: a
/// metrics port already taken, and temporary files a killed process left behind.
@Suite("The gateway under injected faults", .serialized)
struct GatewayFaultTests {
    static let replayConfig = Tools.packageRoot.appendingPathComponent("config/examples/brno-lab.yaml").path

    /// A temporary file name as AtomicFileWriter writes it, for process `pid`.
    static func temporaryName(_ pid: Int32) -> String { ".heatmap-2024-03-16T10.csv.tmp-\(pid)" }

    /// The id of a process that has ended (started, then waited for).
    static func deadProcess() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test func temporaryFilesOfDeadProcessesAreNamedByAuditAndRemovedByTheNextReplay() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-stale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: output) }
        let dead = try Self.deadProcess()
        let alive = getpid()  // this test process: still writing, as far as anyone can tell
        for pid in [dead, alive] {
            try Data("half a file".utf8).write(to: output.appendingPathComponent(Self.temporaryName(pid)))
        }

        let before = try Footfall.run(["audit", output.path])
        #expect(before.status != 0)
        #expect(before.stdout.contains(Self.temporaryName(dead)) && before.stdout.contains("process \(dead), which ended"), "\(before.stdout)")
        #expect(before.stdout.contains("process \(alive) is writing right now"), "\(before.stdout)")

        let capture = Tools.fixture("2024-03-16_position_1.pcap")
        let replay = try Footfall.run(["replay", "--config", Self.replayConfig, "--output", output.path, "\(capture)@position_1"])
        #expect(replay.status == 0, "\(replay.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: output.path)
        #expect(!left.contains(Self.temporaryName(dead)))
        #expect(left.contains(Self.temporaryName(alive)), "a file a running process is writing is left alone")
    }

    @Test func aRecordAtEpochZeroIsDroppedReportedWithItsOffsetAndChangesNoCount() throws {
        let source = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Tools.fixture("2024-03-16_position_1.pcap"))))
        let offsets = PcapBytes.recordOffsets(source)
        let bad = offsets[2000]
        var damaged = source
        for i in 0 ..< 8 { damaged[bad + i] = 0 }  // seconds and fraction: 1970-01-01T00:00:00Z
        // The same capture without that record: what the damaged one must count exactly like.
        let without = Array(source[..<bad]) + Array(source[offsets[2001]...])
        let damagedPath = try Tools.temporaryFile(named: "epoch0.pcap", bytes: damaged)
        let withoutPath = try Tools.temporaryFile(named: "without.pcap", bytes: without)
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-epoch0-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let outDamaged = base.appendingPathComponent("damaged"), outWithout = base.appendingPathComponent("without")

        let result = try Footfall.run(["replay", "--config", Self.replayConfig, "--output", outDamaged.path, "\(damagedPath)@position_1"])
        let reference = try Footfall.run(["replay", "--config", Self.replayConfig, "--output", outWithout.path, "\(withoutPath)@position_1"])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(reference.status == 0, "\(reference.stderr)")
        #expect(result.stderr.contains("1 records with a time before 2000-01-01 were dropped (the first at byte offset \(bad))"), "\(result.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: outDamaged.path).sorted()
        #expect(names == (try FileManager.default.contentsOfDirectory(atPath: outWithout.path).sorted()))
        #expect(!names.contains { $0.contains("1970") }, "\(names)")
        for name in names where name.hasPrefix("heatmap-") {
            let a = try String(contentsOf: outDamaged.appendingPathComponent(name), encoding: .utf8)
            let b = try String(contentsOf: outWithout.appendingPathComponent(name), encoding: .utf8)
            #expect(a == b, "\(name) differs")
        }
    }

    /// Replays `capture` into `output`; returns the result and every file's name and text.
    static func replayFiles(_ capture: String, into output: URL) throws -> (ProgramResult, [String: String]) {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let result = try Footfall.run(["replay", "--config", Self.replayConfig, "--output", output.path, "\(capture)@position_1"])
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: output.path) {
            files[name] = try String(contentsOf: output.appendingPathComponent(name), encoding: .utf8)
        }
        return (result, files)
    }

    /// The record's seconds field moved by `shift` seconds (little-endian, as the fixtures are).
    static func shiftSeconds(_ bytes: inout [UInt8], at offset: Int, by shift: Int64) {
        var seconds = Int64(bytes[offset]) | Int64(bytes[offset + 1]) << 8 | Int64(bytes[offset + 2]) << 16 | Int64(bytes[offset + 3]) << 24
        seconds += shift
        for i in 0 ..< 4 { bytes[offset + i] = UInt8((seconds >> (8 * Int64(i))) & 0xFF) }
    }

    @Test(arguments: [86_400, -86_400, 365 * 86_400] as [Int64])
    func aRecordADayOrAYearAwayFromItsNeighboursIsDroppedReportedWithItsOffsetAndChangesNoCount(shift: Int64) throws {
        let source = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Tools.fixture("2024-03-16_position_1.pcap"))))
        let offsets = PcapBytes.recordOffsets(source)
        let bad = offsets[2000]
        var damaged = source
        Self.shiftSeconds(&damaged, at: bad, by: shift)
        let without = Array(source[..<bad]) + Array(source[offsets[2001]...])
        let damagedPath = try Tools.temporaryFile(named: "shifted.pcap", bytes: damaged)
        let withoutPath = try Tools.temporaryFile(named: "without.pcap", bytes: without)
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-shift-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }

        let (result, damagedFiles) = try Self.replayFiles(damagedPath, into: base.appendingPathComponent("damaged"))
        let (reference, referenceFiles) = try Self.replayFiles(withoutPath, into: base.appendingPathComponent("without"))
        #expect(result.status == 65, "\(result.stderr)")
        #expect(reference.status == 0, "\(reference.stderr)")
        #expect(result.stderr.contains("1 records timed more than 1 h away from the records around them were dropped (the first at byte offset \(bad))"), "\(result.stderr)")
        #expect(!result.stderr.contains(" late"), "no frame is late because of the damaged one: \(result.stderr)")
        #expect(damagedFiles.keys.sorted() == referenceFiles.keys.sorted())
        for (name, text) in referenceFiles { #expect(damagedFiles[name] == text, "\(name) differs") }
    }

    @Test func statsNamesARecordADayOffWithItsOffsetAndExits65() throws {
        let source = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Tools.fixture("2024-03-16_position_1.pcap"))))
        let offsets = PcapBytes.recordOffsets(source)
        var damaged = source
        Self.shiftSeconds(&damaged, at: offsets[2000], by: 86_400)
        let path = try Tools.temporaryFile(named: "shifted.pcap", bytes: damaged)
        let result = try Footfall.run(["stats", "--json", path])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("1 records timed more than 1 h away from the records around them were dropped (the first at byte offset \(offsets[2000]))"), "\(result.stderr)")
        let object = try Tools.jsonObject(result.stdout)
        #expect(object.int("frames") == offsets.count - 1, "the dropped record is not counted")
    }

    @Test func aCaptureThatGoesQuietForHoursAndCarriesOnIsNotDamaged() throws {
        // Every record from the 2,000th on moved 6 h later: a sniffer switched off, then on.
        let source = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Tools.fixture("2024-03-16_position_1.pcap"))))
        let offsets = PcapBytes.recordOffsets(source)
        var gap = source
        for offset in offsets[2000...] { Self.shiftSeconds(&gap, at: offset, by: 6 * 3600) }
        let gapPath = try Tools.temporaryFile(named: "gap.pcap", bytes: gap)
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-gap-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let (result, files) = try Self.replayFiles(gapPath, into: base)
        let (_, original) = try Self.replayFiles(Tools.fixture("2024-03-16_position_1.pcap"), into: base.appendingPathComponent("original"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("dropped"), "\(result.stderr)")
        #expect(!result.stderr.contains(" late"), "\(result.stderr)")
        // The hours after the gap are counted: the last hour file is hours after the original's.
        let last = files.keys.filter { $0.hasPrefix("heatmap-") }.max() ?? ""
        let originalLast = original.keys.filter { $0.hasPrefix("heatmap-") }.max() ?? ""
        #expect(last > originalLast, "\(files.keys.sorted())")
    }

    @Test(.timeLimit(.minutes(1)))
    func aMetricsPortAlreadyTakenEndsRunWithinSecondsWithAnErrorAndANonZeroStatus() throws {
        // Hold a TCP port on loopback, then ask `run` to serve metrics on it.
        let (holder, port) = try Self.silentListener()
        defer { close(holder) }

        let base = try String(contentsOf: Tools.packageRoot.appendingPathComponent("config/examples/tzsp-loopback.yaml"), encoding: .utf8)
        let config = base + "\nmetrics:\n  enabled: true\n  address: 127.0.0.1\n  port: \(port)\n"
        let configPath = try Tools.temporaryFile(named: "metrics-taken.yaml", bytes: Array(config.utf8))
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-metrics-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }

        let started = ContinuousClock.now
        let result = try Footfall.run(["run", "--config", configPath, "--output", output.path])
        let took = ContinuousClock.now - started
        #expect(result.status == 1)
        #expect(took < .seconds(10), "took \(took)")
        #expect(result.stderr.contains("cannot listen on 127.0.0.1:\(port)"), "\(result.stderr)")
        #expect(result.stderr.contains("error"), "an error-level line, not a debug one")
    }

    @Test func replaySaysTheFirstAndLastHoursWereHeardOnlyInPartAndAFullHourWhole() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-listened-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        // The capture starts at 13:54:07 local time and ends at 23:53:31.
        let (result, files) = try Self.replayFiles(Tools.fixture("2024-03-14_position_1.pcap"), into: base)
        #expect(result.status == 0, "\(result.stderr)")
        func listened(_ hour: String) -> String? { files["heatmap-2024-03-14T\(hour).csv"].flatMap { heatmapFileRows($0)["ALL"]?["listened_s"] } }
        #expect(listened("13") == "360", "heard from the first frame's minute, 13:54")
        #expect(listened("15") == "3600")
        #expect(listened("23").flatMap(Int.init).map { $0 < 3600 } == true, "\(listened("23") ?? "no file")")
    }

    /// A TCP port on loopback that takes connections into its backlog and never answers: a
    /// database that hangs (the listening socket is closed when the test ends).
    static func silentListener() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(bound == 0 && listen(fd, 16) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    @Test(
        .enabled(if: geteuid() == 0, "skipped: needs root for live capture on lo (CI runs the tests as root)"),
        .timeLimit(.minutes(2))
    )
    func sigtermEndsRunWithinFiveSecondsWithAnIdleSourceAndADatabaseThatNeverAnswersAndTheHourIsWritten() throws {
        let database = try Self.silentListener()
        defer { close(database.fd) }
        let base = try String(contentsOf: Tools.packageRoot.appendingPathComponent("config/examples/tzsp-loopback.yaml"), encoding: .utf8)
        let config = base.replacingOccurrences(of: "  opening_hours: always\n", with: "  opening_hours: always\n  id: hanging-db\n")
            + "\noutput:\n  database:\n    url: postgresql://footfall@127.0.0.1:\(database.port)/footfall\n    tls: disable\n"
        let configPath = try Tools.temporaryFile(named: "hanging-db.yaml", bytes: Array(config.utf8))

        RunLoopbackTests.waitUntilNotNearHourBoundary()
        // Hours an earlier run wrote and never shipped: the shipper connects at once, and
        // hangs on the database for as long as the test lets it.
        let run = try LoopbackRun(config: configPath) { output in
            let earlier = try Footfall.run(["replay", "--config", Self.replayConfig, "--output", output.path, "\(Tools.fixture("2024-03-16_position_1.pcap"))@position_1"])
            try #require(earlier.status == 0, "\(earlier.stderr)")
        }
        defer { run.cleanUp() }
        // A few probe requests, so there is an hour to write; then the source is idle.
        let frames = try RunLoopbackTests.probeRequests(in: Tools.packageRoot.appendingPathComponent("Tests/Fixtures/brno-sc6-61/2024-03-07_position_2.pcap"), perDevice: 1)
        let sender = try UDPSender(bindTo: "127.0.0.2")
        for frame in frames.prefix(50) { try sender.send(RunLoopbackTests.tzsp(frame.bytes, signalDBm: -45), to: "127.0.0.1", port: 37008) }
        Thread.sleep(forTimeInterval: 3)  // the source idle, the shipper stuck on the database

        let signalled = ContinuousClock.now
        kill(run.process.processIdentifier, SIGTERM)
        let exited = waitFor(seconds: 5) { !run.process.isRunning }
        let took = ContinuousClock.now - signalled
        #expect(exited, "still running 5 s after SIGTERM: \(run.logText.suffix(2000))")
        guard exited else { return }
        #expect(run.process.terminationReason == .exit && run.process.terminationStatus == 0, "status \(run.process.terminationStatus): \(run.logText.suffix(2000))")
        #expect(took < .seconds(5), "took \(took)")
        let heatmaps = try FileManager.default.contentsOfDirectory(atPath: run.output.path).filter { $0.hasPrefix("heatmap-") && !$0.hasPrefix("heatmap-2024-03-16") }
        #expect(heatmaps.count == 1, "the hour in progress is written: \(heatmaps)")
        let text = heatmaps.first.flatMap { try? String(contentsOf: run.output.appendingPathComponent($0), encoding: .utf8) } ?? ""
        #expect(text.contains(",true\r\n"), "written whole and marked partial: \(text)")
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: run.output.path)).contains { $0.contains(".tmp-") }, "no half-written file left")
    }

    @Test(
        .enabled(if: geteuid() == 0, "skipped: needs root for live capture on lo (CI runs the tests as root)"),
        .timeLimit(.minutes(2))
    )
    func aRunRestartedInTheMiddleOfAnHourWritesThatItHeardOnlyTheMinutesSinceItsStart() throws {
        let frames = try RunLoopbackTests.probeRequests(in: Tools.packageRoot.appendingPathComponent("Tests/Fixtures/brno-sc6-61/2024-03-07_position_2.pcap"), perDevice: 1)
        func send() throws {
            let sender = try UDPSender(bindTo: "127.0.0.2")
            for frame in frames.prefix(30) { try sender.send(RunLoopbackTests.tzsp(frame.bytes, signalDBm: -45), to: "127.0.0.1", port: 37008) }
            Thread.sleep(forTimeInterval: 1)
        }
        RunLoopbackTests.waitUntilNotNearHourBoundary()
        let first = try LoopbackRun(config: "config/examples/tzsp-loopback.yaml")
        defer { first.cleanUp() }
        try send()
        try #require(try first.stop())
        // The restart finds the partial hour the first run wrote, as on the gateway.
        let started = Date()
        let second = try LoopbackRun(config: "config/examples/tzsp-loopback.yaml") { output in
            for name in try FileManager.default.contentsOfDirectory(atPath: first.output.path) {
                try FileManager.default.copyItem(at: first.output.appendingPathComponent(name), to: output.appendingPathComponent(name))
            }
        }
        defer { second.cleanUp() }
        try send()
        try #require(try second.stop())
        let listened = try #require(try second.heatmapRows()["ALL"]?["listened_s"].flatMap(Int.init))
        // From the minute the second run started to the end of its last frame's minute.
        let ran = Int(Date().timeIntervalSince(started).rounded(.up))
        #expect(listened < 3600)
        #expect(listened <= ran + 120, "listened_s \(listened) for a run of \(ran) s")
    }

    @Test func runCreatesAMissingOutputDirectory() throws {
        // The metrics address is not one of this host's, so `run` stops before any capture
        // starts, right after preparing the output directory: no root needed.
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-mkdir-\(UUID().uuidString)/hours")
        defer { try? FileManager.default.removeItem(at: output.deletingLastPathComponent()) }
        try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        let base = try String(contentsOf: Tools.packageRoot.appendingPathComponent("config/examples/tzsp-loopback.yaml"), encoding: .utf8)
        let config = base + "\nmetrics:\n  enabled: true\n  address: 192.0.2.1\n  port: 9464\n"
        let configPath = try Tools.temporaryFile(named: "mkdir.yaml", bytes: Array(config.utf8))
        let result = try Footfall.run(["run", "--config", configPath, "--output", output.path])
        // 192.0.2.1 (TEST-NET-1) is not an address of this host: run stops, but only after
        // creating the directory, and says which address it could not use.
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot listen on 192.0.2.1:9464"), "\(result.stderr)")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: output.path, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(!result.stderr.contains("NSCocoaErrorDomain"))
    }
}

/// Every command ends with a status README documents and a message in plain words: no
/// Foundation error dumps (`NSCocoaErrorDomain`).
@Suite("Documented exit statuses and plain messages")
struct ExitStatusTests {
    @Test func auditOfAMissingDirectoryExits66WithTheSystemsReason() throws {
        let result = try Footfall.run(["audit", "/nonexistent/footfall-output"])
        #expect(result.status == 66)
        #expect(result.stderr.contains("No such file or directory"), "\(result.stderr)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain"))
    }

    @Test func renderOfAFileInsteadOfADirectoryExits66SayingItIsNotADirectory() throws {
        let file = try Tools.temporaryFile(named: "not-a-directory.csv", bytes: Array("x".utf8))
        let result = try Footfall.run(["render", file])
        #expect(result.status == 66)
        #expect(result.stderr.contains("Not a directory"), "\(result.stderr)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain"))
    }

    @Test func replayNamingASensorTheConfigurationLacksIsAUsageErrorExiting64() throws {
        let result = try Footfall.run(["replay", "--config", GatewayFaultTests.replayConfig, "--output", "/nonexistent", "\(Tools.fixture("2024-03-16_position_1.pcap"))@nosuch"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("no sensor has the id \"nosuch\""), "\(result.stderr)")
    }
}

/// `check-config` accepts only what `run` accepts, and says what is probably a mistake.
@Suite("check-config runs the checks run runs")
struct CheckConfigLikeRunTests {
    static func config(_ extra: String, zones: String = "  - id: entrance\n  - id: checkout\n", sensors: String) -> String {
        """
        site:
          name: "Check"
          time_zone: Europe/Prague
          opening_hours: always
        zones:
        \(zones)sensors:
        \(sensors)\(extra)
        """
    }

    static let twoZones = "  - id: a\n    zone: entrance\n    interface: mon0\n  - id: b\n    zone: checkout\n    interface: mon1\n"

    func checkConfig(_ text: String, output: String? = nil) throws -> ProgramResult {
        let path = try Tools.temporaryFile(named: "check.yaml", bytes: Array(text.utf8))
        let directory = output ?? URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("out").path
        return try Footfall.run(["check-config", path, "--output", directory])
    }

    @Test func anOptOutFileThatDoesNotExistIsRefusedLikeRunRefusesIt() throws {
        let result = try checkConfig(Self.config("privacy:\n  opt_out_file: /nonexistent/opt-out.txt\n", sensors: Self.twoZones))
        #expect(result.status == 78)
        #expect(result.stderr.contains("privacy.opt_out_file"), "\(result.stderr)")
    }

    @Test func anOutputDirectoryThatCannotBeCreatedIsRefused() throws {
        let result = try checkConfig(Self.config("", sensors: Self.twoZones), output: "/nonexistent/deeper/out")
        #expect(result.status == 78)
        #expect(result.stderr.contains("/nonexistent/deeper/out"), "\(result.stderr)")
    }

    @Test func aZoneWithoutSensorAndAnInterfaceSharedAcrossZonesAreWarnedAbout() throws {
        let shared = "  - id: a\n    zone: entrance\n    interface: mon0\n  - id: b\n    zone: checkout\n    interface: mon0\n"
        let result = try checkConfig(Self.config("", zones: "  - id: entrance\n  - id: checkout\n  - id: stockroom\n", sensors: shared))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("warning: zone stockroom has no sensor"), "\(result.stdout)")
        #expect(result.stdout.contains("warning: interface mon0 is the sensor of zones entrance, checkout"), "\(result.stdout)")
        #expect(!result.stdout.contains("zone entrance has no sensor"))
    }

    @Test func aCleanConfigurationHasNoWarnings() throws {
        let result = try checkConfig(Self.config("", sensors: Self.twoZones))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("warning"), "\(result.stdout)")
    }
}
