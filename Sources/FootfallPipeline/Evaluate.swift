import FootfallConfig
import FootfallCore
import FootfallIngest
import FootfallAggregate
import Foundation

/// A ground-truth file that cannot be used, naming the file and line (never its text).
public struct EvaluationError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The configuration file was invalid.
    public var isConfiguration = false
    /// The captures and the ground truth describe different times: nothing can be compared
    /// (exit status 65, like other input that does not hold what it should).
    public var isNoOverlap = false
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension EvaluationError: FootfallErrorConvertible {
    public var footfallError: FootfallError { FootfallError(code: isConfiguration ? .configuration : isNoOverlap ? .data : .failure, message: message) }
}

/// One row of a hand-counted occupancy file.
public struct OccupancyRow: Sendable, Equatable {
    /// Seconds since the Unix epoch (UTC), with the fraction the file gave.
    public var time: Double
    /// People in the room from `time` until the next row; `nil` for `nan` (unknown).
    public var occupancy: Double?

    public init(time: Double, occupancy: Double?) {
        self.time = time
        self.occupancy = occupancy
    }
}

/// Hand counts (`datetime;occupancy`, local time of the site) turned into one mean per local hour.
public enum GroundTruth {
    /// Reads one occupancy CSV file: a header naming the columns `datetime` and `occupancy`
    /// (others are ignored), separated by `;` or `,` (whichever the header uses), then one row
    /// per change. `datetime` is local time of the site, `YYYY-MM-DD HH:MM[:SS[.ffffff]]` (a
    /// `T` in place of the space is accepted); `occupancy` is a number, or `nan` or empty
    /// for unknown.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - name: the file's name, for error messages.
    ///   - clock: the site's local hours (for the UTC offset of each row).
    /// - Throws: ``EvaluationError`` naming the file and line of the first bad row.
    public static func parse(_ text: String, name: String, clock: HourClock) throws(EvaluationError) -> [OccupancyRow] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { line in
            line.hasSuffix("\r") ? line.dropLast() : line
        }
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }
        guard let header = lines.first, !header.allSatisfy(\.isWhitespace) else {
            throw EvaluationError("\(name):1: expected a header naming the columns datetime and occupancy")
        }
        let separator: Character = header.contains(";") ? ";" : ","
        let names = header.split(separator: separator, omittingEmptySubsequences: false).map(unquoted)
        guard let timeColumn = names.firstIndex(of: "datetime"), let valueColumn = names.firstIndex(of: "occupancy") else {
            throw EvaluationError("\(name):1: the header must name the columns datetime and occupancy, separated by ; or ,")
        }
        var rows: [OccupancyRow] = []
        for (i, line) in lines.enumerated().dropFirst() where !line.allSatisfy(\.isWhitespace) {
            let number = i + 1
            let fields = line.split(separator: separator, omittingEmptySubsequences: false).map(unquoted)
            guard fields.count > max(timeColumn, valueColumn) else {
                throw EvaluationError("\(name):\(number): expected \(names.count) fields separated by \(separator)")
            }
            guard let local = localSeconds(fields[timeColumn]) else {
                throw EvaluationError("\(name):\(number): datetime: expected local time as YYYY-MM-DD HH:MM:SS[.ffffff]")
            }
            let value = fields[valueColumn]
            let occupancy: Double?
            if value.isEmpty || value.lowercased() == "nan" {
                occupancy = nil
            } else if let v = Double(value), v.isFinite, v >= 0 {
                occupancy = v
            } else {
                throw EvaluationError("\(name):\(number): occupancy: expected a number of people (0 or more) or nan")
            }
            rows.append(OccupancyRow(time: utcSeconds(local: local, clock: clock), occupancy: occupancy))
        }
        return rows
    }

    /// The time-weighted mean occupancy of each local hour. Rows of all files are merged and
    /// sorted by time; each row's value holds until the next row (the last row holds
    /// nothing, a `nan` row holds nothing). An hour is reported only when it contains at
    /// least one row and some known occupancy; its mean is over the time that is known.
    /// - Returns: hour start (UTC seconds) → mean people present.
    public static func hourlyMeans(_ rows: [OccupancyRow], clock: HourClock) -> [Int64: Double] {
        let sorted = rows.enumerated().sorted { $0.element.time != $1.element.time ? $0.element.time < $1.element.time : $0.offset < $1.offset }.map(\.element)
        var weighted: [Int64: (sum: Double, seconds: Double)] = [:]
        var hoursWithRows = Set<Int64>()
        for row in sorted { hoursWithRows.insert(clock.hourStart(containing: Int64(row.time.rounded(.down)))) }
        for (row, next) in zip(sorted, sorted.dropFirst()) {
            guard let value = row.occupancy else { continue }
            var from = row.time
            while from < next.time {
                let hour = clock.hour(containing: Int64(from.rounded(.down)))
                let to = min(next.time, Double(hour.end))
                weighted[hour.start, default: (0, 0)].sum += value * (to - from)
                weighted[hour.start, default: (0, 0)].seconds += to - from
                from = to
            }
        }
        var means: [Int64: Double] = [:]
        for hour in hoursWithRows {
            if let w = weighted[hour], w.seconds > 0 { means[hour] = w.sum / w.seconds }
        }
        return means
    }

    static func unquoted(_ field: Substring) -> String {
        let trimmed = field.trimmingCharacters(in: .whitespaces)
        if trimmed.count >= 2, trimmed.hasPrefix("\""), trimmed.hasSuffix("\"") { return String(trimmed.dropFirst().dropLast()) }
        return trimmed
    }

    /// `YYYY-MM-DD HH:MM[:SS[.fraction]]` as seconds since 1970-01-01 00:00 *local*.
    static func localSeconds(_ text: String) -> Double? {
        let chars = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= chars.count else { return nil }
            var v = 0
            for c in chars[from ..< from + count] {
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard chars.count >= 16, chars[4] == UInt8(ascii: "-"), chars[7] == UInt8(ascii: "-"),
              chars[10] == UInt8(ascii: " ") || chars[10] == UInt8(ascii: "T"), chars[13] == UInt8(ascii: ":"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2),
              (1 ... 12).contains(month), (1 ... 31).contains(day), hour < 24, minute < 60 else { return nil }
        var second = 0.0
        if chars.count > 16 {
            guard chars[16] == UInt8(ascii: ":"), let whole = number(17, 2), whole < 61 else { return nil }
            second = Double(whole)
            if chars.count > 19 {
                guard chars[19] == UInt8(ascii: "."), chars.count > 20, chars.count <= 29, let fraction = number(20, chars.count - 20) else { return nil }
                second += Double(fraction) / pow(10, Double(chars.count - 20))
            }
        }
        let days = LocalTime.days(fromCivil: year, month: month, day: day)
        return Double(days * 86_400 + Int64(hour * 3600 + minute * 60)) + second
    }

    /// Local seconds to UTC: the offset in force at the local time read as UTC, then the
    /// offset in force at the instant that gives (right except within an hour of a DST
    /// change, where a local time is missing or repeated and either reading is as good).
    static func utcSeconds(local: Double, clock: HourClock) -> Double {
        let whole = Int64(local.rounded(.down))
        let first = clock.utcOffset(at: whole)
        return local - Double(clock.utcOffset(at: whole - Int64(first)))
    }
}

/// One local hour of an evaluation.
public struct EvaluatedHour: Sendable, Equatable {
    /// Start of the hour, UTC seconds.
    public var hourStart: Int64
    public var utcOffsetSeconds: Int
    /// `avg_present` of the ALL row (0 when the hour had no frame at all).
    public var estimate: Double
    /// Time-weighted mean of the hand counts.
    public var truth: Double

    public init(hourStart: Int64, utcOffsetSeconds: Int, estimate: Double, truth: Double) {
        self.hourStart = hourStart
        self.utcOffsetSeconds = utcOffsetSeconds
        self.estimate = estimate
        self.truth = truth
    }
}

/// Accuracy of the hourly estimate against hand counts.
public struct EvaluationMetrics: Sendable, Equatable {
    /// Mean absolute error, people.
    public var mae: Double
    /// Root mean square error, people.
    public var rmse: Double
    /// Pearson correlation of estimate and truth; `nil` when either is constant.
    public var r: Double?

    /// - Parameter pairs: (estimate, truth) per hour; empty gives zeros and no `r`.
    public init(pairs: [(estimate: Double, truth: Double)]) {
        let n = Double(pairs.count)
        guard !pairs.isEmpty else {
            mae = 0; rmse = 0; r = nil
            return
        }
        mae = pairs.reduce(0) { $0 + abs($1.estimate - $1.truth) } / n
        rmse = (pairs.reduce(0) { $0 + ($1.estimate - $1.truth) * ($1.estimate - $1.truth) } / n).squareRoot()
        let meanE = pairs.reduce(0) { $0 + $1.estimate } / n
        let meanT = pairs.reduce(0) { $0 + $1.truth } / n
        var cov = 0.0, varE = 0.0, varT = 0.0
        for p in pairs {
            cov += (p.estimate - meanE) * (p.truth - meanT)
            varE += (p.estimate - meanE) * (p.estimate - meanE)
            varT += (p.truth - meanT) * (p.truth - meanT)
        }
        r = varE > 0 && varT > 0 ? cov / (varE * varT).squareRoot() : nil
    }
}

/// What `footfall evaluate` found.
public struct Evaluation: Sendable {
    public var hours: [EvaluatedHour]
    public var metrics: EvaluationMetrics
    /// What the pipeline read (counts only).
    public var summary: ReplaySummary
    /// What a reader of the figures must know: hand-counted hours the captures do not cover
    /// (they are compared with an estimate of 0), with both time ranges.
    public var warnings: [String] = []

    /// Pairs the estimates with the ground truth: every hour that has ground truth, in time
    /// order; an hour without any frame gets estimate 0 (nothing was heard, so nobody was
    /// counted, although the room may have been occupied by people whose phones are silent).
    /// - Parameters:
    ///   - estimates: `avg_present` of the ALL row per hour start (UTC seconds).
    ///   - truth: hourly means of the hand counts.
    ///   - clock: for each hour's UTC offset.
    public init(estimates: [Int64: Double], truth: [Int64: Double], clock: HourClock, summary: ReplaySummary = ReplaySummary()) {
        hours = truth.keys.sorted().map { start in
            EvaluatedHour(hourStart: start, utcOffsetSeconds: clock.utcOffset(at: start), estimate: estimates[start] ?? 0, truth: truth[start] ?? 0)
        }
        metrics = EvaluationMetrics(pairs: hours.map { ($0.estimate, $0.truth) })
        self.summary = summary
    }

    /// Exactly one JSON object: `{"hours": [{"hour_start": …, "estimate": …, "truth": …}, …],
    /// "mae": …, "rmse": …, "r": …}`; `r` is `null` when it is undefined.
    public var json: String {
        let rows = hours.map { h in
            "{\"hour_start\": \"\(LocalTime(utcSeconds: h.hourStart, utcOffsetSeconds: h.utcOffsetSeconds).iso8601)\", \"estimate\": \(Evaluation.number(h.estimate, 2)), \"truth\": \(Evaluation.number(h.truth, 2))}"
        }
        let r = metrics.r.map { Evaluation.number($0, 4) } ?? "null"
        return "{\"hours\": [\(rows.joined(separator: ", "))], \"mae\": \(Evaluation.number(metrics.mae, 3)), \"rmse\": \(Evaluation.number(metrics.rmse, 3)), \"r\": \(r)}"
    }

    /// A table for people: one line per hour, then the pooled figures.
    public var table: String {
        var lines = ["hour_start                   estimate    truth    error"]
        for h in hours {
            let start = LocalTime(utcSeconds: h.hourStart, utcOffsetSeconds: h.utcOffsetSeconds).iso8601
            lines.append(start.padding(toLength: 27, withPad: " ", startingAt: 0)
                + Evaluation.right(Evaluation.number(h.estimate, 2), 10)
                + Evaluation.right(Evaluation.number(h.truth, 2), 9)
                + Evaluation.right(Evaluation.number(h.estimate - h.truth, 2), 9))
        }
        lines.append("\(hours.count) hours: MAE \(Evaluation.number(metrics.mae, 3)) people, RMSE \(Evaluation.number(metrics.rmse, 3)) people, Pearson r \(metrics.r.map { Evaluation.number($0, 4) } ?? "undefined")")
        return lines.joined(separator: "\n")
    }

    /// Fixed decimals, `.` as decimal point whatever the locale.
    static func number(_ value: Double, _ decimals: Int) -> String {
        let scale = pow(10, Double(decimals))
        let rounded = (value * scale).rounded() / scale
        var text = String(format: "%.\(decimals)f", locale: nil, rounded)
        if text.hasPrefix("-"), Double(text) == 0 { text.removeFirst() }
        return text
    }

    static func right(_ text: String, _ width: Int) -> String {
        text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }
}

/// `footfall evaluate`: the replay pipeline (same parser, gate, key schedule and tracker;
/// no suppression, no noise, no files) compared hour by hour with hand counts.
public enum Evaluate {
    /// - Parameters:
    ///   - settings: the validated configuration (the same one `replay` uses).
    ///   - groundTruth: occupancy CSV files; their rows are merged.
    ///   - inputs: capture files and the sensor each was recorded by.
    /// - Returns: per hour with ground truth, the ALL row's `avg_present` and the truth.
    public static func run(settings: Settings, groundTruth: [String], inputs: [ReplayInput]) throws(EvaluationError) -> Evaluation {
        let clock = settings.site.clock
        guard !groundTruth.isEmpty else { throw EvaluationError("no ground truth given; name occupancy CSV files with --ground-truth") }
        var rows: [OccupancyRow] = []
        for path in groundTruth {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw EvaluationError("\(path): cannot be read as UTF-8 text")
            }
            rows += try GroundTruth.parse(text, name: path, clock: clock)
        }
        let truth = GroundTruth.hourlyMeans(rows, clock: clock)
        var estimates: [Int64: Double] = [:]
        let summary: ReplaySummary
        do {
            summary = try Replay.process(settings: settings, inputs: inputs) { (report: HourReport) throws(ReplayError) in
                if let all = report.zones.last, all.zone == ZoneHour.siteWide { estimates[report.hourStart] = all.averagePresent }
            }
        } catch {
            throw EvaluationError(error.message)
        }
        var evaluation = Evaluation(estimates: estimates, truth: truth, clock: clock, summary: summary)
        evaluation.warnings = try overlap(captureHours: Set(estimates.keys), rows: rows, truthHours: Set(truth.keys), clock: clock)
        return evaluation
    }

    /// Checks that the captures and the hand counts describe the same time.
    ///
    /// Why: an hour of ground truth without any frame is compared with an estimate of 0, so
    /// a ground-truth file of the wrong day would produce a plausible-looking table of
    /// errors. With no hour in common that is an error naming both time ranges; with some
    /// hand-counted hours outside the captures' time, a warning saying how many.
    /// - Parameters:
    ///   - captureHours: starts of the hours the captures had probe requests in.
    ///   - rows: every ground-truth row.
    ///   - truthHours: starts of the hours with a hand-counted mean.
    /// - Returns: warnings (empty when every hand-counted hour is within the captures' time).
    /// - Throws: ``EvaluationError`` with ``EvaluationError/isNoOverlap`` when no hour has both.
    static func overlap(captureHours: Set<Int64>, rows: [OccupancyRow], truthHours: Set<Int64>, clock: HourClock) throws(EvaluationError) -> [String] {
        func local(_ seconds: Int64) -> String {
            LocalTime(utcSeconds: seconds, utcOffsetSeconds: clock.utcOffset(at: seconds)).iso8601
        }
        let times = rows.map { Int64($0.time.rounded(.down)) }
        let truthRange = times.min().map { "\(local($0)) to \(local(times.max() ?? $0))" } ?? "no rows"
        guard let firstHour = captureHours.min(), let lastHour = captureHours.max() else {
            var error = EvaluationError("the captures hold no probe request, so there is nothing to compare with the ground truth (\(truthRange))")
            error.isNoOverlap = true
            throw error
        }
        let captureEnd = clock.hour(containing: lastHour).end
        let captureRange = "\(local(firstHour)) to \(local(captureEnd))"
        if captureHours.isDisjoint(with: truthHours) {
            var error = EvaluationError("the captures (\(captureRange)) and the ground truth (\(truthRange)) have no hour in common; check that they are of the same day and site")
            error.isNoOverlap = true
            throw error
        }
        let outside = truthHours.filter { $0 < firstHour || $0 >= captureEnd }.count
        guard outside > 0 else { return [] }
        return ["\(outside) of \(truthHours.count) hand-counted hours are outside the captures (captures \(captureRange), ground truth \(truthRange)); they are compared with an estimate of 0"]
    }

    /// Loads the configuration, then evaluates; configuration errors come back with
    /// ``EvaluationError/isConfiguration`` set.
    public static func run(configPath: String, groundTruth: [String], arguments: [String]) throws(EvaluationError) -> Evaluation {
        let settings: Settings
        do {
            settings = try ConfigLoader.load(path: configPath)
        } catch {
            var failure = EvaluationError(error.description)
            failure.isConfiguration = true
            throw failure
        }
        var inputs: [ReplayInput] = []
        for argument in arguments {
            do { inputs.append(try ReplayInput(argument: argument)) } catch { throw EvaluationError(error.message) }
        }
        return try run(settings: settings, groundTruth: groundTruth, inputs: inputs)
    }
}
