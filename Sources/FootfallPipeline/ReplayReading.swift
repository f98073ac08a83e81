import FootfallCapture
import FootfallCore
import FootfallIngest
import HeapModule

/// The reading half of a replay: capture files → records in time order → the parser →
/// probe requests, each handed to the caller with the sensor that heard it. Counts what it
/// read in ``summary``.
///
/// Used on one thread at a time: the replay's own thread when it reads in line, or the
/// reading thread of ``Replay/processOnTwoThreads(_:handoff:core:sink:)``, which hands ``summary``
/// over when it finishes.
final class ReplayReading: @unchecked Sendable {
    private let readers: [CaptureFileReader]
    private let sensors: [Int]
    private let elements: ElementDetail
    private let progress: (any ReplayProgress)?
    private let totalBytes: Int64
    /// What was read, complete once ``read(_:)`` has returned.
    private(set) var summary = ReplaySummary()

    init(readers: [CaptureFileReader], sensors: [Int], elements: ElementDetail, progress: (any ReplayProgress)?, totalBytes: Int64) {
        precondition(!readers.isEmpty && readers.count == sensors.count)
        self.readers = readers
        self.sensors = sensors
        self.elements = elements
        self.progress = progress
        self.totalBytes = totalBytes
    }

    /// Reads every file to its end (or to the first error that is not damage), in capture
    /// time order, and hands each probe request to `deliver`.
    /// - Throws: an unreadable file, or what `deliver` throws.
    @inline(__always)
    func read(_ deliver: (consuming ProbeRequest, Int) throws(ReplayError) -> Void) throws(ReplayError) {
        // A local copy: the loop's counters stay in registers, not behind the class's
        // exclusivity checks.
        var summary = ReplaySummary()
        let linkTypes = readers.map(\.linkType)
        let elementDetail = elements
        var sinceProgress = 0
        if readers.count == 1 {
            // One file (the common case): nothing to merge, so its records go straight
            // through, in the same order and with the same steps as in the merge below.
            let reader = readers[0]
            let linkType = linkTypes[0]
            let sensor = sensors[0]
            var radiotap = RadiotapLayoutMemo()
            while let record = try Self.nextRecord(reader, summary: &summary) {
                try Self.handle(record, linkType: linkType, sensor: sensor, elements: elementDetail, radiotap: &radiotap, summary: &summary, deliver: deliver)
                tick(&sinceProgress, summary)
            }
        } else {
            // k-way merge by capture time: each file is in time order, so only the head
            // record of each file competes. A head stays valid until its reader is advanced.
            var heads: [CaptureRecord?] = Array(repeating: nil, count: readers.count)
            // One memo per file: each file's sensor writes its own radiotap fields.
            var radiotap = Array(repeating: RadiotapLayoutMemo(), count: readers.count)
            var heap = Heap<MergeKey>()
            heap.reserveCapacity(readers.count)
            for i in readers.indices {
                heads[i] = try Self.nextRecord(readers[i], summary: &summary)
                if let head = heads[i] { heap.insert(MergeKey(time: head.timestampNanos, source: i)) }
            }
            while let top = heap.min {
                let i = top.source
                guard let record = heads[i] else { _ = heap.removeMin(); continue }
                try Self.handle(record, linkType: linkTypes[i], sensor: sensors[i], elements: elementDetail, radiotap: &radiotap[i], summary: &summary, deliver: deliver)
                heads[i] = try Self.nextRecord(readers[i], summary: &summary)
                // The file's next record takes its place: one sift instead of a pop and a push.
                if let head = heads[i] {
                    _ = heap.replaceMin(with: MergeKey(time: head.timestampNanos, source: i))
                } else {
                    _ = heap.removeMin()
                }
                tick(&sinceProgress, summary)
            }
        }
        // Records whose time cannot be right were dropped by the readers: damaged input.
        for reader in readers {
            summary.implausibleTimes += reader.implausibleTimes
            summary.outlierTimes += reader.outlierTimes
            summary.damage += reader.droppedTimeMessages
        }
        self.summary = summary
    }

    /// One record, whichever file it came from: parse it in place and hand over a probe
    /// request.
    @inline(__always)
    static func handle(
        _ record: CaptureRecord,
        linkType: LinkType,
        sensor: Int,
        elements elementDetail: ElementDetail,
        radiotap: inout RadiotapLayoutMemo,
        summary: inout ReplaySummary,
        deliver: (consuming ProbeRequest, Int) throws(ReplayError) -> Void
    ) throws(ReplayError) {
        summary.bytesRead += Int64(record.bytes.count) + 16
        let result = FrameParser.parse(record.bytes, linkType: linkType, timestampNanos: record.timestampNanos, counters: &summary.parse, elements: elementDetail, radiotap: &radiotap)
        switch consume result {
        case .probeRequest(let request):
            try deliver(request, sensor)
        case .other:
            break
        case .malformed:
            break
        }
    }

    /// Progress every 4,096 records (only on a terminal).
    @inline(__always)
    private func tick(_ sinceProgress: inout Int, _ summary: ReplaySummary) {
        sinceProgress += 1
        guard sinceProgress >= 4096, let progress else { return }
        sinceProgress = 0
        progress.update(bytesRead: summary.bytesRead, totalBytes: totalBytes, frames: summary.parse.frames)
    }

    /// Called once per record: it takes no `ReplayInput`, whose two strings would be
    /// retained and released around every call (the error message already names the file).
    @inline(__always)
    static func nextRecord(_ reader: CaptureFileReader, summary: inout ReplaySummary) throws(ReplayError) -> CaptureRecord? {
        do {
            return try reader.next()
        } catch {
            if error.code == .truncated || error.code == .readFailed {
                // Everything before the damage has been read; the rest of the file is lost.
                summary.truncatedFiles += 1
                summary.damage.append(error.message)
                return nil
            }
            throw ReplayError(error.message)
        }
    }
}
