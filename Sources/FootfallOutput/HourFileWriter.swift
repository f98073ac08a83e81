import FootfallCore
import FootfallAggregate
import SystemPackage

/// Writes the two files of each local hour, `heatmap-YYYY-MM-DDTHH.csv` and
/// `flows-YYYY-MM-DDTHH.csv`, named in site local time.
///
/// - The hour repeated when clocks go back would give two files the same name, so both
///   copies of that hour carry their UTC offset: `heatmap-2024-10-27T02+0200.csv` and
///   `heatmap-2024-10-27T02+0100.csv`.
/// - A partial hour (in progress at shutdown) is replaced when the same hour is written
///   again; a complete hour is never replaced by a partial one (a restarted process only
///   saw the rest of that hour under a new key).
public struct HourFileWriter: Sendable {
    public let directory: FilePath
    public let clock: HourClock
    var files = AtomicFileWriter()

    public init(directory: FilePath, clock: HourClock) {
        self.directory = directory
        self.clock = clock
    }

    public init(directory: String, clock: HourClock) {
        self.init(directory: FilePath(directory), clock: clock)
    }

    /// - Parameter syncEachFile: `false` for a replay: files are flushed to disk only by
    ///   ``syncAll()`` (see ``AtomicFileWriter``).
    public init(directory: String, clock: HourClock, syncEachFile: Bool) {
        self.init(directory: FilePath(directory), clock: clock)
        self.files = AtomicFileWriter(syncEachFile: syncEachFile)
    }

    /// Flushes every file written so far to disk, once.
    public func syncAll() {
        files.syncFileSystem(of: directory)
    }

    /// Test hook, see ``AtomicFileWriter``.
    init(directory: String, clock: HourClock, files: AtomicFileWriter) {
        self.directory = FilePath(directory)
        self.clock = clock
        self.files = files
    }

    /// `2024-03-21T14`, or `2024-10-27T02+0100` for a repeated hour.
    public func stem(hourStart: Int64, utcOffsetSeconds: Int) -> String {
        let local = LocalTime(utcSeconds: hourStart, utcOffsetSeconds: utcOffsetSeconds)
        if clock.isRepeatedHour(start: hourStart) { return local.dateAndHour + local.offsetText(separator: "") }
        return local.dateAndHour
    }

    public func heatmapName(_ hour: PublishedHour) -> String { "heatmap-\(stem(hourStart: hour.hourStart, utcOffsetSeconds: hour.utcOffsetSeconds)).csv" }
    public func flowsName(_ hour: PublishedHour) -> String { "flows-\(stem(hourStart: hour.hourStart, utcOffsetSeconds: hour.utcOffsetSeconds)).csv" }

    /// Writes both files of an hour (flows first, so a heatmap file on disk always has its
    /// flows beside it). Returns the names written; empty when a complete version of the
    /// hour is already there and this one is partial.
    /// The day files of the days that ended with the hour come after the hour's own.
    @discardableResult
    public func write(_ hour: PublishedHour) throws(OutputError) -> [String] {
        try files.ensureDirectory(directory)
        var written: [String] = []
        let heatmap = heatmapName(hour)
        // An hour without rows only carries days (``HourReport/days``).
        if !hour.zones.isEmpty, !(hour.partial && isComplete(heatmap)) {
            let flows = flowsName(hour)
            try files.write(Array(HeatmapCSV.flows(hour).utf8), to: directory, name: flows)
            try files.write(Array(HeatmapCSV.heatmap(hour).utf8), to: directory, name: heatmap)
            written = [flows, heatmap]
        }
        for day in hour.days {
            if let name = try write(day) { written.append(name) }
        }
        return written
    }

    /// Whether `name` exists and its first row says `partial` is false.
    func isComplete(_ name: String) -> Bool {
        guard let fd = try? FileDescriptor.open(directory.appending(name), .readOnly, options: [.closeOnExec]) else { return false }
        defer { try? fd.close() }
        var buffer = [UInt8](repeating: 0, count: 4096)
        guard let count = try? buffer.withUnsafeMutableBytes({ try fd.read(into: $0) }), count > 0 else { return false }
        let text = String(decoding: buffer[..<count], as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard lines.count >= 2 else { return false }
        return lines[1].hasSuffix(",false")
    }
}
