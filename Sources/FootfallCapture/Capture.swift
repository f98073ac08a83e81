import FootfallCore

/// One record of a capture, borrowed from libpcap's buffer: valid only until the next call
/// to the reader that returned it.
public struct CaptureRecord {
    /// The captured bytes (`caplen`).
    public var bytes: UnsafeRawBufferPointer
    /// Capture time, nanoseconds since the Unix epoch.
    public var timestampNanos: Int64

    public init(bytes: UnsafeRawBufferPointer, timestampNanos: Int64) {
        self.bytes = bytes
        self.timestampNanos = timestampNanos
    }
}

/// An error from a capture source, with a message that says what to do. Never contains
/// frame contents.
public struct CaptureError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable {
        let raw: Int
        public static let cannotOpen = Code(raw: 1)
        public static let unsupportedLinkType = Code(raw: 2)
        /// The file ends in the middle of a record; ``CaptureError/byteOffset`` says where.
        public static let truncated = Code(raw: 3)
        public static let readFailed = Code(raw: 4)
        public static let interfaceGone = Code(raw: 5)
        public static let filterFailed = Code(raw: 6)
    }

    public var code: Code
    public var message: String
    /// For `.truncated`: offset in the file of the record that could not be read whole.
    public var byteOffset: Int64?

    public init(code: Code, message: String, byteOffset: Int64? = nil) {
        self.code = code
        self.message = message
        self.byteOffset = byteOffset
    }

    public var description: String { message }
}

/// Reads a pcap or pcapng file record by record (pull-based, so several files can be
/// merged by time). Placeholder: the libpcap implementation replaces it.
public final class CaptureFileReader {
    public let path: String
    public let linkType: LinkType

    /// Opens the file; throws `.cannotOpen` or `.unsupportedLinkType` (naming the link type).
    public init(path: String) throws(CaptureError) {
        self.path = path
        self.linkType = .ieee80211Radiotap
        throw CaptureError(code: .cannotOpen, message: "\(path): capture reading is not built yet")
    }

    /// The next record, or `nil` at the end of the file. Throws `.truncated` (with the byte
    /// offset) when the file ends mid-record: every record before it has been returned.
    public func next() throws(CaptureError) -> CaptureRecord? { nil }
}
