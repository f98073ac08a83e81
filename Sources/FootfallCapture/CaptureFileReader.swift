import CPcap
import FootfallCore
import FootfallIngest

/// Reads a pcap or pcapng file record by record (pull-based, so several files can be
/// merged by time).
///
/// Records are borrowed, not copied: a ``CaptureRecord`` is valid only until the next call
/// to ``next()``. Classic pcap files are mapped into memory and walked in place
/// (``MappedPcapFile``); pcapng and unusual variants are read through libpcap's buffer.
/// Timestamps are read with nanosecond precision whatever the file stores (microsecond files
/// are scaled).
public final class CaptureFileReader {
    public let path: String
    public let linkType: LinkType
    /// Records returned so far.
    public var recordsRead: Int { recordCount }
    /// Private, so the optimiser sees every access and needs no run-time exclusivity check
    /// for the increment per record (a public stored `var` of a class gets one).
    private var recordCount = 0

    private let handle: PcapHandle
    /// libpcap's `FILE*` for the capture, used only to learn the offset of each record.
    private let file: UnsafeMutablePointer<FILE>?
    /// Set after the end of the file or an error: `next()` then returns `nil`.
    private var finished = false
    /// Classic pcap (not pcapng): every record is a 16-byte header and `caplen` bytes, so the
    /// next record's offset follows from the last one. Asking stdio instead (`ftell`) costs
    /// an `lseek` system call per record, more than parsing the frame. Checked against
    /// `ftell` after the first record (libpcap also reads variants with longer headers).
    private var isClassicPcap: Bool
    /// libpcap's snapshot length: a record at least this long may have been cut to it by
    /// libpcap, and then its length on disk is unknown here.
    private let snapshotLength: Int
    /// Offset of the next record when known without `ftell`.
    private var nextOffset: Int64?
    /// The file mapped into memory, for classic pcap files (libpcap then only opened it).
    private let mapped: MappedPcapFile?

    /// Opens the file; throws `.cannotOpen` or `.unsupportedLinkType` (naming the link type).
    ///
    /// - Parameter path: a pcap or pcapng file whose link type is radiotap (127) or raw
    ///   802.11 (105).
    public convenience init(path: String) throws(CaptureError) {
        try self.init(path: path, mapping: true)
    }

    /// - Parameter mapping: map classic pcap files (tests turn it off to compare the two ways
    ///   of reading).
    init(path: String, mapping: Bool) throws(CaptureError) {
        let (opened, message) = withErrorBuffer { errbuf in
            pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), errbuf)
        }
        guard let opened else {
            throw CaptureError(
                code: .cannotOpen,
                message: "\(path): cannot open as a capture file (\(message)); check the path and its permissions, and that it is a pcap or pcapng file"
            )
        }
        let handle = PcapHandle(opened)
        let datalink = handle.datalink
        let linkType = LinkType(rawValue: datalink)
        guard linkType.isSupported else {
            throw CaptureError(
                code: .unsupportedLinkType,
                message: "\(path): link type \(datalink) (\(linkTypeName(datalink))) is not 802.11; footfall reads radiotap (127) or raw 802.11 (105)"
            )
        }
        self.path = path
        self.linkType = linkType
        let file = pcap_file(handle.pointer)
        // pcapng sections report their own major version (1); classic pcap files say 2.
        let isClassicPcap = pcap_major_version(handle.pointer) == 2
        self.file = file
        self.isClassicPcap = isClassicPcap
        self.snapshotLength = Int(pcap_snapshot(handle.pointer))
        self.nextOffset = isClassicPcap ? file.map { Int64(ftell($0)) } : nil
        self.mapped = isClassicPcap && mapping ? MappedPcapFile(path: path, snapshotLength: Int(pcap_snapshot(handle.pointer))) : nil
        self.handle = handle
    }

    /// The next record, or `nil` at the end of the file. Throws `.truncated` (with the byte
    /// offset) when the file ends mid-record: every record before it has been returned.
    /// After an error, further calls return `nil`.
    public func next() throws(CaptureError) -> CaptureRecord? {
        guard !finished else { return nil }
        // Optional chaining borrows the stored reference; `if let` would retain and release
        // it on every record.
        if let next = mapped?.next() {
            switch next {
            case .record(let bytes, let timestampNanos):
                recordCount += 1
                return CaptureRecord(bytes: bytes, timestampNanos: timestampNanos)
            case .end:
                finished = true
                return nil
            case .truncated(let offset, let reason):
                finished = true
                throw truncatedError(reason: reason, offset: offset)
            case .invalid(let offset, let reason):
                finished = true
                throw readFailedError(reason: reason, offset: offset)
            }
        }
        // Where the next record (pcap record header or pcapng block) starts. libpcap reads the
        // file sequentially with stdio, so ftell is the logical position for both formats;
        // classic pcap needs it only once (see `isClassicPcap`).
        let offset: Int64? = nextOffset ?? file.map { Int64(ftell($0)) }
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        let status = pcap_next_ex(handle.pointer, &header, &data)
        if status == 1, let header, let data {
            recordCount += 1
            let captured = Int(header.pointee.caplen)
            if isClassicPcap, captured < snapshotLength, let offset {
                nextOffset = offset &+ 16 &+ Int64(captured)
                if recordsRead == 1, let file, Int64(ftell(file)) != nextOffset {
                    isClassicPcap = false
                    nextOffset = nil
                }
            } else {
                nextOffset = nil
            }
            // pcap_open_offline_with_tstamp_precision(…NANO…) puts nanoseconds in tv_usec.
            return CaptureRecord(
                bytes: UnsafeRawBufferPointer(start: data, count: captured),
                timestampNanos: timestampNanos(seconds: header.pointee.ts.tv_sec, fraction: header.pointee.ts.tv_usec, fractionUnit: 1)
            )
        }
        finished = true
        if status == PCAP_ERROR_BREAK { return nil } // end of file
        let reason = handle.lastError
        // libpcap reports a short read as "truncated dump file" (pcap) or "truncated pcapng
        // dump file" (pcapng); anything else is a damaged or unreadable file.
        if reason.contains("truncated") { throw truncatedError(reason: reason, offset: offset) }
        throw readFailedError(reason: reason, offset: offset)
    }

    private func truncatedError(reason: String, offset: Int64?) -> CaptureError {
        let at = offset.map { " at byte offset \($0)" } ?? ""
        return CaptureError(
            code: .truncated,
            message: "\(path): the file ends in the middle of the record\(at) (\(reason)); the \(recordsRead) records before it were read. The file was probably cut short while it was written or copied",
            byteOffset: offset
        )
    }

    private func readFailedError(reason: String, offset: Int64?) -> CaptureError {
        let at = offset.map { " at byte offset \($0)" } ?? ""
        return CaptureError(
            code: .readFailed,
            message: "\(path): cannot read the record\(at) (\(reason)); the \(recordsRead) records before it were read. The file is damaged",
            byteOffset: offset
        )
    }
}
