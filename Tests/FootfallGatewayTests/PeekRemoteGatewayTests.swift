import FootfallCore
import FootfallIngest
import FootfallAggregate
@testable import FootfallGateway
import FootfallTestSupport
import Testing

/// A PEEKREMOTE datagram around `frame`: the 20-byte legacy header or the 55-byte version 2
/// header (offsets as in packet-peekremote.c), then the frame and a 4-byte FCS.
func peekRemoteDatagram(_ frame: [UInt8], signalDBm: Int8 = -45, version2: Bool = false, crcError: Bool = false) -> [UInt8] {
    var header: [UInt8]
    if version2 {
        header = [UInt8](repeating: 0, count: 55)
        header[0 ..< 9] = [0x00, 0xFF, 0xAB, 0xCD, 2, 0, 0, 0, 55][...]
        header[16] = 6 // channel
        header[31] = UInt8(bitPattern: signalDBm)
        header[32] = UInt8(bitPattern: Int8(-95))
        if crcError { header[45] = PeekRemote.flagCRCError }
    } else {
        header = [UInt8](repeating: 0, count: 20)
        header[0] = UInt8(bitPattern: signalDBm)
        header[1] = UInt8(bitPattern: Int8(-95))
        header[17] = 6 // channel
        if crcError { header[6] = PeekRemote.flagCRCError }
    }
    return header + frame + [0xC0, 0xFF, 0xEE, 0x00]
}

@Suite("PEEKREMOTE streams: sensor by sender")
struct PeekRemoteDemuxTests {
    static let routes = [
        TZSPRoute(sender: IPv4Address(dottedQuad: "127.0.0.4")!, sensor: 0),
        TZSPRoute(sender: IPv4Address(dottedQuad: "127.0.0.5")!, sensor: 1),
    ]

    func route(_ demux: inout TZSPDemux, from sender: String, source: UInt64, signalDBm: Int8 = -45, version2: Bool, ring: FrameRing) throws -> TZSPDemux.Outcome {
        let datagram = peekRemoteDatagram(probeRequest(source: source), signalDBm: signalDBm, version2: version2)
        return try datagram.withUnsafeBytes { bytes in
            let header = try PeekRemote.decode(bytes)
            return demux.route(sender: IPv4Address(dottedQuad: sender)!, header: header, datagram: bytes, timestampNanos: tenTwenty, into: ring)
        }
    }

    @Test func theRingGetsTheFrameWithoutItsFCSForTheSenderSensorWithTheHeaderSignal() throws {
        var demux = TZSPDemux(routes: Self.routes)
        let ring = FrameRing(capacity: 8)
        #expect(try route(&demux, from: "127.0.0.5", source: 0x001B_6300_0001, signalDBm: -52, version2: false, ring: ring) == .queued(sensor: 1))
        #expect(try route(&demux, from: "127.0.0.4", source: 0x001B_6300_0002, signalDBm: -41, version2: true, ring: ring) == .queued(sensor: 0))
        var seen: [FrameMeta] = []
        var frames: [[UInt8]] = []
        ring.consume(timeoutNanos: 0) { bytes, meta in
            seen.append(meta)
            frames.append(Array(bytes))
        }
        #expect(seen.map(\.sensor) == [1, 0])
        #expect(seen.map(\.hints.signalDBm) == [-52, -41])
        #expect(seen.allSatisfy { $0.linkType == .ieee80211 })
        // Exactly the 802.11 frame: the header in front and the FCS behind are gone.
        #expect(frames == [probeRequest(source: 0x001B_6300_0001), probeRequest(source: 0x001B_6300_0002)])
    }

    /// The access point's CRC-error flag travels with the frame through the ring, and the
    /// pipeline thread's parse marks the probe request and counts it as bad FCS, in both
    /// header formats; a frame without the flag is not marked.
    @Test func theCRCErrorFlagTravelsThroughTheRingAndMarksTheProbeRequestAsBadFCS() throws {
        var demux = TZSPDemux(routes: Self.routes)
        let ring = FrameRing(capacity: 8)
        for (version2, crcError) in [(false, true), (true, true), (true, false)] {
            let datagram = peekRemoteDatagram(probeRequest(source: 0x001B_6300_0003), signalDBm: -50, version2: version2, crcError: crcError)
            try datagram.withUnsafeBytes { bytes in
                let header = try PeekRemote.decode(bytes)
                #expect(demux.route(sender: IPv4Address(dottedQuad: "127.0.0.4")!, header: header, datagram: bytes, timestampNanos: tenTwenty, into: ring) == .queued(sensor: 0))
            }
        }
        var parse = ParseCounters()
        var marked: [Bool] = []
        var signals: [Int8?] = []
        ring.consume(timeoutNanos: 0) { bytes, meta in
            let result = LivePipeline.parse(bytes, meta: meta, timestampNanos: tenTwenty, counters: &parse, elements: .full)
            switch consume result {
            case .probeRequest(let request):
                marked.append(request.badFCS)
                signals.append(request.signalDBm)
            case .other:
                break
            case .malformed:
                break
            }
        }
        #expect(marked == [true, true, false])
        #expect(signals == [-50, -50, -50])
        #expect(parse.badFCS == 2)
        #expect(parse.probeRequests == 3)
    }

    @Test func anUnknownSenderIsDroppedAndCounted() throws {
        var demux = TZSPDemux(routes: Self.routes)
        let ring = FrameRing(capacity: 8)
        #expect(try route(&demux, from: "192.0.2.9", source: 0x001B_6300_0001, version2: true, ring: ring) == .unknownSender)
        #expect(try route(&demux, from: "127.0.0.2", source: 0x001B_6300_0002, version2: false, ring: ring) == .unknownSender)
        #expect(demux.unknownSenders == 2)
        #expect(ring.statistics.pushed == 0)
    }

    @Test func thePipelineCountsAPeekRemoteFrameAsAProbeRequestOfItsSensor() throws {
        let ring = FrameRing(capacity: 8)
        let pipeline = try makePipeline(ring: ring, output: CollectingOutput(), clock: ManualClock(wallNanos: tenTwenty))
        var demux = TZSPDemux(routes: Self.routes)
        _ = try route(&demux, from: "127.0.0.5", source: 0x001B_6300_0001, version2: true, ring: ring)
        _ = try route(&demux, from: "127.0.0.5", source: 0x001B_6300_0002, version2: false, ring: ring)
        pipeline.drain(timeoutNanos: 0)
        pipeline.tick()
        #expect(pipeline.counters.probeRequestsPerSensor == [0, 2])
        #expect(pipeline.counters.parse.probeRequests == 2)
        #expect(pipeline.counters.parse.malformed == 0)
    }

    @Test func sourcePlanOpensOnePeekRemoteStreamPerInterfaceAndPortBesideTZSP() {
        var settings = twoZoneSettings()
        settings.sensors.append(Sensor(id: "cisco-1", zone: 0, feed: .peekRemote(interface: "lo", port: 5000, senderAddress: "127.0.0.4")))
        settings.sensors.append(Sensor(id: "cisco-2", zone: 1, feed: .peekRemote(interface: "lo", port: 5000, senderAddress: "127.0.0.5")))
        settings.sensors.append(Sensor(id: "aruba-1", zone: 1, feed: .peekRemote(interface: "eth0", port: 5555, senderAddress: "192.0.2.6")))
        let (sources, _) = SourcePlan.sources(for: settings)
        #expect(sources.map(\.name) == ["tzsp:lo:37008", "peekremote:lo:5000", "peekremote:eth0:5555"])
        let lo5000 = [
            TZSPRoute(sender: IPv4Address(dottedQuad: "127.0.0.4")!, sensor: 2),
            TZSPRoute(sender: IPv4Address(dottedQuad: "127.0.0.5")!, sensor: 3),
        ]
        #expect(sources[1].kind == .peekRemote(interface: "lo", port: 5000, routes: lo5000))
        #expect(sources[2].kind == .peekRemote(interface: "eth0", port: 5555, routes: [TZSPRoute(sender: IPv4Address(dottedQuad: "192.0.2.6")!, sensor: 4)]))
    }

    @Test func rejectionsAndUnknownSendersHaveTheirOwnBoundedMetrics() {
        let metrics = GatewayMetrics(sensorIDs: ["a"], sourceNames: ["peekremote:lo:5000"])
        metrics.peekRemoteRejected(source: 0, reason: .headerOverrun, by: 2)
        metrics.peekRemoteNotIPv4(source: 0, by: 1)
        metrics.peekRemoteUnknownSenders(source: 0, by: 3)
        let text = metrics.exposition()
        #expect(text.contains(#"footfall_peekremote_rejected_total{source="peekremote:lo:5000",reason="header_overrun"} 2"#), "\(text)")
        #expect(text.contains(#"footfall_peekremote_rejected_total{source="peekremote:lo:5000",reason="not_ipv4_udp"} 1"#))
        #expect(text.contains(#"footfall_peekremote_unknown_sender_total{source="peekremote:lo:5000"} 3"#))
        // One series per reason, whatever arrives: the label set is fixed at start-up.
        let series = text.split(separator: "\n").filter { $0.hasPrefix("footfall_peekremote_rejected_total{") }
        #expect(series.count == PeekRemote.DecodeError.allCases.count + 1)
    }
}
