import Foundation
import Testing

/// P11: footfall only listens. No source file calls anything that transmits a frame.
@Suite("P11 passive only")
struct PassiveOnlyTests {
    /// Calls and constants that send 802.11 or link-layer frames: libpcap's injection calls
    /// and raw or packet sockets. (UDP reception for TZSP uses none of these.)
    static let forbidden = ["pcap_inject", "pcap_sendpacket", "pcap_sendqueue", "SOCK_RAW", "AF_PACKET", "PF_PACKET", "ETH_P_ALL", "libnet_write", "NL80211_CMD_FRAME"]

    @Test func sourcesContainNoPacketInjectionCalls() {
        let files = swiftFiles(under: sourcesDirectory)
        #expect(files.count > 10)
        for (path, text) in files {
            for name in Self.forbidden {
                #expect(!text.contains(name), "\(path) mentions \(name)")
            }
        }
    }
}
