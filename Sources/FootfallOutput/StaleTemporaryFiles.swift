#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary files ``AtomicFileWriter`` writes before renaming them into place
/// (`.NAME.tmp-PID`), and which of them a process left behind when it was killed mid-write.
///
/// Why: `kill -9` (or a power cut) between creating the temporary file and its rename leaves
/// it in the output directory. It is never a published file (nothing reads dot files), but
/// `audit` rightly objects to any file that is not footfall's, and it would stay there
/// forever. Every start removes those of processes that no longer run; a file of a process
/// still running is being written right now and is left alone.
public enum StaleTemporaryFiles {
    /// The process id in a temporary file's name, or `nil` when `name` is not one.
    public static func writerProcess(of name: String) -> Int32? {
        guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards) else { return nil }
        let digits = name[marker.upperBound...]
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let pid = Int32(digits), pid > 0 else { return nil }
        return pid
    }

    /// Whether process `pid` runs now (`kill(pid, 0)`; EPERM means it runs as another user).
    public static func isRunning(_ pid: Int32) -> Bool {
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Removes, in `directory`, every temporary file whose writer no longer runs.
    /// - Returns: the names removed (dated file names, never data).
    @discardableResult
    public static func remove(in directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var removed: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = writerProcess(of: name), !isRunning(pid) else { continue }
            if unlink(directory + "/" + name) == 0 { removed.append(name) }
        }
        return removed.sorted()
    }
}
