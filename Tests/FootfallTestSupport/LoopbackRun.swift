#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import Foundation

// The harness the tests that run `footfall run` on loopback share (integration and privacy
// targets): a UDP sender imitating an access point, and the collector started and stopped.

/// A UDP socket bound to one loopback address (the access point being imitated).
public final class UDPSender {
    public let fd: Int32

    public init(bindTo address: String) throws {
        #if canImport(Glibc)
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { throw HarnessFailure("socket: errno \(errno)") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_port = 0
        inet_pton(AF_INET, address, &local.sin_addr)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { close(fd); throw HarnessFailure("bind \(address): errno \(errno)") }
    }

    deinit { close(fd) }

    public func send(_ bytes: [UInt8], to address: String, port: UInt16) throws {
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = port.bigEndian
        inet_pton(AF_INET, address, &remote.sin_addr)
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &remote) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard sent == bytes.count else { throw HarnessFailure("sendto: errno \(errno)") }
    }
}

/// `footfall run` started in the background on a configuration of the repository, with an
/// output directory and a log file (trace level) of its own, and stopped with SIGTERM.
public final class LoopbackRun {
    public let output: URL
    public let logFile: URL
    public let process = Process()
    private let log: FileHandle

    /// Starts it and waits until it logs that it is capturing.
    /// - Parameters:
    ///   - config: the configuration, relative to the package root (or an absolute path).
    ///   - coreLimitUnlimited: start it with the soft core-file limit raised to the hard
    ///     limit, so a test can see that `run` lowers it itself (only when the test
    ///     process's hard limit is above 0: raising it needs CAP_SYS_RESOURCE).
    ///   - prepare: called with the output directory before the process starts (to leave
    ///     files there that an earlier run wrote).
    public init(config: String, coreLimitUnlimited: Bool = false, prepare: ((URL) throws -> Void)? = nil) throws {
        let id = UUID().uuidString
        output = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-run-\(id)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try prepare?(output)
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-run-\(id).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        guard let binary = FootfallExecutable.path else { throw HarnessFailure(FootfallExecutable.notBuilt) }
        let configPath = config.hasPrefix("/") ? config : packageRoot.appendingPathComponent(config).path
        let arguments = ["run", "--config", configPath, "--output", output.path, "--log-level", "trace"]
        if coreLimitUnlimited {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -S -c \"$(ulimit -H -c)\" && exec \"$0\" \"$@\"", binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        log = try FileHandle(forWritingTo: logFile)
        process.standardError = log
        process.standardOutput = log
        do {
            try process.run()
            guard waitFor(seconds: 30, { self.logText.contains("capturing") || !self.process.isRunning }) else {
                throw HarnessFailure("footfall run never logged that it is capturing")
            }
            guard process.isRunning else { throw HarnessFailure("footfall run exited early: \(logText)") }
        } catch {
            cleanUp()
            throw error
        }
    }

    public var logText: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Sends SIGTERM and expects a clean exit (status 0) within 10 s.
    /// - Returns: `true` once it exited cleanly.
    /// - Throws: when it did not exit in time or exited with another status.
    public func stop() throws -> Bool {
        kill(process.processIdentifier, SIGTERM)
        let exited = waitFor(seconds: 10) { !self.process.isRunning }
        guard exited else { throw HarnessFailure("footfall run did not exit within 10 s of SIGTERM") }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw HarnessFailure("footfall run ended with status \(process.terminationStatus) (\(process.terminationReason == .exit ? "exit" : "signal"))")
        }
        try log.close()
        return true
    }

    /// `zone → column → value` of the one heatmap file written.
    public func heatmapRows() throws -> [String: [String: String]] {
        let heatmaps = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasPrefix("heatmap-") }
        guard heatmaps.count == 1 else { throw HarnessFailure("expected one heatmap file, found \(heatmaps)") }
        return heatmapFileRows(try String(contentsOf: output.appendingPathComponent(heatmaps[0]), encoding: .utf8))
    }

    /// Ends the process if it still runs and removes its files.
    public func cleanUp() {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: output)
        try? FileManager.default.removeItem(at: logFile)
    }
}

/// An error of the loopback harness, with what went wrong.
public struct HarnessFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Polls `condition` every 50 ms for up to `seconds`.
public func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return condition()
}

/// `zone → column → value` of a heatmap file's text.
public func heatmapFileRows(_ text: String) -> [String: [String: String]] {
    let lines = text.split(whereSeparator: \.isNewline).map(String.init)
    guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) else { return [:] }
    var result: [String: [String: String]] = [:]
    for line in lines.dropFirst() {
        // No field of these rows contains a comma except the quoted `suppressed` list.
        var fields: [String] = []
        var current = ""
        var quoted = false
        for c in line {
            if c == "\"" { quoted.toggle() } else if c == ",", !quoted { fields.append(current); current = "" } else { current.append(c) }
        }
        fields.append(current)
        let row = Dictionary(zip(header, fields), uniquingKeysWith: { a, _ in a })
        if let zone = row["zone"] { result[zone] = row }
    }
    return result
}
