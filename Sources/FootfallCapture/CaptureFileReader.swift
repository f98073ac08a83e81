import CPcap
import FootfallCore
import FootfallIngest

/// Reads a pcap or pcapng file record by record (pull-based, so several files can be
/// merged by time).
///
/// Records are borrowed, not copied: a ``CaptureRecord`` is valid only until the next call
/// to ``next()``. Classic pcap files are read in 1 MiB blocks and walked in place
/// (``BufferedPcapFile``); pcapng and unusual variants are read through libpcap's buffer.
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
    /// The file read in blocks, for regular classic pcap files (libpcap then only opened it).
    private let buffered: BufferedPcapFile?

    /// Records dropped because their time is before ``earliestPlausibleNanos``: a capture
    /// clock that was never set (epoch 0) or a damaged header. They are not returned, so they
    /// change no count; the caller reports them as damage.
    public private(set) var implausibleTimes = 0
    /// Byte offset of the first such record.
    public private(set) var firstImplausibleOffset: Int64?
    /// 2000-01-01T00:00:00Z: no Wi-Fi capture footfall reads is older, and a clock that was
    /// never set says 1970. Such a record would open an hour decades before the rest and
    /// spread the real hours' averages over the gap.
    public static let earliestPlausibleNanos: Int64 = 946_684_800 * 1_000_000_000

    @inline(never)
    private func noteImplausible(at offset: Int64?) {
        implausibleTimes += 1
        if firstImplausibleOffset == nil { firstImplausibleOffset = offset }
    }

    /// Whether the file is read in blocks of its own (a regular classic pcap file) rather than
    /// streamed by libpcap.
    var isBuffered: Bool { buffered != nil }

    /// Tests only: whether the block buffer of a file read in blocks holds nothing but zeros
    /// (`nil` for a file libpcap streams).
    var readBufferIsZero: Bool? { buffered?.bufferIsZero }

    /// Tests only: whether that buffer is locked in RAM, and whether it is kept out of core
    /// dumps.
    var readBufferLockStatus: (locked: Bool, undumpable: Bool)? { buffered?.lockStatus }

    /// Opens the file; throws `.cannotOpen` or `.unsupportedLinkType` (naming the link type).
    ///
    /// - Parameter path: a pcap or pcapng file whose link type is radiotap (127) or raw
    ///   802.11 (105).
    public convenience init(path: String) throws(CaptureError) {
        try self.init(path: path, buffering: true)
    }

    /// - Parameter buffering: read regular classic pcap files in blocks of their own (tests
    ///   turn it off to compare the two ways of reading).
    init(path: String, buffering: Bool) throws(CaptureError) {
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
        // The descriptor libpcap already has open: a FIFO cannot be opened twice, and only a
        // regular file is read here (anything else is streamed by libpcap).
        self.buffered = isClassicPcap && buffering ? file.flatMap { BufferedPcapFile(descriptor: fileno($0), snapshotLength: Int(pcap_snapshot(handle.pointer))) } : nil
        self.handle = handle
    }

    /// The next record, or `nil` at the end of the file. Throws `.truncated` (with the byte
    /// offset) when the file ends mid-record: every record before it has been returned.
    /// After an error, further calls return `nil`.
    ///
    /// Records timed before 2000 and records far from the time of the records around them
    /// (see ``outlierBoundNanos``) are dropped and counted, not returned.
    public func next() throws(CaptureError) -> CaptureRecord? {
        while true {
            var record: CaptureRecord
            let offset: Int64?
            if queuedCount == 0 {
                if let error = deferredError {
                    deferredError = nil
                    throw error
                }
                guard let fresh = try nextInFile() else { return nil }
                record = fresh
                offset = lastRecordOffset
            } else {
                (record, offset) = popQueued()
            }
            let t = record.timestampNanos
            if t < CaptureFileReader.earliestPlausibleNanos {
                noteImplausible(at: offset)
                continue
            }
            // The common case: within the bound of the last record kept. One subtraction and
            // two compares per record.
            let last = lastPlausibleNanos
            let step = t &- last
            if last != .min, step <= CaptureFileReader.outlierBoundNanos, step >= -CaptureFileReader.outlierBoundNanos {
                lastPlausibleNanos = t
                return record
            }
            if judgeOutlier(&record, offset: offset) {
                noteOutlier(at: offset)
                continue
            }
            lastPlausibleNanos = t
            return record
        }
    }

    /// What ``next()`` dropped for its time, one sentence each (before 2000; far from its
    /// neighbours), naming the file and the byte offset of the first: for the commands to
    /// report as damaged input. Empty when nothing was dropped.
    public var droppedTimeMessages: [String] {
        var messages: [String] = []
        if implausibleTimes > 0 {
            let at = firstImplausibleOffset.map { " (the first at byte offset \($0))" } ?? ""
            messages.append("\(path): \(implausibleTimes) records with a time before 2000-01-01 were dropped\(at); the capture's clock was not set or the record headers are damaged")
        }
        if outlierTimes > 0 {
            let at = firstOutlierOffset.map { " (the first at byte offset \($0))" } ?? ""
            messages.append("\(path): \(outlierTimes) records timed more than 1 h away from the records around them were dropped\(at); their headers are damaged or the capture's clock jumped and came back")
        }
        return messages
    }

    // MARK: - Records far from their neighbours

    /// How far a record's time may be from the last record kept before the records after it
    /// are looked at: 1 h. Frames of a capture come in time order, a few milliseconds apart;
    /// a record a day or a year away from both its neighbours is a damaged header (or a clock
    /// that jumped and came back), and counting it would open an hour a day away and make
    /// every later frame "late".
    public static let outlierBoundNanos: Int64 = 3600 * 1_000_000_000
    /// How many records after a far one decide whether it is alone: up to this many
    /// consecutive damaged records are recognised as such.
    static let lookAheadRecords = 8

    /// Records dropped because their time is more than ``outlierBoundNanos`` from the last
    /// record kept while a record after them returns to that time (or no record after them
    /// agrees with it). They change no count; the caller reports them as damage.
    public private(set) var outlierTimes = 0
    /// Byte offset of the first such record.
    public private(set) var firstOutlierOffset: Int64?

    /// Time of the last record returned; `.min` before the first.
    private var lastPlausibleNanos = Int64.min
    /// Copies of records read ahead (and of the far record itself), in a ring of
    /// ``lookAheadRecords`` + 2 slots allocated the first time a record is far from its
    /// predecessor: nothing is copied or allocated for records in time order.
    private var slots: [HeldRecord] = []
    /// Ring position of the first queued record, and how many are queued.
    private var queueHead = 0
    private var queuedCount = 0
    /// An error met while reading ahead, thrown once the records before it are returned.
    private var deferredError: CaptureError?

    /// One allocation for every slot's first 4 KiB (a frame rarely needs more).
    private var pool: UnsafeMutableRawBufferPointer?

    private struct HeldRecord {
        var storage: UnsafeMutableRawBufferPointer
        /// Allocated for this slot alone (it outgrew its part of the pool).
        var ownsStorage = false
        var count = 0
        var timestampNanos: Int64 = 0
        var offset: Int64?
    }

    deinit {
        for slot in slots where slot.ownsStorage { slot.storage.deallocate() }
        pool?.deallocate()
    }

    @inline(never)
    private func noteOutlier(at offset: Int64?) {
        outlierTimes += 1
        if firstOutlierOffset == nil { firstOutlierOffset = offset }
    }

    /// Out of line: inlined into ``next()``, its read of `slots` became a run-time exclusivity
    /// check at the start of every call, though records are queued only around a far one.
    @inline(never)
    private func popQueued() -> (CaptureRecord, Int64?) {
        let slot = slots[queueHead]
        queueHead = (queueHead + 1) % slots.count
        queuedCount -= 1
        return (CaptureRecord(bytes: UnsafeRawBufferPointer(start: slot.storage.baseAddress, count: slot.count), timestampNanos: slot.timestampNanos), slot.offset)
    }

    /// Copies `bytes` into ring slot `index` (growing it when too small).
    private func store(_ bytes: UnsafeRawBufferPointer, timestampNanos: Int64, offset: Int64?, in index: Int) {
        if slots[index].storage.count < bytes.count {
            if slots[index].ownsStorage { slots[index].storage.deallocate() }
            slots[index].storage = .allocate(byteCount: bytes.count, alignment: 8)
            slots[index].ownsStorage = true
        }
        if let base = bytes.baseAddress, bytes.count > 0 {
            slots[index].storage.baseAddress!.copyMemory(from: base, byteCount: bytes.count)
        }
        slots[index].count = bytes.count
        slots[index].timestampNanos = timestampNanos
        slots[index].offset = offset
    }

    /// `record` is far from the last record kept (or is the first): reads up to
    /// ``lookAheadRecords`` records ahead and decides. On return `record` points at a copy
    /// that stays valid until the next call to ``next()``.
    ///
    /// The rule: a record whose successors come back to within ``outlierBoundNanos`` of the
    /// last record kept, or none of whose successors is within the bound of it, is alone:
    /// damaged. A record some successor agrees with, and none returns from, starts a genuine
    /// gap (a sniffer off overnight, then on again). The first record of a file is damaged
    /// when none of its successors agrees with it.
    /// - Returns: whether `record` is damaged.
    private func judgeOutlier(_ record: inout CaptureRecord, offset: Int64?) -> Bool {
        let capacity = CaptureFileReader.lookAheadRecords + 2
        if slots.isEmpty {
            let pool = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity * 4096, alignment: 8)
            self.pool = pool
            slots.reserveCapacity(capacity)
            for i in 0 ..< capacity {
                slots.append(HeldRecord(storage: UnsafeMutableRawBufferPointer(rebasing: pool[(i * 4096) ..< ((i + 1) * 4096)])))
            }
        }
        if queuedCount == 0 {
            // Read from the file: copy it before reading on, which may reuse libpcap's buffer.
            // It takes the slot before the queue's head, where a popped record would be.
            store(record.bytes, timestampNanos: record.timestampNanos, offset: offset, in: queueHead)
            let held = slots[queueHead]
            record = CaptureRecord(bytes: UnsafeRawBufferPointer(start: held.storage.baseAddress, count: held.count), timestampNanos: held.timestampNanos)
            queueHead = (queueHead + 1) % capacity
        }
        // Fill the queue behind the held record (it sits just before the head).
        while queuedCount < CaptureFileReader.lookAheadRecords, deferredError == nil {
            let next: CaptureRecord?
            do {
                next = try nextInFile()
            } catch {
                deferredError = error
                break
            }
            guard let next else { break }
            store(next.bytes, timestampNanos: next.timestampNanos, offset: lastRecordOffset, in: (queueHead + queuedCount) % capacity)
            queuedCount += 1
        }
        let t = record.timestampNanos
        let last = lastPlausibleNanos
        let bound = CaptureFileReader.outlierBoundNanos
        func near(_ a: Int64, _ b: Int64) -> Bool {
            let d = a &- b
            return d <= bound && d >= -bound
        }
        var successors = 0
        var agrees = false
        for i in 0 ..< queuedCount {
            let u = slots[(queueHead + i) % capacity].timestampNanos
            guard u >= CaptureFileReader.earliestPlausibleNanos else { continue }
            successors += 1
            if last != .min, near(u, last) { return true }
            if near(u, t) { agrees = true }
        }
        if last == .min { return successors > 0 && !agrees }
        return !agrees
    }

    /// Offset of the record ``nextInFile()`` returned last, when known.
    private var lastRecordOffset: Int64?

    @inline(__always)
    private func nextInFile() throws(CaptureError) -> CaptureRecord? {
        guard !finished else { return nil }
        // Optional chaining borrows the stored reference; `if let` would retain and release
        // it on every record.
        if let next = buffered?.next() {
            switch next {
            case .record(let bytes, let timestampNanos, let at):
                recordCount += 1
                lastRecordOffset = Int64(at)
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
            lastRecordOffset = offset
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
