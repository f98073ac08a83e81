// Benchmarks of the hot path (docs/performance.md: a budget of about 100 ns per frame in total).
//
// Names carry no spaces or slashes: the static thresholds are stored in files named after
// the benchmark, and the benchmark tool looks them up by the name as written.
//
// The frame-level benchmarks run a million frames per iteration (`scalingFactor: .mega`), so
// throughput reads as frames per second and the malloc count of an iteration is what a
// million frames cost. Their stored malloc threshold is 0 with an absolute tolerance of a few
// allocations: one allocation per frame (or per thousand frames) fails the check.
import Benchmark
import FootfallCapture
import FootfallConfig
import FootfallAggregate
import FootfallCore
import FootfallIngest
import FootfallPipeline
import Foundation

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(2),
        maxIterations: 20,
        thresholds: [
            // Allocations do not depend on the machine: a handful of stray ones is tolerated,
            // anything that grows with the number of frames is not.
            .mallocCountTotal: .init(absolute: [.p90: 16]),
            // Time depends on the machine and on whatever else runs on it (on a shared
            // two-core machine single runs vary by a third).
            .wallClock: .init(relative: [.p90: 50]),
            .throughput: .init(relative: [.p90: 50]),
            .peakMemoryResident: .init(relative: [.p90: 25]),
        ]
    )

    // MARK: parsing

    Benchmark("Parse:radiotap+802.11:fixture-frames") { benchmark, capture in
        var counters = ParseCounters()
        var i = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let record = capture.record(i)
            i = i + 1 == capture.count ? 0 : i + 1
            let result = FrameParser.parse(record.bytes, linkType: capture.linkType, timestampNanos: record.timestampNanos, counters: &counters)
            switch consume result {
            case .probeRequest(let request): blackHole(request.sequenceNumber)
            case .other: break
            case .malformed: break
            }
        }
        benchmark.stopMeasurement()
        blackHole(counters.frames)
    } setup: {
        try RecordsInMemory(fixture: "2024-03-14_position_1.pcap")
    }

    // MARK: pseudonymisation

    Benchmark("Pseudonymise:parse+2xSipHash-2-4") { benchmark, capture in
        let keys = KeyStore()
        let pseudonymiser = Pseudonymiser(keys: keys)
        var counters = ParseCounters()
        var i = 0
        var acc = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let record = capture.record(i)
            i = i + 1 == capture.count ? 0 : i + 1
            let result = FrameParser.parse(record.bytes, linkType: capture.linkType, timestampNanos: record.timestampNanos, counters: &counters)
            switch consume result {
            case .probeRequest(let request):
                let observation = pseudonymiser.observe(request, sensor: 0)
                acc &+= observation.device.hashValue & 1
            case .other: break
            case .malformed: break
            }
        }
        benchmark.stopMeasurement()
        blackHole(acc)
    } setup: {
        try RecordsInMemory(fixture: "2024-03-14_position_1.pcap")
    }

    // MARK: aggregation

    Benchmark("Aggregate:tracker:1000-devices:2-sensors:4h") { benchmark, input in
        var tracker = Tracker(settings: input.settings)
        var reports = 0
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            tracker.observe(input.observations[i])
            if tracker.hasClosedHours { reports += tracker.takeClosedHours().count }
        }
        reports += tracker.finish().count
        benchmark.stopMeasurement()
        blackHole(reports)
    } setup: {
        try TrackerInput(devices: 1000, observations: 1_000_000, spanSeconds: 4 * 3600)
    }

    // The memory a device costs while it is tracked: a million observations in one hour from
    // a million distinct devices, and the same from a thousand devices, hour report included.
    // The difference in peak resident memory, divided by 999,000, is the figure README
    // "Performance" reports (the observations themselves, made in setup, are the same size in
    // both).
    for devices in [1000, 1_000_000] {
        Benchmark(
            "TrackerMemory:\(devices)-devices:1M-observations:1h",
            configuration: .init(
                metrics: [.wallClock, .peakMemoryResident, .mallocBytesCount],
                warmupIterations: 0,
                scalingFactor: .one,
                maxIterations: 3,
                thresholds: [
                    .peakMemoryResident: .init(relative: [.p90: 20]),
                    .mallocBytesCount: .init(relative: [.p90: 5]),
                    .wallClock: .init(relative: [.p90: 50]),
                ]
            )
        ) { benchmark, input in
            var tracker = Tracker(settings: input.settings)
            benchmark.startMeasurement()
            for observation in input.observations { tracker.observe(observation) }
            blackHole(tracker.trackedDevices)
            // Closing the hour (its report sorts the hour's records in place) is part of the peak.
            blackHole(tracker.finish().count)
            benchmark.stopMeasurement()
        } setup: {
            try TrackerInput(devices: devices, observations: 1_000_000, spanSeconds: 3000)
        }
    }

    // A store crowd: 10,000 phones present for one hour, all randomising, in five element
    // layouts of 2,000 phones each. Each phone scans every 36 s with a fresh address (two
    // frames per scan): 2 M observations of 1 M addresses through `Tracker` (public API),
    // the layouts split into lanes by their probe rate (docs/crowds.md). Its malloc count
    // must not grow with the frames; its peak memory, with the tracker-memory benchmarks,
    // gives the cost of the crowd per phone.
    Benchmark(
        "Crowd:tracker:10000-randomising-phones:1h",
        configuration: .init(
            metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
            warmupIterations: 0,
            scalingFactor: .one,
            maxIterations: 5,
            thresholds: [
                .mallocCountTotal: .init(relative: [.p90: 10]),
                .wallClock: .init(relative: [.p90: 50]),
                .peakMemoryResident: .init(relative: [.p90: 20]),
            ]
        )
    ) { benchmark, input in
        var tracker = Tracker(settings: input.settings)
        benchmark.startMeasurement()
        for observation in input.observations { tracker.observe(observation) }
        let reports = tracker.finish()
        benchmark.stopMeasurement()
        blackHole(reports.first?.zones.last?.devices)
    } setup: {
        try CrowdInput(phones: 10_000, layouts: 5, scansPerHour: 100, framesPerScan: 2)
    }

    // MARK: whole pipeline

    Benchmark("Stats:parse+pseudonym+hourly-distinct") { benchmark, capture in
        var collector = StatsCollector()
        var i = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            collector.add(capture.record(i), linkType: capture.linkType)
            i = i + 1 == capture.count ? 0 : i + 1
        }
        benchmark.stopMeasurement()
        blackHole(collector.statistics.distinctDevices)
    } setup: {
        try RecordsInMemory(fixture: "2024-03-14_position_1.pcap")
    }

    // One iteration replays a whole fixture day from the file into a temporary directory:
    // read, parse, gate, pseudonymise, track, suppress, write 2 CSV files per hour. The
    // allocations of an iteration are per hour (reports, CSV text, file names), not per frame.
    Benchmark(
        "Replay:2024-03-14_position_1:17183-frames:to-CSV",
        configuration: .init(
            metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
            scalingFactor: .one,
            maxDuration: .seconds(3),
            thresholds: [
                // About 1,260 allocations per run (per hour and per file); one per frame
                // would add 17,183.
                .mallocCountTotal: .init(absolute: [.p90: 200]),
                .wallClock: .init(relative: [.p90: 50]),
                .throughput: .init(relative: [.p90: 50]),
                .peakMemoryResident: .init(relative: [.p90: 25]),
            ]
        )
    ) { benchmark, input in
        benchmark.startMeasurement()
        do {
            let summary = try Replay.run(settings: input.settings, outputDirectory: input.outputDirectory, inputs: [input.capture])
            blackHole(summary.parse.frames)
        } catch {
            benchmark.error("replay failed: \(error)")
        }
        benchmark.stopMeasurement()
    } setup: {
        try ReplayInputs()
    }
}

// MARK: - Fixtures

/// The repository's root, found from this file's path (Benchmarks/Benchmarks/FootfallBenchmarks/…).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func fixturePath(_ name: String) -> String {
    repositoryRoot.appendingPathComponent("Tests/Fixtures/brno-sc6-61").appendingPathComponent(name).path
}

func labSettings() throws -> Settings {
    try ConfigLoader.load(path: repositoryRoot.appendingPathComponent("config/examples/brno-lab.yaml").path)
}

/// Every record of a capture file copied into one buffer, read in `setup:` so the measured
/// loop sees no I/O.
final class RecordsInMemory: @unchecked Sendable {
    let linkType: LinkType
    let storage: UnsafeMutableRawBufferPointer
    /// Record `i` is `storage[offsets[i] ..< offsets[i + 1]]`.
    let offsets: UnsafeMutableBufferPointer<Int>
    let times: UnsafeMutableBufferPointer<Int64>
    let count: Int

    init(fixture: String) throws {
        let reader = try CaptureFileReader(path: fixturePath(fixture))
        var bytes: [UInt8] = []
        var offsets: [Int] = [0]
        var times: [Int64] = []
        while let record = try reader.next() {
            bytes.append(contentsOf: record.bytes)
            offsets.append(bytes.count)
            times.append(record.timestampNanos)
        }
        linkType = reader.linkType
        count = times.count
        storage = .allocate(byteCount: max(1, bytes.count), alignment: 16)
        storage.copyBytes(from: bytes)
        self.offsets = .allocate(capacity: offsets.count)
        _ = self.offsets.initialize(from: offsets)
        self.times = .allocate(capacity: times.count)
        _ = self.times.initialize(from: times)
    }

    deinit {
        storage.deallocate()
        offsets.deallocate()
        times.deallocate()
    }

    @inline(__always)
    func record(_ i: Int) -> CaptureRecord {
        let start = offsets[i]
        return CaptureRecord(bytes: UnsafeRawBufferPointer(rebasing: storage[start ..< offsets[i + 1]]), timestampNanos: times[i])
    }
}

/// Observations of synthetic devices, made the way the pipeline makes them (a radiotap probe
/// request parsed and pseudonymised), spread evenly over `spanSeconds` from 2024-03-14 13:00 UTC.
/// Device i sends observations i, i + devices, i + 2 × devices, …
final class TrackerInput: @unchecked Sendable {
    let settings: Settings
    let observations: [Observation]

    init(devices: Int, observations count: Int, spanSeconds: Int64) throws {
        settings = try labSettings()
        let keys = KeyStore()
        let pseudonymiser = Pseudonymiser(keys: keys)
        var perDevice: [Observation] = []
        perDevice.reserveCapacity(devices)
        var frame = SyntheticProbeRequest()
        var counters = ParseCounters()
        for d in 0 ..< devices {
            frame.setSource(d)
            frame.setSignal(Int8(-40 - d % 45))
            let observation: Observation = frame.bytes.withUnsafeBytes { bytes in
                let result = FrameParser.parse(bytes, linkType: .ieee80211Radiotap, timestampNanos: 0, counters: &counters)
                guard case .probeRequest(let request) = consume result else { fatalError("synthetic frame did not parse") }
                return pseudonymiser.observe(request, sensor: d % 2)
            }
            perDevice.append(observation)
        }
        let start: Int64 = 1_710_421_200 * 1_000_000_000 // 2024-03-14T13:00:00Z
        let step = spanSeconds * 1_000_000_000 / Int64(count)
        var list: [Observation] = []
        list.reserveCapacity(count)
        for i in 0 ..< count {
            var observation = perDevice[i % devices]
            observation.timestampNanos = start + Int64(i) * step
            observation.sensor = (i / devices) % 2
            list.append(observation)
        }
        observations = list
    }
}

/// A crowd of randomising phones for one hour from 2024-03-14 13:00 UTC: phone p is in layout
/// p % layouts (its supported rates differ) and scans `scansPerHour` times at its own phase,
/// each scan from a fresh random locally administered address, `framesPerScan` frames 20 ms
/// apart. The settings' phone probe rate is what one such phone sends, so a layout's lanes
/// stand for its phones.
final class CrowdInput: @unchecked Sendable {
    let settings: Settings
    let observations: [Observation]

    init(phones: Int, layouts: Int, scansPerHour: Int, framesPerScan: Int) throws {
        var settings = try labSettings()
        settings.visits.phoneProbeRate = scansPerHour * min(framesPerScan, Int(RandomisedCrowd.framesPerAddress))
        self.settings = settings
        let keys = KeyStore()
        let pseudonymiser = Pseudonymiser(keys: keys)
        var frame = SyntheticProbeRequest()
        var counters = ParseCounters()
        let start: Int64 = 1_710_421_200 * 1_000_000_000
        let interval = 3_600_000_000_000 / Int64(scansPerHour)
        var list: [Observation] = []
        list.reserveCapacity(phones * scansPerHour * framesPerScan)
        var rng = SystemRandomNumberGenerator()
        // Scan s of every phone falls in [s × interval, (s + 1) × interval): time order is
        // kept by emitting scan by scan, phones sorted by phase.
        let phases = (0 ..< phones).map { _ in Int64.random(in: 0 ..< interval - 100_000_000, using: &rng) }
        let order = (0 ..< phones).sorted { phases[$0] < phases[$1] }
        for scan in 0 ..< scansPerHour {
            for p in order {
                frame.setRandomisedSource(UInt64.random(in: 0 ..< 1 << 46, using: &rng))
                frame.setLayout(p % layouts)
                frame.setSignal(Int8(-40 - p % 30))
                let observation: Observation = frame.bytes.withUnsafeBytes { bytes in
                    let result = FrameParser.parse(bytes, linkType: .ieee80211Radiotap, timestampNanos: 0, counters: &counters)
                    guard case .probeRequest(let request) = consume result else { fatalError("synthetic frame did not parse") }
                    return pseudonymiser.observeForTracker(request, sensor: 0, keySlot: 0, grouping: true)
                }
                for f in 0 ..< framesPerScan {
                    var o = observation
                    o.timestampNanos = start + Int64(scan) * interval + phases[p] + Int64(f) * 20_000_000
                    list.append(o)
                }
            }
        }
        // Phases sort each scan's frames; frames 20 ms apart of neighbouring phones may
        // interleave within the lateness window, which the tracker accepts.
        observations = list
    }
}

/// A radiotap header (flags and antenna signal) and a probe request with a wildcard SSID and
/// one supported-rates element.
struct SyntheticProbeRequest {
    var bytes: [UInt8]

    init() {
        // Radiotap (IEEE 802.11 radiotap, "Defined fields"): version 0, pad, it_len 10,
        // present = Flags (bit 1) | Antenna Signal (bit 5), one byte each, no alignment.
        bytes = [0x00, 0x00, 0x0a, 0x00, 0x22, 0x00, 0x00, 0x00, 0x00, 0xc4]
        bytes += [0x40, 0x00, 0x00, 0x00]                       // frame control: probe request; duration
        bytes += [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]           // addr1 broadcast
        bytes += [0, 0, 0, 0, 0, 0]                             // addr2 (patched)
        bytes += [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]           // addr3 broadcast
        bytes += [0x10, 0x00]                                   // sequence control
        bytes += [0x00, 0x00]                                   // SSID, wildcard
        bytes += [0x01, 0x04, 0x02, 0x04, 0x0b, 0x16]           // supported rates
    }

    /// A distinct, vendor-assigned (not randomised), individual addr2 for each `n` below 2^40:
    /// randomised addresses would be grouped by their (here identical) element layout.
    mutating func setSource(_ n: Int) {
        bytes[20] = 0x00
        for i in 0 ..< 5 { bytes[21 + i] = UInt8(truncatingIfNeeded: n >> (8 * (4 - i))) }
    }

    /// A locally administered (randomised), individual addr2 from the low 46 bits of `n`.
    mutating func setRandomisedSource(_ n: UInt64) {
        bytes[20] = UInt8(truncatingIfNeeded: n >> 40) & 0xFC | 0x02
        for i in 0 ..< 5 { bytes[21 + i] = UInt8(truncatingIfNeeded: n >> (8 * (4 - i))) }
    }

    /// The element layout: the last supported rate differs per layout.
    mutating func setLayout(_ n: Int) {
        bytes[bytes.count - 1] = UInt8(truncatingIfNeeded: 0x16 + 2 * n)
    }

    mutating func setSignal(_ dBm: Int8) {
        bytes[9] = UInt8(bitPattern: dBm)
    }
}

/// A settings value, one fixture file as sensor position_1 and a scratch output directory.
final class ReplayInputs: @unchecked Sendable {
    let settings: Settings
    let capture: ReplayInput
    let outputDirectory: String

    init() throws {
        settings = try labSettings()
        capture = ReplayInput(path: fixturePath("2024-03-14_position_1.pcap"), sensorID: "position_1")
        // One fixed directory, overwritten by every run (each iteration writes the same files).
        outputDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("footfall-benchmark-replay").path
    }
}
