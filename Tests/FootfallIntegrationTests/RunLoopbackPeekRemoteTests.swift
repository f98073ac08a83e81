#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import FootfallTestSupport
import Foundation
import Testing

/// Runs the built `footfall run` against config/examples/peekremote-loopback.yaml and feeds
/// it real probe requests as PEEKREMOTE datagrams on loopback: one access point sends the
/// legacy header, the other the version 2 header; a third, unconfigured address and a
/// datagram with a broken header must not change the counts.
@Suite("footfall run over PEEKREMOTE on loopback", .serialized)
struct RunLoopbackPeekRemoteTests {
    static let packageRoot = Tools.packageRoot

    @Test(
        "the partial hour counts exactly the devices sent by both header formats, and nothing identifies them",
        .enabled(if: RunLoopbackTests.canCapture, "skipped: needs root for live capture on lo (CI runs the tests as root)")
    )
    func partialHourCountsEveryDeviceSentByBothHeaderFormats() throws {
        let frames = try RunLoopbackTests.probeRequests(in: Self.packageRoot.appendingPathComponent("Tests/Fixtures/brno-sc6-61/2024-03-07_position_2.pcap"), perDevice: 3)
        let devices = Array(Set(frames.map(\.source))).sorted()
        let entrance = Set(devices.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        let checkout = Set(devices).subtracting(entrance)
        try #require(entrance.count >= 5 && checkout.count >= 5)
        // Devices only the unconfigured sender reports: they must not be counted anywhere.
        let strangers: [UInt64] = [0x001B_6300_7701, 0x001B_6300_7702]

        RunLoopbackTests.waitUntilNotNearHourBoundary()

        let run = try LoopbackRun(config: "config/examples/peekremote-loopback.yaml")
        defer { run.cleanUp() }

        let legacyAP = try UDPSender(bindTo: "127.0.0.4")
        let version2AP = try UDPSender(bindTo: "127.0.0.5")
        let unknownAP = try UDPSender(bindTo: "127.0.0.6")
        for frame in frames {
            if entrance.contains(frame.source) {
                try legacyAP.send(Self.legacy(frame.bytes, signalDBm: -45), to: "127.0.0.1", port: 5000)
            } else {
                try version2AP.send(Self.version2(frame.bytes, signalDBm: -45), to: "127.0.0.1", port: 5000)
            }
        }
        for (i, stranger) in strangers.enumerated() {
            let frame = Self.probeRequest(source: stranger, sequence: UInt16(i))
            try unknownAP.send(Self.legacy(frame, signalDBm: -40), to: "127.0.0.1", port: 5000)
        }
        // A version 2 header claiming more bytes than the datagram holds: counted, skipped.
        var broken = Self.version2(Self.probeRequest(source: strangers[0], sequence: 9), signalDBm: -40)
        broken[5 ..< 9] = [0, 0, 0x10, 0x00][...]
        try version2AP.send(broken, to: "127.0.0.1", port: 5000)
        Thread.sleep(forTimeInterval: 1)

        guard try run.stop() else { return }
        let rows = try run.heatmapRows()
        #expect(rows["ALL"]?["partial"] == "true")
        #expect(rows["ALL"]?["devices"] == "\(devices.count)")
        #expect(rows["entrance"]?["devices"] == "\(entrance.count)")
        #expect(rows["checkout"]?["devices"] == "\(checkout.count)")

        // The unknown sender is reported by its (access point) address, nothing more.
        let logText = try String(contentsOf: run.logFile, encoding: .utf8)
        #expect(logText.contains("sensors[].peekremote.sender"))
        // No sent address in any spelling (or digest) in what was written or logged, at trace level.
        let scanner = IdentifierScanner(addresses: devices + strangers)
        #expect(scanner.scan(directory: run.output).isEmpty)
        #expect(scanner.scan(logText, source: "stderr").isEmpty)
    }

    // MARK: - Datagrams (offsets as in Wireshark's packet-peekremote.c)

    /// Any FCS value: footfall cuts the 4 bytes off without checking them, as tshark does by default.
    static let fcs: [UInt8] = [0x12, 0x34, 0x56, 0x78]

    /// The 20-byte legacy header: signal dBm at 0, noise at 1, channel at 17.
    static func legacy(_ frame: [UInt8], signalDBm: Int8) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 20)
        header[0] = UInt8(bitPattern: signalDBm)
        header[1] = UInt8(bitPattern: Int8(-95))
        header[17] = 6
        return header + frame + fcs
    }

    /// The 55-byte version 2 header: magic, version 2, size 55, signal dBm at 31.
    static func version2(_ frame: [UInt8], signalDBm: Int8) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 55)
        header[0 ..< 9] = [0x00, 0xFF, 0xAB, 0xCD, 2, 0, 0, 0, 55][...]
        header[16] = 6
        header[17 ..< 21] = [0, 0, 0x09, 0x85][...] // 2437 MHz
        header[31] = UInt8(bitPattern: signalDBm)
        header[32] = UInt8(bitPattern: Int8(-95))
        return header + frame + fcs
    }

    /// A bare probe request (wildcard SSID, supported rates) from `source`.
    static func probeRequest(source: UInt64, sequence: UInt16) -> [UInt8] {
        let address = (0 ..< 6).map { UInt8(truncatingIfNeeded: source >> UInt64(8 * (5 - $0))) }
        let broadcast = [UInt8](repeating: 0xFF, count: 6)
        return [0x40, 0x00, 0x00, 0x00] + broadcast + address + broadcast
            + [UInt8(truncatingIfNeeded: sequence << 4), UInt8(truncatingIfNeeded: sequence >> 4)]
            + [0x00, 0x00, 0x01, 0x04, 0x02, 0x04, 0x0B, 0x16]
    }
}
