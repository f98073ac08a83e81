import FootfallCore
import FootfallAggregate
import Foundation

/// The names of footfall's own output files, and the period each one covers.
///
/// Accepted: `daily-YYYY-MM-DD.csv` (a day's distinct counts), and `heatmap-<date>.csv`,
/// `flows-<date>.csv` where `<date>` is `YYYY-MM-DD`
/// optionally followed by `THH` (one file per hour) and an optional suffix of time or offset
/// characters (digits, `:`, `+`, `-`, `Z`), e.g. `heatmap-2024-03-07T14.csv`,
/// `flows-2024-03-07T14+0100.csv`, `heatmap-2024-03-07.csv`. The date and hour are the site's
/// local time; for retention they are read as UTC, which moves the deletion by at most the
/// UTC offset (≤ 14 h) against a retention of days.
public struct OutputFileName: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case heatmap
        case flows
        /// `daily-YYYY-MM-DD.csv`: a day's distinct counts.
        case daily
    }

    public var kind: Kind
    /// Start of the period the file covers, seconds since the Unix epoch (name read as UTC).
    public var periodStart: Int64
    /// Length of the period: 3600 when the name has an hour, 86400 otherwise.
    public var periodSeconds: Int64

    /// Parses a file name (no directory); `nil` when it is not one of footfall's output files.
    public init?(_ name: String) {
        guard name.hasSuffix(".csv") else { return nil }
        let stem = name.dropLast(4)
        let rest: Substring
        if stem.hasPrefix("heatmap-") {
            kind = .heatmap
            rest = stem.dropFirst(8)
        } else if stem.hasPrefix("flows-") {
            kind = .flows
            rest = stem.dropFirst(6)
        } else if stem.hasPrefix("daily-") {
            kind = .daily
            rest = stem.dropFirst(6)
            guard rest.utf8.count == 10 else { return nil }
        } else {
            return nil
        }
        let chars = Array(rest.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= chars.count else { return nil }
            var v = 0
            for i in range {
                let c = chars[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard chars.count >= 10, chars[4] == UInt8(ascii: "-"), chars[7] == UInt8(ascii: "-"),
              let year = number(0 ..< 4), let month = number(5 ..< 7), let day = number(8 ..< 10),
              (1 ... 12).contains(month), (1 ... 31).contains(day)
        else { return nil }
        var hour: Int?
        var index = 10
        if index < chars.count {
            guard chars[index] == UInt8(ascii: "T"), let h = number(11 ..< 13), (0 ... 23).contains(h) else { return nil }
            hour = h
            index = 13
            let allowed = Set("0123456789:+-Z".utf8)
            guard chars[index...].allSatisfy({ allowed.contains($0) }) else { return nil }
        }
        let days = LocalTime.days(fromCivil: year, month: month, day: day)
        periodStart = days * 86400 + Int64((hour ?? 0) * 3600)
        periodSeconds = hour == nil ? 86400 : 3600
    }

    /// The file is past retention: its whole period ended more than `days` days before `now`.
    public func isExpired(retentionDays days: Int, now: Int64) -> Bool {
        periodStart + periodSeconds + Int64(days) * 86400 <= now
    }
}

/// Deletes footfall's own output files once they are past retention (P17).
public enum Retention {
    public struct Result: Sendable, Equatable {
        /// Names of the files deleted (dates only; output file names carry nothing else).
        public var deleted: [String]
        /// Output files kept because they are still within retention.
        public var kept: Int
    }

    /// Deletes `heatmap-*.csv`, `flows-*.csv` and `daily-*.csv` files (see ``OutputFileName``) in `directory`
    /// whose period ended more than `olderThanDays` days before `now`. Nothing else is touched:
    /// not other files, not symbolic links, not subdirectories.
    /// - Parameters:
    ///   - directory: the output directory.
    ///   - olderThanDays: ``FootfallCore/OutputSettings/retentionDays``; must be ≥ 1.
    ///   - now: seconds since the Unix epoch.
    ///   - protected: names kept whatever their age: the hours the chain's database has not
    ///     acknowledged yet (``ShippingJournal/unshippedFileNames()``), which would otherwise
    ///     be lost to the chain by a long outage.
    /// - Throws: ``RetentionError`` for a retention below one day; file-system errors as thrown
    ///   by `FileManager` (files deleted before the error stay deleted).
    /// - Returns: what was deleted and how many output files were kept.
    public static func sweep(directory: String, olderThanDays: Int, now: Int64, keeping protected: Set<String> = []) throws -> Result {
        guard olderThanDays >= 1 else {
            throw RetentionError(message: "output.retention_days must be at least 1 (got \(olderThanDays))")
        }
        let fm = FileManager.default
        var result = Result(deleted: [], kept: 0)
        for name in try fm.contentsOfDirectory(atPath: directory).sorted() {
            guard let file = OutputFileName(name) else { continue }
            let path = directory + "/" + name
            let type = try fm.attributesOfItem(atPath: path)[.type] as? FileAttributeType
            guard type == .typeRegular else { continue }
            if file.isExpired(retentionDays: olderThanDays, now: now), !protected.contains(name) {
                try fm.removeItem(atPath: path)
                result.deleted.append(name)
            } else {
                result.kept += 1
            }
        }
        return result
    }
}

public struct RetentionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
