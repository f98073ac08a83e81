import FootfallCapture
import FootfallCore
import FootfallIngest
import FootfallAggregate
import Logging

/// One live source of `footfall run`: a monitor-mode interface, or a TZSP or PEEKREMOTE
/// stream on one (interface, port) shared by every access point that sends to it.
public struct SourceSpec: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A monitor-mode interface delivering radiotap frames, heard by one sensor.
        case monitor(interface: String, sensor: Int)
        /// A TZSP stream; each datagram's sender address picks the sensor.
        case tzsp(interface: String, port: UInt16, routes: [TZSPRoute])
        /// A PEEKREMOTE stream; each datagram's sender address picks the sensor, as for TZSP.
        case peekRemote(interface: String, port: UInt16, routes: [TZSPRoute])
    }

    public var kind: Kind
    /// The kernel capture buffer, MiB: the largest `buffer_mib` of the sensors it feeds.
    public var captureBufferMiB: Int

    public init(kind: Kind, captureBufferMiB: Int = Sensor.defaultCaptureBufferMiB) {
        self.kind = kind
        self.captureBufferMiB = captureBufferMiB
    }

    /// ``captureBufferMiB`` in bytes, as `pcap_set_buffer_size` takes it.
    public var captureBufferBytes: Int32 { Int32(clamping: captureBufferMiB << 20) }

    /// A short, bounded label for logs and metrics: `wlan1mon`, `tzsp:lo:37008` or
    /// `peekremote:eth0:5000`.
    public var name: String {
        switch kind {
        case .monitor(let interface, _): interface
        case .tzsp(let interface, let port, _): "tzsp:\(interface):\(port)"
        case .peekRemote(let interface, let port, _): "peekremote:\(interface):\(port)"
        }
    }

    public var description: String { name }
}

/// Which sensor an access point's TZSP or PEEKREMOTE datagrams belong to.
public struct TZSPRoute: Sendable, Equatable {
    public var sender: IPv4Address
    /// Index into the configuration's sensors.
    public var sensor: Int

    public init(sender: IPv4Address, sensor: Int) {
        self.sender = sender
        self.sensor = sensor
    }
}

public enum SourcePlan {
    /// The live sources a configuration asks for: one per monitor interface and one per
    /// distinct TZSP or PEEKREMOTE (interface, port). Sensors fed from files are not live and are listed
    /// in `fileSensors` (their ids) so the caller can say so.
    public static func sources(for settings: Settings) -> (sources: [SourceSpec], fileSensors: [String]) {
        var sources: [SourceSpec] = []
        var fileSensors: [String] = []
        for (index, sensor) in settings.sensors.enumerated() {
            switch sensor.feed {
            case .interface(let interface):
                // One capture per interface: a second sensor on the same interface would
                // only hear the same frames again.
                let taken = sources.firstIndex {
                    if case .monitor(let i, _) = $0.kind { return i == interface }
                    return false
                }
                if let taken {
                    sources[taken].captureBufferMiB = max(sources[taken].captureBufferMiB, sensor.captureBufferMiB)
                } else {
                    sources.append(SourceSpec(kind: .monitor(interface: interface, sensor: index), captureBufferMiB: sensor.captureBufferMiB))
                }
            case .tzsp(let interface, let port, let senderAddress):
                addRoute(senderAddress, sensor: index, bufferMiB: sensor.captureBufferMiB, to: .tzsp(interface: interface, port: port, routes: []), in: &sources)
            case .peekRemote(let interface, let port, let senderAddress):
                addRoute(senderAddress, sensor: index, bufferMiB: sensor.captureBufferMiB, to: .peekRemote(interface: interface, port: port, routes: []), in: &sources)
            case .file:
                fileSensors.append(sensor.id)
            }
        }
        return (sources, fileSensors)
    }

    /// Adds a sensor's route to the stream source with the same protocol, interface and port
    /// (`stream`, given with no routes), opening that source if there is none yet: one
    /// capture per (interface, port), the sender address picks the sensor, and the capture's
    /// buffer is the largest any of its sensors asks for.
    private static func addRoute(_ senderAddress: String, sensor: Int, bufferMiB: Int, to stream: SourceSpec.Kind, in sources: inout [SourceSpec]) {
        guard let sender = IPv4Address(dottedQuad: senderAddress) else { return }
        let route = TZSPRoute(sender: sender, sensor: sensor)
        if let at = sources.firstIndex(where: { $0.kind.withRoutes([]) == stream }) {
            sources[at].kind = sources[at].kind.withRoutes(sources[at].kind.routes + [route])
            sources[at].captureBufferMiB = max(sources[at].captureBufferMiB, bufferMiB)
        } else {
            sources.append(SourceSpec(kind: stream.withRoutes([route]), captureBufferMiB: bufferMiB))
        }
    }
}

/// What one pull from a live source did.
public enum PumpEvent: Sendable, Equatable {
    /// A packet was read (and handed to the ring, counted, or dropped).
    case packet
    /// The read timeout passed without a packet.
    case timeout
    /// ``FrameSource/stop()`` was called.
    case stopped
}

/// An opened live source. ``pump()`` is called in a loop on the source's own thread (pcap
/// reads block); ``stop()`` may be called from any thread.
public protocol FrameSource: AnyObject, Sendable {
    /// Reads the next packet and hands the frame it carries to the ring.
    /// - Throws: `.interfaceGone` when the interface went away; the caller reopens it later.
    func pump() throws(CaptureError) -> PumpEvent
    /// Makes a blocked ``pump()`` return `.stopped` (now, or after one read timeout).
    func stop()
    /// Publishes kernel and decoder counts to the metrics; called on the source's thread
    /// every few seconds.
    func publishStatistics()
}

/// Opens live sources; the pcap-backed one in production, failing or scripted ones in tests.
public protocol FrameSourceFactory: Sendable {
    /// - Parameters:
    ///   - spec: what to open.
    ///   - index: the source's index in the metrics.
    /// - Throws: `.cannotOpen` and friends: the caller retries with backoff.
    func open(_ spec: SourceSpec, index: Int, ring: FrameRing, metrics: GatewayMetrics, logger: Logger) throws(CaptureError) -> any FrameSource
}

/// Opens libpcap captures.
public struct PcapSourceFactory: FrameSourceFactory {
    public init() {}

    public func open(_ spec: SourceSpec, index: Int, ring: FrameRing, metrics: GatewayMetrics, logger: Logger) throws(CaptureError) -> any FrameSource {
        switch spec.kind {
        case .monitor(let interface, let sensor):
            let capture = try LiveCapture(interface: interface, filter: .probeRequests, bufferSizeBytes: spec.captureBufferBytes, logger: logger)
            return MonitorSource(capture: capture, sensor: Int32(sensor), ring: ring, metrics: metrics, sourceIndex: index, name: spec.name, logger: logger)
        case .tzsp(let interface, let port, let routes):
            let capture = try TZSPCapture(interface: interface, port: port, bufferSizeBytes: spec.captureBufferBytes, logger: logger)
            return StreamSource(capture: capture, demux: TZSPDemux(routes: routes), ring: ring, metrics: metrics, sourceIndex: index, name: spec.name, logger: logger)
        case .peekRemote(let interface, let port, let routes):
            let capture = try PeekRemoteCapture(interface: interface, port: port, bufferSizeBytes: spec.captureBufferBytes, logger: logger)
            return StreamSource(capture: capture, demux: TZSPDemux(routes: routes), ring: ring, metrics: metrics, sourceIndex: index, name: spec.name, logger: logger)
        }
    }
}

/// Kernel drop counts since the capture opened, turned into increments.
struct KernelDropTracker {
    private var last: UInt64 = 0

    mutating func increment(for statistics: CaptureStatistics) -> Int {
        let total = statistics.dropped &+ statistics.interfaceDropped
        defer { last = total }
        return total >= last ? Int(clamping: total - last) : 0
    }

    /// Publishes new kernel drops (metric, and a warning at most every statistics interval).
    mutating func publish(_ statistics: CaptureStatistics, source: Int, name: String, metrics: GatewayMetrics, logger: Logger) {
        let dropped = increment(for: statistics)
        guard dropped > 0 else { return }
        metrics.kernelDropped(source: source, by: dropped)
        logger.warning("packets dropped by the kernel or the driver before footfall read them", metadata: [
            "source": "\(name)", "capture.dropped": "\(statistics.dropped)", "capture.interface_dropped": "\(statistics.interfaceDropped)",
        ])
    }
}

/// A monitor-mode interface: radiotap frames, already filtered to probe requests by BPF.
final class MonitorSource: FrameSource, @unchecked Sendable {
    private let capture: LiveCapture
    private let sensor: Int32
    private let ring: FrameRing
    private let metrics: GatewayMetrics
    private let sourceIndex: Int
    private let name: String
    private let logger: Logger
    // Touched on the source's thread only.
    private var drops = KernelDropTracker()

    init(capture: LiveCapture, sensor: Int32, ring: FrameRing, metrics: GatewayMetrics, sourceIndex: Int, name: String, logger: Logger) {
        self.capture = capture
        self.sensor = sensor
        self.ring = ring
        self.metrics = metrics
        self.sourceIndex = sourceIndex
        self.name = name
        self.logger = logger
    }

    func pump() throws(CaptureError) -> PumpEvent {
        switch try capture.next() {
        case .record(let record):
            ring.push(record.bytes, meta: FrameMeta(timestampNanos: record.timestampNanos, sensor: sensor, linkType: capture.linkType))
            return .packet
        case .timeout:
            return .timeout
        case .stopped:
            return .stopped
        }
    }

    func stop() { capture.stop() }

    func publishStatistics() {
        if let statistics = try? capture.statistics() {
            drops.publish(statistics, source: sourceIndex, name: name, metrics: metrics, logger: logger)
        }
    }
}

/// Picks the sensor of each TZSP or PEEKREMOTE datagram by its sender's IPv4 address and
/// hands the bare 802.11 frame inside to the ring. Datagrams from a sender the configuration does not name
/// are counted and dropped: they may come from a misconfigured or foreign access point.
public struct TZSPDemux: Sendable {
    /// (sender address, sensor index), a handful of entries: a linear scan beats hashing.
    private let routes: [(sender: UInt32, sensor: Int32)]
    /// Datagrams whose sender no sensor names.
    public private(set) var unknownSenders = 0
    /// Datagrams dropped because the ring was full or the frame longer than a slot.
    public private(set) var ringDrops = 0

    public init(routes: [TZSPRoute]) {
        self.routes = routes.map { ($0.sender.value, Int32($0.sensor)) }
    }

    /// The sensor a sender's frames belong to, or `nil`.
    public func sensor(for sender: IPv4Address) -> Int32? {
        for route in routes where route.sender == sender.value { return route.sensor }
        return nil
    }

    public enum Outcome: Sendable, Equatable {
        case queued(sensor: Int32)
        case unknownSender
        case ringDropped
    }

    /// Routes one decoded datagram: the frame inside (bare 802.11, no FCS) with the header's
    /// hints (signal, CRC error), to the sensor its sender names.
    /// - Parameters:
    ///   - sender: the access point's address (from the IPv4 header).
    ///   - header: the decoded stream header.
    ///   - datagram: the UDP payload the header was decoded from, borrowed for the call.
    ///   - timestampNanos: capture time.
    ///   - ring: where the frame goes.
    public mutating func route(sender: IPv4Address, header: some AccessPointStreamHeader, datagram: UnsafeRawBufferPointer, timestampNanos: Int64, into ring: FrameRing) -> Outcome {
        guard let sensor = sensor(for: sender) else {
            unknownSenders += 1
            return .unknownSender
        }
        return push(header.frame(in: datagram), sensor: sensor, hints: header.hints, timestampNanos: timestampNanos, into: ring)
    }

    private mutating func push(_ frame: UnsafeRawBufferPointer, sensor: Int32, hints: RadioHints, timestampNanos: Int64, into ring: FrameRing) -> Outcome {
        let meta = FrameMeta(timestampNanos: timestampNanos, sensor: sensor, linkType: .ieee80211, hints: hints)
        guard ring.push(frame, meta: meta) else {
            ringDrops += 1
            return .ringDropped
        }
        return .queued(sensor: sensor)
    }
}

/// What the gateway reports of one stream protocol besides its frames: its name in messages
/// and configuration, and its metrics.
protocol GatewayStream: AccessPointStream {
    /// As in messages: "TZSP".
    static var displayName: String { get }
    /// The sensor's configuration key: "tzsp".
    static var configKey: String { get }
    static func rejected(_ metrics: GatewayMetrics, source: Int, reason: DecodeError, by count: Int)
    static func notIPv4(_ metrics: GatewayMetrics, source: Int, by count: Int)
    static func unknownSenders(_ metrics: GatewayMetrics, source: Int, by count: Int)
}

extension TZSP: GatewayStream {
    static var displayName: String { "TZSP" }
    static var configKey: String { "tzsp" }
    static func rejected(_ metrics: GatewayMetrics, source: Int, reason: DecodeError, by count: Int) {
        metrics.tzspRejected(source: source, reason: reason, by: count)
    }
    static func notIPv4(_ metrics: GatewayMetrics, source: Int, by count: Int) { metrics.tzspNotIPv4(source: source, by: count) }
    static func unknownSenders(_ metrics: GatewayMetrics, source: Int, by count: Int) { metrics.unknownSenders(source: source, by: count) }
}

extension PeekRemote: GatewayStream {
    static var displayName: String { "PEEKREMOTE" }
    static var configKey: String { "peekremote" }
    static func rejected(_ metrics: GatewayMetrics, source: Int, reason: DecodeError, by count: Int) {
        metrics.peekRemoteRejected(source: source, reason: reason, by: count)
    }
    static func notIPv4(_ metrics: GatewayMetrics, source: Int, by count: Int) { metrics.peekRemoteNotIPv4(source: source, by: count) }
    static func unknownSenders(_ metrics: GatewayMetrics, source: Int, by count: Int) { metrics.peekRemoteUnknownSenders(source: source, by: count) }
}

/// An access point stream (TZSP, PEEKREMOTE) on one (interface, port).
final class StreamSource<Stream: GatewayStream>: FrameSource, @unchecked Sendable {
    private let capture: StreamCapture<Stream>
    private let ring: FrameRing
    private let metrics: GatewayMetrics
    private let sourceIndex: Int
    private let name: String
    private let logger: Logger
    // Touched on the source's thread only.
    private var demux: TZSPDemux
    private var drops = KernelDropTracker()
    private var published = Stream.Counters()
    private var publishedUnknown = 0
    private var lastUnknownLog: ContinuousClock.Instant?

    init(capture: StreamCapture<Stream>, demux: TZSPDemux, ring: FrameRing, metrics: GatewayMetrics, sourceIndex: Int, name: String, logger: Logger) {
        self.capture = capture
        self.demux = demux
        self.ring = ring
        self.metrics = metrics
        self.sourceIndex = sourceIndex
        self.name = name
        self.logger = logger
    }

    func pump() throws(CaptureError) -> PumpEvent {
        switch try capture.next() {
        case .datagram(let datagram):
            if demux.route(sender: datagram.sender, header: datagram.header, datagram: datagram.bytes, timestampNanos: datagram.timestampNanos, into: ring) == .unknownSender {
                noteUnknown(datagram.sender)
            }
            return .packet
        case .timeout:
            return .timeout
        case .stopped:
            return .stopped
        }
    }

    /// At most one line a minute. The sender is an access point's address (infrastructure,
    /// not a visitor), so it may be logged; nothing of the frame inside is.
    private func noteUnknown(_ sender: IPv4Address) {
        let now = ContinuousClock.now
        if let last = lastUnknownLog, now - last < .seconds(60) { return }
        lastUnknownLog = now
        logger.warning(
            "\(Stream.displayName) datagrams from a sender no sensor names are dropped; add it to sensors[].\(Stream.configKey).sender if it is one of yours",
            metadata: ["source": "\(name)", "\(Stream.configKey).sender": "\(sender)"]
        )
    }

    func stop() { capture.stop() }

    func publishStatistics() {
        if let statistics = try? capture.statistics() {
            drops.publish(statistics, source: sourceIndex, name: name, metrics: metrics, logger: logger)
        }
        let now = capture.counters
        for reason in Stream.DecodeError.allCases where now[reason] > published[reason] {
            Stream.rejected(metrics, source: sourceIndex, reason: reason, by: now[reason] - published[reason])
        }
        let notIP = (now.undecodableIP + now.fragments) - (published.undecodableIP + published.fragments)
        if notIP > 0 { Stream.notIPv4(metrics, source: sourceIndex, by: notIP) }
        published = now
        if demux.unknownSenders > publishedUnknown {
            Stream.unknownSenders(metrics, source: sourceIndex, by: demux.unknownSenders - publishedUnknown)
            publishedUnknown = demux.unknownSenders
        }
    }
}

extension SourceSpec.Kind {
    /// A stream source's routes (none for a monitor interface).
    var routes: [TZSPRoute] {
        switch self {
        case .monitor: []
        case .tzsp(_, _, let routes), .peekRemote(_, _, let routes): routes
        }
    }

    /// The same source with other routes (a monitor interface is returned as it is).
    func withRoutes(_ routes: [TZSPRoute]) -> Self {
        switch self {
        case .monitor: self
        case .tzsp(let interface, let port, _): .tzsp(interface: interface, port: port, routes: routes)
        case .peekRemote(let interface, let port, _): .peekRemote(interface: interface, port: port, routes: routes)
        }
    }
}
