/// Entry point of the frame parser. (Placeholder: the radiotap and 802.11 walkers replace it.)
public enum FrameParser {
    /// Parses one captured record in place, without allocating.
    ///
    /// - Parameters:
    ///   - bytes: the record as captured (`caplen` bytes), borrowed for the call only.
    ///   - linkType: the capture's link type; must be ``LinkType/isSupported``.
    ///   - timestampNanos: capture time, nanoseconds since the Unix epoch.
    ///   - counters: updated for every record (frames, probe requests, bad FCS, other, malformed).
    /// - Returns: the probe request, or what else the record was.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer,
        linkType: LinkType,
        timestampNanos: Int64,
        counters: inout ParseCounters
    ) -> ParseResult {
        counters.frames += 1
        counters[.shortFrame] += 1
        return .malformed(.shortFrame)
    }
}
