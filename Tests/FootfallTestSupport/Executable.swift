import Foundation

/// The repository's root directory (this file is `Tests/FootfallTestSupport/Executable.swift`).
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// What a program printed and how it ended.
public struct ProgramResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a program to its end, collecting both outputs. stderr is read on another thread, so
/// neither pipe can fill up and block the child (a trace-level log is long).
public func runProgram(_ executable: String, _ arguments: [String], currentDirectory: URL? = nil) throws -> ProgramResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let errData = LockedData()
    let errHandle = err.fileHandleForReading
    let errReader = Thread { errData.set(errHandle.readDataToEndOfFile()) }
    errReader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let errBytes = errData.waitForValue()
    return ProgramResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errBytes, as: UTF8.self))
}

/// The built `footfall` executable.
public enum FootfallExecutable {
    /// `FOOTFALL_BINARY` if set; else next to the test bundle (SwiftPM puts every product of
    /// a build in one directory); else `.build/debug/footfall` under the package root.
    public static let path: String? = {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["FOOTFALL_BINARY"] { candidates.append(explicit) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // On macOS the test bundle is a directory tree (…/footfallPackageTests.xctest/Contents/MacOS).
        for _ in 0 ..< 4 {
            candidates.append(dir.appendingPathComponent("footfall").path)
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/footfall").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// The message for a missing build.
    public static let notBuilt = "the footfall executable was not found: run `swift build --build-tests` before `swift test --skip-build` (README, Quick start), or set FOOTFALL_BINARY"

    /// Runs `footfall` with these arguments in the package root.
    public static func run(_ arguments: [String]) throws -> ProgramResult {
        guard let path else { throw NotBuilt() }
        return try runProgram(path, arguments, currentDirectory: packageRoot)
    }

    public struct NotBuilt: Error, CustomStringConvertible {
        public var description: String { FootfallExecutable.notBuilt }
    }
}

/// Hands the stderr bytes from the reader thread to the caller.
final class LockedData: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Data?

    func set(_ data: Data) {
        condition.lock()
        value = data
        condition.signal()
        condition.unlock()
    }

    func waitForValue() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}
