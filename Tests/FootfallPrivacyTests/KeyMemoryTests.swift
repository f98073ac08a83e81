import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallPlatform
import FootfallTestSupport
import Foundation
import Testing

/// P3: the key is never persisted: no core dumps, locked memory excluded from dumps and
/// zeroed on release, nothing in the environment or the arguments.
@Suite("P3 key never persisted")
struct KeyMemoryTests {
    /// In a child, `footfall stats` reading a pipe (it hardens itself, then waits for the
    /// capture), not in the test process: hardening lowers the hard core limit for good, and
    /// children of a test process that may not dump core would look hardened whether or not
    /// they hardened themselves (`runTurnsCoreDumpsOffAndLocksItsFrameAndKeyMemory`).
    @Test func hardeningDisablesCoreDumpsAndMakesProcessNotDumpable() throws {
        guard let binary = FootfallExecutable.path else { throw HarnessFailure(FootfallExecutable.notBuilt) }
        // The test process's own hard limit: nothing in it lowers it (hardening is tested in children).
        let hard = try #require(ProcessHardening.coreLimit()?.hard)
        try #require(hard > 0, "the test process may not dump core (hard limit 0), so no child can show that it turns core dumps off")
        let log = try makeTemporaryDirectory().appendingPathComponent("stats.log")
        defer { try? FileManager.default.removeItem(at: log.deletingLastPathComponent()) }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let input = Pipe()
        let process = Process()
        // Started with core dumps allowed (soft limit raised to the hard one).
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -S -c \"$(ulimit -H -c)\" && exec \"$0\" \"$@\"", binary, "stats", "--log-level", "debug", "/dev/stdin"]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        func logText() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        #expect(waitFor(seconds: 30) { logText().contains("reading capture file") }, "stats never started reading: \(logText())")
        // Its limits, seen from outside while it waits for the capture.
        let limits = try String(contentsOfFile: "/proc/\(process.processIdentifier)/limits", encoding: .utf8)
        let core = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        let fields = core.split(separator: " ", omittingEmptySubsequences: true)
        #expect(fields.dropFirst(4).first == "0", "core dumps are not off: \(core)")
        #expect(fields.dropFirst(5).first == "0", "core dumps may be turned back on: \(core)")
        // Not dumpable, as prctl(PR_GET_DUMPABLE) told the process itself (another root
        // process cannot see the flag).
        let line = logText().split(separator: "\n").first { $0.contains("process hardening") }
        #expect(line?.contains("hardening.not_dumpable=true") == true, "\(line ?? "no hardening line")")
        #expect(!logText().contains("warning"), "hardening reported a problem: \(logText())")
        try input.fileHandleForWriting.write(contentsOf: Data(contentsOf: fixturesDirectory.appendingPathComponent("2024-03-07_position_1.pcap")))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(logText().suffix(300))")
    }

    /// No public declaration hands out the key words or replaces or destroys the key: the
    /// pointer to them (``KeyMemory``, `LockedKeyMemory.words`) and the key operations
    /// (`KeyStore.rotate`, `destroy`, `KeyEpoch.keys`) are `package`, so only footfall's own
    /// modules reach them, and a library client cannot read the key out of memory it lent.
    @Test func noPublicDeclarationExposesKeyWordsOrKeyOperations() {
        let files = swiftFiles(under: sourcesDirectory)
        #expect(files.count > 50)
        var offending: [String] = []
        for (path, text) in files {
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                guard code.hasPrefix("public") || code.hasPrefix("open") else { continue }
                let pointer = code.contains("UnsafeMutablePointer<UInt64>") || code.contains("UnsafePointer<UInt64>")
                let keyOperation = code.contains("func rotate()") || code.contains("func destroy()") || code.contains("let keys: KeyStore")
                if pointer || keyOperation { offending.append("\(path):\(number + 1)") }
            }
        }
        #expect(offending.isEmpty, "public key words or key operations at \(offending)")
    }

    @Test func lockedKeyMemoryHoldsTheKeyAndIsZeroedOnDestroy() throws {
        let memory = try LockedKeyMemory(wordCount: 4)
        #expect(memory.wordCount >= 4)
        #if os(Linux)
        #expect(memory.excludedFromCoreDumps)
        #endif
        let keys = memory.makeKeyStore(slots: 2)
        let words = (0 ..< 4).map { memory.words[$0] }
        #expect(words.allSatisfy { $0 != 0 })
        // The pseudonymiser reads the key in place: changing the memory changes the pseudonym.
        let before = pseudonym(of: 0x0011_2233_4455, keys: keys)
        keys.destroy()
        #expect((0 ..< 4).allSatisfy { memory.words[$0] == 0 })
        #expect(keys.isDestroyed)
        #expect(pseudonym(of: 0x0011_2233_4455, keys: keys) != before)
        keys.rotate()
        memory.explicitZero()
        #expect((0 ..< memory.wordCount).allSatisfy { memory.words[$0] == 0 })
    }

    @Test func lockStatusIsReportedWithoutKeyData() throws {
        let memory = try LockedKeyMemory(wordCount: 2)
        let keys = memory.makeKeyStore(slots: 1)
        switch memory.lockStatus {
        case .locked:
            #expect(memory.lockStatus.warning == nil)
        case .notLocked(let reason):
            #expect(!reason.isEmpty)
            #expect(memory.lockStatus.warning == "key memory not locked: \(reason)")
            #expect(!reason.contains(String(memory.words[0], radix: 16)))
        }
        #expect(keys.generation == 1)
    }

    @Test func keyNeverAppearsInEnvironmentOrArguments() throws {
        let memory = try LockedKeyMemory(wordCount: 2)
        let keys = memory.makeKeyStore(slots: 1)
        let key = [memory.words[0], memory.words[1]]
        var spellings: [String] = []
        for word in key {
            spellings.append(String(word))
            spellings.append(String(word, radix: 16))
            spellings.append(String(word.byteSwapped, radix: 16))
        }
        let info = ProcessInfo.processInfo
        let visible = (info.arguments + info.environment.map { "\($0.key)=\($0.value)" }).joined(separator: "\n").lowercased()
        for s in spellings {
            #expect(!visible.contains(s))
        }
        // The key store has no API that returns key bytes: it is only its generation that is visible.
        #expect(keys.generation == 1)
    }
}
