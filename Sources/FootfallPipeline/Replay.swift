import FootfallCapture
import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallOutput
import FootfallPlatform
import HeapModule
import Foundation

/// One `capture@sensor-id` argument of `footfall replay`.
public struct ReplayInput: Sendable, Equatable {
    public var path: String
    public var sensorID: String

    public init(path: String, sensorID: String) {
        self.path = path
        self.sensorID = sensorID
    }

    /// Splits at the last `@`, so paths may contain `@` themselves.
    public init(argument: String) throws(ReplayError) {
        guard let at = argument.lastIndex(of: "@"), at != argument.startIndex, argument.index(after: at) != argument.endIndex else {
            throw ReplayError("\"\(argument)\": expected <capture file>@<sensor id>, e.g. day1.pcap@position_1")
        }
        path = String(argument[..<at])
        sensorID = String(argument[argument.index(after: at)...])
    }
}

public struct ReplayError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The configuration file was invalid (`message` lists every problem).
    public var isConfiguration = false
    /// A capture file could not be opened or is not 802.11.
    public var isUnreadableInput = false
    /// The command line named something that does not exist (a sensor id not in the
    /// configuration): a usage error, exit status 64.
    public var isUsage = false
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ReplayError: FootfallErrorConvertible {
    public var footfallError: FootfallError {
        FootfallError(code: isConfiguration ? .configuration : isUnreadableInput ? .noInput : isUsage ? .usage : .failure, message: message)
    }
}

/// What a replay did, for the summary line. Counts only.
public struct ReplaySummary: Sendable {
    public var filesWritten: [String] = []
    public var hoursWritten = 0
    public var parse = ParseCounters()
    /// Probe requests the gate dropped (opt-out, RSSI floor, randomised policy, closed hours).
    public var gated = 0
    public var tracker = TrackerCounters()
    /// Capture files that ended in the middle of a record, or could not be read further
    /// (everything before the damage was used).
    public var truncatedFiles = 0
    /// Records dropped because their time is before 2000 (see `CaptureFileReader`).
    public var implausibleTimes = 0
    /// Records dropped because their time is more than 1 h from the records around them
    /// while those agree with each other (see `CaptureFileReader.outlierBoundNanos`).
    public var outlierTimes = 0
    /// What was wrong with each damaged file: its name and the byte offset of the damage.
    public var damage: [String] = []
    public var bytesRead: Int64 = 0

    public init() {}
}

/// Reports replay progress (a terminal bar, or nothing).
public protocol ReplayProgress: AnyObject {
    func update(bytesRead: Int64, totalBytes: Int64, frames: Int)
    func finish()
}

/// `footfall replay`: capture files → parser → gate → pseudonymiser → tracker → CSV files,
/// with event time taken from the captures. Same inputs and configuration give the same
/// files: the counts do not depend on the (random) key (but for one case of the crowd's
/// address cache, an address pushed out by four others of its set and heard again;
/// docs/crowds.md).
public enum Replay {
    /// - Parameters:
    ///   - settings: the validated configuration.
    ///   - outputDirectory: overrides `output.directory` when given.
    ///   - inputs: capture files and the sensor each was recorded by.
    ///   - progress: called every few thousand records, or `nil`.
    /// - Returns: what was read and written.
    public static func run(settings: Settings, outputDirectory: String?, inputs: [ReplayInput], progress: (any ReplayProgress)? = nil) throws(ReplayError) -> ReplaySummary {
        let clock = settings.site.clock
        // A replay can simply be run again, so its files are flushed to disk once at the end
        // rather than twice each (see AtomicFileWriter).
        let directory = outputDirectory ?? settings.output.directory
        let writer = HourFileWriter(directory: directory, clock: clock, syncEachFile: false)
        // Temporary files of an earlier run killed mid-write (see StaleTemporaryFiles).
        StaleTemporaryFiles.remove(in: directory)
        // The files are written on a second thread, in order, while reading goes on.
        let output = ReplayOutput(writer: writer, privacy: settings.privacy)
        var summary: ReplaySummary
        do {
            summary = try process(settings: settings, inputs: inputs, progress: progress) { (report: HourReport) throws(ReplayError) in
                try output.submit(report)
            }
        } catch {
            // As when writing in line: the hours that closed before the error are on disk.
            _ = try? output.finish()
            throw error
        }
        let (files, hours) = try output.finish()
        writer.syncAll()
        summary.filesWritten = files
        summary.hoursWritten = hours
        return summary
    }

    /// The pipeline of ``run(settings:outputDirectory:inputs:progress:)`` up to the tracker:
    /// every hour it closes goes to `sink`, oldest first, before suppression (shared with
    /// `footfall evaluate`, which compares the hours with hand counts and writes nothing).
    /// - Returns: what was read (`filesWritten` and `hoursWritten` are left to the sink).
    public static func process(settings: Settings, inputs: [ReplayInput], progress: (any ReplayProgress)? = nil, sink: (HourReport) throws(ReplayError) -> Void) throws(ReplayError) -> ReplaySummary {
        try process(settings: settings, inputs: inputs, progress: progress, keys: nil, inspect: nil, sink: sink)
    }

    /// - Parameters:
    ///   - keys: tests only: the key store to use instead of fresh locked memory.
    ///   - inspect: tests only: called with the tracker and the keys after the end of input,
    ///     before the keys are destroyed (to check which known devices became residents).
    static func process(settings: Settings, inputs: [ReplayInput], progress: (any ReplayProgress)?, keys injected: KeyStore?, inspect: ((borrowing Tracker, KeyStore) -> Void)?, sink: (HourReport) throws(ReplayError) -> Void) throws(ReplayError) -> ReplaySummary {
        guard !inputs.isEmpty else { throw ReplayError("no capture files given; name them as <file>@<sensor id>") }
        var sensors: [Int] = []
        for input in inputs {
            guard let index = settings.sensorIndex(id: input.sensorID) else {
                var error = ReplayError("\(input.path)@\(input.sensorID): no sensor has the id \"\(input.sensorID)\" (sensors: \(settings.sensors.map(\.id).joined(separator: ", ")))")
                error.isUsage = true
                throw error
            }
            sensors.append(index)
        }
        var readers: [CaptureFileReader] = []
        var totalBytes: Int64 = 0
        for input in inputs {
            do {
                readers.append(try CaptureFileReader(path: input.path))
            } catch {
                var failure = ReplayError(error.message)
                failure.isUnreadableInput = true
                throw failure
            }
            if let size = (try? FileManager.default.attributesOfItem(atPath: input.path))?[.size] as? NSNumber {
                totalBytes += size.int64Value
            }
        }
        var summary = ReplaySummary()

        var core: PipelineCore
        do {
            core = try PipelineCore(settings: settings, optOut: PipelineCore.loadOptOutList(settings: settings), keys: injected)
        } catch {
            throw ReplayError(error.message)
        }

        func write(_ reports: [HourReport]) throws(ReplayError) {
            for report in reports { try sink(report) }
        }

        let linkTypes = readers.map(\.linkType)
        let elementDetail = core.elementDetail
        var sinceProgress = 0
        if readers.count == 1 {
            // One file (the common case): nothing to merge, so its records go straight
            // through, in the same order and with the same steps as in the merge below.
            let reader = readers[0]
            let linkType = linkTypes[0]
            let sensor = sensors[0]
            var radiotap = RadiotapLayoutMemo()
            while let record = try nextRecord(reader, summary: &summary) {
                try handle(record, linkType: linkType, sensor: sensor, elements: elementDetail, radiotap: &radiotap, core: &core, summary: &summary, sink: sink)
                tick(&sinceProgress, progress, summary, totalBytes: totalBytes)
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
                heads[i] = try nextRecord(readers[i], summary: &summary)
                if let head = heads[i] { heap.insert(MergeKey(time: head.timestampNanos, source: i)) }
            }
            while let top = heap.min {
                let i = top.source
                guard let record = heads[i] else { _ = heap.removeMin(); continue }
                try handle(record, linkType: linkTypes[i], sensor: sensors[i], elements: elementDetail, radiotap: &radiotap[i], core: &core, summary: &summary, sink: sink)
                heads[i] = try nextRecord(readers[i], summary: &summary)
                // The file's next record takes its place: one sift instead of a pop and a push.
                if let head = heads[i] {
                    _ = heap.replaceMin(with: MergeKey(time: head.timestampNanos, source: i))
                } else {
                    _ = heap.removeMin()
                }
                tick(&sinceProgress, progress, summary, totalBytes: totalBytes)
            }
        }
        // Records whose time cannot be right were dropped by the readers: damaged input.
        for reader in readers {
            summary.implausibleTimes += reader.implausibleTimes
            summary.outlierTimes += reader.outlierTimes
            summary.damage += reader.droppedTimeMessages
        }
        // End of input is treated as a shutdown: the hour in progress is written as partial.
        try write(core.finish(inspect: inspect))
        summary.gated = core.gateCounters.dropped
        summary.tracker = core.trackerCounters
        progress?.update(bytesRead: summary.bytesRead, totalBytes: totalBytes, frames: summary.parse.frames)
        progress?.finish()
        return summary
    }

    /// One record, whichever file it came from: parse it in place, put a probe request
    /// through the core, and hand over the hours that closed.
    @inline(__always)
    static func handle(
        _ record: CaptureRecord,
        linkType: LinkType,
        sensor: Int,
        elements elementDetail: ElementDetail,
        radiotap: inout RadiotapLayoutMemo,
        core: inout PipelineCore,
        summary: inout ReplaySummary,
        sink: (HourReport) throws(ReplayError) -> Void
    ) throws(ReplayError) {
        summary.bytesRead += Int64(record.bytes.count) + 16
        let result = FrameParser.parse(record.bytes, linkType: linkType, timestampNanos: record.timestampNanos, counters: &summary.parse, elements: elementDetail, radiotap: &radiotap)
        switch consume result {
        case .probeRequest(let request):
            core.process(request, sensor: sensor)
            if core.hasClosedHours {
                for report in core.takeClosedHours() { try sink(report) }
            }
        case .other:
            break
        case .malformed:
            break
        }
    }

    /// Progress every 4,096 records (only on a terminal).
    @inline(__always)
    static func tick(_ sinceProgress: inout Int, _ progress: (any ReplayProgress)?, _ summary: ReplaySummary, totalBytes: Int64) {
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

    static func floorSeconds(_ nanos: Int64) -> Int64 {
        nanos >= 0 ? nanos / 1_000_000_000 : (nanos + 1) / 1_000_000_000 - 1
    }
}

/// A file head in the merge: ordered by (capture time, file index), so equal times come out
/// in command-line order and the merge is deterministic.
struct MergeKey: Comparable {
    var time: Int64
    var source: Int

    static func < (a: MergeKey, b: MergeKey) -> Bool {
        a.time != b.time ? a.time < b.time : a.source < b.source
    }
}
