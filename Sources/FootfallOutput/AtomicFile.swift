import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error writing an output file, with what to do about it. Never contains report values.
public struct OutputError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable {
        let raw: Int
        public static let createDirectory = Code(raw: 1)
        public static let open = Code(raw: 2)
        public static let write = Code(raw: 3)
        public static let sync = Code(raw: 4)
        public static let rename = Code(raw: 5)
    }

    public var code: Code
    public var message: String
    /// The operating system's error number, when there was one.
    public var errno: Errno?

    public init(code: Code, message: String, errno: Errno? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String { message }
}

/// Writes whole files so that a reader (or a crash) never sees half of one: the bytes go to
/// a dot-prefixed temporary name in the same directory, are flushed to disk, and the file
/// is renamed into place; the directory is flushed too so the rename itself survives a
/// power cut. A failure removes the temporary file and leaves any earlier version intact,
/// so the same write can simply be tried again.
///
/// A replay, which writes thousands of hours in seconds and can simply be run again, sets
/// ``syncEachFile`` to `false` and calls ``syncFileSystem(of:)`` once at the end: two `fsync`
/// calls per file would otherwise take most of its time.
public struct AtomicFileWriter: Sendable {
    /// Mode of every file written: owner read/write, group read (the planners' group), no
    /// one else.
    public static let fileMode: FilePermissions = [.ownerReadWrite, .groupRead]

    /// Test hook: replaces the write of the file's bytes (e.g. to simulate a full disk).
    var writeBytes: @Sendable (FileDescriptor, UnsafeRawBufferPointer) throws -> Void = { fd, bytes in
        _ = try fd.writeAll(bytes)
    }

    /// Flush each file and the directory before and after its rename (the default, for
    /// live capture); when `false`, the caller flushes once with ``syncFileSystem(of:)``.
    public var syncEachFile = true

    public init(syncEachFile: Bool = true) {
        self.syncEachFile = syncEachFile
    }

    /// Flushes everything written so far to disk, with one `sync(2)` (syncfs is not in the
    /// C library interface Swift imports). `sync` reports no errors; the files were written
    /// and renamed successfully, so what could still fail is the disk itself.
    public func syncFileSystem(of directory: FilePath) {
        sync()
    }

    /// Creates `directory` (mode 0750) when it does not exist.
    public func ensureDirectory(_ directory: FilePath) throws(OutputError) {
        if mkdir(directory.string, 0o750) != 0 && lastErrno() != .fileExists {
            let e = lastErrno()
            throw OutputError(code: .createDirectory, message: "cannot create the output directory \(directory): \(e) (create it and give the footfall user write access)", errno: e)
        }
    }

    /// Creates `directory` (mode 0750) when it does not exist.
    public func ensureDirectory(path directory: String) throws(OutputError) {
        try ensureDirectory(FilePath(directory))
    }

    /// Writes `bytes` to `directory/name` atomically with mode 0640.
    public func write(_ bytes: [UInt8], to directory: FilePath, name: String) throws(OutputError) {
        let target = directory.appending(name)
        let temporary = directory.appending(".\(name).tmp-\(getpid())")
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(temporary, .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: AtomicFileWriter.fileMode)
        } catch {
            let e = error as? Errno
            throw OutputError(code: .open, message: "cannot create a file in \(directory): \(describe(error)) (check that the directory exists and is writable)", errno: e)
        }
        var failure: OutputError?
        do {
            // The umask may have taken bits off; the mode is part of the privacy promise.
            if fchmod(fd.rawValue, mode_t(AtomicFileWriter.fileMode.rawValue)) != 0 { throw lastErrno() }
            try bytes.withUnsafeBytes { try writeBytes(fd, $0) }
        } catch {
            failure = OutputError(code: .write, message: "cannot write \(name) in \(directory): \(describe(error)) (free space or fix the directory; the hour is written again on the next attempt)", errno: error as? Errno)
        }
        if failure == nil, syncEachFile, fsync(fd.rawValue) != 0 {
            let e = lastErrno()
            failure = OutputError(code: .sync, message: "cannot flush \(name) in \(directory) to disk: \(e)", errno: e)
        }
        do { try fd.close() } catch {
            if failure == nil { failure = OutputError(code: .write, message: "cannot close \(name) in \(directory): \(describe(error))", errno: error as? Errno) }
        }
        if failure == nil, rename(temporary.string, target.string) != 0 {
            let e = lastErrno()
            failure = OutputError(code: .rename, message: "cannot move \(name) into place in \(directory): \(e)", errno: e)
        }
        if let failure {
            _ = unlink(temporary.string)
            throw failure
        }
        if syncEachFile { syncDirectory(directory) }
    }

    /// Flushes the directory entry of the rename. Best effort: some file systems refuse
    /// `fsync` on directories, and the file itself is already safe.
    func syncDirectory(_ directory: FilePath) {
        guard let dir = try? FileDescriptor.open(directory, .readOnly, options: [.directory, .closeOnExec]) else { return }
        _ = fsync(dir.rawValue)
        try? dir.close()
    }

    func describe(_ error: any Error) -> String {
        if let e = error as? Errno { return "\(e)" }
        return "\(error)"
    }
}

@inline(__always)
func lastErrno() -> Errno { Errno(rawValue: errno) }
