// Synthetic crowds from labelled single-phone captures (Tests/Fixtures/labelled-phones).
//
// A store holds hundreds of phones at once, many of one model and OS and so with one element
// layout, each drawing random addresses. Nobody can hand-count such a crowd, but copies of
// captures that hold the probe requests of ONE phone each make a crowd whose size is known:
// every copy gets its own fresh random locally administered addresses (one per address of the
// original, drawn again every time the copy's capture starts over), its own sequence-number
// offset, its own phase in the hour and its own signal level, and all copies are merged by
// time into one pcap per sensor. Pure bytes: no libpcap, no footfall module, so the same code
// feeds the tests (through the production replay path) and the benchmarks.
import Foundation

/// The probe requests of one phone, as captured: radiotap + 802.11 records, times relative
/// to the first record.
public struct PhoneCapture: Sendable {
    /// The file's name without extension (`iPhone7-F`).
    public let name: String
    /// Records sorted by time: nanoseconds after the first, and the captured bytes.
    public let records: [(offsetNanos: Int64, bytes: [UInt8])]
    /// Where the 802.11 header starts, and where the radiotap signal byte is (or -1), per record.
    let headerStart: [Int]
    let signalAt: [Int]
    /// Per record, the index of its source address among the capture's distinct addresses.
    let addressIndex: [Int32]
    /// Per record: the 802.11 frame ends with a 4-byte FCS (radiotap flags 0x10).
    let hasFCS: [Bool]
    /// Distinct source addresses in the capture.
    public let addressCount: Int
    /// From the first record to the last.
    public let durationNanos: Int64

    public enum Failure: Error, CustomStringConvertible {
        case unreadable(String), notRadiotapPcap(String), truncated(String, offset: Int), badRecord(String, index: Int)
        public var description: String {
            switch self {
            case .unreadable(let p): "\(p): cannot be read"
            case .notRadiotapPcap(let p): "\(p): not a little-endian microsecond pcap with radiotap (link type 127)"
            case .truncated(let p, let o): "\(p): record at byte \(o) is cut short"
            case .badRecord(let p, let i): "\(p): record \(i) is not a radiotap probe request"
            }
        }
    }

    /// Reads a classic pcap (little-endian, microseconds, link type 127).
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure.unreadable(path) }
        let b = [UInt8](data)
        func u32(_ at: Int) -> UInt32 { UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24 }
        func u16(_ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 }
        guard b.count >= 24, u32(0) == 0xA1B2_C3D4, u32(20) == 127 else { throw Failure.notRadiotapPcap(path) }
        var raw: [(Int64, [UInt8])] = []
        var at = 24
        while at < b.count {
            guard at + 16 <= b.count else { throw Failure.truncated(path, offset: at) }
            let t = Int64(u32(at)) * 1_000_000_000 + Int64(u32(at + 4)) * 1000
            let n = Int(u32(at + 8))
            guard at + 16 + n <= b.count else { throw Failure.truncated(path, offset: at) }
            raw.append((t, Array(b[(at + 16) ..< (at + 16 + n)])))
            at += 16 + n
        }
        raw.sort { $0.0 < $1.0 }
        // The labelled captures were taken by three radios (channels 1, 6 and 11), which hear
        // some frames twice; one sensor hears a frame once, so repeats of (address, sequence
        // number) are dropped, keeping the first.
        var heard = Set<UInt64>()
        raw = raw.filter { _, r in
            guard let layout = Radiotap(r), r.count >= layout.length + 24 else { return true }
            var key: UInt64 = 0
            for k in 0 ..< 6 { key = key << 8 | UInt64(r[layout.length + 10 + k]) }
            key = key << 16 | UInt64(r[layout.length + 22]) | UInt64(r[layout.length + 23]) << 8
            return heard.insert(key).inserted
        }
        guard let t0 = raw.first?.0, let t1 = raw.last?.0 else { throw Failure.notRadiotapPcap(path) }
        var records: [(offsetNanos: Int64, bytes: [UInt8])] = []
        var headerStart: [Int] = [], signalAt: [Int] = [], addressIndex: [Int32] = [], hasFCS: [Bool] = []
        var addresses: [UInt64: Int32] = [:]
        for (i, (t, r)) in raw.enumerated() {
            guard let layout = Radiotap(r), r.count >= layout.length + 24, r[layout.length] == 0x40 else {
                throw Failure.badRecord(path, index: i)
            }
            var sa: UInt64 = 0
            for k in 0 ..< 6 { sa = sa << 8 | UInt64(r[layout.length + 10 + k]) }
            let index = addresses[sa] ?? Int32(addresses.count)
            addresses[sa] = index
            records.append((t - t0, r))
            headerStart.append(layout.length)
            signalAt.append(layout.signalAt)
            addressIndex.append(index)
            hasFCS.append(layout.fcs)
        }
        self.name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        self.records = records
        self.headerStart = headerStart
        self.signalAt = signalAt
        self.addressIndex = addressIndex
        self.hasFCS = hasFCS
        self.addressCount = addresses.count
        self.durationNanos = t1 - t0
    }

    /// The few radiotap fields the generator needs: the header length, where the antenna
    /// signal (dBm, present bit 5) is, and whether the frame carries an FCS (flags bit 0x10).
    /// Fields before the signal are walked with their alignment (radiotap.org, "Defined fields").
    struct Radiotap {
        var length = 0, signalAt = -1, fcs = false
        init?(_ r: [UInt8]) {
            guard r.count >= 8, r[0] == 0 else { return nil }
            length = Int(r[2]) | Int(r[3]) << 8
            let present = UInt32(r[4]) | UInt32(r[5]) << 8 | UInt32(r[6]) << 16 | UInt32(r[7]) << 24
            guard present & 0x8000_0000 == 0, length <= r.count else { return nil }  // one present word only
            // (bit, size, alignment) of TSFT, flags, rate, channel, FHSS, antenna signal.
            let fields: [(UInt32, Int, Int)] = [(0, 8, 8), (1, 1, 1), (2, 1, 1), (3, 4, 2), (4, 2, 2), (5, 1, 1)]
            var at = 8
            for (bit, size, align) in fields where present & (1 << bit) != 0 {
                at = (at + align - 1) / align * align
                guard at + size <= length else { return nil }
                if bit == 1 { fcs = r[at] & 0x10 != 0 }
                if bit == 5 { signalAt = at }
                at += size
            }
        }
    }
}

/// One phone of a crowd.
public struct CrowdMember: Sendable {
    public enum Addressing: Sendable, Equatable {
        /// Fresh random locally administered addresses (what phones of today do).
        case randomised
        /// One fixed vendor-assigned address for every frame (randomisation turned off).
        case vendor
        /// A fixed device with a vendor address that probes about once a minute all hour
        /// (a till or PC: the resident rule must take it out of the figures).
        case resident
    }
    public var phone: PhoneCapture
    public var addressing: Addressing
    /// Sensor (output file) that hears the phone best, and how many dB to add to the signal
    /// the capture recorded there.
    public var sensor: Int
    public var signalOffset: Int
    /// Other sensors that hear it too, each with its own offset (weaker, usually).
    public var alsoHeardBy: [(sensor: Int, signalOffset: Int)]

    public init(phone: PhoneCapture, addressing: Addressing = .randomised, sensor: Int = 0, signalOffset: Int = 0,
                alsoHeardBy: [(sensor: Int, signalOffset: Int)] = []) {
        self.phone = phone
        self.addressing = addressing
        self.sensor = sensor
        self.signalOffset = signalOffset
        self.alsoHeardBy = alsoHeardBy
    }
}

/// Writes a crowd: every member present for the whole hour starting at `hourStartSeconds`.
public enum CrowdGenerator {
    /// Between two plays of one copy's capture: silence, as between two scan bursts.
    public static let replayGapNanos: Int64 = 30_000_000_000

    public struct Written: Sendable {
        /// Frames written per sensor file.
        public var frames: [Int]
        /// Distinct source addresses written (over all files).
        public var addresses: Int
    }

    /// Generates the crowd and writes one pcap per sensor to `paths` (index = sensor).
    ///
    /// Each member plays its capture over and over from a random phase, so it is heard from
    /// the first to the last minute of the hour: a crowd of N members is N phones present all
    /// hour. Copies differ in addresses (a fresh random locally administered address for each
    /// original address and each play), sequence-number offset, phase and signal; frames
    /// keep their length, elements (the layout a model shares) and timing within a burst. The
    /// FCS is recomputed. Deterministic for a given seed.
    @discardableResult
    public static func write(_ crowd: [CrowdMember], hourStartSeconds: Int64, to paths: [String], seed: UInt64) throws -> Written {
        var rng = Mix(seed)
        let hourStart = hourStartSeconds * 1_000_000_000
        let hourEnd = hourStart + 3_600_000_000_000
        // (time, member, play, record, sensor): bytes are made when written, so a crowd of a
        // million frames costs 24 bytes a frame before it is written.
        var events: [Event] = []
        var copySeeds: [(seq: UInt16, salt: UInt64)] = []
        for (m, member) in crowd.enumerated() {
            copySeeds.append((UInt16(truncatingIfNeeded: rng.next() & 0xFFF), rng.next()))
            let hearing = [(member.sensor, member.signalOffset)] + member.alsoHeardBy.map { ($0.sensor, $0.signalOffset) }
            if member.addressing == .resident {
                // One probe every 50–58 s (so in every minute), the first frame of the capture each time.
                var t = hourStart + Int64(rng.next() % 50_000_000_000)
                while t < hourEnd {
                    for (s, _) in hearing { events.append(Event(time: t, member: Int32(m), play: 0, record: 0, sensor: Int16(s))) }
                    t += 50_000_000_000 + Int64(rng.next() % 8_000_000_000)
                }
                continue
            }
            let period = member.phone.durationNanos + replayGapNanos
            let phase = Int64(rng.next() % UInt64(period))
            var play: Int32 = 0
            var start = hourStart - phase
            while start < hourEnd {
                for (r, record) in member.phone.records.enumerated() {
                    let t = start + record.offsetNanos
                    guard t >= hourStart, t < hourEnd else { continue }
                    for (s, _) in hearing { events.append(Event(time: t, member: Int32(m), play: play, record: Int32(r), sensor: Int16(s))) }
                }
                start += period
                play += 1
            }
        }
        // By time (microseconds, the pcap's resolution), then generation order: one key per
        // event, sorted as plain integers (fast even in a debug build).
        precondition(events.count < 1 << 26, "at most 67 M frames")
        var order = events.indices.map { UInt64((events[$0].time - hourStart) / 1000) << 26 | UInt64($0) }
        order.sort()

        var files: [PcapWriter] = try paths.map { try PcapWriter(path: $0) }
        var frames = [Int](repeating: 0, count: paths.count)
        var seen = Set<UInt64>()
        for key in order {
            let e = events[Int(key & ((1 << 26) - 1))]
            let member = crowd[Int(e.member)]
            let phone = member.phone
            let r = Int(e.record)
            var bytes = phone.records[r].bytes
            let h = phone.headerStart[r]
            let address: UInt64
            switch member.addressing {
            case .randomised:
                let key = copySeeds[Int(e.member)].salt ^ UInt64(UInt32(bitPattern: e.play)) << 32 ^ UInt64(UInt32(bitPattern: phone.addressIndex[r]))
                address = (Mix.hash(key) & 0xFEFF_FFFF_FFFF | 0x0200_0000_0000) & 0xFFFF_FFFF_FFFF
            case .vendor, .resident:
                // A vendor OUI-shaped address (universally administered, unicast), fixed per member.
                address = (Mix.hash(copySeeds[Int(e.member)].salt) & 0xFCFF_FFFF_FFFF) & 0xFFFF_FFFF_FFFF
            }
            seen.insert(address)
            let original = bytes[(h + 10) ..< (h + 16)]
            let bssidIsSource = bytes[(h + 16) ..< (h + 22)].elementsEqual(original)
            for k in 0 ..< 6 {
                let octet = UInt8(truncatingIfNeeded: address >> UInt64(8 * (5 - k)))
                bytes[h + 10 + k] = octet
                if bssidIsSource { bytes[h + 16 + k] = octet }
            }
            // Sequence number: the upper 12 bits of the little-endian sequence control field.
            let control = UInt16(bytes[h + 22]) | UInt16(bytes[h + 23]) << 8
            let sequence = ((control >> 4) &+ copySeeds[Int(e.member)].seq) & 0xFFF
            let newControl = sequence << 4 | control & 0xF
            bytes[h + 22] = UInt8(truncatingIfNeeded: newControl)
            bytes[h + 23] = UInt8(truncatingIfNeeded: newControl >> 8)
            let offset = Int(e.sensor) == member.sensor ? member.signalOffset
                : member.alsoHeardBy.first { $0.sensor == Int(e.sensor) }?.signalOffset ?? 0
            if phone.signalAt[r] >= 0 {
                let dBm = Int(Int8(bitPattern: bytes[phone.signalAt[r]])) + offset
                bytes[phone.signalAt[r]] = UInt8(bitPattern: Int8(max(-100, min(-10, dBm))))
            }
            if phone.hasFCS[r], bytes.count >= h + 28 {
                let crc = CRC32.checksum(bytes[h ..< (bytes.count - 4)])
                for k in 0 ..< 4 { bytes[bytes.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> UInt32(8 * k)) }
            }
            try files[Int(e.sensor)].append(timeNanos: e.time, bytes: bytes)
            frames[Int(e.sensor)] += 1
        }
        for i in files.indices { try files[i].close() }
        return Written(frames: frames, addresses: seen.count)
    }

    struct Event {
        var time: Int64
        var member: Int32
        var play: Int32
        var record: Int32
        var sensor: Int16
    }
}

/// SplitMix64 as a generator and as a mixing function (Steele, Lea & Flood 2014).
struct Mix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.hash(state)
    }
    static func hash(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// IEEE 802.3 CRC-32 (reflected, polynomial 0xEDB88320), the 802.11 FCS (IEEE 802.11-2020 9.2.4.8).
enum CRC32 {
    static let table: [UInt32] = (0 ..< 256).map { n in
        var c = UInt32(n)
        for _ in 0 ..< 8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

/// A classic pcap writer (little-endian, microseconds, radiotap), buffered.
struct PcapWriter {
    let handle: FileHandle
    var buffer: [UInt8] = []

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw PhoneCapture.Failure.unreadable(path) }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        buffer.reserveCapacity(1 << 20)
        for v: UInt32 in [0xA1B2_C3D4] { append32(v) }
        append16(2); append16(4)
        append32(0); append32(0); append32(65535); append32(127)
    }

    mutating func append16(_ v: UInt16) { buffer.append(UInt8(v & 0xFF)); buffer.append(UInt8(v >> 8)) }
    mutating func append32(_ v: UInt32) { for k in 0 ..< 4 { buffer.append(UInt8(truncatingIfNeeded: v >> UInt32(8 * k))) } }

    mutating func append(timeNanos: Int64, bytes: [UInt8]) throws {
        append32(UInt32(truncatingIfNeeded: timeNanos / 1_000_000_000))
        append32(UInt32(truncatingIfNeeded: timeNanos % 1_000_000_000 / 1000))
        append32(UInt32(bytes.count)); append32(UInt32(bytes.count))
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { try flush() }
    }

    mutating func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() throws {
        try flush()
        try handle.close()
    }
}
