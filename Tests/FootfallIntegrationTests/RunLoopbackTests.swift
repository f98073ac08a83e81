#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import FootfallTestSupport
import Foundation
import Testing

/// Runs the built `footfall run` against config/examples/tzsp-loopback.yaml and feeds it real
/// probe requests as TZSP datagrams from two access point addresses on loopback.
@Suite("footfall run over TZSP on loopback", .serialized)
struct RunLoopbackTests {
    static let packageRoot = Tools.packageRoot

    /// Live capture on `lo` needs root (or CAP_NET_RAW). Whenever the tests run as root
    /// (as CI does) the test runs; otherwise it is skipped with that reason.
    static var canCapture: Bool { geteuid() == 0 }

    @Test(
        "the partial hour counts exactly the devices sent, split by sender, and nothing identifies them",
        .enabled(if: RunLoopbackTests.canCapture, "skipped: needs root for live capture on lo (CI runs the tests as root)")
    )
    func partialHourCountsEveryDeviceSentAndNothingIdentifiesThem() throws {
        // Probe requests of globally administered addresses only, so the randomised-address
        // policy does not matter; each device goes through one access point.
        let frames = try Self.probeRequests(in: Self.packageRoot.appendingPathComponent("Tests/Fixtures/brno-sc6-61/2024-03-07_position_2.pcap"), perDevice: 3)
        let devices = Array(Set(frames.map(\.source))).sorted()
        let entrance = Set(devices.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        let checkout = Set(devices).subtracting(entrance)
        // Default k is 5: enough distinct devices per zone that nothing is suppressed.
        try #require(entrance.count >= 5 && checkout.count >= 5)

        // Start well inside an hour, so everything lands in the one partial hour.
        Self.waitUntilNotNearHourBoundary()

        let run = try LoopbackRun(config: "config/examples/tzsp-loopback.yaml")
        defer { run.cleanUp() }

        let fromEntrance = try UDPSender(bindTo: "127.0.0.2")
        let fromCheckout = try UDPSender(bindTo: "127.0.0.3")
        for frame in frames {
            let datagram = Self.tzsp(frame.bytes, signalDBm: -45)
            if entrance.contains(frame.source) {
                try fromEntrance.send(datagram, to: "127.0.0.1", port: 37008)
            } else {
                try fromCheckout.send(datagram, to: "127.0.0.1", port: 37008)
            }
        }
        // Let the capture thread take the datagrams out of the kernel buffer before shutdown
        // (shutdown drains too; this only makes the test independent of that bound).
        Thread.sleep(forTimeInterval: 1)

        guard try run.stop() else { return }
        let rows = try run.heatmapRows()
        #expect(rows["ALL"]?["partial"] == "true")
        #expect(rows["ALL"]?["devices"] == "\(devices.count)")
        #expect(rows["entrance"]?["devices"] == "\(entrance.count)")
        #expect(rows["checkout"]?["devices"] == "\(checkout.count)")
        // The day's totals are written at shutdown too (the key rotates daily): one partial day
        // whose devices are the hour's, as everything happened in that hour.
        let days = try FileManager.default.contentsOfDirectory(atPath: run.output.path).filter { $0.hasPrefix("daily-") }
        #expect(days.count == 1, "\(days)")
        if let day = days.first {
            let text = try String(contentsOf: run.output.appendingPathComponent(day), encoding: .utf8)
            #expect(text.contains(",ALL,\(devices.count),"), "\(text)")
            #expect(text.hasSuffix(",true\r\n"))
        }

        // Files are private to the service's group (0640).
        for name in try FileManager.default.contentsOfDirectory(atPath: run.output.path) {
            let mode = (try FileManager.default.attributesOfItem(atPath: run.output.appendingPathComponent(name).path)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o640, "\(name) has mode \(String(mode ?? 0, radix: 8))")
        }

        // No sent address in any spelling (or digest) in what was written or logged, at trace level.
        let scanner = IdentifierScanner(addresses: devices)
        #expect(scanner.scan(directory: run.output).isEmpty)
        let logText = try String(contentsOf: run.logFile, encoding: .utf8)
        #expect(!logText.isEmpty)
        #expect(scanner.scan(logText, source: "stderr").isEmpty)
    }

    // MARK: - Helpers

    /// The built `footfall` executable, found as the stats tests find it.
    static func footfallBinary() throws -> URL {
        guard let path = Footfall.binary else {
            throw TestFailure("the footfall binary was not found; run `swift build --build-tests` first or set FOOTFALL_BINARY")
        }
        return URL(fileURLWithPath: path)
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    struct Frame {
        var source: UInt64
        var bytes: [UInt8]
    }

    /// The bare 802.11 probe requests of a radiotap pcap (radiotap header stripped), from
    /// globally administered unicast sources only, at most `perDevice` per source.
    static func probeRequests(in url: URL, perDevice: Int) throws -> [Frame] {
        let bytes = [UInt8](try Data(contentsOf: url))
        func u32(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24 }
        guard bytes.count >= 24, u32(0) == 0xA1B2_C3D4, u32(20) == 127 else { throw TestFailure("\(url.lastPathComponent): expected a little-endian radiotap pcap") }
        var frames: [Frame] = []
        var seen: [UInt64: Int] = [:]
        var offset = 24
        while offset + 16 <= bytes.count {
            let caplen = u32(offset + 8)
            let start = offset + 16
            offset = start + caplen
            guard offset <= bytes.count, caplen >= 4 else { break }
            let radiotapLength = Int(bytes[start + 2]) | Int(bytes[start + 3]) << 8  // it_len, little-endian
            let frame = Array(bytes[(start + radiotapLength) ..< offset])
            // Frame control 0x40: management, probe request; addr2 at 10 ..< 16.
            guard frame.count >= 24, frame[0] & 0xFC == 0x40 else { continue }
            // Bit 0 of the first octet: group; bit 1: locally administered.
            guard frame[10] & 0x03 == 0 else { continue }
            let source = frame[10 ..< 16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard seen[source, default: 0] < perDevice else { continue }
            seen[source, default: 0] += 1
            frames.append(Frame(source: source, bytes: frame))
        }
        return frames
    }

    /// TZSP v1, type 0 (received tag list), encapsulation 18 (802.11), tag 10 (signal, dBm),
    /// end tag, then the frame; big-endian header fields.
    static func tzsp(_ frame: [UInt8], signalDBm: Int8) -> [UInt8] {
        [1, 0, 0, 18, 10, 1, UInt8(bitPattern: signalDBm), 1] + frame
    }

    /// `zone → column → value` of a heatmap file.
    static func rows(_ text: String) -> [String: [String: String]] { heatmapFileRows(text) }

    static func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
        FootfallTestSupport.waitFor(seconds: seconds, condition)
    }

    /// Hours close at the top of the hour (in every time zone footfall supports, offsets
    /// are whole quarter hours); the test keeps 30 s away from any quarter hour.
    static func waitUntilNotNearHourBoundary() {
        while true {
            let intoQuarter = Int(Date().timeIntervalSince1970) % 900
            if intoQuarter >= 5 && intoQuarter < 870 { return }
            Thread.sleep(forTimeInterval: 1)
        }
    }
}
