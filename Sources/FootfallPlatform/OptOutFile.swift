#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import FootfallCore
import FootfallIngest

/// Watches the opt-out file (P16) so that a new entry takes effect without a restart.
///
/// The pipeline calls ``loadIfChanged()`` now and then (every few seconds of wall-clock time,
/// never per frame); when the file's modification time, size or inode changed it is read and
/// parsed again. A file that cannot be read or parsed leaves the previous list in force and
/// the error (line number only, never the text) is returned for logging.
public struct OptOutFileWatcher: Sendable {
    public let path: String
    private var stamp: Stamp?

    struct Stamp: Equatable, Sendable {
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int64
        var modifiedNanos: Int64
    }

    public init(path: String) {
        self.path = path
    }

    /// - Returns: the new list when the file changed since the last call (or on the first
    ///   call), `nil` when it did not.
    /// - Throws: ``OptOutFileError`` when it changed but could not be read or parsed.
    public mutating func loadIfChanged() throws(OptOutFileError) -> OptOutList? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw OptOutFileError(message: "opt-out file \(path): cannot read it: \(errnoText())")
        }
        #if canImport(Darwin)
        let current = Stamp(inode: UInt64(info.st_ino), size: Int64(info.st_size), modifiedSeconds: Int64(info.st_mtimespec.tv_sec), modifiedNanos: Int64(info.st_mtimespec.tv_nsec))
        #else
        let current = Stamp(inode: UInt64(info.st_ino), size: Int64(info.st_size), modifiedSeconds: Int64(info.st_mtim.tv_sec), modifiedNanos: Int64(info.st_mtim.tv_nsec))
        #endif
        if current == stamp { return nil }
        let text = try readWhole()
        do {
            let list = try OptOutList(parsing: text)
            stamp = current
            return list
        } catch {
            throw OptOutFileError(message: "opt-out file \(path): \(error.description); the previous list stays in force")
        }
    }

    /// Opt-out files are short (one line per person); anything over this is refused.
    static let maximumBytes = 16 << 20

    private func readWhole() throws(OptOutFileError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OptOutFileError(message: "opt-out file \(path): cannot open it: \(errnoText())") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw OptOutFileError(message: "opt-out file \(path): read failed: \(errnoText())")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0 ..< n])
            if bytes.count > Self.maximumBytes {
                throw OptOutFileError(message: "opt-out file \(path): larger than 16 MiB; is it the right file?")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

public struct OptOutFileError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
