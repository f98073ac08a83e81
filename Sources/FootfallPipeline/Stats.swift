import FootfallCapture
import FootfallCore
import FootfallIngest
import FootfallAggregate
import struct Foundation.TimeZone

/// Counts of one UTC hour in ``CaptureFileStatistics``.
public struct StatsHour: Sendable, Equatable {
    /// Start of the hour, seconds since the Unix epoch (a multiple of 3600).
    public var hourStart: Int64
    public var probeRequests: Int
    /// Distinct source addresses among the hour's probe requests.
    public var distinctDevices: Int

    public init(hourStart: Int64, probeRequests: Int, distinctDevices: Int) {
        self.hourStart = hourStart
        self.probeRequests = probeRequests
        self.distinctDevices = distinctDevices
    }
}

/// What `footfall stats` reports: frame counts over a set of captures, and how many distinct
/// source addresses sent probe requests, overall and per UTC hour. Only counts: nothing in it
/// identifies a device.
public struct CaptureFileStatistics: Sendable, Equatable {
    public var frames: Int
    public var probeRequests: Int
    public var badFCS: Int
    public var malformed: Int
    public var distinctDevices: Int
    /// Hours that had at least one probe request, in time order.
    public var perHour: [StatsHour]

    public init(frames: Int, probeRequests: Int, badFCS: Int, malformed: Int, distinctDevices: Int, perHour: [StatsHour]) {
        self.frames = frames
        self.probeRequests = probeRequests
        self.badFCS = badFCS
        self.malformed = malformed
        self.distinctDevices = distinctDevices
        self.perHour = perHour
    }

    /// One JSON object, keys in a fixed order, e.g.
    /// `{"frames": 3, "probe_requests": 2, …, "per_hour": [{"hour": "2024-03-14T12:00:00Z", …}]}`.
    public func json() -> String {
        var out = "{\"frames\": \(frames), \"probe_requests\": \(probeRequests), \"bad_fcs\": \(badFCS), \"malformed\": \(malformed), \"distinct_devices\": \(distinctDevices), \"per_hour\": ["
        for (i, hour) in perHour.enumerated() {
            if i > 0 { out += ", " }
            out += "{\"hour\": \"\(UTCHour.iso8601(hourStart: hour.hourStart))\", \"probe_requests\": \(hour.probeRequests), \"distinct_devices\": \(hour.distinctDevices)}"
        }
        out += "]}"
        return out
    }

    /// A short table for people.
    public func table() -> String {
        var lines = [
            "frames            \(frames)",
            "probe requests    \(probeRequests)",
            "bad FCS           \(badFCS)",
            "malformed         \(malformed)",
            "distinct devices  \(distinctDevices)",
        ]
        if !perHour.isEmpty {
            lines.append("")
            lines.append(pad("hour (UTC)", 22) + pad("probe requests", 16, right: true) + pad("distinct devices", 18, right: true))
            for hour in perHour {
                lines.append(pad(UTCHour.iso8601(hourStart: hour.hourStart), 22) + pad("\(hour.probeRequests)", 16, right: true) + pad("\(hour.distinctDevices)", 18, right: true))
            }
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }
}

/// The pseudonym tables of one `footfall stats` run: the scope of its key epoch, so the
/// tables live exactly as long as the key that made their pseudonyms (P4), like the
/// tracker's under `replay` and `run`.
public struct StatsTables: PseudonymScope, ~Copyable {
    /// Every device seen; the value is the index in the hours of the last hour it was counted in.
    var devices: PseudonymTable
    /// (device, hour index) pairs, for devices that come back to an hour they were already
    /// counted in (files that overlap in time, or a device heard again hours later).
    var deviceHours: PseudonymTable

    init(minimumCapacity: Int = 1024) {
        devices = PseudonymTable(minimumCapacity: minimumCapacity)
        deviceHours = PseudonymTable(minimumCapacity: minimumCapacity)
    }

    /// Forgets every pseudonym (``PseudonymTable/removeAll(keepingCapacity:)`` overwrites the keys).
    public mutating func endKeyPeriod(at instantSeconds: Int64) {
        devices.removeAll(keepingCapacity: false)
        deviceHours.removeAll(keepingCapacity: false)
    }
}

/// Accumulates ``CaptureFileStatistics`` over capture files read one after another.
///
/// Distinct devices are counted by pseudonym under a key made for this run only, in a
/// ``KeyEpoch`` that owns the pseudonym tables: the key is random, never stored, never
/// rotated during the run (the run is one key period), and when the collector goes away the
/// tables are emptied and then the key is overwritten, so nothing keyed outlives it.
/// `~Copyable`: no copy of the tables can outlive the collector; ``finish()`` ends it.
public struct StatsCollector: ~Copyable {
    private var epoch: KeyEpoch<StatsTables>
    /// Counts only (nothing keyed).
    private var counts = Counts()

    public init() {
        // The schedule is never consulted: a stats run is one key period, ended by finish().
        epoch = KeyEpoch(keys: KeyStore(), schedule: KeySchedule(rotation: .hourly, timeZone: .gmt), scope: StatsTables())
    }

    /// Ends the run: the totals, then the tables are emptied (their keys overwritten) and the
    /// key destroyed. (Without it the key is still destroyed when the collector goes away —
    /// ``KeyStore`` overwrites its words in `deinit` — but the tables are only freed.)
    public consuming func finish() -> CaptureFileStatistics {
        let totals = statistics
        epoch.end(at: 0)
        return totals
    }

    /// Records the readers dropped for their time (before 2000, or far from their
    /// neighbours), one message per file and kind: damaged input the command reports.
    public private(set) var droppedTimes: [String] = []

    /// Reads one capture file to its end and adds its frames.
    ///
    /// - Parameter path: a pcap or pcapng file (radiotap or raw 802.11).
    /// - Throws: the reader's ``CaptureError``. For `.truncated` and `.readFailed`, every
    ///   record before the damaged one has been counted.
    public mutating func add(file path: String) throws(CaptureError) {
        let reader = try CaptureFileReader(path: path)
        let linkType = reader.linkType
        defer { droppedTimes += reader.droppedTimeMessages }
        while let record = try reader.next() {
            add(record, linkType: linkType)
        }
    }

    /// Adds one captured record. Allocates nothing except when a new hour starts or a table
    /// grows.
    public mutating func add(_ record: CaptureRecord, linkType: LinkType) {
        // Devices are told apart by address alone: of the elements only `truncated` counts.
        let result = FrameParser.parse(record.bytes, linkType: linkType, timestampNanos: record.timestampNanos, counters: &counts.parse, elements: .truncationOnly)
        guard case .probeRequest(let request) = consume result else { return }
        let h = counts.hour(containingNanos: request.timestampNanos)
        counts.hours[Int(h)].probeRequests += 1
        let device = epoch.pseudonymiser.pseudonym(of: request.source)
        let (lastHour, inserted) = epoch.scope.devices.findOrInsert(device, value: h)
        if inserted {
            counts.hours[Int(h)].devices += 1
        } else if lastHour != h {
            // Every counted pair except (device, its last hour) is in `deviceHours`.
            epoch.scope.devices.set(device, value: h)
            epoch.scope.deviceHours.insert(device, scope: Int64(lastHour))
            if epoch.scope.deviceHours.insert(device, scope: Int64(h)) { counts.hours[Int(h)].devices += 1 }
        }
    }

    /// What the run has counted, keyed by nothing.
    private struct Counts {
        var parse = ParseCounters()
        /// Hours in the order first seen.
        var hours: [(start: Int64, probeRequests: Int, devices: Int)] = []
        var hourIndex: [Int64: Int32] = [:]
        /// The hour the previous frame fell in: `[currentStartNanos, +1 h)` and its index.
        /// Frames come in time order, so the hour is looked up only when it changes.
        var currentStartNanos: Int64 = .min
        var current: Int32 = -1

        /// The index in `hours` of the hour holding `t`.
        mutating func hour(containingNanos t: Int64) -> Int32 {
            // One unsigned compare: inside the current hour (times before it wrap to huge values).
            if UInt64(bitPattern: t &- currentStartNanos) < 3_600_000_000_000 && current >= 0 { return current }
            let start = UTCHour.start(ofNanos: t)
            currentStartNanos = start * 1_000_000_000
            if let known = hourIndex[start] {
                current = known
            } else {
                current = Int32(hours.count)
                hourIndex[start] = current
                hours.append((start, 0, 0))
            }
            return current
        }
    }

    /// The totals so far.
    public var statistics: CaptureFileStatistics {
        CaptureFileStatistics(
            frames: counts.parse.frames,
            probeRequests: counts.parse.probeRequests,
            badFCS: counts.parse.badFCS,
            malformed: counts.parse.malformed,
            distinctDevices: epoch.scope.devices.count,
            perHour: counts.hours.sorted { $0.start < $1.start }.map { hour in
                StatsHour(hourStart: hour.start, probeRequests: hour.probeRequests, distinctDevices: hour.devices)
            }
        )
    }

    /// The parser's counters so far (frame classes and malformed reasons in detail).
    public var parseCounters: ParseCounters { counts.parse }
}

/// UTC hours for `footfall stats`, on the same civil calendar as every local hour
/// (``LocalTime``, at offset zero).
public enum UTCHour {
    /// Start of the UTC hour containing `nanos`, seconds since the Unix epoch (floor, so
    /// times before 1970 round down too).
    public static func start(ofNanos nanos: Int64) -> Int64 {
        nanos.floorDiv(1_000_000_000).floorDiv(3600) * 3600
    }

    /// `YYYY-MM-DDTHH:00:00Z` for an hour start.
    public static func iso8601(hourStart: Int64) -> String {
        LocalTime(utcSeconds: hourStart, utcOffsetSeconds: 0).dateAndHour + ":00:00Z"
    }
}
