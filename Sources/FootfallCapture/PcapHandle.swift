import CPcap

/// Owns one `pcap_t*` and closes it exactly once, when the owner goes away.
///
/// `~Copyable` so the handle cannot be duplicated and closed twice; every libpcap call in
/// footfall goes through the type that holds one of these.
struct PcapHandle: ~Copyable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        pcap_close(pointer)
    }

    /// libpcap's message for the last error on this handle (never frame contents).
    var lastError: String {
        String(cString: pcap_geterr(pointer))
    }

    /// The handle's link type (`pcap_datalink`).
    var datalink: Int32 {
        pcap_datalink(pointer)
    }
}

/// Names a link type the way libpcap does (`EN10MB`, `IEEE802_11_RADIO`), for error messages.
func linkTypeName(_ value: Int32) -> String {
    if let name = pcap_datalink_val_to_name(value) {
        return String(cString: name)
    }
    return "unknown"
}

/// Runs `body` with a zeroed buffer of `PCAP_ERRBUF_SIZE` bytes and returns its text.
func withErrorBuffer<R>(_ body: (UnsafeMutablePointer<CChar>) -> R) -> (R, String) {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(PCAP_ERRBUF_SIZE)) { buffer in
        let base = buffer.baseAddress!
        base.initialize(repeating: 0, count: buffer.count)
        let result = body(base)
        base[buffer.count - 1] = 0
        return (result, String(cString: base))
    }
}

/// Nanoseconds since the Unix epoch from a pcap timestamp whose fraction is in `fractionUnit`
/// nanoseconds (1 for nanosecond precision, 1000 for microsecond precision).
@inline(__always)
func timestampNanos(seconds: Int, fraction: Int, fractionUnit: Int64) -> Int64 {
    Int64(seconds) &* 1_000_000_000 &+ Int64(fraction) &* fractionUnit
}
