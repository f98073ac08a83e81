import FootfallCore
import FootfallIngest
import Logging

/// One datagram of an access point's stream (TZSP, PEEKREMOTE) that carried an 802.11
/// frame, borrowed until the next call.
public struct StreamDatagram<Stream: AccessPointStream> {
    /// Capture time on this machine, nanoseconds since the Unix epoch.
    public var timestampNanos: Int64
    /// The IPv4 address of the access point that sent it.
    public var sender: IPv4Address
    /// The decoded header; its `payload` range is relative to ``bytes``.
    public var header: Stream.Header
    /// The UDP payload (the whole datagram).
    public var bytes: UnsafeRawBufferPointer

    /// The bare 802.11 frame inside (without an FCS).
    public var frame: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[header.payload]) }

    /// Parses the frame inside with the header's hints (signal, CRC error).
    public func parse(counters: inout ParseCounters) -> ParseResult {
        header.parseFrame(in: bytes, timestampNanos: timestampNanos, counters: &counters)
    }

    /// Decodes the link, IPv4, UDP and stream headers of one captured packet, counting every
    /// failure in `counters` by reason: what ``StreamCapture`` does with each record, callable
    /// on bytes built by a test.
    /// - Returns: the datagram (borrowing `bytes`), or `nil` when it carries no usable frame.
    public static func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, timestampNanos: Int64, counters: inout Stream.Counters) -> StreamDatagram? {
        let udp: UDPDatagram
        do {
            udp = try UDPDatagram.decode(bytes, linkType: linkType)
        } catch {
            counters.datagrams += 1
            if error == .fragment { counters.fragments += 1 } else { counters.undecodableIP += 1 }
            return nil
        }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[udp.payload])
        guard let header = counters.decode(payload) else { return nil }
        return StreamDatagram(timestampNanos: timestampNanos, sender: udp.source, header: header, bytes: payload)
    }
}

/// What one pull from a stream source produced.
public enum StreamCaptureEvent<Stream: AccessPointStream> {
    case datagram(StreamDatagram<Stream>)
    /// The read timeout passed without a usable datagram.
    case timeout
    case stopped
}

/// Receives an access point's stream by capturing `udp dst port N` on an interface (rather
/// than binding a socket, so footfall sees the datagrams even when another program owns the
/// port, and the kernel filter drops everything else).
///
/// Datagrams that are not IPv4/UDP, are fragments, or whose header cannot be read (for TZSP
/// also: that do not carry 802.11) are counted in ``counters`` and skipped.
public final class StreamCapture<Stream: AccessPointStream>: @unchecked Sendable {
    public let port: UInt16
    /// Counts every captured datagram by outcome. Read it from the reading thread.
    public private(set) var counters = Stream.Counters()

    private let capture: LiveCapture

    /// - Parameters:
    ///   - interface: where the stream arrives (`eth0`, `lo`, `any`).
    ///   - port: the UDP port the access points send to.
    ///   - snapshotLength: bytes kept per datagram; a wrapped probe request fits in 4096.
    ///   - readTimeoutMilliseconds: how long one ``next()`` may wait before returning `.timeout`.
    ///   - bufferSizeBytes: the kernel buffer (`pcap_set_buffer_size`), or `nil` for
    ///     libpcap's default (2 MiB). The stream is captured, not received on a socket, so
    ///     this buffer, not `SO_RCVBUF`, is what fills when footfall falls behind.
    ///   - logger: receives activation warnings.
    public init(
        interface: String,
        port: UInt16 = Stream.defaultPort,
        snapshotLength: Int32 = 4096,
        readTimeoutMilliseconds: Int32 = 250,
        bufferSizeBytes: Int32? = nil,
        logger: Logger = Logger(label: "footfall.capture")
    ) throws(CaptureError) {
        self.port = port
        self.capture = try LiveCapture(
            interface: interface,
            filter: .udpDestinationPort(port),
            snapshotLength: snapshotLength,
            readTimeoutMilliseconds: readTimeoutMilliseconds,
            bufferSizeBytes: bufferSizeBytes,
            logger: logger
        )
    }

    public var interface: String { capture.interface }
    public var linkType: LinkType { capture.linkType }

    /// The next datagram that carries an 802.11 frame, a timeout, or `.stopped`.
    /// - Throws: `.interfaceGone` as ``LiveCapture/next()``.
    public func next() throws(CaptureError) -> StreamCaptureEvent<Stream> {
        while true {
            switch try capture.next() {
            case .timeout: return .timeout
            case .stopped: return .stopped
            case .record(let record):
                if let datagram = decode(record) { return .datagram(datagram) }
            }
        }
    }

    /// Decodes link, IPv4, UDP and stream headers of one record, counting failures.
    private func decode(_ record: CaptureRecord) -> StreamDatagram<Stream>? {
        StreamDatagram.decode(record.bytes, linkType: capture.linkType, timestampNanos: record.timestampNanos, counters: &counters)
    }

    /// Asks the reading thread to stop; safe from any thread.
    public func stop() { capture.stop() }

    /// Packets received and dropped so far.
    public func statistics() throws(CaptureError) -> CaptureStatistics { try capture.statistics() }
}

/// A TZSP stream (UDP 37008 by default).
public typealias TZSPCapture = StreamCapture<TZSP>
public typealias TZSPDatagram = StreamDatagram<TZSP>
public typealias TZSPCaptureEvent = StreamCaptureEvent<TZSP>

/// A PEEKREMOTE stream (UDP 5000 by default).
public typealias PeekRemoteCapture = StreamCapture<PeekRemote>
public typealias PeekRemoteDatagram = StreamDatagram<PeekRemote>
public typealias PeekRemoteCaptureEvent = StreamCaptureEvent<PeekRemote>
