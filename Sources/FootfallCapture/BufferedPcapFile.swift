import FootfallPlatform
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A classic pcap file read in large blocks into a buffer of its own and walked record by
/// record in place.
///
/// Why: libpcap reads offline files with stdio, so every frame is copied twice (kernel →
/// stdio buffer → libpcap's buffer) and pays several calls into the C library; on the
/// replay path that was about a sixth of the time per frame. Here one `pread` copies 1 MiB
/// of the file at a time, and a record is a pointer into that block and a 16-byte header
/// read. (Mapping the file instead costs more: filling in and tearing down a page table
/// entry per 4 KiB page took about 60 ms of CPU for a 578 MB capture, against 40 ms to copy
/// it, and needed a thread of its own to keep up.)
///
/// The buffer holds raw frames, so it is ``FootfallPlatform/SensitiveMemory`` (locked in RAM
/// where allowed, out of core dumps), and it is zeroed as soon as the file has been read to
/// its end or to an error, and when the reader goes away (P1).
///
/// Only the format's four standard magic numbers are taken (microsecond or nanosecond,
/// either byte order; the tcpdump.org "pcap" file format, draft-ietf-opsawg-pcap); anything
/// else, pcapng included, stays with libpcap. The checks are libpcap's: a record longer than
/// ``maximumCaptureLength`` is an error, a record longer than the snapshot length is cut to
/// it, and a file that ends inside a record header or its data is truncated. The file is read
/// up to the size it had when opened; one that shrinks while read ends as truncated at the
/// first record it no longer holds.
final class BufferedPcapFile {
    /// libpcap's `MAXIMUM_SNAPLEN`: the largest record it accepts for 802.11 link types.
    static let maximumCaptureLength = 262_144
    /// Bytes read at a time, and the buffer's size: four times the largest record, so a
    /// record always fits after the rest of the block is moved to the front.
    static let blockSize = 1 << 20

    enum Next {
        /// A record and the byte offset of its header in the file.
        case record(UnsafeRawBufferPointer, timestampNanos: Int64, offset: Int)
        case end
        case truncated(offset: Int64, reason: String)
        case invalid(offset: Int64, reason: String)
    }

    /// The file's own descriptor (a duplicate of libpcap's): read with `pread` at offsets
    /// of its own, so libpcap's position in the file does not matter.
    private let descriptor: Int32
    /// The file's size when it was opened: what is read.
    private let size: Int
    private let swapped: Bool
    private let nanosPerFraction: Int64
    private let snapshotLength: Int

    private let memory: SensitiveMemory
    private let buffer: UnsafeMutableRawPointer
    /// File offset of `buffer[0]`.
    private var bufferOffset = 24
    /// Bytes of the file in the buffer, from its start.
    private var filled = 0
    /// Index in the buffer of the next record header.
    private var position = 0
    /// The buffer was zeroed after the last record: nothing more is read.
    private var finished = false

    /// Opens the file open on `descriptor` when it is a regular file and a classic pcap file
    /// with a standard magic number; `nil` otherwise (the caller then reads it through
    /// libpcap).
    ///
    /// Why the descriptor and not the path: opening the path a second time blocks forever
    /// on a FIFO whose writer has finished, and may open a different file than the one
    /// libpcap read the header of. Only regular files are read here; a FIFO, a character
    /// device or a socket is streamed by libpcap, which has already read past the header.
    /// - Parameter snapshotLength: libpcap's snapshot length for the file (`pcap_snapshot`).
    init?(descriptor borrowed: Int32, snapshotLength: Int) {
        var info = stat()
        guard borrowed >= 0, fstat(borrowed, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size >= 24 else { return nil }
        var magic: UInt32 = 0
        guard pread(borrowed, &magic, 4, 0) == 4 else { return nil }
        switch UInt32(littleEndian: magic) {
        case 0xa1b2_c3d4: (swapped, nanosPerFraction) = (false, 1000)
        case 0xa1b2_3c4d: (swapped, nanosPerFraction) = (false, 1)
        case 0xd4c3_b2a1: (swapped, nanosPerFraction) = (true, 1000)
        case 0x4d3c_b2a1: (swapped, nanosPerFraction) = (true, 1)
        default: return nil
        }
        guard let memory = try? SensitiveMemory(byteCount: BufferedPcapFile.blockSize) else { return nil }
        let fd = dup(borrowed)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        self.descriptor = fd
        self.size = Int(info.st_size)
        self.snapshotLength = snapshotLength
        self.memory = memory
        self.buffer = memory.base
    }

    deinit {
        // `memory` zeroes the buffer when it goes.
        close(descriptor)
    }

    @inline(__always)
    private func u32(_ at: Int) -> UInt32 {
        let raw = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt32.self))
        return swapped ? raw.byteSwapped : raw
    }

    /// The next record, borrowed from the buffer until the next call.
    @inline(__always)
    func next() -> Next {
        guard !finished else { return .end }
        let at = position
        let fileOffset = bufferOffset &+ at
        let left = size &- fileOffset
        if left == 0 { return finish(.end) }
        guard left >= 16 else {
            return finish(.truncated(offset: Int64(fileOffset), reason: "truncated dump file; tried to read 16 header bytes, only got \(left)"))
        }
        if filled &- at < 16 {
            guard fill(16) else { return finish(shrunk(at: fileOffset)) }
        }
        // The on-disk header (libpcap's `struct pcap_sf_pkthdr`): signed 32-bit seconds and
        // fraction, then captured and original length.
        var header = position
        let seconds = Int32(bitPattern: u32(header))
        let fraction = Int32(bitPattern: u32(header &+ 4))
        let captured = Int(u32(header &+ 8))
        guard captured <= BufferedPcapFile.maximumCaptureLength else {
            return finish(.invalid(offset: Int64(fileOffset), reason: "invalid packet capture length \(captured), bigger than maximum of \(BufferedPcapFile.maximumCaptureLength)"))
        }
        guard captured <= left &- 16 else {
            return finish(.truncated(offset: Int64(fileOffset), reason: "truncated dump file; tried to read \(captured) captured bytes, only got \(left &- 16)"))
        }
        if filled &- header < 16 &+ captured {
            guard fill(16 &+ captured) else { return finish(shrunk(at: fileOffset)) }
            header = position
        }
        position = header &+ 16 &+ captured
        // Like libpcap: a record longer than the snapshot length is cut to it.
        let length = snapshotLength > 0 ? min(captured, snapshotLength) : captured
        let nanos = Int64(seconds) &* 1_000_000_000 &+ Int64(fraction) &* nanosPerFraction
        return .record(UnsafeRawBufferPointer(start: buffer + (header &+ 16), count: length), timestampNanos: nanos, offset: fileOffset)
    }

    /// Makes `count` bytes from `position` available: moves what is left of the block to
    /// the front of the buffer and reads on. Returns `false` when the file ends first (it
    /// shrank) or cannot be read.
    @inline(never)
    private func fill(_ count: Int) -> Bool {
        let kept = filled &- position
        if position > 0 {
            if kept > 0 { buffer.copyMemory(from: buffer + position, byteCount: kept) }
            bufferOffset &+= position
            position = 0
            filled = kept
        }
        while filled < count {
            let wanted = min(BufferedPcapFile.blockSize &- filled, size &- (bufferOffset &+ filled))
            guard wanted > 0 else { return false }
            let n = pread(descriptor, buffer + filled, wanted, off_t(bufferOffset &+ filled))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            filled &+= n
        }
        return true
    }

    /// The last thing this file returns: the raw frames go from the buffer at once.
    private func finish(_ last: Next) -> Next {
        finished = true
        SensitiveMemory.zero(buffer, BufferedPcapFile.blockSize)
        return last
    }

    private func shrunk(at offset: Int) -> Next {
        var info = stat()
        let now = fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
        return .truncated(offset: Int64(offset), reason: "the file shrank to \(now) bytes while it was read (it was \(size))")
    }

    // MARK: - Tests

    /// Tests only: whether every byte of the buffer is zero.
    var bufferIsZero: Bool {
        UnsafeRawBufferPointer(start: buffer, count: BufferedPcapFile.blockSize).allSatisfy { $0 == 0 }
    }

    /// Tests only: whether the buffer is locked in RAM, and whether it is kept out of core
    /// dumps.
    var lockStatus: (locked: Bool, undumpable: Bool) {
        (memory.lockStatus == .locked, memory.excludedFromCoreDumps)
    }
}
