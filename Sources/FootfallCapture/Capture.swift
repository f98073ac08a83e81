import FootfallCore
import FootfallIngest

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
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: Int
        /// The file or interface could not be opened (missing, no permission, not a capture).
        public static let cannotOpen = Code(raw: 1)
        /// The file or interface does not deliver a link type footfall reads.
        public static let unsupportedLinkType = Code(raw: 2)
        /// The file ends in the middle of a record; ``CaptureError/byteOffset`` says where.
        public static let truncated = Code(raw: 3)
        /// Reading failed for another reason (I/O error, corrupt block).
        public static let readFailed = Code(raw: 4)
        /// A live interface went away (unplugged, renamed, driver reset); retry with backoff.
        public static let interfaceGone = Code(raw: 5)
        /// The BPF filter could not be compiled or installed.
        public static let filterFailed = Code(raw: 6)

        public var description: String {
            switch raw {
            case 1: "cannot_open"
            case 2: "unsupported_link_type"
            case 3: "truncated"
            case 4: "read_failed"
            case 5: "interface_gone"
            case 6: "filter_failed"
            default: "capture_error_\(raw)"
            }
        }
    }

    public var code: Code
    public var message: String
    /// For `.truncated` and `.readFailed`: offset in the file of the record that could not be
    /// read whole (the start of its record header or pcapng block).
    public var byteOffset: Int64?

    public init(code: Code, message: String, byteOffset: Int64? = nil) {
        self.code = code
        self.message = message
        self.byteOffset = byteOffset
    }

    public var description: String { message }
}

extension CaptureError: FootfallErrorConvertible {
    /// A capture damaged part-way (everything before the damage was used) is damaged input;
    /// one that cannot be read at all, or is not 802.11, is unreadable input.
    public var footfallError: FootfallError {
        FootfallError(code: code == .truncated || code == .readFailed ? .data : .noInput, message: message)
    }
}
