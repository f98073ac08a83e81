#if canImport(Glibc)
import Glibc
#endif

import FootfallTestSupport
import Foundation
import Testing

/// The systemd unit the Debian package installs (`config/footfall.service`, with `/usr/bin`
/// paths): how exposed systemd rates it, that systemd accepts it, and — since a sandbox that
/// breaks capture is worse than none — that `footfall run` as built, capturing a TZSP stream,
/// reloading and stopping, makes no system call, opens no file and no socket family the unit
/// would refuse. The last is checked by tracing the process (strace) rather than by starting
/// the unit, so it needs no running systemd.
///
/// Needs `systemd-analyze` (package systemd) and, for the trace, strace and root for live
/// capture on lo. CI installs both and runs as root; elsewhere each test says why it skips.
@Suite("systemd unit: hardened, accepted, and no obstacle to capture", .serialized)
struct ServiceUnitTests {
    static let unit = packageRoot.appendingPathComponent("config/footfall.service")
    static let systemdAnalyze = Tools.tool("systemd-analyze")
    static let strace = Tools.tool("strace")
    static let canAnalyze = systemdAnalyze != nil || Tools.isCI
    static let canTrace = (systemdAnalyze != nil && strace != nil && geteuid() == 0) || Tools.isCI

    /// The unit's `[Service]` settings, every value of a key in order.
    static func serviceSettings() throws -> [String: [String]] {
        var settings: [String: [String]] = [:]
        var inService = false
        for raw in try String(contentsOf: unit, encoding: .utf8).split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") { inService = line == "[Service]"; continue }
            guard inService, !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { continue }
            settings[String(line[..<eq]), default: []].append(String(line[line.index(after: eq)...]))
        }
        return settings
    }

    @Test(
        "systemd-analyze security rates the shipped unit's exposure 3.0 or less",
        .enabled(if: canAnalyze, "skipped: systemd-analyze not found (apt-get install systemd; CI has it)")
    )
    func theShippedUnitsExposureIsAtMostThree() throws {
        let analyze = try #require(Self.systemdAnalyze, "systemd-analyze not found")
        let result = try runProgram(analyze, ["security", "--offline=yes", "--no-pager", Self.unit.path])
        let text = result.stdout + result.stderr
        let line = try #require(text.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(text)")
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
        #expect(score <= 3.0, "\(line)")
    }

    @Test(
        "systemd-analyze verify accepts the shipped unit",
        .enabled(if: canAnalyze, "skipped: systemd-analyze not found (apt-get install systemd; CI has it)")
    )
    func systemdAcceptsTheShippedUnit() throws {
        let analyze = try #require(Self.systemdAnalyze, "systemd-analyze not found")
        let binary = try #require(FootfallExecutable.path, "\(FootfallExecutable.notBuilt)")
        // verify checks that ExecStart names an executable: point it at the built one.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try String(contentsOf: Self.unit, encoding: .utf8).replacingOccurrences(of: "/usr/local/bin/footfall", with: binary)
        let copy = dir.appendingPathComponent("footfall.service")
        try text.write(to: copy, atomically: true, encoding: .utf8)
        let result = try runProgram(analyze, ["verify", "--man=no", copy.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains("footfall.service"), "\(result.stdout)\(result.stderr)")
    }

    @Test func theUnitGrantsCaptureExactlyWhatItNeedsAndNoMore() throws {
        let s = try Self.serviceSettings()
        #expect(s["User"] == ["footfall"])
        #expect(s["NoNewPrivileges"] == ["yes"])
        // libpcap: raw packet sockets and interface settings; nothing else.
        #expect(s["CapabilityBoundingSet"] == ["CAP_NET_RAW CAP_NET_ADMIN"])
        #expect(s["AmbientCapabilities"] == ["CAP_NET_RAW CAP_NET_ADMIN"])
        let families = Set((s["RestrictAddressFamilies"] ?? []).flatMap { $0.split(separator: " ").map(String.init) })
        #expect(families == ["AF_PACKET", "AF_NETLINK", "AF_INET", "AF_INET6", "AF_UNIX"])
        // IP to loopback only; a chain database elsewhere is allowed in a drop-in.
        #expect(s["IPAddressDeny"] == ["any"])
        #expect(s["IPAddressAllow"] == ["localhost"])
        #expect(s["ProtectSystem"] == ["strict"])
        #expect(s["ReadWritePaths"] == ["/var/lib/footfall"])
        #expect(s["LimitCORE"] == ["0"])
        #expect(s["SystemCallFilter"]?.first == "@system-service")
    }

    @Test(
        "footfall run capturing, reloading and stopping makes no call the unit's sandbox refuses",
        .enabled(if: canTrace, "skipped: needs systemd-analyze, strace and root (CI has all three)")
    )
    func runMakesNoCallTheSandboxRefuses() throws {
        let analyze = try #require(Self.systemdAnalyze, "systemd-analyze not found")
        let strace = try #require(Self.strace, "strace not found")
        let binary = try #require(FootfallExecutable.path, "\(FootfallExecutable.notBuilt)")
        let settings = try Self.serviceSettings()
        let allowed = try SyscallGroups(systemdAnalyze: analyze).allowed(by: settings["SystemCallFilter"] ?? [])
        try #require(allowed.contains("read") && !allowed.contains("mount") && !allowed.contains("setuid"))
        let families = Set((settings["RestrictAddressFamilies"] ?? []).flatMap { $0.split(separator: " ").map(String.init) })

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-sandbox-\(UUID().uuidString)")
        let output = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Its own port, so no other test's stream reaches it; the metrics endpoint on.
        let config = dir.appendingPathComponent("footfall.yaml")
        try """
        site: {name: sandbox, time_zone: Europe/Prague, opening_hours: always}
        zones:
          - {id: floor, rssi_threshold: -60}
        sensors:
          - id: ap
            zone: floor
            tzsp: {interface: lo, port: 37933, sender: 127.0.0.2}
        metrics: {enabled: true, address: 127.0.0.1, port: \(19_000 + Int(getpid() % 900))}
        """.write(to: config, atomically: true, encoding: .utf8)
        let trace = dir.appendingPathComponent("trace")
        let log = dir.appendingPathComponent("run.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: strace)
        process.arguments = ["-f", "-qq", "-I", "1", "-o", trace.path, "--", binary, "run", "--config", config.path, "--output", output.path, "--log-level", "trace"]
        let logHandle = try FileHandle(forWritingTo: log)
        process.standardError = logHandle
        process.standardOutput = logHandle
        try process.run()
        // Signals go to the traced footfall, strace's child: a signal to strace would only
        // detach it.
        var footfall: Int32?
        _ = waitFor(seconds: 10) {
            let children = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/task/\(process.processIdentifier)/children", encoding: .utf8)) ?? ""
            footfall = children.split(separator: " ").compactMap { Int32($0) }.first
            return footfall != nil
        }
        defer {
            // strace first (a SIGKILL detaches it), then the process it traced.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            if let footfall { kill(footfall, SIGKILL) }
        }
        let pid = try #require(footfall, "strace did not start footfall")
        let logText = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        try #require(waitFor(seconds: 90) { logText().contains("capturing") || !process.isRunning }, "footfall run never logged that it is capturing")
        try #require(process.isRunning, "footfall run ended early: \(logText())")

        // A stream of probe requests from a handful of phones, a reload, another few, a stop.
        let sender = try UDPSender(bindTo: "127.0.0.2")
        for round in 0 ..< 2 {
            for device in 0 ..< 8 {
                try sender.send(Self.tzspProbeRequest(device: UInt8(device), sequence: UInt8(round)), to: "127.0.0.1", port: 37933)
            }
            Thread.sleep(forTimeInterval: 1)
            if round == 0 {
                kill(pid, SIGHUP)
                try #require(waitFor(seconds: 90) { logText().contains("configuration reloaded") }, "no reload logged: \(logText())")
            }
        }
        kill(pid, SIGTERM)
        try #require(waitFor(seconds: 90) { !process.isRunning }, "footfall run did not stop within 90 s of SIGTERM under strace")
        #expect(process.terminationStatus == 0, "\(logText())")
        try logHandle.close()
        // The hour was written: the run under trace did its whole job.
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).contains { $0.hasPrefix("heatmap-") })

        let calls = try Self.tracedCalls(trace)
        try #require(calls.count > 100, "the trace is nearly empty")
        let refused = Set(calls.map(\.name)).subtracting(allowed)
        #expect(refused.isEmpty, "system calls outside the unit's SystemCallFilter: \(refused.sorted())")
        for call in calls where call.name == "socket" {
            let family = String(call.arguments.prefix { $0 != "," })
            #expect(families.contains(family), "socket(\(call.arguments)) is outside RestrictAddressFamilies")
        }
        for call in calls where ["mmap", "mprotect", "pkey_mprotect"].contains(call.name) {
            #expect(!(call.arguments.contains("PROT_WRITE") && call.arguments.contains("PROT_EXEC")), "\(call.name)(\(call.arguments)) is refused by MemoryDenyWriteExecute")
        }
        for call in calls where ["open", "openat", "stat", "newfstatat", "statx", "access", "faccessat", "faccessat2", "readlink", "readlinkat"].contains(call.name) {
            guard let path = Self.firstPath(call.arguments) else { continue }
            // ProcSubset=pid: only the process's own directories under /proc.
            if path.hasPrefix("/proc/") {
                let entry = path.dropFirst("/proc/".count).prefix { $0 != "/" }
                #expect(entry == "self" || entry == "thread-self" || entry.allSatisfy(\.isNumber), "\(call.name) \(path) is hidden by ProcSubset=pid")
            }
            // PrivateDevices: only the pseudo devices.
            if path.hasPrefix("/dev/") {
                #expect(["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"].contains(path) || path.hasPrefix("/dev/shm/"), "\(call.name) \(path) is hidden by PrivateDevices")
            }
            // ProtectSystem=strict: writes only in the output directory (/var/lib/footfall).
            if call.name.hasPrefix("open"), call.arguments.contains("O_WRONLY") || call.arguments.contains("O_RDWR") || call.arguments.contains("O_CREAT") {
                #expect(path.hasPrefix(output.path + "/") || path == output.path || path.hasPrefix("/dev/"), "\(call.name) \(path) for writing outside the output directory")
            }
        }
    }

    /// A TZSP datagram (v1, received, 802.11, signal −45 dBm) around a probe request from a
    /// globally administered test address.
    static func tzspProbeRequest(device: UInt8, sequence: UInt8) -> [UInt8] {
        let source: [UInt8] = [0x00, 0x1B, 0x63, 0x5A, 0x00, device]
        let broadcast = [UInt8](repeating: 0xFF, count: 6)
        let header: [UInt8] = [0x40, 0x00, 0x00, 0x00] + broadcast + source + broadcast + [sequence << 4, 0x00]
        return [1, 0, 0, 18, 10, 1, UInt8(bitPattern: -45), 1] + header + [0x00, 0x00, 0x01, 0x04, 0x02, 0x04, 0x0B, 0x16]
    }

    /// `(name, arguments)` of every call in an `strace -f` output (resumed halves skipped).
    static func tracedCalls(_ file: URL) throws -> [(name: String, arguments: Substring)] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").compactMap { line in
            // "1234 openat(AT_FDCWD, \"/x\", O_RDONLY) = 3"
            guard let space = line.firstIndex(of: " ") else { return nil }
            let rest = line[line.index(after: space)...].drop { $0 == " " }
            guard let paren = rest.firstIndex(of: "(") else { return nil }
            let name = rest[..<paren]
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), name.first?.isLetter == true else { return nil }
            return (String(name), rest[rest.index(after: paren)...])
        }
    }

    /// The first quoted argument that is an absolute path.
    static func firstPath(_ arguments: Substring) -> String? {
        guard let open = arguments.firstIndex(of: "\"") else { return nil }
        let rest = arguments[arguments.index(after: open)...]
        guard let close = rest.firstIndex(of: "\"") else { return nil }
        let path = String(rest[..<close])
        return path.hasPrefix("/") ? path : nil
    }
}

/// systemd's named system-call groups, as `systemd-analyze syscall-filter` lists them.
struct SyscallGroups {
    private var members: [String: [String]] = [:]

    init(systemdAnalyze: String) throws {
        let result = try runProgram(systemdAnalyze, ["syscall-filter", "--no-pager"])
        var group: String?
        for raw in result.stdout.split(separator: "\n") {
            if raw.hasPrefix("@") { group = String(raw); members[String(raw)] = []; continue }
            let entry = raw.trimmingCharacters(in: .whitespaces)
            guard let group, !raw.hasPrefix("#"), !entry.hasPrefix("#"), !entry.isEmpty else { continue }
            members[group]?.append(entry)
        }
    }

    /// A group or a call, expanded to calls.
    func expand(_ name: String) -> Set<String> {
        guard name.hasPrefix("@") else { return [name] }
        return (members[name] ?? []).reduce(into: Set<String>()) { $0.formUnion(expand($1)) }
    }

    /// The calls a unit's `SystemCallFilter=` lines allow: the allow list, less every `~` list.
    func allowed(by lines: [String]) -> Set<String> {
        var allowed = Set<String>()
        var denied = Set<String>()
        for line in lines {
            if line.hasPrefix("~") {
                for name in line.dropFirst().split(separator: " ") { denied.formUnion(expand(String(name))) }
            } else {
                for name in line.split(separator: " ") { allowed.formUnion(expand(String(name))) }
            }
        }
        return allowed.subtracting(denied)
    }
}
