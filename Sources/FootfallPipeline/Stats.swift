import FootfallCapture
import FootfallCore
import FootfallIngest
import FootfallAggregate

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

/// Accumulates ``CaptureFileStatistics`` over capture files read one after another.
///
/// Distinct devices are counted by pseudonym under a key made for this run only: the key is
/// random, never stored, and overwritten when the collector goes away, so the sets of
/// pseudonyms held here mean nothing once the run ends.
public final class StatsCollector {
    private let keys: KeyStore
    private let pseudonymiser: Pseudonymiser
    /// Everything that changes per frame, in one stored property: one exclusivity check per
    /// frame instead of one per field.
    private var state = State()

    public init() {
        keys = KeyStore()
        pseudonymiser = Pseudonymiser(keys: keys)
    }

    /// Records the readers dropped for their time (before 2000, or far from their
    /// neighbours), one message per file and kind: damaged input the command reports.
    public private(set) var droppedTimes: [String] = []

    deinit {
        state.devices.removeAll()
        state.deviceHours.removeAll()
        keys.destroy()
    }

    /// Reads one capture file to its end and adds its frames.
    ///
    /// - Parameter path: a pcap or pcapng file (radiotap or raw 802.11).
    /// - Throws: the reader's ``CaptureError``. For `.truncated` and `.readFailed`, every
    ///   record before the damaged one has been counted.
    public func add(file path: String) throws(CaptureError) {
        let reader = try CaptureFileReader(path: path)
        let linkType = reader.linkType
        // The loop works on the state moved out of the object and back after the file (also
        // when reading fails): a class's stored property costs a run-time exclusivity check
        // and a retain and release on every access, here on every frame.
        var local = State(minimumCapacity: 1)
        swap(&local, &state)
        defer {
            swap(&local, &state)
            droppedTimes += reader.droppedTimeMessages
        }
        while let record = try reader.next() {
            local.add(record, linkType: linkType, pseudonymiser: pseudonymiser)
        }
    }

    /// Adds one captured record. Allocates nothing except when a new hour starts or a table
    /// grows.
    public func add(_ record: CaptureRecord, linkType: LinkType) {
        state.add(record, linkType: linkType, pseudonymiser: pseudonymiser)
    }

    private struct State {
        var counters = ParseCounters()
        /// Every device seen; the value is the index in `hours` of the last hour it was counted in.
        var devices: PseudonymTable
        /// (device, hour index) pairs, for devices that come back to an hour they were already
        /// counted in (files that overlap in time, or a device heard again hours later).
        var deviceHours: PseudonymTable
        /// Hours in the order first seen.
        var hours: [(start: Int64, probeRequests: Int, devices: Int)] = []
        var hourIndex: [Int64: Int32] = [:]
        /// The hour the previous frame fell in: `[currentStartNanos, +1 h)` and its index.
        /// Frames come in time order, so the hour is looked up only when it changes.
        var currentStartNanos: Int64 = .min
        var current: Int32 = -1

        /// - Parameter minimumCapacity: of each table (small for the stand-in that holds the
        ///   place of the real state while a file is read).
        init(minimumCapacity: Int = 1024) {
            devices = PseudonymTable(minimumCapacity: minimumCapacity)
            deviceHours = PseudonymTable(minimumCapacity: minimumCapacity)
        }

        mutating func add(_ record: CaptureRecord, linkType: LinkType, pseudonymiser: borrowing Pseudonymiser) {
            // Devices are told apart by address alone: of the elements only `truncated` counts.
            let result = FrameParser.parse(record.bytes, linkType: linkType, timestampNanos: record.timestampNanos, counters: &counters, elements: .truncationOnly)
            guard case .probeRequest(let request) = consume result else { return }
            let t = request.timestampNanos
            // One unsigned compare: inside the current hour (times before it wrap to huge values).
            if UInt64(bitPattern: t &- currentStartNanos) >= 3_600_000_000_000 || current < 0 {
                enterHour(containingNanos: t)
            }
            let h = current
            hours[Int(h)].probeRequests += 1
            let device = pseudonymiser.pseudonym(of: request.source)
            let (lastHour, inserted) = devices.findOrInsert(device, value: h)
            if inserted {
                hours[Int(h)].devices += 1
            } else if lastHour != h {
                // Every counted pair except (device, its last hour) is in `deviceHours`.
                devices.set(device, value: h)
                deviceHours.insert(device, scope: Int64(lastHour))
                if deviceHours.insert(device, scope: Int64(h)) { hours[Int(h)].devices += 1 }
            }
        }

        mutating func enterHour(containingNanos t: Int64) {
            let start = UTCHour.start(ofNanos: t)
            currentStartNanos = start * 1_000_000_000
            if let known = hourIndex[start] {
                current = known
            } else {
                current = Int32(hours.count)
                hourIndex[start] = current
                hours.append((start, 0, 0))
            }
        }
    }

    /// The totals so far.
    public var statistics: CaptureFileStatistics {
        CaptureFileStatistics(
            frames: state.counters.frames,
            probeRequests: state.counters.probeRequests,
            badFCS: state.counters.badFCS,
            malformed: state.counters.malformed,
            distinctDevices: state.devices.count,
            perHour: state.hours.sorted { $0.start < $1.start }.map { hour in
                StatsHour(hourStart: hour.start, probeRequests: hour.probeRequests, distinctDevices: hour.devices)
            }
        )
    }

    /// The parser's counters so far (frame classes and malformed reasons in detail).
    public var parseCounters: ParseCounters { state.counters }
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
