#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import FootfallTestSupport
import Foundation
import FootfallPlatform
import Testing

// The built `footfall` as an attacker on the gateway (or a crash) would see it: its memory
// after the last frame, its limits and locked pages, and every file it creates.

/// Live capture on `lo`, reading another process's memory and its limits need root (CI runs
/// the tests as root).
private let isRoot = geteuid() == 0

/// Bare 802.11 probe requests of `count` distinct globally administered addresses taken
/// from a bundled capture (radiotap stripped), with their source addresses.
private func probeFrames(count: Int) throws -> [(source: UInt64, bytes: [UInt8])] {
    let url = fixturesDirectory.appendingPathComponent("2024-03-07_position_2.pcap")
    let bytes = [UInt8](try Data(contentsOf: url))
    func u32(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24 }
    var frames: [(UInt64, [UInt8])] = []
    var seen = Set<UInt64>()
    var offset = 24
    while offset + 16 <= bytes.count, frames.count < count {
        let caplen = u32(offset + 8)
        let start = offset + 16
        offset = start + caplen
        guard offset <= bytes.count, caplen >= 4 else { break }
        let radiotapLength = Int(bytes[start + 2]) | Int(bytes[start + 3]) << 8
        let frame = Array(bytes[(start + radiotapLength) ..< offset])
        guard frame.count >= 24, frame[0] & 0xFC == 0x40, frame[10] & 0x03 == 0 else { continue }
        let source = frame[10 ..< 16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard seen.insert(source).inserted else { continue }
        // Without the FCS the stream does not carry (bare 802.11 from an access point).
        frames.append((source, frame))
    }
    return frames
}

/// A file of /proc read to its end (their size is 0, so read until `read` returns nothing).
private func procFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw HarnessFailure("cannot open \(path): errno \(errno)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += chunk[0 ..< n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The readable, private or file-less mappings of a process, from `/proc/PID/maps`.
private func readableRegions(pid: pid_t) throws -> [(start: UInt64, end: UInt64, name: String)] {
    let maps = try procFile("/proc/\(pid)/maps")
    return maps.split(separator: "\n").compactMap { line in
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 5, fields[1].hasPrefix("r") else { return nil }
        let range = fields[0].split(separator: "-")
        guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16) else { return nil }
        let name = fields.count > 5 ? fields[5...].joined(separator: " ") : ""
        // The vsyscall page cannot be read through /proc/PID/mem; read-only file mappings
        // (code, constants of the binary and libraries) cannot have been written to.
        if name == "[vsyscall]" || name == "[vvar]" { return nil }
        if name.hasPrefix("/"), !fields[1].contains("w") { return nil }
        return (start, end, name)
    }
}

/// Every place in `pid`'s readable memory where one of `needles` occurs.
private func findInMemory(pid: pid_t, needles: [[UInt8]: String]) throws -> [String] {
    let fd = open("/proc/\(pid)/mem", O_RDONLY)
    guard fd >= 0 else { throw HarnessFailure("cannot open /proc/\(pid)/mem: errno \(errno)") }
    defer { close(fd) }
    var found: [String] = []
    // The first two bytes of every needle, as a bitmap, so most positions cost one lookup.
    var prefixes = [Bool](repeating: false, count: 65536)
    for needle in needles.keys { prefixes[Int(needle[0]) << 8 | Int(needle[1])] = true }
    for region in try readableRegions(pid: pid) {
        let length = Int(region.end - region.start)
        var buffer = [UInt8](repeating: 0, count: length)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(Int64(bitPattern: region.start))) }
        guard n > 6 else { continue }
        buffer.withUnsafeBufferPointer { b in
            prefixes.withUnsafeBufferPointer { p in
                var i = 0
                while i < n - 6 {
                    if p[Int(b[i]) << 8 | Int(b[i + 1])] {
                        let candidate = Array(b[i ..< i + 6])
                        if let what = needles[candidate] { found.append("\(what) at \(String(region.start + UInt64(i), radix: 16)) in \(region.name.isEmpty ? "anonymous memory" : region.name) \(String(region.start, radix: 16))-\(String(region.end, radix: 16))") }
                    }
                    i += 1
                }
            }
        }
    }
    return found
}

@Suite("The running collector as an attacker on the gateway sees it", .serialized)
struct RunProcessTests {
    @Test(.enabled(if: isRoot, "skipped: needs root to capture on lo and read another process's memory (CI runs the tests as root)"))
    func noRawAddressSentToRunIsInItsMemoryFiveSecondsAfterTheLastFrame() throws {
        let frames = try probeFrames(count: 60)
        try #require(frames.count == 60)
        // Each address in wire order and in the reversed order a little-endian integer holds it.
        var needles: [[UInt8]: String] = [:]
        for (index, frame) in frames.enumerated() {
            let wire = (0 ..< 6).map { UInt8(truncatingIfNeeded: frame.source >> UInt64(8 * (5 - $0))) }
            needles[wire] = "address \(index) (wire order)"
            needles[wire.reversed()] = "address \(index) (reversed)"
        }
        // A port and senders of its own, so no other test's datagrams on lo mix in.
        let config = try makeTemporaryDirectory().appendingPathComponent("memory.yaml")
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let example = try String(contentsOf: packageRoot.appendingPathComponent("config/examples/tzsp-loopback.yaml"), encoding: .utf8)
        try example.replacingOccurrences(of: "port: 37008", with: "port: 37099")
            .replacingOccurrences(of: "127.0.0.2", with: "127.0.0.12").replacingOccurrences(of: "127.0.0.3", with: "127.0.0.13")
            .write(to: config, atomically: true, encoding: .utf8)
        let run = try LoopbackRun(config: config.path)
        defer { run.cleanUp() }
        let entrance = try UDPSender(bindTo: "127.0.0.12")
        let checkout = try UDPSender(bindTo: "127.0.0.13")
        for (index, frame) in frames.enumerated() {
            let datagram: [UInt8] = [1, 0, 0, 18, 10, 1, UInt8(bitPattern: -45), 1] + frame.bytes
            try (index % 2 == 0 ? entrance : checkout).send(datagram, to: "127.0.0.1", port: 37099)
        }
        Thread.sleep(forTimeInterval: 5)
        let found = try findInMemory(pid: run.process.processIdentifier, needles: needles)
        if !found.isEmpty {
            // Which thread's stack it is in, for the failure message.
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(run.process.processIdentifier)/task")) ?? []
            for task in tasks {
                let stat = (try? procFile("/proc/\(run.process.processIdentifier)/task/\(task)/syscall")) ?? ""
                let name = (try? procFile("/proc/\(run.process.processIdentifier)/task/\(task)/comm")) ?? ""
                print("thread \(task) \(name.trimmingCharacters(in: .whitespacesAndNewlines)) syscall \(stat.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        }
        #expect(found.isEmpty, "\(found.count) raw addresses still in memory 5 s after the last frame: \(found.prefix(8))")
        // The run did see the frames (otherwise the search proves nothing).
        _ = try run.stop()
        let rows = try run.heatmapRows()
        #expect(rows["ALL"]?["devices"] == "60")
    }

    @Test(.enabled(if: isRoot, "skipped: needs root to capture on lo (CI runs the tests as root)"))
    func runTurnsCoreDumpsOffAndLocksItsFrameAndKeyMemory() throws {
        // Started with core dumps allowed (soft limit raised to the hard one): `run` must
        // turn them off itself, for good (the hard limit too).
        // The test process's own hard limit: nothing in it lowers it (hardening is tested in children).
        let hard = try #require(ProcessHardening.coreLimit()?.hard)
        try #require(hard > 0, "the test process may not dump core (hard limit 0), so run cannot show that it turns core dumps off")
        let run = try LoopbackRun(config: "config/examples/tzsp-loopback.yaml", coreLimitUnlimited: true)
        defer { run.cleanUp() }
        let pid = run.process.processIdentifier
        let limits = try procFile("/proc/\(pid)/limits")
        let core = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        let fields = core.split(separator: " ", omittingEmptySubsequences: true)
        #expect(fields.dropFirst(4).first == "0", "core dumps are not off in run: \(core)")
        #expect(fields.dropFirst(5).first == "0", "run may turn core dumps back on: \(core)")
        // The 16 MiB frame ring and the key page are locked in RAM (VmLck, kB).
        let status = try procFile("/proc/\(pid)/status")
        let locked = status.split(separator: "\n").first { $0.hasPrefix("VmLck:") }
            .flatMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first }
            .flatMap { Int($0) } ?? 0
        #expect(locked >= 16 * 1024 + 4, "only \(locked) kB locked")
        // Both are excluded from core dumps: mappings flagged `dd` that are also locked (`lo`).
        let smaps = try procFile("/proc/\(pid)/smaps")
        let flagged = smaps.split(separator: "\n").filter { $0.hasPrefix("VmFlags:") && $0.contains(" dd") && $0.contains(" lo") }
        #expect(flagged.count >= 2, "locked mappings excluded from dumps: \(flagged.count)")
        _ = try run.stop()
    }

    @Test func replayAndStatsHardenTheProcessBeforeReadingCaptures() throws {
        // Raw frames (and, for replay, the key) are in their memory as in run's: core dumps
        // off and not dumpable before the first capture is read (their debug line says so).
        let capture = "Tests/Fixtures/brno-sc6-61/2024-03-07_position_1.pcap"
        let output = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        let runs = [
            try FootfallExecutable.run(["replay", "--log-level", "debug", "--config", "config/examples/brno-lab.yaml", "--output", output.path, capture + "@position_1"]),
            try FootfallExecutable.run(["stats", "--log-level", "debug", capture]),
        ]
        for result in runs {
            #expect(result.status == 0, "\(result.stderr.suffix(300))")
            let line = result.stderr.split(separator: "\n").first { $0.contains("process hardening") }
            #expect(line?.contains("hardening.core_dumps_disabled=true") == true, "\(line ?? "no hardening line")")
            #expect(line?.contains("hardening.not_dumpable=true") == true, "\(line ?? "no hardening line")")
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "skipped: strace is not installed (CI installs it)"))
    func replayCreatesNoFileBesidesItsOutputs() throws {
        let output = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: output) }
        let trace = output.deletingLastPathComponent().appendingPathComponent("strace-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: trace) }
        guard let binary = FootfallExecutable.path else { throw HarnessFailure(FootfallExecutable.notBuilt) }
        let day = "2024-03-07"
        let result = try runProgram("/usr/bin/strace", [
            "-f", "-qq", "-o", trace.path, "-e", "trace=open,openat,openat2,creat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,mkdir,mkdirat,truncate",
            binary, "replay", "--log-level", "trace", "--config", "config/examples/brno-lab.yaml", "--output", output.path,
            "Tests/Fixtures/brno-sc6-61/\(day)_position_1.pcap@position_1", "Tests/Fixtures/brno-sc6-61/\(day)_position_2.pcap@position_2",
        ], currentDirectory: packageRoot)
        #expect(result.status == 0, "\(result.stderr.suffix(400))")
        let calls = try String(contentsOf: trace, encoding: .utf8).split(separator: "\n")
        // Calls that create or write a file (open with O_CREAT/O_WRONLY/O_RDWR, creat, rename, link, …).
        let syscall = #/(^|\s)(open|openat|openat2|creat|rename|renameat|renameat2|link|linkat|symlink|symlinkat|mkdir|mkdirat|truncate)\(/#
        let writing = calls.filter { call in
            guard call.contains(syscall), !call.contains("= -1") else { return false }
            if call.contains("open") { return call.contains("O_CREAT") || call.contains("O_WRONLY") || call.contains("O_RDWR") }
            return true
        }
        #expect(!writing.isEmpty, "strace saw no file being written at all")
        let outside = writing.filter { call in
            let paths = call.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            return paths.contains { path in !path.hasPrefix(output.path) && path != "/dev/null" && path != "/dev/tty" }
        }
        #expect(outside.isEmpty, "replay wrote outside its output directory: \(outside.prefix(5))")
    }
}
