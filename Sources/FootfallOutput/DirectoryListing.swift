#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The names in a directory, or the operating system's reason why not, in its own words.
///
/// Why not `FileManager.contentsOfDirectory`: its errors describe themselves as
/// `NSCocoaErrorDomain` codes (256 for "not a directory"), which tell an operator nothing.
/// `opendir(3)`'s `errno` says "No such file or directory" or "Not a directory".
public enum DirectoryListing {
    /// - Returns: every name but `.` and `..`, sorted.
    /// - Throws: the reason, e.g. "No such file or directory".
    public static func names(in directory: String) throws(DirectoryListingError) -> [String] {
        guard let dir = opendir(directory) else {
            throw DirectoryListingError(reason: String(cString: strerror(errno)))
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

/// Why a directory could not be listed: `strerror` of the `errno` of `opendir`.
public struct DirectoryListingError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
