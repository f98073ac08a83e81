import FootfallCore
import FootfallIngest
import FootfallAggregate
@testable import FootfallGateway
import FootfallPipeline
import Foundation
import Logging
import Synchronization

/// Settings of a two-zone site with two TZSP access points (as config/examples/tzsp-loopback.yaml).
func twoZoneSettings(entranceThreshold: Int = -60, checkoutThreshold: Int = -60) -> Settings {
    Settings(
        site: Site(name: "test", timeZone: "Europe/Prague"),
        zones: [
            Zone(id: "entrance", name: "entrance", rssiThreshold: entranceThreshold),
            Zone(id: "checkout", name: "checkout", rssiThreshold: checkoutThreshold),
        ],
        sensors: [
            Sensor(id: "ap-entrance", zone: 0, feed: .tzsp(interface: "lo", port: 37008, senderAddress: "127.0.0.2")),
            Sensor(id: "ap-checkout", zone: 1, feed: .tzsp(interface: "lo", port: 37008, senderAddress: "127.0.0.3")),
        ]
    )
}

/// A bare 802.11 probe request (no FCS) from `source`: wildcard SSID and supported rates.
func probeRequest(source: UInt64, sequence: UInt16 = 1) -> [UInt8] {
    let address = (0 ..< 6).map { UInt8(truncatingIfNeeded: source >> UInt64(8 * (5 - $0))) }
    let broadcast = [UInt8](repeating: 0xFF, count: 6)
    // Frame Control 0x40 (management, probe request), duration, addr1, addr2, addr3, sequence.
    let header: [UInt8] = [0x40, 0x00, 0x00, 0x00] + broadcast + address + broadcast + [UInt8(truncatingIfNeeded: sequence << 4), UInt8(truncatingIfNeeded: sequence >> 4)]
    // Elements: SSID (0, empty), Supported Rates (1).
    return header + [0x00, 0x00, 0x01, 0x04, 0x02, 0x04, 0x0B, 0x16]
}

/// Globally administered test addresses (first octet's low two bits clear).
func testAddresses(_ count: Int, base: UInt64 = 0x00_1B_63_00_00_00) -> [UInt64] {
    (0 ..< count).map { base + UInt64($0) * 0x0101 + 0x10 }
}

/// A TZSP datagram: v1, type 0, encapsulation 18 (802.11), tag 10 signal, end tag, frame.
func tzspDatagram(_ frame: [UInt8], signalDBm: Int8 = -45) -> [UInt8] {
    [1, 0, 0, 18, 10, 1, UInt8(bitPattern: signalDBm), 1] + frame
}

/// Pushes a bare 802.11 frame into the ring as the TZSP source would.
@discardableResult
func push(_ ring: FrameRing, source: UInt64, sensor: Int32, atNanos t: Int64, signalDBm: Int8 = -45) -> Bool {
    let frame = probeRequest(source: source)
    return frame.withUnsafeBytes { ring.push($0, meta: FrameMeta(timestampNanos: t, sensor: sensor, linkType: .ieee80211, hints: RadioHints(signalDBm: signalDBm))) }
}

/// Collects what the pipeline publishes.
final class CollectingOutput: HourOutput, @unchecked Sendable {
    private let state = Mutex<(hours: [PublishedHour], ticks: Int, closed: Bool)>(([], 0, false))
    func publish(_ hours: [PublishedHour]) { state.withLock { $0.hours += hours } }
    func tick() { state.withLock { $0.ticks += 1 } }
    func close() { state.withLock { $0.closed = true } }
    var hours: [PublishedHour] { state.withLock { $0.hours } }
    var closed: Bool { state.withLock { $0.closed } }
}

/// A clock the test sets by hand.
final class ManualClock: GatewayClock, @unchecked Sendable {
    private let state: Mutex<(wall: Int64, monotonic: Int64)>
    init(wallNanos: Int64) { state = Mutex((wallNanos, 1_000_000_000)) }
    func wallNanos() -> Int64 { state.withLock { $0.wall } }
    func monotonicNanos() -> Int64 { state.withLock { $0.monotonic } }
    /// Both clocks move on by `seconds`.
    func advance(seconds: Int64) { state.withLock { $0.wall += seconds * 1_000_000_000; $0.monotonic += seconds * 1_000_000_000 } }
    /// The wall clock is set back (or forward); the monotonic clock does not move.
    func stepWall(seconds: Int64) { state.withLock { $0.wall += seconds * 1_000_000_000 } }
}


/// 2024-03-07 10:20:00 UTC (11:20 in Prague): well inside an hour.
let tenTwenty: Int64 = 1_709_806_800 * 1_000_000_000

func makePipeline(settings: Settings = twoZoneSettings(), ring: FrameRing, metrics: GatewayMetrics? = nil, output: CollectingOutput, clock: ManualClock, logger: Logger = Logger(label: "test")) throws -> LivePipeline {
    let core = try PipelineCore(settings: settings)
    return LivePipeline(
        core: core, ring: ring,
        metrics: metrics ?? GatewayMetrics(sensorIDs: settings.sensors.map(\.id), sourceNames: ["tzsp:lo:37008"]),
        output: output, logger: logger, clock: clock)
}
