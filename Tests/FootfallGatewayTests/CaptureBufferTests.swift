#if canImport(Glibc)
import Glibc
#endif
import FootfallCore
@testable import FootfallGateway
import Foundation
import Logging
import Testing

@Suite("Capture buffer: sensors[].buffer_mib reaches the kernel")
struct CaptureBufferTests {
    @Test func aSharedCaptureGetsTheLargestBufferAnyOfItsSensorsAsksFor() {
        var settings = twoZoneSettings()
        settings.sensors[0].captureBufferMiB = 16
        settings.sensors[1].captureBufferMiB = 64
        settings.sensors.append(Sensor(id: "ap-3", zone: 1, feed: .tzsp(interface: "eth0", port: 37008, senderAddress: "192.0.2.3")))
        settings.sensors.append(Sensor(id: "mon-a", zone: 0, feed: .interface("wlan1mon"), captureBufferMiB: 4))
        settings.sensors.append(Sensor(id: "mon-b", zone: 1, feed: .interface("wlan1mon"), captureBufferMiB: 32))
        let (sources, _) = SourcePlan.sources(for: settings)
        #expect(sources.map(\.name) == ["tzsp:lo:37008", "tzsp:eth0:37008", "wlan1mon"])
        #expect(sources.map(\.captureBufferMiB) == [64, Sensor.defaultCaptureBufferMiB, 32])
        #expect(sources[0].captureBufferBytes == 64 << 20)
    }

    /// libpcap on Linux maps its TPACKET_V3 ring from the packet socket; the mapping's size is
    /// the buffer the kernel fills while footfall is busy. The source is opened by the factory
    /// `footfall run` uses, from the plan of a configuration, so the whole path is checked.
    @Test(
        "the capture run opens maps a kernel ring of exactly buffer_mib",
        .enabled(if: geteuid() == 0, "skipped: needs root for live capture on lo (CI runs the tests as root)")
    )
    func theCaptureRunOpensMapsAKernelRingOfExactlyBufferMiB() throws {
        var settings = twoZoneSettings()
        // A port no other test uses, and a size no default capture has.
        for i in settings.sensors.indices {
            if case .tzsp(let interface, _, let sender) = settings.sensors[i].feed {
                settings.sensors[i].feed = .tzsp(interface: interface, port: 37_911, senderAddress: sender)
            }
        }
        settings.sensors[1].captureBufferMiB = 8
        let (sources, _) = SourcePlan.sources(for: settings)
        let spec = try #require(sources.first)
        let before = Set(Self.socketMappingSizes().map(\.range))
        let metrics = GatewayMetrics(sensorIDs: settings.sensors.map(\.id), sourceNames: [spec.name])
        let source = try PcapSourceFactory().open(spec, index: 0, ring: FrameRing(capacity: 8), metrics: metrics, logger: Logger(label: "test"))
        defer { source.stop() }
        let opened = Self.socketMappingSizes()
        let new = opened.filter { !before.contains($0.range) }.map(\.bytes)
        #expect(new == [8 << 20], "socket mappings opened: \(new)")
    }

    /// (address range, size) of every mapping of a socket in this process.
    static func socketMappingSizes() -> [(range: String, bytes: Int)] {
        guard let text = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard line.contains("socket:[") else { return nil }
            let range = line.split(separator: " ")[0]
            let ends = range.split(separator: "-").compactMap { Int($0, radix: 16) }
            guard ends.count == 2 else { return nil }
            return (String(range), ends[1] - ends[0])
        }
    }
}
