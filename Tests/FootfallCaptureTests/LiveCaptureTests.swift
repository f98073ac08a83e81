#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import FootfallCapture
import FootfallCore
import FootfallIngest

/// Opening a live interface needs root (or CAP_NET_RAW). These tests capture on the loopback
/// interface, so they run only as root; otherwise they are skipped, and say why.
private let isRoot = geteuid() == 0
private let needsRoot = "live capture needs root or CAP_NET_RAW; run the tests as root to include them"

/// Sends UDP datagrams to 127.0.0.1 from a plain socket.
private func sendUDP(_ payloads: [[UInt8]], port: UInt16) throws {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_DGRAM, 0)
    #endif
    try #require(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    for payload in payloads {
        let sent = payload.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        #expect(sent == payload.count)
    }
}

/// A TZSP datagram carrying a small probe request (transmitter 02:00:00:00:00:01).
private func tzsp(signal: Int8, encapsulation: UInt8 = 18) -> [UInt8] {
    [1, 0, 0, encapsulation, 10, 1, UInt8(bitPattern: signal), 18, 1, 6, 1]
        + [0x40, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x10, 0x00, 0x00, 0x00]
}

@Suite("Live capture", .serialized)
struct LiveCaptureTests {
    @Test(.enabled(if: isRoot, "\(needsRoot)"))
    func tzspDatagramsSentToLoopbackArriveDecodedAndBadOnesAreCounted() throws {
        // A port of its own so nothing else on the machine adds datagrams.
        let port: UInt16 = 47_008
        let source = try TZSPCapture(interface: "lo", port: port, readTimeoutMilliseconds: 100)
        #expect(source.linkType.carriesIPv4)

        let signals: [Int8] = [-40, -55, -71]
        try sendUDP(signals.map { tzsp(signal: $0) } + [tzsp(signal: -1, encapsulation: 1), [1, 0]], port: port)

        var received: [(signal: Int8?, channel: UInt8?, frame: [UInt8], sender: String)] = []
        var idleReads = 0
        // Bounded: the datagrams are already in the kernel buffer; a few empty reads mean they are lost.
        while received.count < signals.count, idleReads < 50 {
            switch try source.next() {
            case .datagram(let d):
                received.append((d.header.signalDBm, d.header.channel, Array(d.frame), d.sender.description))
            case .timeout: idleReads += 1
            case .stopped: Issue.record("capture stopped by itself"); return
            }
        }
        #expect(received.map(\.signal) == signals)
        #expect(received.allSatisfy { $0.channel == 6 && $0.sender == "127.0.0.1" && $0.frame.count == 26 && $0.frame[0] == 0x40 })

        // Drain the two bad datagrams (they follow the good ones) until they are counted.
        idleReads = 0
        while source.counters.rejected < 2, idleReads < 20 {
            if case .timeout = try source.next() { idleReads += 1 }
        }
        #expect(source.counters.unsupportedEncapsulation == 1)
        #expect(source.counters.truncatedHeader == 1)
        #expect(source.counters.decoded == 3)
        #expect(try source.statistics().received >= 5)
    }

    @Test(.enabled(if: isRoot, "\(needsRoot)"))
    func stopFromAnotherThreadEndsTheReadLoop() async throws {
        let capture = try LiveCapture(interface: "lo", filter: .udpDestinationPort(47_009), readTimeoutMilliseconds: 100)
        let reader = Task.detached { () -> Bool in
            // Until stopped; nothing is sent to this port, so every read is a timeout.
            while true {
                switch try capture.next() {
                case .stopped: return true
                case .record, .timeout: continue
                }
            }
        }
        capture.stop()
        #expect(try await reader.value)
        #expect(capture.isStopped)
        if case .stopped = try capture.next() {} else { Issue.record("a stopped capture returned something else") }
    }

    @Test(.enabled(if: isRoot, "\(needsRoot)"))
    func aProbeRequestCaptureOnANon80211InterfaceIsRejectedNamingTheLinkType() {
        let error = #expect(throws: CaptureError.self) { try LiveCapture(interface: "lo", filter: .probeRequests) }
        #expect(error?.code == .unsupportedLinkType)
        #expect(error?.message.contains("EN10MB") == true)
        #expect(error?.message.contains("monitor mode") == true)
    }

    @Test(.enabled(if: isRoot, "\(needsRoot)"))
    func aMissingInterfaceCannotBeOpenedAndTheErrorSaysWhatToDo() {
        let error = #expect(throws: CaptureError.self) { try LiveCapture(interface: "ffnone0", filter: .probeRequests) }
        #expect(error?.code == .cannotOpen)
        #expect(error?.message.contains("ffnone0") == true)
        #expect(error?.message.contains("ip link") == true)
    }

    @Test func filtersAreTheDocumentedBPFExpressions() {
        #expect(CaptureFilter.probeRequests.expression == "type mgt subtype probe-req")
        #expect(CaptureFilter.udpDestinationPort(37008).expression == "udp dst port 37008")
    }
}
