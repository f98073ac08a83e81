#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Anonymous memory for raw frames (P1): kept out of swap and out of core dumps, zeroed in a
/// way the optimiser may not remove before it is unmapped.
///
/// Why not the ordinary allocator: a heap buffer can be swapped to disk (and so outlive the
/// process) and is written into a core dump; its bytes are handed to the next allocation
/// unzeroed. The frame ring of `footfall run` holds up to 16 MiB of raw 802.11 frames, each
/// with the source address of a phone, so it gets pages of its own: `mmap`ed, `mlock`ed
/// (refused when `RLIMIT_MEMLOCK` is too small and the process lacks `CAP_IPC_LOCK`; then
/// ``lockStatus`` says why and the caller logs it), `madvise(MADV_DONTDUMP)`.
public final class SensitiveMemory: @unchecked Sendable {
    /// Start of the mapping, page aligned, zero-filled.
    public let base: UnsafeMutableRawPointer
    /// Bytes mapped (the request rounded up to whole pages).
    public let byteCount: Int
    /// Whether the pages are locked in RAM.
    public let lockStatus: LockedKeyMemory.LockStatus
    /// `madvise(MADV_DONTDUMP)` succeeded (Linux only).
    public let excludedFromCoreDumps: Bool

    /// - Parameter byteCount: bytes needed; rounded up to whole pages.
    /// - Throws: ``LockedKeyMemoryError`` when nothing could be mapped.
    public init(byteCount requested: Int) throws(LockedKeyMemoryError) {
        precondition(requested >= 1)
        let page = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))
        let bytes = (requested + page - 1) / page * page
        let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw LockedKeyMemoryError(message: "cannot map \(bytes) bytes of frame memory: \(errnoText())")
        }
        base = mapped
        byteCount = bytes
        lockStatus = mlock(mapped, bytes) == 0 ? .locked : .notLocked(reason: "mlock of \(bytes) bytes: \(errnoText())")
        #if os(Linux)
        excludedFromCoreDumps = madvise(mapped, bytes, MADV_DONTDUMP) == 0
        #else
        excludedFromCoreDumps = false
        #endif
    }

    deinit {
        Self.zero(base, byteCount)
        if lockStatus == .locked { munlock(base, byteCount) }
        munmap(base, byteCount)
    }

    /// Overwrites `count` bytes at `pointer` with zeros in a way the compiler may not remove
    /// (`explicit_bzero`): used for every frame slot once it has been parsed.
    @inline(__always)
    public static func zero(_ pointer: UnsafeMutableRawPointer, _ count: Int) {
        guard count > 0 else { return }
        #if os(Linux)
        explicit_bzero(pointer, count)
        #else
        memset_s(pointer, count, 0, count)
        #endif
    }
}

/// Zeroes the stack below the caller (P1).
///
/// Parsing a frame leaves copies of its source address in the stack frames of the functions
/// that read it (a 48-bit integer in a spilled register, a few bytes of the frame); they are
/// dead but stay readable in the thread's stack until something deeper overwrites them. The
/// capture and pipeline threads call this when they go idle, so the last frames' addresses
/// do not outlive their parse there.
public enum StackScrubber {
    /// Bytes zeroed below the caller's frame: more than the parse and hashing call chain uses.
    public static let depth = 64 * 1024

    /// Zeroes ``depth`` bytes of this thread's stack below the caller.
    @inline(never)
    public static func scrub() {
        scrub(levels: depth / chunk)
    }

    /// ``scrub()`` unless this thread's `last` scrub was less than `interval` ago (monotonic
    /// clock): a thread that goes idle after every frame of a trickle scrubs a few times a
    /// second, not 64 KiB per frame.
    /// - Parameter last: the thread's own record of its last scrub, nanoseconds.
    public static func scrub(atMostEvery intervalNanos: Int64, last: inout Int64) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanos = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
        guard nanos - last >= intervalNanos else { return }
        last = nanos
        scrub()
    }

    /// Bytes per level: within what `withUnsafeTemporaryAllocation` always puts on the stack
    /// (larger requests may go to the heap, which would leave the stack as it was).
    static let chunk = 1024

    @inline(never)
    static func scrub(levels: Int) {
        withUnsafeTemporaryAllocation(byteCount: chunk, alignment: 16) { buffer in
            if let base = buffer.baseAddress { SensitiveMemory.zero(base, buffer.count) }
            if levels > 1 { scrub(levels: levels - 1) }
        }
    }
}
