#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CPcap
import FootfallCore
import FootfallIngest
import FootfallPlatform
import Logging
import Synchronization

/// What the kernel and libpcap counted for a live capture (`pcap_stats`). On Linux the
/// counts are since the capture started.
public struct CaptureStatistics: Sendable, Equatable {
    /// Packets that passed the filter (`ps_recv`).
    public var received: UInt64
    /// Packets dropped because the buffer was full: footfall did not read fast enough (`ps_drop`).
    public var dropped: UInt64
    /// Packets the interface or its driver dropped (`ps_ifdrop`).
    public var interfaceDropped: UInt64

    public init(received: UInt64, dropped: UInt64, interfaceDropped: UInt64) {
        self.received = received
        self.dropped = dropped
        self.interfaceDropped = interfaceDropped
    }
}

/// Which packets the kernel hands to footfall (a BPF program, so the rest never reach user space).
public enum CaptureFilter: Sendable, Equatable, CustomStringConvertible {
    /// 802.11 probe requests (management type 0, subtype 4) on a monitor-mode interface.
    case probeRequests
    /// UDP datagrams to this port (a TZSP or PEEKREMOTE stream).
    case udpDestinationPort(UInt16)

    /// The pcap-filter(7) expression.
    public var expression: String {
        switch self {
        case .probeRequests: "type mgt subtype probe-req"
        case .udpDestinationPort(let port): "udp dst port \(port)"
        }
    }

    public var description: String { expression }
}

/// What one pull from a live capture produced.
public enum LiveCaptureEvent {
    /// A record, borrowed until the next call.
    case record(CaptureRecord)
    /// The read timeout passed without a packet (time to look at the wall clock).
    case timeout
    /// ``LiveCapture/stop()`` was called.
    case stopped
}

/// A live capture on one interface: `pcap_create`, a packed kernel ring, a read timeout, a BPF
/// filter, and a pull loop over `pcap_next_ex`.
///
/// The handle is non-blocking and ``next()`` waits in `poll(2)` on libpcap's selectable
/// descriptor and on a wake-up pipe, with the read timeout. (A blocking `pcap_next_ex` does
/// not return on its timeout on Linux when no packet arrives, so a quiet interface would
/// never give the caller a chance to tick its clock.)
///
/// Call ``next()`` from one thread at a time. ``stop()`` may be called from any thread: it
/// sets a flag, calls `pcap_breakloop` and writes to the wake-up pipe, so a waiting
/// ``next()`` returns `.stopped` at once.
public final class LiveCapture: @unchecked Sendable {
    public let interface: String
    public let linkType: LinkType
    public let filter: CaptureFilter

    private let handle: PcapHandle
    /// Nanoseconds per unit of `tv_usec` (1 when libpcap gives nanoseconds, else 1000).
    private let fractionUnit: Int64
    private let stopRequested = Atomic<Bool>(false)
    private let logger: Logger
    /// libpcap's selectable descriptor (`pcap_get_selectable_fd`).
    private let captureDescriptor: Int32
    private let readTimeoutMilliseconds: Int32
    private let wakeUp: WakeUpPipe
    /// The one packet ``next()`` hands out, copied out of libpcap's ring (P1): locked, not
    /// dumped, and zeroed at the start of the next call, when the caller has parsed or copied
    /// it.
    ///
    /// Why not `pcap_next_ex`: on Linux it copies the packet out of the kernel's shared ring
    /// into a buffer of libpcap's and hands the ring slot back untouched, so every frame
    /// ever captured stays readable in the ring until the kernel happens to reuse the slot.
    /// `pcap_dispatch` gives the callback the slot itself, which is zeroed right after the
    /// copy is taken.
    private let packetCopy: SensitiveMemory
    private var copiedLength = 0
    private var copiedTimestampNanos: Int64 = 0
    /// When this (reading) thread last scrubbed its stack, monotonic nanoseconds.
    private var lastScrubNanos: Int64 = .min / 2

    /// How long the kernel holds a partly filled block of the ring before handing it over:
    /// the most a frame waits before footfall can read it, and short enough that the
    /// half-second drain at shutdown always sees the last block.
    static let blockTimeoutMilliseconds: Int32 = 20

    /// Opens and activates a capture.
    ///
    /// - Parameters:
    ///   - interface: the interface name (`wlan0mon`, `lo`, `eth0`).
    ///   - filter: what to capture; decides which link types are accepted.
    ///   - snapshotLength: bytes kept per packet; a probe request with its radio header fits in 4096.
    ///   - readTimeoutMilliseconds: how long one ``next()`` may wait before returning `.timeout`.
    ///   - bufferSizeBytes: the kernel buffer, or `nil` for libpcap's default (2 MiB). On
    ///     Linux it becomes the size of the ring libpcap maps (TPACKET_V3): what the kernel
    ///     can hold while footfall is busy before it drops packets (`ps_drop`).
    ///   - logger: receives activation warnings (no packet data is ever logged).
    /// - Throws: `.cannotOpen` (no such interface, no permission, interface down),
    ///   `.unsupportedLinkType`, `.filterFailed`.
    public init(
        interface: String,
        filter: CaptureFilter,
        snapshotLength: Int32 = 4096,
        readTimeoutMilliseconds: Int32 = 250,
        bufferSizeBytes: Int32? = nil,
        logger: Logger = Logger(label: "footfall.capture")
    ) throws(CaptureError) {
        let (created, createMessage) = withErrorBuffer { errbuf in pcap_create(interface, errbuf) }
        guard let created else {
            throw CaptureError(code: .cannotOpen, message: "interface \(interface): cannot create a capture (\(createMessage))")
        }
        let handle = PcapHandle(created)
        let p = handle.pointer
        pcap_set_snaplen(p, snapshotLength)
        // Not immediate mode: on Linux that makes libpcap use TPACKET_V2, whose ring has one
        // fixed slot of the snapshot length per packet, so a 2 MiB buffer held about 500
        // packets whatever their size — 5 ms of a 100,000 frames/s TZSP stream. Without it
        // libpcap uses TPACKET_V3, which packs packets by their real length into blocks
        // (a wrapped probe request is ~100 bytes: some 15,000 of them in 2 MiB). A block is
        // handed over when it is full or after `blockTimeoutMilliseconds`, so a quiet
        // interface's last frames wait at most that long (docs/performance.md, "Live ingest").
        pcap_set_immediate_mode(p, 0)
        pcap_set_timeout(p, min(readTimeoutMilliseconds, Self.blockTimeoutMilliseconds))
        if let bufferSizeBytes { pcap_set_buffer_size(p, bufferSizeBytes) }
        pcap_set_tstamp_precision(p, Int32(PCAP_TSTAMP_PRECISION_NANO)) // falls back to micro if refused

        let status = pcap_activate(p)
        if status < 0 {
            throw Self.activationError(status: status, interface: interface, detail: handle.lastError)
        }
        if status > 0 {
            logger.warning(
                "capture activated with a warning",
                metadata: ["capture.interface": "\(interface)", "pcap.warning": "\(String(cString: pcap_statustostr(status))): \(handle.lastError)"]
            )
        }

        // On loopback every datagram is seen twice, sent and received; libpcap skips the sent
        // copy in user space, but it would stay in the ring with the frame's addresses in it
        // (P1). PACKET_IGNORE_OUTGOING (Linux 4.20) has the kernel leave it out. Only an
        // incoming frame is ever counted, so nothing is lost.
        Self.ignoreOutgoing(handle: handle)
        let linkType = try Self.chooseLinkType(handle: handle, interface: interface, filter: filter)
        try Self.install(filter: filter, on: handle, interface: interface)

        let (nonblockStatus, nonblockMessage) = withErrorBuffer { errbuf in pcap_setnonblock(p, 1, errbuf) }
        let descriptor = pcap_get_selectable_fd(p)
        guard nonblockStatus == 0, descriptor >= 0 else {
            throw CaptureError(code: .cannotOpen, message: "interface \(interface): cannot wait for packets without blocking (\(nonblockMessage))")
        }
        self.captureDescriptor = descriptor
        self.readTimeoutMilliseconds = readTimeoutMilliseconds
        self.wakeUp = try WakeUpPipe(interface: interface)

        do {
            self.packetCopy = try SensitiveMemory(byteCount: Int(max(snapshotLength, 256)))
        } catch {
            throw CaptureError(code: .cannotOpen, message: "interface \(interface): \(error.message)")
        }
        self.fractionUnit = pcap_get_tstamp_precision(p) == Int32(PCAP_TSTAMP_PRECISION_NANO) ? 1 : 1000
        self.interface = interface
        self.filter = filter
        self.linkType = linkType
        self.logger = logger
        self.handle = handle
        logger.info(
            "capture started",
            metadata: [
                "capture.interface": "\(interface)", "capture.link_type": "\(linkType.rawValue)", "capture.filter": "\(filter.expression)",
                "capture.buffer_bytes": "\(bufferSizeBytes.map(String.init) ?? "default")",
            ]
        )
    }

    /// The next packet, a timeout, or `.stopped`.
    ///
    /// Waits at most about one read timeout when no packet comes.
    ///
    /// - Throws: `.interfaceGone` when libpcap reports an error on the interface (it went
    ///   down or disappeared): close this capture and open a new one after a backoff.
    public func next() throws(CaptureError) -> LiveCaptureEvent {
        // The previous packet has been parsed (or copied) by now.
        SensitiveMemory.zero(packetCopy.base, copiedLength)
        copiedLength = 0
        var waited = false
        while true {
            if stopRequested.load(ordering: .acquiring) { return .stopped }
            let context = Unmanaged.passUnretained(self).toOpaque().assumingMemoryBound(to: UInt8.self)
            let status = pcap_dispatch(handle.pointer, 1, LiveCapture.copyAndZero, context)
            switch status {
            case 1...:
                return .record(CaptureRecord(
                    bytes: UnsafeRawBufferPointer(start: packetCopy.base, count: copiedLength),
                    timestampNanos: copiedTimestampNanos
                ))
            case 0:
                // Nothing buffered. Wait once for the descriptor, a stop, or the timeout.
                if waited { return .timeout }
                waited = true
                // Going idle: nothing of the frames just copied stays in this thread's stack
                // (at most four times a second; an idle capture waits 250 ms at a time, so the
                // next wait scrubs what this one skipped).
                StackScrubber.scrub(atMostEvery: 250_000_000, last: &lastScrubNanos)
                if wait() == 0 { return stopRequested.load(ordering: .acquiring) ? .stopped : .timeout }
            case PCAP_ERROR_BREAK:
                return .stopped
            default:
                if stopRequested.load(ordering: .acquiring) { return .stopped }
                throw CaptureError(
                    code: .interfaceGone,
                    message: "interface \(interface): capture failed (\(handle.lastError)); the interface may have gone down or been removed. footfall will reopen it when it is back"
                )
            }
        }
    }

    /// `setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING)` on libpcap's socket; nothing when the
    /// kernel is older (then the sent copies on loopback are skipped as before).
    private static func ignoreOutgoing(handle: borrowing PcapHandle) {
        #if os(Linux)
        let descriptor = pcap_fileno(handle.pointer)
        guard descriptor >= 0 else { return }
        var on: Int32 = 1
        // SOL_PACKET = 263, PACKET_IGNORE_OUTGOING = 23 (<linux/if_packet.h>).
        _ = setsockopt(descriptor, 263, 23, &on, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    /// `pcap_dispatch`'s callback: copies the packet out of libpcap's buffer (the kernel's
    /// ring on Linux) into ``packetCopy`` and zeroes it there before the slot goes back.
    private static let copyAndZero: pcap_handler = { context, header, bytes in
        guard let context, let header, let bytes else { return }
        let capture = Unmanaged<LiveCapture>.fromOpaque(UnsafeRawPointer(context)).takeUnretainedValue()
        let captured = Int(header.pointee.caplen)
        let length = min(captured, capture.packetCopy.byteCount)
        capture.packetCopy.base.copyMemory(from: bytes, byteCount: length)
        capture.copiedLength = length
        capture.copiedTimestampNanos = timestampNanos(seconds: header.pointee.ts.tv_sec, fraction: header.pointee.ts.tv_usec, fractionUnit: capture.fractionUnit)
        SensitiveMemory.zero(UnsafeMutableRawPointer(mutating: bytes), captured)
    }

    /// `poll(2)` on the capture descriptor and the wake-up pipe; the number of ready descriptors.
    private func wait() -> Int32 {
        var descriptors = (
            pollfd(fd: captureDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeUp.readEnd, events: Int16(POLLIN), revents: 0)
        )
        return withUnsafeMutablePointer(to: &descriptors) { pointer in
            pointer.withMemoryRebound(to: pollfd.self, capacity: 2) { poll($0, 2, readTimeoutMilliseconds) }
        }
    }

    /// Asks the reading thread to stop; safe from any thread, idempotent.
    public func stop() {
        if stopRequested.exchange(true, ordering: .acquiringAndReleasing) == false {
            pcap_breakloop(handle.pointer)
            wakeUp.signal()
        }
    }

    /// Whether ``stop()`` has been called.
    public var isStopped: Bool { stopRequested.load(ordering: .acquiring) }

    /// Packets received and dropped so far (`pcap_stats`).
    public func statistics() throws(CaptureError) -> CaptureStatistics {
        var stats = pcap_stat()
        guard pcap_stats(handle.pointer, &stats) == 0 else {
            throw CaptureError(code: .readFailed, message: "interface \(interface): cannot read capture statistics (\(handle.lastError))")
        }
        return CaptureStatistics(received: UInt64(stats.ps_recv), dropped: UInt64(stats.ps_drop), interfaceDropped: UInt64(stats.ps_ifdrop))
    }

    // MARK: - Activation

    /// Turns a negative `pcap_activate` status into an error that says what to do.
    private static func activationError(status: Int32, interface: String, detail: String) -> CaptureError {
        let advice: String
        switch status {
        case PCAP_ERROR_NO_SUCH_DEVICE:
            advice = "no such interface; list the interfaces with `ip link` and fix the name in the configuration"
        case PCAP_ERROR_PERM_DENIED, PCAP_ERROR_PROMISC_PERM_DENIED:
            advice = "permission denied; run footfall as root or give the binary the capability: setcap cap_net_raw,cap_net_admin=eip $(command -v footfall)"
        case PCAP_ERROR_IFACE_NOT_UP:
            advice = "the interface is down; bring it up with `ip link set \(interface) up`"
        case PCAP_ERROR_RFMON_NOTSUP:
            advice = "the interface cannot capture in monitor mode"
        default:
            advice = "libpcap could not start the capture"
        }
        let text = detail.isEmpty ? String(cString: pcap_statustostr(status)) : detail
        return CaptureError(code: .cannotOpen, message: "interface \(interface): \(advice) (\(text))")
    }

    /// Checks the interface's link type against the filter, switching a monitor interface
    /// to radiotap when it offers it.
    private static func chooseLinkType(handle: borrowing PcapHandle, interface: String, filter: CaptureFilter) throws(CaptureError) -> LinkType {
        let current = LinkType(rawValue: handle.datalink)
        switch filter {
        case .probeRequests:
            if current.isSupported { return current }
            // Some drivers list radiotap as an alternative link type (DLT_IEEE802_11_RADIO).
            var list: UnsafeMutablePointer<Int32>?
            let count = pcap_list_datalinks(handle.pointer, &list)
            var offered: [Int32] = []
            if count > 0, let list {
                offered = Array(UnsafeBufferPointer(start: list, count: Int(count)))
                pcap_free_datalinks(list)
            }
            for candidate in [LinkType.ieee80211Radiotap, .ieee80211] where offered.contains(candidate.rawValue) {
                if pcap_set_datalink(handle.pointer, candidate.rawValue) == 0 { return candidate }
            }
            throw CaptureError(
                code: .unsupportedLinkType,
                message: "interface \(interface): link type \(current.rawValue) (\(linkTypeName(current.rawValue))) is not 802.11; put the interface in monitor mode (e.g. `iw dev \(interface) set type monitor`) so it delivers radiotap (127)"
            )
        case .udpDestinationPort:
            guard current.carriesIPv4 else {
                throw CaptureError(
                    code: .unsupportedLinkType,
                    message: "interface \(interface): link type \(current.rawValue) (\(linkTypeName(current.rawValue))) cannot carry a TZSP or PEEKREMOTE stream here; use an Ethernet, loopback or cooked (any) interface"
                )
            }
            return current
        }
    }

    /// Compiles the filter and installs it in the kernel.
    private static func install(filter: CaptureFilter, on handle: borrowing PcapHandle, interface: String) throws(CaptureError) {
        var program = bpf_program()
        guard pcap_compile(handle.pointer, &program, filter.expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw CaptureError(code: .filterFailed, message: "interface \(interface): cannot compile the filter '\(filter.expression)' (\(handle.lastError))")
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(handle.pointer, &program) == 0 else {
            throw CaptureError(code: .filterFailed, message: "interface \(interface): cannot install the filter '\(filter.expression)' (\(handle.lastError))")
        }
    }
}

/// A pipe whose read end ``LiveCapture`` polls next to the capture, so ``LiveCapture/stop()``
/// can wake a waiting reader at once. Owns both descriptors and closes them in `deinit`.
private struct WakeUpPipe: ~Copyable {
    let readEnd: Int32
    let writeEnd: Int32

    init(interface: String) throws(CaptureError) {
        var ends: (Int32, Int32) = (-1, -1)
        let status = withUnsafeMutablePointer(to: &ends) { pointer in
            pointer.withMemoryRebound(to: Int32.self, capacity: 2) { pipe($0) }
        }
        guard status == 0 else {
            throw CaptureError(code: .cannotOpen, message: "interface \(interface): cannot create a pipe (errno \(errno)); the process may be out of file descriptors")
        }
        readEnd = ends.0
        writeEnd = ends.1
    }

    /// Makes the read end readable; one byte is enough, it is never read.
    func signal() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }
}
