import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A classic pcap file mapped into memory and walked record by record in place.
///
/// Why: libpcap reads offline files with stdio, so every frame is copied twice (kernel →
/// stdio buffer → libpcap's buffer) and pays several calls into the C library; on the
/// replay path that was about a sixth of the time per frame. Mapped, a record is a pointer
/// into the page cache and a 16-byte header read.
///
/// Only the format's four standard magic numbers are taken (microsecond or nanosecond,
/// either byte order; the tcpdump.org "pcap" file format, draft-ietf-opsawg-pcap); anything
/// else, pcapng included, stays with libpcap. The checks are libpcap's: a record longer than
/// ``maximumCaptureLength`` is an error, a record longer than the snapshot length is cut to
/// it, and a file that ends inside a record header or its data is truncated.
final class MappedPcapFile {
    /// libpcap's `MAXIMUM_SNAPLEN`: the largest record it accepts for 802.11 link types.
    static let maximumCaptureLength = 262_144

    enum Next {
        case record(UnsafeRawBufferPointer, timestampNanos: Int64)
        case end
        /// The file ends `needed` bytes short inside the record at `offset`.
        case truncated(offset: Int64, reason: String)
        case invalid(offset: Int64, reason: String)
    }

    private let base: UnsafeRawPointer
    private let size: Int
    private let swapped: Bool
    private let nanosPerFraction: Int64
    private let snapshotLength: Int
    /// Offset of the next record header.
    private(set) var offset: Int
    /// Maps the file's pages ahead of the reader, or `nil` (see ``PageTablePrefetch``).
    private let prefetch: PageTablePrefetch?

    /// The mapped file's own descriptor (a duplicate of libpcap's), kept to check its size.
    private let descriptor: Int32
    /// Bytes from the start known to be backed by the file: checked with `fstat` before the
    /// reader goes past them, at most ``checkStep`` at a time (see ``verify(through:)``).
    private var verifiedEnd: Int
    /// How far one size check lets the reader go: 1 MiB, so a check (one `fstat`) costs
    /// nothing per record, and a file that shrinks is noticed before the reader touches a
    /// page past its new end (which would be SIGBUS, not an error).
    static let checkStep = 1 << 20

    /// Maps the file open on `descriptor` when it is a regular file and a classic pcap file
    /// with a standard magic number; `nil` otherwise, or when mapping fails (the caller then
    /// reads it through libpcap).
    ///
    /// Why the descriptor and not the path: opening the path a second time blocks forever
    /// on a FIFO whose writer has finished, and may open a different file than the one
    /// libpcap read the header of. Only regular files are mapped; a FIFO, a character
    /// device or a socket is streamed by libpcap.
    /// - Parameter snapshotLength: libpcap's snapshot length for the file (`pcap_snapshot`).
    init?(descriptor borrowed: Int32, snapshotLength: Int) {
        var info = stat()
        guard borrowed >= 0, fstat(borrowed, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size >= 24 else { return nil }
        let fd = dup(borrowed)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let size = Int(info.st_size)
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            close(fd)
            return nil
        }
        _ = madvise(mapped, size, MADV_SEQUENTIAL)
        let base = UnsafeRawPointer(mapped)
        // The header was read by libpcap just now; check the file still holds it.
        guard fstat(fd, &info) == 0, info.st_size >= 24 else {
            munmap(mapped, size)
            close(fd)
            return nil
        }
        let magic = base.loadUnaligned(as: UInt32.self)
        switch UInt32(littleEndian: magic) {
        case 0xa1b2_c3d4: (swapped, nanosPerFraction) = (false, 1000)
        case 0xa1b2_3c4d: (swapped, nanosPerFraction) = (false, 1)
        case 0xd4c3_b2a1: (swapped, nanosPerFraction) = (true, 1000)
        case 0x4d3c_b2a1: (swapped, nanosPerFraction) = (true, 1)
        default:
            munmap(mapped, size)
            close(fd)
            return nil
        }
        self.base = base
        self.size = size
        self.descriptor = fd
        self.verifiedEnd = min(size, Int(info.st_size), 24 + MappedPcapFile.checkStep)
        self.snapshotLength = snapshotLength
        self.offset = 24
        self.prefetch = PageTablePrefetch(start: mapped, size: size)
    }

    deinit {
        prefetch?.stop()  // before the mapping goes away
        munmap(UnsafeMutableRawPointer(mutating: base), size)
        close(descriptor)
    }

    /// Whether the bytes up to `end` are still in the file; checks its size again when the
    /// reader is about to go past what was last checked. Called before every access, so
    /// the reader never touches a mapped page beyond the end of a file that shrank.
    @inline(__always)
    private func verify(through end: Int) -> Bool {
        if end <= verifiedEnd { return true }
        return verifySlow(through: end)
    }

    @inline(never)
    private func verifySlow(through end: Int) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        verifiedEnd = min(size, Int(info.st_size), max(end, offset &+ MappedPcapFile.checkStep))
        return end <= verifiedEnd
    }

    /// The file's size now, for the message about a file that shrank.
    private var currentSize: Int {
        var info = stat()
        return fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
    }

    @inline(__always)
    private func u32(_ at: Int) -> UInt32 {
        let raw = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self))
        return swapped ? raw.byteSwapped : raw
    }

    /// The next record, borrowed from the mapping.
    @inline(__always)
    func next() -> Next {
        let at = offset
        let left = size &- at
        if left == 0 { return .end }
        guard left >= 16 else {
            return .truncated(offset: Int64(at), reason: "truncated dump file; tried to read 16 header bytes, only got \(left)")
        }
        guard verify(through: at &+ 16) else { return shrunk(at: at) }
        // The on-disk header (libpcap's `struct pcap_sf_pkthdr`): signed 32-bit seconds and
        // fraction, then captured and original length.
        let seconds = Int32(bitPattern: u32(at))
        let fraction = Int32(bitPattern: u32(at &+ 4))
        let captured = Int(u32(at &+ 8))
        guard captured <= MappedPcapFile.maximumCaptureLength else {
            return .invalid(offset: Int64(at), reason: "invalid packet capture length \(captured), bigger than maximum of \(MappedPcapFile.maximumCaptureLength)")
        }
        guard captured <= left &- 16 else {
            return .truncated(offset: Int64(at), reason: "truncated dump file; tried to read \(captured) captured bytes, only got \(left &- 16)")
        }
        guard verify(through: at &+ 16 &+ captured) else { return shrunk(at: at) }
        offset = at &+ 16 &+ captured
        prefetch?.readerReached(offset)
        // Like libpcap: a record longer than the snapshot length is cut to it.
        let length = snapshotLength > 0 ? min(captured, snapshotLength) : captured
        let nanos = Int64(seconds) &* 1_000_000_000 &+ Int64(fraction) &* nanosPerFraction
        return .record(UnsafeRawBufferPointer(start: base + (at &+ 16), count: length), timestampNanos: nanos)
    }

    private func shrunk(at: Int) -> Next {
        .truncated(offset: Int64(at), reason: "the file shrank to \(currentSize) bytes while it was read (it was \(size))")
    }
}

/// Fills in the page tables of a mapped file on a thread of its own, ahead of the reader.
///
/// Why: a mapped file costs a page fault every few pages on first touch, and setting up
/// those mappings in the kernel was a tenth of a replay's time (`filemap_map_pages`,
/// `next_uptodate_folio` in the profile), all of it on the reading thread.
/// `madvise(MADV_POPULATE_READ)` (Linux 5.14) does the same work in 2 MiB steps from here,
/// so the reader mostly finds its pages mapped. Nothing changes in what is read: where this
/// thread is behind, or the call is not available, the reader faults the pages in itself.
/// It stays at most ``window`` bytes ahead of the reader, so that a file not yet in the page
/// cache is read just ahead of use, not all at once (many files, little memory).
final class PageTablePrefetch: @unchecked Sendable {
    /// `MADV_POPULATE_READ` from `<linux/mman.h>`.
    static let populateRead: Int32 = 22
    /// 2 MiB per call: small enough to stop soon when asked, large enough that the calls
    /// themselves cost nothing.
    static let step = 2 << 20
    /// How far ahead of the reader the pages are mapped: 32 MiB.
    static let window = 32 << 20

    private let start: UnsafeMutableRawPointer
    private let size: Int
    private let stopRequested = Atomic<Bool>(false)
    /// The reader's offset in the file (one relaxed store per record).
    private let reader = Atomic<Int>(0)
    private var thread: pthread_t?

    /// Starts the thread; `nil` where it cannot be started or on a machine with one CPU
    /// (there the work would only move between threads of the same core, and populating
    /// costs a little more than the faults it saves).
    init?(start: UnsafeMutableRawPointer, size: Int) {
        #if os(Linux)
        guard PageTablePrefetch.usableCPUs() > 1 else { return nil }
        self.start = start
        self.size = size
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self)
        let created = pthread_create(&thread, nil, { raw in
            let prefetch = Unmanaged<PageTablePrefetch>.fromOpaque(raw!).takeRetainedValue()
            prefetch.run()
            return nil
        }, context.toOpaque())
        guard created == 0 else {
            context.release()
            return nil
        }
        self.thread = thread
        #else
        return nil
        #endif
    }

    /// Online CPUs, 1 if unknown.
    static func usableCPUs() -> Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    private func run() {
        var at = 0
        while at < size, !stopRequested.load(ordering: .relaxed) {
            if at &- reader.load(ordering: .relaxed) > PageTablePrefetch.window {
                usleep(1000)  // about 2 MiB of reading
                continue
            }
            let length = min(PageTablePrefetch.step, size &- at)
            guard madvise(start + at, length, PageTablePrefetch.populateRead) == 0 else { return }
            at &+= length
        }
    }

    @inline(__always)
    func readerReached(_ offset: Int) {
        reader.store(offset, ordering: .relaxed)
    }

    /// Asks the thread to stop after its current step and waits for it. Call before unmapping.
    func stop() {
        stopRequested.store(true, ordering: .relaxed)
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }
}
