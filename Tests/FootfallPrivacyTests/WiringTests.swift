@testable import FootfallPipeline
@testable import FootfallCapture
import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallGateway
import FootfallTestSupport
import Foundation
import Logging
import Synchronization
import Testing

// The privacy rules as the production path wires them: `PipelineCore` (what `replay` and
// `run` share) and the gateway's `LivePipeline` with its ring and metrics, not the parts
// alone. `scripts/privacy-mutants.sh` breaks this wiring on purpose; these tests must fail.

/// 2024-03-07 10:20:00 UTC (11:20 in Prague): well inside an hour.
private let tenTwenty: Int64 = 1_709_806_800 * 1_000_000_000
private let oneHour: Int64 = 3_600_000_000_000

/// Two zones with one sensor each, as config/examples/tzsp-loopback.yaml.
private func twoZones(privacy: PrivacySettings = PrivacySettings()) -> Settings {
    Settings(
        site: Site(name: "wiring", timeZone: "Europe/Prague"),
        zones: [Zone(id: "entrance", name: "entrance", rssiThreshold: -70), Zone(id: "checkout", name: "checkout", rssiThreshold: -70)],
        sensors: [
            Sensor(id: "ap-entrance", zone: 0, feed: .tzsp(interface: "lo", port: 37008, senderAddress: "127.0.0.2")),
            Sensor(id: "ap-checkout", zone: 1, feed: .tzsp(interface: "lo", port: 37008, senderAddress: "127.0.0.3")),
        ],
        privacy: privacy
    )
}

/// Globally administered test addresses.
private func addresses(_ count: Int, base: UInt64 = 0x00_1B_63_00_00_00) -> [UInt64] {
    (0 ..< count).map { base + UInt64($0) * 0x0101 + 0x10 }
}

/// A bare 802.11 probe request (no FCS) from `source`, as a TZSP stream carries it.
private func frame(source: UInt64, sequence: UInt16 = 1) -> [UInt8] {
    let address = (0 ..< 6).map { UInt8(truncatingIfNeeded: source >> UInt64(8 * (5 - $0))) }
    let broadcast = [UInt8](repeating: 0xFF, count: 6)
    let header: [UInt8] = [0x40, 0x00, 0x00, 0x00] + broadcast + address + broadcast + [UInt8(truncatingIfNeeded: sequence << 4), UInt8(truncatingIfNeeded: sequence >> 4)]
    return header + [0x00, 0x00, 0x01, 0x04, 0x02, 0x04, 0x0B, 0x16]
}

@discardableResult
private func push(_ ring: FrameRing, source: UInt64, sensor: Int32, atNanos t: Int64) -> Bool {
    frame(source: source).withUnsafeBytes { ring.push($0, meta: FrameMeta(timestampNanos: t, sensor: sensor, linkType: .ieee80211, hints: RadioHints(signalDBm: -45))) }
}

/// Wall and monotonic clocks a test sets by hand.
private final class TestClock: GatewayClock, @unchecked Sendable {
    private let state: Mutex<(wall: Int64, monotonic: Int64)>
    init(wallNanos: Int64) { state = Mutex((wallNanos, 1_000_000_000)) }
    func wallNanos() -> Int64 { state.withLock { $0.wall } }
    func monotonicNanos() -> Int64 { state.withLock { $0.monotonic } }
    func advance(nanos: Int64) { state.withLock { $0.wall += nanos; $0.monotonic += nanos } }
    func stepWall(nanos: Int64) { state.withLock { $0.wall += nanos } }
}

private final class Collected: HourOutput, @unchecked Sendable {
    let hours = Mutex<[PublishedHour]>([])
    func publish(_ published: [PublishedHour]) { hours.withLock { $0 += published } }
    func tick() {}
    func close() {}
}

/// The metrics text with the lines that are not counts removed (comments), sorted, so two
/// registries can be compared line by line.
private func metricLines(_ metrics: GatewayMetrics) -> [String] {
    metrics.exposition().split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }.sorted()
}

@Suite("Wiring: the production path keeps the privacy rules", .serialized)
struct WiringTests {
    // MARK: - P4 through the pipeline

    @Test func hourlyRotationThroughThePipelineEmptiesEveryTableAndReplacesTheKey() throws {
        let keys = KeyStore(slots: 1)
        var core = try PipelineCore(settings: twoZones(privacy: PrivacySettings(rotation: .hourly)), optOut: .empty, keys: keys)
        let devices = addresses(10)
        // Heard ten seconds before the top of the local hour (11:00 UTC, 12:00 in Prague), so
        // nothing but the rotation can make the tracker forget them.
        let lastMinute = tenTwenty + 40 * 60_000_000_000 - 10_000_000_000
        for (i, d) in devices.enumerated() { core.process(makeProbe(mac: d, timestampNanos: lastMinute + Int64(i)), sensor: i % 2) }
        #expect(core.trackedDevices == 10)
        let before = devices.map { pseudonym(of: $0, keys: keys) }
        let generation = core.keyGeneration

        // The clock passes the top of the hour: the key period ends.
        core.advanceClock(toNanos: lastMinute + 11_000_000_000)
        #expect(core.keyGeneration == generation + 1)
        #expect(core.trackedDevices == 0, "the tracker kept pseudonym tables across a rotation")
        let after = devices.map { pseudonym(of: $0, keys: keys) }
        #expect(zip(before, after).allSatisfy { $0 != $1 }, "a device has the same pseudonym after the rotation")

        // A frame past the next boundary rotates on its own time too.
        core.process(makeProbe(mac: devices[0], timestampNanos: lastMinute + oneHour + 20_000_000_000), sensor: 0)
        #expect(core.keyGeneration == generation + 2)
        #expect(core.trackedDevices == 1)
        _ = core.finish()
    }

    @Test func keysOfTwoPipelinesStartedTogetherAreUnrelated() throws {
        // The production key path (locked memory, OS CSPRNG): two cores made in the same
        // instant must not share a key, as a clock-seeded or constant key would.
        let devices = addresses(64)
        func pseudonyms() throws -> [Pseudonym] {
            var core = try PipelineCore(settings: twoZones())
            var out: [Pseudonym] = []
            _ = core.finish { _, keys in out = devices.map { pseudonym(of: $0, keys: keys) } }
            return out
        }
        let a = try pseudonyms()
        let b = try pseudonyms()
        #expect(zip(a, b).filter { $0 == $1 }.isEmpty, "two pipelines gave the same pseudonyms")
        #expect(Set(a).count == devices.count)
    }

    // MARK: - P5 through the pipeline

    @Test func strictModeKeysDifferPerZoneThroughThePipeline() throws {
        let phone: UInt64 = 0x3C22_FB11_2233
        func trackedAfterBothZonesHearIt(strict: Bool) throws -> (tracked: Int, slots: Int) {
            var core = try PipelineCore(settings: twoZones(privacy: PrivacySettings(strict: strict)))
            core.process(makeProbe(mac: phone, timestampNanos: tenTwenty), sensor: 0)
            core.process(makeProbe(mac: phone, timestampNanos: tenTwenty + 1_000_000_000), sensor: 1)
            var slots = 0
            _ = core.finish { _, keys in slots = keys.slots }
            return (core.trackedDevices, slots)
        }
        let strict = try trackedAfterBothZonesHearIt(strict: true)
        #expect(strict.slots == 2)
        #expect(strict.tracked == 2, "strict mode linked one phone across two zones")
        let linked = try trackedAfterBothZonesHearIt(strict: false)
        #expect(linked.tracked == 1)
    }

    // MARK: - P14 through the gateway, with a known key

    @Test func withAKnownKeyNoPseudonymOrKeyAppearsInAnyLogLineAtTrace() throws {
        let keys = KeyStore(slots: 1)
        let settings = twoZones(privacy: PrivacySettings(rotation: .hourly))
        let core = try PipelineCore(settings: settings, optOut: .empty, keys: keys)
        let ring = FrameRing(capacity: 256)
        let clock = TestClock(wallNanos: tenTwenty)
        let (logger, log) = RecordingLogHandler.logger()
        let metrics = GatewayMetrics(sensorIDs: settings.sensors.map(\.id), sourceNames: ["tzsp:lo:37008"])
        let pipeline = LivePipeline(core: core, ring: ring, metrics: metrics, output: Collected(), logger: logger, clock: clock)
        let devices = addresses(30)
        var secrets: Set<UInt64> = []
        for round in 0 ..< 2 {
            secrets.formUnion(keyWords(of: keys))
            for d in devices { secrets.insert(bits(of: pseudonym(of: d, keys: keys))) }
            for (i, d) in devices.enumerated() { push(ring, source: d, sensor: Int32(i % 2), atNanos: clock.wallNanos()) }
            pipeline.drain(timeoutNanos: 0)
            pipeline.tick()
            // Into the next hour: the hour is published, the key rotates (both logged).
            clock.advance(nanos: oneHour)
            pipeline.tick()
            #expect(pipeline.counters.keyGeneration == round + 2)
        }
        pipeline.applyPendingReload()
        pipeline.finish()
        let text = log.text + "\n" + metrics.exposition()
        #expect(!log.text.isEmpty)
        var found: [String] = []
        for secret in secrets { for spelling in secretSpellings(secret) where text.contains(spelling) { found.append(spelling) } }
        #expect(found.isEmpty, "pseudonyms or key words in the log or metrics: \(found.prefix(5))")
        #expect(IdentifierScanner(addresses: Set(devices)).scan(text, source: "log").isEmpty)
    }

    // MARK: - P16 and live metrics

    @Test func framesOfAnOptedOutAddressChangeNoMetricAndNoLogLine() throws {
        let optedOut: UInt64 = 0xDC_FB_48_68_BE_E4
        let list = try OptOutList(parsing: "dc:fb:48:68:be:e4\n")
        let settings = twoZones()
        func run(withOptedOutFrames: Bool) throws -> (metrics: [String], log: [String], hours: [PublishedHour]) {
            let core = try PipelineCore(settings: settings, optOut: list)
            let ring = FrameRing(capacity: 256)
            let clock = TestClock(wallNanos: tenTwenty)
            let (logger, log) = RecordingLogHandler.logger()
            let metrics = GatewayMetrics(sensorIDs: settings.sensors.map(\.id), sourceNames: ["tzsp:lo:37008"])
            let output = Collected()
            let pipeline = LivePipeline(core: core, ring: ring, metrics: metrics, output: output, logger: logger, clock: clock)
            pipeline.tick()
            for (i, d) in addresses(12).enumerated() { push(ring, source: d, sensor: Int32(i % 2), atNanos: clock.wallNanos()) }
            if withOptedOutFrames {
                for i in 0 ..< 40 { push(ring, source: optedOut, sensor: Int32(i % 2), atNanos: clock.wallNanos()) }
            }
            pipeline.drain(timeoutNanos: 0)
            pipeline.tick()
            clock.advance(nanos: oneHour)
            pipeline.tick()
            pipeline.finish()
            // Log lines without the call site's line numbers (identical code, identical lines).
            return (metricLines(metrics), log.lines.withLock { $0 }, output.hours.withLock { $0 })
        }
        let without = try run(withOptedOutFrames: false)
        let with = try run(withOptedOutFrames: true)
        #expect(with.metrics == without.metrics, "a metric moved with the opted-out frames: \(Set(with.metrics).symmetricDifference(without.metrics))")
        #expect(with.log == without.log, "a log line changed with the opted-out frames: \(Set(with.log).symmetricDifference(without.log))")
        #expect(with.hours == without.hours)
    }

    @Test func noLiveMetricMovesWhenOnePersonIsHeard() throws {
        let settings = twoZones()
        let core = try PipelineCore(settings: settings)
        let ring = FrameRing(capacity: 64)
        let clock = TestClock(wallNanos: tenTwenty)
        let metrics = GatewayMetrics(sensorIDs: settings.sensors.map(\.id), sourceNames: ["tzsp:lo:37008"])
        let pipeline = LivePipeline(core: core, ring: ring, metrics: metrics, output: Collected(), logger: Logger(label: "test"), clock: clock)
        pipeline.tick()
        let quiet = metricLines(metrics)
        // One phone, heard twenty times by both sensors.
        for i in 0 ..< 20 { push(ring, source: 0x00_1B_63_AA_BB_CC, sensor: Int32(i % 2), atNanos: clock.wallNanos() + Int64(i)) }
        pipeline.drain(timeoutNanos: 0)
        pipeline.tick()
        #expect(pipeline.counters.probeRequestsPerSensor == [10, 10])
        #expect(metricLines(metrics) == quiet, "live metrics tell that one person is in the store: \(Set(metricLines(metrics)).symmetricDifference(quiet))")
    }

    // MARK: - P4: key life on the monotonic clock

    @Test func aKeyLivesAtMost24HoursOfRealTimeWhenTheWallClockIsSetBack() throws {
        let settings = twoZones()  // daily rotation at 04:00
        let core = try PipelineCore(settings: settings)
        let ring = FrameRing(capacity: 16)
        let clock = TestClock(wallNanos: tenTwenty)
        let pipeline = LivePipeline(
            core: core, ring: ring, metrics: GatewayMetrics(sensorIDs: settings.sensors.map(\.id), sourceNames: []),
            output: Collected(), logger: Logger(label: "test"), clock: clock)
        pipeline.tick()
        let first = pipeline.counters.keyGeneration
        // The wall clock is set back two days, then real time goes on. The step is noticed,
        // and after 10 minutes taken as a correction of the clock: from then on event time,
        // and the rotation schedule with it, is held until the wall clock has caught up.
        clock.stepWall(nanos: -48 * oneHour)
        clock.advance(nanos: 60_000_000_000)
        pipeline.tick()
        clock.advance(nanos: 600_000_000_000)
        pipeline.tick()
        clock.advance(nanos: 23 * oneHour - 660_000_000_000)
        pipeline.tick()
        #expect(pipeline.counters.keyGeneration == first, "rotated before the key was 24 h old")
        clock.advance(nanos: oneHour + 1_000_000_000)
        pipeline.tick()
        #expect(pipeline.counters.keyGeneration == first + 1, "a key outlived 24 h of real time because the clock was set back")
        pipeline.finish()
    }

    // MARK: - P1: the frame ring

    @Test func ringSlotsAreZeroedOnceParsedAndLockedOutOfCoreDumps() throws {
        let ring = FrameRing(capacity: 8, slotBytes: 512)
        let phone: UInt64 = 0x00_1B_63_12_34_56
        push(ring, source: phone, sensor: 0, atNanos: tenTwenty)
        var slot: UnsafeRawBufferPointer?
        var sawAddress = false
        ring.consume(timeoutNanos: 0) { bytes, _ in
            slot = bytes
            sawAddress = Array(bytes[10 ..< 16]) == [0x00, 0x1B, 0x63, 0x12, 0x34, 0x56]
        }
        #expect(sawAddress)
        // The slot's memory is still mapped (the ring lives on); its bytes must be gone.
        let after = try #require(slot)
        #expect(after.allSatisfy { $0 == 0 }, "a parsed frame is still in the ring")
        // 4 KiB is within even an unprivileged RLIMIT_MEMLOCK.
        #expect(ring.lockStatus == .locked)
        #expect(ring.excludedFromCoreDumps)
    }

    /// A capture file as `replay`, `evaluate` and `stats` read each input: in 1 MiB blocks
    /// into a buffer of the reader's own (`BufferedPcapFile`). The raw frames must be gone
    /// from it as soon as the file has been read to its end, or to the damage that ends it.
    @Test(arguments: [false, true])
    func aCaptureReadToItsEndOrItsDamageLeavesNoFrameInTheReadBuffer(damaged: Bool) throws {
        var path = fixturesDirectory.appendingPathComponent("2024-03-07_position_1.pcap").path
        if damaged {
            // Cut in the middle of a record, about two thirds in (past the first block).
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            path = NSTemporaryDirectory() + "footfall-cut-\(UUID().uuidString).pcap"
            try bytes.prefix(bytes.count * 2 / 3 + 7).write(to: URL(fileURLWithPath: path))
        }
        defer { if damaged { try? FileManager.default.removeItem(atPath: path) } }
        let reader = try CaptureFileReader(path: path)
        var records = 0
        var heldFrames = false
        var failure: CaptureError?
        do {
            while try reader.next() != nil {
                records += 1
                // The check below can fail: while the file is read, the buffer holds frames.
                if records == 1000 { heldFrames = reader.readBufferIsZero == false }
            }
        } catch {
            failure = error
        }
        #expect(records > 1000)
        #expect(heldFrames)
        #expect((failure?.code == .truncated) == damaged)
        #expect(reader.readBufferIsZero == true, "raw frames are still in the read buffer after the file was read")
        let locking = try #require(reader.readBufferLockStatus)
        #expect(locking.undumpable, "the read buffer would be written into a core dump")
        // 1 MiB: locked wherever RLIMIT_MEMLOCK allows it (root, as in CI; 8 MiB by default
        // on current kernels), and then it must be.
        if memlockLimitAllows(bytes: 1 << 20) { #expect(locking.locked) }
    }

    /// The batches in which `replay`'s reading thread hands probe requests, raw addresses
    /// and all, to the core (`ProbeHandoff`), after a replay has ended or been stopped.
    private func replayThroughSmallBatches(_ sink: @escaping (HourReport) throws(ReplayError) -> Void) throws -> (ProbeHandoff, ReplayError?) {
        let handoff = ProbeHandoff(batchCount: 4, batchCapacity: 64)
        let settings = Settings(
            site: Site(name: "wiring", timeZone: "Europe/Prague"),
            zones: [Zone(id: "room", name: "room", rssiThreshold: -80)],
            sensors: [Sensor(id: "position_1", zone: 0, feed: .file)])
        let inputs = [ReplayInput(path: fixturesDirectory.appendingPathComponent("2024-03-07_position_1.pcap").path, sensorID: "position_1")]
        do throws(ReplayError) {
            _ = try Replay.process(settings: settings, inputs: inputs, progress: nil, keys: nil, inspect: nil, threads: 2, handoff: handoff, sink: sink)
            return (handoff, nil)
        } catch {
            return (handoff, error)
        }
    }

    @Test func replayBatchesAreZeroedOnceProcessedAndLockedOutOfCoreDumps() throws {
        var hours = 0
        let (handoff, error) = try replayThroughSmallBatches { _ in hours += 1 }
        #expect(error == nil)
        #expect(hours >= 5)
        for batch in 0 ..< handoff.batchCount {
            #expect(handoff.batchIsZero(batch), "batch \(batch) still holds probe requests after the replay")
        }
        // 4 × 64 requests: a few pages, within even an unprivileged RLIMIT_MEMLOCK.
        #expect(handoff.isLockedAndUndumpable)
    }

    @Test func aReplayStoppedByAFailedWriteLeavesNoProbeRequestInItsBatches() throws {
        let (handoff, error) = try replayThroughSmallBatches { _ throws(ReplayError) in
            // Time for the reading thread to fill every batch before the failure.
            Thread.sleep(forTimeInterval: 0.05)
            throw ReplayError("disk full")
        }
        #expect(error?.message == "disk full")
        for batch in 0 ..< handoff.batchCount {
            #expect(handoff.batchIsZero(batch), "batch \(batch) still holds probe requests after the replay stopped")
        }
    }
}

/// Whether this process may lock `bytes` more of memory: root, or an `RLIMIT_MEMLOCK` that
/// leaves room for them besides what the tests lock already.
private func memlockLimitAllows(bytes: Int) -> Bool {
    if geteuid() == 0 { return true }
    var limit = rlimit()
    // RLIMIT_MEMLOCK (8 on Linux) is a macro Swift does not import; RLIM_INFINITY is all ones.
    guard getrlimit(__rlimit_resource_t(8), &limit) == 0 else { return false }
    return limit.rlim_cur == rlim_t.max || limit.rlim_cur >= rlim_t(2 * bytes)
}
