import Foundation
import FootfallTestSupport
import Testing

/// Runs the built `footfall` binary on the real captures and checks `stats` against tshark,
/// which dissects the same files independently (it shares no code with footfall).
///
/// Build first: `swift build --build-tests` builds the binary these tests run.
@Suite("footfall stats against tshark", .serialized)
struct StatsMatchesTsharkTests {
    // When tshark is missing the oracle tests cannot run. Outside CI they are skipped (and
    // reported as skipped, with this reason); with CI set they run and fail, so a CI image
    // without tshark cannot pass silently.
    @Test(
        .enabled(if: Tools.tshark != nil || Tools.isCI, "tshark (Wireshark) is not installed, so there is no oracle to compare with; install tshark to run this test"),
        arguments: Tools.fixtureNames
    )
    func statsCountsEqualTsharksOnEachRealCapture(name: String) throws {
        let tshark = try #require(Tools.tshark, "tshark is not installed but CI is set: install tshark (Wireshark) in the CI image")
        let path = Tools.fixture(name)
        let stats = try Footfall.statsJSON([path])

        let oracle = try Tshark.probeRequests(tshark: tshark, file: path)
        #expect(oracle.count > 0)
        #expect(stats.int("probe_requests") == oracle.count)
        #expect(stats.int("distinct_devices") == Set(oracle.map(\.source)).count)
        #expect(stats.int("frames") == (try Tshark.frameCount(tshark: tshark, file: path)))

        // Per UTC hour: the same probe requests and distinct sources in each hour.
        var expected: [String: (count: Int, sources: Set<String>)] = [:]
        for frame in oracle {
            let hour = Tools.utcHour(epochSeconds: frame.epochSeconds)
            expected[hour, default: (0, [])].count += 1
            expected[hour, default: (0, [])].sources.insert(frame.source)
        }
        let perHour = try #require(stats["per_hour"] as? [[String: Any]])
        #expect(perHour.compactMap { $0["hour"] as? String } == expected.keys.sorted())
        for hour in perHour {
            let key = hour["hour"] as? String ?? ""
            #expect(hour["probe_requests"] as? Int == expected[key]?.count, "hour \(key)")
            #expect(hour["distinct_devices"] as? Int == expected[key]?.sources.count, "hour \(key)")
        }
    }

    @Test(.enabled(if: Tools.tshark != nil || Tools.isCI, "tshark (Wireshark) is not installed, so there is no oracle to compare with; install tshark to run this test"))
    func statsOverSeveralFilesCountsADeviceHeardInBothOnce() throws {
        let tshark = try #require(Tools.tshark, "tshark is not installed but CI is set: install tshark (Wireshark) in the CI image")
        let files = [Tools.fixture("2024-03-16_position_1.pcap"), Tools.fixture("2024-03-16_position_2.pcap")]
        let stats = try Footfall.statsJSON(files)
        let oracle = try files.flatMap { try Tshark.probeRequests(tshark: tshark, file: $0) }
        let perFile = try files.map { Set(try Tshark.probeRequests(tshark: tshark, file: $0).map(\.source)).count }
        #expect(stats.int("probe_requests") == oracle.count)
        #expect(stats.int("distinct_devices") == Set(oracle.map(\.source)).count)
        // The two sniffers share devices, so the union is smaller than the sum.
        #expect(stats.int("distinct_devices").map { $0 < perFile.reduce(0, +) } == true)
    }

    @Test func aTruncatedCaptureReportsTheByteOffsetCountsEveryRecordBeforeItAndExits65() throws {
        let source = try Data(contentsOf: URL(fileURLWithPath: Tools.fixture("2024-03-16_position_1.pcap")))
        let offsets = PcapBytes.recordOffsets([UInt8](source))
        let cut = 1000
        let path = try Tools.temporaryFile(named: "cut.pcap", bytes: [UInt8](source.prefix(offsets[cut] + 9)))

        let result = try Footfall.run(["stats", "--json", path])
        #expect(result.status == 65)
        #expect(result.stderr.contains(path))
        #expect(result.stderr.contains("byte offset \(offsets[cut])"))
        let stats = try Tools.jsonObject(result.stdout)
        #expect(stats.int("frames") == cut)
    }

    @Test func aTruncatedFileDoesNotStopTheFilesAfterIt() throws {
        let whole = PcapBytes.file(linkType: 127, records: [[UInt8]](repeating: PcapBytes.probeRequestRadiotap, count: 3))
        let cut = try Tools.temporaryFile(named: "cut.pcap", bytes: Array(whole.dropLast(5)))
        let intact = try Tools.temporaryFile(named: "whole.pcap", bytes: whole)
        let result = try Footfall.run(["stats", "--json", cut, intact])
        #expect(result.status == 65)
        #expect(try Tools.jsonObject(result.stdout).int("frames") == 2 + 3)
    }

    @Test func aCaptureOfLinkType1IsRejectedNamingTheLinkTypeAndTheFile() throws {
        let path = try Tools.temporaryFile(named: "ethernet.pcap", bytes: PcapBytes.file(linkType: 1, records: [[UInt8](repeating: 0, count: 60)]))
        let result = try Footfall.run(["stats", "--json", path])
        #expect(result.status == 66)
        #expect(result.stderr.contains("link type 1 (EN10MB)"))
        #expect(result.stderr.contains(path))
        #expect(result.stdout.isEmpty)
    }

    @Test func aMissingFileIsAnErrorNamingIt() throws {
        let result = try Footfall.run(["stats", "/nonexistent/footfall/missing.pcap"])
        #expect(result.status == 66)
        #expect(result.stderr.contains("/nonexistent/footfall/missing.pcap"))
        #expect(result.stdout.isEmpty)
    }

    @Test(arguments: [
        (["stats"], "capture file"),
        (["stats", "--log-level", "loud", "x.pcap"], "log-level"),
        (["stats", "--bogus", "x.pcap"], "--bogus"),
        (["nonsense"], "nonsense"),
    ])
    func badArgumentsGiveAClearErrorAndExitStatus64(arguments: [String], mentioning: String) throws {
        let result = try Footfall.run(arguments)
        #expect(result.status == 64)
        #expect(result.stderr.contains(mentioning), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func helpDocumentsTheExitStatuses() throws {
        let result = try Footfall.run(["stats", "--help"])
        #expect(result.status == 0)
        for text in ["65", "66", "--log-level", "--json"] {
            #expect(result.stdout.contains(text), "help mentions \(text)")
        }
    }

    @Test func debugLoggingGoesToStderrAndLeavesTheJSONAlone() throws {
        let path = try Tools.temporaryFile(named: "one.pcap", bytes: PcapBytes.file(linkType: 127, records: [PcapBytes.probeRequestRadiotap]))
        let result = try Footfall.run(["stats", "--json", "--log-level", "debug", path])
        #expect(result.status == 0)
        #expect(result.stderr.contains("debug"))
        let stats = try Tools.jsonObject(result.stdout)
        #expect(stats.int("probe_requests") == 1)
        #expect(stats.int("distinct_devices") == 1)
        #expect((stats["per_hour"] as? [[String: Any]])?.first?["hour"] as? String == "2024-03-14T12:00:00Z")
    }

    @Test func theTableNamesEveryCount() throws {
        let path = try Tools.temporaryFile(named: "one.pcap", bytes: PcapBytes.file(linkType: 127, records: [PcapBytes.probeRequestRadiotap]))
        let result = try Footfall.run(["stats", path])
        #expect(result.status == 0)
        for label in ["frames", "probe requests", "bad FCS", "malformed", "distinct devices", "2024-03-14T12:00:00Z"] {
            #expect(result.stdout.contains(label), "table shows \(label)")
        }
    }
}

// MARK: - Helpers

enum Tools {
    static let packageRoot = FootfallTestSupport.packageRoot

    static let fixtureNames: [String] = [
        "2024-02-08_position_1.pcap", "2024-02-08_position_2.pcap",
        "2024-03-07_position_1.pcap", "2024-03-07_position_2.pcap",
        "2024-03-14_position_1.pcap", "2024-03-14_position_2.pcap",
        "2024-03-16_position_1.pcap", "2024-03-16_position_2.pcap",
    ]

    static func fixture(_ name: String) -> String {
        packageRoot.appendingPathComponent("Tests/Fixtures/brno-sc6-61/\(name)").path
    }

    static let isCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false
    static let tshark = tool("tshark")

    static func tool(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static func temporaryFile(named name: String, bytes: [UInt8]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-integration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    static func jsonObject(_ text: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any], "stdout is one JSON object: \(text.prefix(200))")
    }

    /// `YYYY-MM-DDTHH:00:00Z` of the UTC hour containing a time (Foundation's calendar, an
    /// implementation independent of footfall's).
    static func utcHour(epochSeconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH':00:00Z'"
        return formatter.string(from: Date(timeIntervalSince1970: epochSeconds.rounded(.down)))
    }

    typealias RunResult = ProgramResult

    /// Runs a program to its end, collecting both outputs.
    static func run(_ executable: String, _ arguments: [String]) throws -> RunResult {
        try runProgram(executable, arguments)
    }
}

extension [String: Any] {
    func int(_ key: String) -> Int? { self[key] as? Int }
}

/// The built `footfall` binary.
enum Footfall {
    static let binary: String? = FootfallExecutable.path

    static func run(_ arguments: [String]) throws -> Tools.RunResult {
        let binary = try #require(binary, "\(FootfallExecutable.notBuilt)")
        return try Tools.run(binary, arguments)
    }

    static func statsJSON(_ files: [String]) throws -> [String: Any] {
        let result = try run(["stats", "--json"] + files)
        #expect(result.status == 0, "footfall stats failed: \(result.stderr)")
        return try Tools.jsonObject(result.stdout)
    }
}

/// The oracle.
enum Tshark {
    struct ProbeRequest {
        var epochSeconds: Double
        var source: String
    }

    /// Probe requests (`wlan.fc.type_subtype == 4`) with their time and transmitter (`wlan.sa`).
    static func probeRequests(tshark: String, file: String) throws -> [ProbeRequest] {
        let result = try Tools.run(tshark, ["-n", "-r", file, "-Y", "wlan.fc.type_subtype == 4", "-T", "fields", "-e", "frame.time_epoch", "-e", "wlan.sa"])
        try #require(result.status == 0, "tshark failed: \(result.stderr)")
        return result.stdout.split(separator: "\n").map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            return ProbeRequest(epochSeconds: Double(fields[0]) ?? .nan, source: fields.count > 1 ? String(fields[1]) : "")
        }
    }

    /// All frames in the file.
    static func frameCount(tshark: String, file: String) throws -> Int {
        let result = try Tools.run(tshark, ["-n", "-r", file, "-T", "fields", "-e", "frame.number"])
        try #require(result.status == 0, "tshark failed: \(result.stderr)")
        return result.stdout.split(separator: "\n").count
    }
}

/// Classic pcap files built in code (pcap-savefile(5), little-endian, microsecond timestamps).
enum PcapBytes {
    /// An 8-byte radiotap header (no fields) and a probe request from 02:00:00:00:00:01 with
    /// an empty SSID.
    static let probeRequestRadiotap: [UInt8] = [
        0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, // radiotap v0, length 8, no fields
        0x40, 0x00, 0x00, 0x00, // frame control: management, probe request; duration
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // addr1
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // addr2 (transmitter)
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // addr3
        0x10, 0x00, // sequence control
        0x00, 0x00, // SSID, length 0
        0x01, 0x02, 0x82, 0x84, // supported rates
    ]

    /// Every record at 2024-03-14T12:00:00Z.
    static func file(linkType: UInt32, records: [[UInt8]]) -> [UInt8] {
        var out = le32(0xA1B2_C3D4) + [2, 0, 4, 0] + le32(0) + le32(0) + le32(65535) + le32(linkType)
        for record in records {
            out += le32(1_710_417_600) + le32(0) + le32(UInt32(record.count)) + le32(UInt32(record.count)) + record
        }
        return out
    }

    static func recordOffsets(_ data: [UInt8]) -> [Int] {
        var offsets: [Int] = []
        var offset = 24
        while offset + 16 <= data.count {
            let captured = Int(data[offset + 8]) | Int(data[offset + 9]) << 8 | Int(data[offset + 10]) << 16 | Int(data[offset + 11]) << 24
            guard offset + 16 + captured <= data.count else { break }
            offsets.append(offset)
            offset += 16 + captured
        }
        return offsets
    }

    static func le32(_ v: UInt32) -> [UInt8] { (0 ..< 4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
}
