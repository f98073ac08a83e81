import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The hour files are the outbox of the chain's database; this journal, kept next to them as
/// `.footfall-shipped`, says which of them the database has acknowledged.
///
/// One line per acknowledged hour: `<heatmap file name> <fingerprint>`, where the fingerprint
/// covers the bytes of the hour's heatmap and flows files. An hour is pending while its files
/// have no line with their current fingerprint, so a partial hour rewritten as final is
/// pending again, and an hour whose line was lost (a crash before the line reached the disk,
/// a deleted journal) is simply shipped again: shipping is idempotent, so the journal may
/// forget but never needs to be exact.
///
/// Lines are appended (`O_APPEND`), so a kill leaves at most a torn last line, which ``load()``
/// ignores; they reach the disk with one ``sync()`` per round rather than one `fsync` per
/// hour, since a line lost to a power cut only means that hour is shipped again, harmlessly.
/// The journal holds file names and fingerprints only.
public struct ShippingJournal: Sendable {
    public static let fileName = ".footfall-shipped"

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    var path: String { directory + "/" + ShippingJournal.fileName }

    /// An hour whose files are not acknowledged in their current version.
    public struct PendingHour: Sendable, Equatable {
        public var heatmapName: String
        public var flowsName: String
        public var fingerprint: String
        /// Start of the hour as named (local date and hour read as UTC); for ordering only.
        public var periodStart: Int64
    }

    /// The acknowledged fingerprint of each heatmap file name (the last line wins).
    public func load() -> [String: String] {
        guard let bytes = ShippingJournal.readAll(path) else { return [:] }
        var result: [String: String] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let parts = line.split(separator: UInt8(ascii: " "))
            guard parts.count == 2 else { continue }
            let name = String(decoding: parts[0], as: UTF8.self)
            let fingerprint = String(decoding: parts[1], as: UTF8.self)
            guard OutputFileName(name)?.kind == .heatmap, fingerprint.utf8.count == 16,
                  fingerprint.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
            else { continue }
            result[name] = fingerprint
        }
        return result
    }

    /// Every hourly heatmap file of the directory (with its flows file) not acknowledged in its
    /// current version, oldest first. Files that vanish or cannot be read while listing are
    /// left out; they are looked at again next time.
    public func pending() throws(OutputError) -> [PendingHour] {
        let acknowledged = load()
        return try allHours().filter { acknowledged[$0.heatmapName] != $0.fingerprint }
    }

    /// Every hourly heatmap file of the directory in its current version, oldest first.
    public func allHours() throws(OutputError) -> [PendingHour] {
        var result: [PendingHour] = []
        for name in try ShippingJournal.list(directory) {
            guard let file = OutputFileName(name), file.kind == .heatmap, file.periodSeconds == 3600 else { continue }
            guard let hour = current(heatmapName: name, periodStart: file.periodStart) else { continue }
            result.append(hour)
        }
        return result.sorted { ($0.periodStart, $0.heatmapName) < ($1.periodStart, $1.heatmapName) }
    }

    /// The current version of one hour, or `nil` when its heatmap file cannot be read.
    func current(heatmapName: String, periodStart: Int64) -> PendingHour? {
        let flowsName = "flows-" + heatmapName.dropFirst("heatmap-".count)
        guard let heatmap = ShippingJournal.readAll(directory + "/" + heatmapName) else { return nil }
        let flows = ShippingJournal.readAll(directory + "/" + flowsName) ?? []
        return PendingHour(heatmapName: heatmapName, flowsName: flowsName, fingerprint: ShippingJournal.fingerprint(heatmap, flows), periodStart: periodStart)
    }

    /// Records that the database holds `hour` in the version fingerprinted: one line,
    /// appended (see ``sync()`` for when it reaches the disk).
    public func acknowledge(_ hour: PendingHour) throws(OutputError) {
        let line = Array("\(hour.heatmapName) \(hour.fingerprint)\n".utf8)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            let e = lastErrno()
            throw OutputError(code: .open, message: "cannot open the shipping journal \(path): \(e)", errno: e)
        }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else {
            let e = lastErrno()
            throw OutputError(code: .write, message: "cannot write the shipping journal \(path): \(e)", errno: e)
        }
    }

    /// Flushes the journal to disk (once per round of shipping).
    public func sync() {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// Rewrites the journal (atomically) without the lines of files that no longer exist, so
    /// it stays as small as the directory. Called at start and after retention.
    public func compact() throws(OutputError) {
        let acknowledged = load()
        guard !acknowledged.isEmpty else { return }
        let present = Set((try? ShippingJournal.list(directory)) ?? [])
        let kept = acknowledged.filter { present.contains($0.key) }.sorted { $0.key < $1.key }
        let text = kept.map { "\($0.key) \($0.value)\n" }.joined()
        try AtomicFileWriter().write(Array(text.utf8), to: FilePath(directory), name: ShippingJournal.fileName)
    }

    /// The names of the files (heatmap and flows) of every hour not acknowledged in its
    /// current version: retention keeps them while a database is configured.
    public func unshippedFileNames() throws(OutputError) -> Set<String> {
        var names = Set<String>()
        for hour in try pending() {
            names.insert(hour.heatmapName)
            names.insert(hour.flowsName)
        }
        return names
    }

    /// FNV-1a (64 bit) over both files, with the heatmap's length mixed in so that bytes cannot
    /// move from one file to the other unnoticed. A change detector, not a secret: the files
    /// are already public to whoever may read the directory.
    static func fingerprint(_ heatmap: [UInt8], _ flows: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        for b in heatmap { mix(b) }
        var length = UInt64(heatmap.count)
        for _ in 0 ..< 8 { mix(UInt8(truncatingIfNeeded: length)); length >>= 8 }
        for b in flows { mix(b) }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func list(_ directory: String) throws(OutputError) -> [String] {
        guard let dir = opendir(directory) else {
            let e = lastErrno()
            throw OutputError(code: .open, message: "cannot list the output directory \(directory): \(e)", errno: e)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The whole file, or `nil` when it cannot be opened or read. Hour files are small
    /// (a few KiB); anything over 64 MiB is not one of them and is not read.
    static func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { return result }
            result.append(contentsOf: buffer[..<n])
            if result.count > 64 << 20 { return nil }
        }
    }
}
