import FootfallCapture
import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallOutput
import FootfallPlatform
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
///
/// Three threads: the capture files are read and parsed on one (``ReplayReading``), the
/// probe requests go through the gate, the key and the tracker on the caller's
/// (``ProbeHandoff`` carries them over, in order), and the files are written on a third
/// (``ReplayOutput``). The key and the tracker never leave the caller's thread.
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
    ///   - threads: how many threads read and process: 2 (the default where the machine has
    ///     more than one processor) reads and parses on a thread of its own
    ///     (``ProbeHandoff``); 1 does all in line. Tests compare the two.
    ///   - handoff: tests only: the batches between the two threads (to look at them after).
    static func process(settings: Settings, inputs: [ReplayInput], progress: (any ReplayProgress)?, keys injected: KeyStore?, inspect: ((borrowing Tracker, KeyStore) -> Void)?, threads: Int? = nil, handoff: ProbeHandoff? = nil, sink: (HourReport) throws(ReplayError) -> Void) throws(ReplayError) -> ReplaySummary {
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

        var core: PipelineCore
        do {
            core = try PipelineCore(settings: settings, optOut: PipelineCore.loadOptOutList(settings: settings), keys: injected)
        } catch {
            throw ReplayError(error.message)
        }

        let reading = ReplayReading(readers: readers, sensors: sensors, elements: core.elementDetail, progress: progress, totalBytes: totalBytes)
        if (threads ?? (ProcessInfo.processInfo.activeProcessorCount > 1 ? 2 : 1)) >= 2 {
            try processOnTwoThreads(reading, handoff: handoff ?? ProbeHandoff(), core: &core, sink: sink)
        } else {
            try reading.read { (request: consuming ProbeRequest, sensor: Int) throws(ReplayError) in
                try feed(request, sensor: sensor, core: &core, sink: sink)
            }
        }
        var summary = reading.summary
        // End of input is treated as a shutdown: the hour in progress is written as partial.
        for report in core.finish(inspect: inspect) { try sink(report) }
        summary.gated = core.gateCounters.dropped
        summary.tracker = core.trackerCounters
        progress?.update(bytesRead: summary.bytesRead, totalBytes: totalBytes, frames: summary.parse.frames)
        progress?.finish()
        return summary
    }

    /// Reads and parses on a thread of its own while this thread puts the probe requests
    /// through the core, in the order they were read (see ``ProbeHandoff``). Ends when the
    /// input ends (or the reading fails: then after every request read before the failure,
    /// as in line) or when `sink` fails (then the reading thread is stopped first).
    static func processOnTwoThreads(_ reading: ReplayReading, handoff: ProbeHandoff, core: inout PipelineCore, sink: (HourReport) throws(ReplayError) -> Void) throws(ReplayError) {
        let thread = Thread {
            var failure: ReplayError?
            do throws(ReplayError) {
                guard var batch = handoff.acquire() else { throw ReplayError("replay stopped") }
                var count = 0
                try reading.read { (request: consuming ProbeRequest, sensor: Int) throws(ReplayError) in
                    handoff.put(request, sensor: sensor, batch: batch, index: count)
                    count &+= 1
                    guard count == handoff.batchCapacity else { return }
                    handoff.publish(batch, count: count)
                    count = 0
                    guard let next = handoff.acquire() else { throw ReplayError("replay stopped") }
                    batch = next
                }
                if count > 0 { handoff.publish(batch, count: count) }
            } catch {
                failure = error
            }
            // A parse leaves dead copies of addresses in this thread's stack (P1).
            StackScrubber.scrub()
            handoff.finishProducing(failure)
        }
        thread.name = "footfall-replay-read"
        thread.start()

        while let (batch, count) = handoff.take() {
            for index in 0..<count {
                do throws(ReplayError) {
                    try feed(handoff.request(batch: batch, index: index), sensor: handoff.sensor(batch: batch, index: index), core: &core, sink: sink)
                } catch {
                    handoff.release(batch)
                    handoff.cancel()
                    throw error
                }
            }
            handoff.release(batch)
        }
        if let failure = handoff.producerFailure { throw failure }
    }

    /// One probe request through the core; the hours it closed go to `sink`, oldest first.
    @inline(__always)
    static func feed(_ request: consuming ProbeRequest, sensor: Int, core: inout PipelineCore, sink: (HourReport) throws(ReplayError) -> Void) throws(ReplayError) {
        core.process(request, sensor: sensor)
        if core.hasClosedHours {
            for report in core.takeClosedHours() { try sink(report) }
        }
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
