#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import FootfallCore
import FootfallIngest

/// Process-wide measures that keep the key out of crash output (P3): no core dumps, not
/// ptrace-attachable by other unprivileged processes of the same user, `/proc/<pid>/mem`
/// unreadable to them.
///
/// Call ``apply()`` first thing in `main`, before the key exists, and log its ``Report``.
public enum ProcessHardening {
    /// What ``apply()`` achieved. Messages say what failed and why, never any key data.
    public struct Report: Sendable, Equatable {
        /// `prctl(PR_SET_DUMPABLE, 0)` succeeded (Linux only).
        public var notDumpable: Bool
        /// `RLIMIT_CORE` is now 0 (soft and hard).
        public var coreDumpsDisabled: Bool
        /// One line per measure that could not be applied, e.g. for a warning log.
        public var problems: [String]

        public var isComplete: Bool { notDumpable && coreDumpsDisabled }
    }

    /// Disables core dumps and marks the process not dumpable.
    /// - Returns: what was applied; the caller logs ``Report/problems`` as warnings.
    @discardableResult
    public static func apply() -> Report {
        var problems: [String] = []

        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        #if os(Linux)
        let coreResource = __rlimit_resource_t(RLIMIT_CORE.rawValue)
        #else
        let coreResource = RLIMIT_CORE
        #endif
        var coreOff = setrlimit(coreResource, &limit) == 0
        if !coreOff { problems.append("core dumps not disabled: setrlimit(RLIMIT_CORE) failed: \(errnoText())") }
        if getrlimit(coreResource, &limit) != 0 || limit.rlim_cur != 0 { coreOff = false }

        #if os(Linux)
        var notDumpable = false
        if let prctl = Prctl.function {
            if prctl(Prctl.setDumpable, 0, 0, 0, 0) == 0 {
                notDumpable = isDumpable() == false
            } else {
                problems.append("process still dumpable: prctl(PR_SET_DUMPABLE) failed: \(errnoText())")
            }
        } else {
            problems.append("process still dumpable: prctl is not available")
        }
        #else
        let notDumpable = false
        problems.append("process still dumpable: PR_SET_DUMPABLE exists on Linux only")
        #endif
        return Report(notDumpable: notDumpable, coreDumpsDisabled: coreOff, problems: problems)
    }

    /// `prctl(PR_GET_DUMPABLE)`: whether the process may dump core; `nil` when unknown.
    public static func isDumpable() -> Bool? {
        #if os(Linux)
        guard let prctl = Prctl.function else { return nil }
        let r = prctl(Prctl.getDumpable, 0, 0, 0, 0)
        return r < 0 ? nil : r != 0
        #else
        return nil
        #endif
    }

    /// The soft and hard core-size limits, bytes.
    public static func coreLimit() -> (soft: UInt64, hard: UInt64)? {
        var limit = rlimit()
        #if os(Linux)
        let coreResource = __rlimit_resource_t(RLIMIT_CORE.rawValue)
        #else
        let coreResource = RLIMIT_CORE
        #endif
        guard getrlimit(coreResource, &limit) == 0 else { return nil }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }
}

#if os(Linux)
/// `prctl(2)` is variadic in C and so not imported into Swift; its glibc implementation reads
/// four `unsigned long` arguments after the option, so it is called through a fixed
/// five-argument pointer (the Linux calling conventions pass those the same way).
enum Prctl {
    typealias Function = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    /// `PR_GET_DUMPABLE` and `PR_SET_DUMPABLE` from `<linux/prctl.h>`.
    static let getDumpable: Int32 = 3
    static let setDumpable: Int32 = 4

    static let function: Function? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "prctl") else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }()
}
#endif

func errnoText() -> String {
    let code = errno
    if let text = strerror(code) { return "\(String(cString: text)) (errno \(code))" }
    return "errno \(code)"
}

/// Memory for the key that is not swapped out and not written into core dumps (P3).
///
/// One or more pages from `mmap`, `mlock`ed (refused when `RLIMIT_MEMLOCK` is too small or
/// the capability is missing: see ``lockStatus``), excluded from core dumps with
/// `madvise(MADV_DONTDUMP)`, zeroed with `explicit_bzero` and unmapped when released.
/// Hand it to ``FootfallIngest/KeyStore`` with ``makeKeyStore(slots:)``.
public final class LockedKeyMemory: KeyMemory, @unchecked Sendable {
    /// Whether the pages are locked in RAM; when not, the reason (for a warning log:
    /// "key memory not locked: <reason>"). Never contains key data.
    public enum LockStatus: Sendable, Equatable {
        case locked
        case notLocked(reason: String)

        /// The line to log as a warning when the memory is not locked, else `nil`.
        public var warning: String? {
            if case .notLocked(let reason) = self { return "key memory not locked: \(reason)" }
            return nil
        }
    }

    /// The words, lent to a ``FootfallIngest/KeyStore``; `package`, so no client of the
    /// library gets a pointer to the key.
    package let words: UnsafeMutablePointer<UInt64>
    /// Number of 64-bit words available.
    public let wordCount: Int
    public let lockStatus: LockStatus
    /// `madvise(MADV_DONTDUMP)` succeeded (Linux only).
    public let excludedFromCoreDumps: Bool
    private let base: UnsafeMutableRawPointer
    private let byteCount: Int

    /// - Parameter wordCount: how many 64-bit words are needed (2 per key slot).
    /// - Throws: ``LockedKeyMemoryError`` when no memory could be mapped at all.
    public init(wordCount: Int) throws(LockedKeyMemoryError) {
        precondition(wordCount >= 1)
        let page = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))
        let bytes = (wordCount * 8 + page - 1) / page * page
        let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw LockedKeyMemoryError(message: "cannot map key memory: \(errnoText())")
        }
        self.base = mapped
        self.byteCount = bytes
        self.wordCount = bytes / 8
        self.words = mapped.bindMemory(to: UInt64.self, capacity: bytes / 8)
        if mlock(mapped, bytes) == 0 {
            self.lockStatus = .locked
        } else {
            self.lockStatus = .notLocked(reason: errnoText())
        }
        #if os(Linux)
        self.excludedFromCoreDumps = madvise(mapped, bytes, MADV_DONTDUMP) == 0
        #else
        self.excludedFromCoreDumps = false
        #endif
        explicitZero()
    }

    deinit {
        explicitZero()
        if lockStatus == .locked { munlock(base, byteCount) }
        munmap(base, byteCount)
    }

    /// Overwrites every byte with zeros in a way the compiler may not remove.
    public func explicitZero() {
        #if os(Linux)
        explicit_bzero(base, byteCount)
        #else
        memset_s(base, byteCount, 0, byteCount)
        #endif
    }

    /// A key store whose keys live in this memory; the store keeps the memory alive and zeroes
    /// the keys when it goes away, the memory zeroes itself again when it is unmapped.
    /// - Parameter slots: number of keys (1, or one per zone in strict mode).
    public func makeKeyStore(slots: Int) -> KeyStore {
        KeyStore(slots: slots, memory: self)
    }

    /// Maps locked memory for `slots` keys and returns the store that uses it.
    /// - Returns: the store, and the lock status to log.
    public static func keyStore(slots: Int) throws(LockedKeyMemoryError) -> (keys: KeyStore, lockStatus: LockStatus) {
        let memory = try LockedKeyMemory(wordCount: 2 * slots)
        return (memory.makeKeyStore(slots: slots), memory.lockStatus)
    }
}

public struct LockedKeyMemoryError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
