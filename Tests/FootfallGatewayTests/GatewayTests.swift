#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import FootfallCapture
import FootfallCore
import FootfallIngest
import FootfallAggregate
@testable import FootfallGateway
import FootfallOutput
import FootfallPipeline
import FootfallTestSupport
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

@Suite("TZSP streams: sensor by sender")
struct TZSPDemuxTests {
    static let routes = [
        TZSPRoute(sender: IPv4Address(dottedQuad: "127.0.0.2")!, sensor: 0),
        TZSPRoute(sender: IPv4Address(dottedQuad: "127.0.0.3")!, sensor: 1),
    ]

    func route(_ demux: inout TZSPDemux, from sender: String, source: UInt64, ring: FrameRing) throws -> TZSPDemux.Outcome {
        let datagram = tzspDatagram(probeRequest(source: source), signalDBm: -45)
        return try datagram.withUnsafeBytes { bytes in
            let header = try TZSP.decode(bytes)
            return demux.route(sender: IPv4Address(dottedQuad: sender)!, header: header, datagram: bytes, timestampNanos: tenTwenty, into: ring)
        }
    }

    @Test func unknownSenderIsDroppedAndCounted() throws {
        var demux = TZSPDemux(routes: Self.routes)
        let ring = FrameRing(capacity: 8)
        #expect(try route(&demux, from: "192.0.2.9", source: 0x001B_6300_0001, ring: ring) == .unknownSender)
        #expect(try route(&demux, from: "127.0.0.4", source: 0x001B_6300_0002, ring: ring) == .unknownSender)
        #expect(demux.unknownSenders == 2)
        #expect(ring.pending == 0)
        #expect(ring.statistics.pushed == 0)
    }

    @Test func sensorIsChosenBySenderAddress() throws {
        var demux = TZSPDemux(routes: Self.routes)
        let ring = FrameRing(capacity: 8)
        #expect(try route(&demux, from: "127.0.0.3", source: 0x001B_6300_0001, ring: ring) == .queued(sensor: 1))
        #expect(try route(&demux, from: "127.0.0.2", source: 0x001B_6300_0002, ring: ring) == .queued(sensor: 0))
        var seen: [FrameMeta] = []
        var lengths: [Int] = []
        ring.consume(timeoutNanos: 0) { bytes, meta in
            seen.append(meta)
            lengths.append(bytes.count)
        }
        #expect(seen.map(\.sensor) == [1, 0])
        // The ring holds the bare 802.11 frame and the access point's signal reading.
        #expect(seen.allSatisfy { $0.linkType == .ieee80211 && $0.hints.signalDBm == -45 })
        #expect(lengths == [probeRequest(source: 1).count, probeRequest(source: 1).count])
        #expect(demux.unknownSenders == 0)
    }

    @Test func sourcePlanOpensOneStreamPerInterfaceAndPort() {
        var settings = twoZoneSettings()
        settings.sensors.append(Sensor(id: "ap-3", zone: 1, feed: .tzsp(interface: "eth0", port: 37008, senderAddress: "192.0.2.3")))
        settings.sensors.append(Sensor(id: "mon", zone: 0, feed: .interface("wlan1mon")))
        settings.sensors.append(Sensor(id: "file", zone: 0, feed: .file))
        let (sources, fileSensors) = SourcePlan.sources(for: settings)
        #expect(sources.map(\.name) == ["tzsp:lo:37008", "tzsp:eth0:37008", "wlan1mon"])
        #expect(sources[0].kind == .tzsp(interface: "lo", port: 37008, routes: Array(Self.routes)))
        #expect(sources[2].kind == .monitor(interface: "wlan1mon", sensor: 3))
        #expect(fileSensors == ["file"])
    }
}

@Suite("Frame ring between capture threads and the pipeline")
struct FrameRingTests {
    @Test func fullRingDropsTheFrameAndCountsIt() throws {
        let ring = FrameRing(capacity: 2, slotBytes: 256)
        #expect(push(ring, source: 0x001B_6300_0001, sensor: 0, atNanos: tenTwenty))
        #expect(push(ring, source: 0x001B_6300_0002, sensor: 0, atNanos: tenTwenty))
        #expect(!push(ring, source: 0x001B_6300_0003, sensor: 0, atNanos: tenTwenty))
        #expect(ring.statistics.droppedFull == 1)
        #expect(ring.statistics.pushed == 2)
        // The frames already in the ring are intact and in order.
        var sources: [UInt8] = []
        ring.consume(timeoutNanos: 0) { bytes, _ in sources.append(bytes[15]) }
        #expect(sources == [0x01, 0x02])
        // Room again after the consumer took them.
        #expect(push(ring, source: 0x001B_6300_0004, sensor: 0, atNanos: tenTwenty))
    }

    @Test func frameLongerThanASlotIsDroppedAndCounted() {
        let ring = FrameRing(capacity: 4, slotBytes: 16)
        #expect(!push(ring, source: 0x001B_6300_0001, sensor: 0, atNanos: tenTwenty))
        #expect(ring.statistics.droppedOversize == 1)
        #expect(ring.pending == 0)
    }

    @Test func ringDropsReachTheMetrics() throws {
        let ring = FrameRing(capacity: 1, slotBytes: 256)
        let metrics = GatewayMetrics(sensorIDs: ["ap-entrance", "ap-checkout"], sourceNames: ["tzsp:lo:37008"])
        let pipeline = try makePipeline(ring: ring, metrics: metrics, output: CollectingOutput(), clock: ManualClock(wallNanos: tenTwenty))
        push(ring, source: 0x001B_6300_0001, sensor: 0, atNanos: tenTwenty)
        push(ring, source: 0x001B_6300_0002, sensor: 0, atNanos: tenTwenty)
        push(ring, source: 0x001B_6300_0003, sensor: 0, atNanos: tenTwenty)
        pipeline.drain(timeoutNanos: 0)
        pipeline.tick()
        #expect(metrics.exposition().contains(#"footfall_ring_dropped_total{reason="full"} 2"#))
        #expect(pipeline.counters.ring.droppedFull == 2)
        #expect(pipeline.counters.probeRequestsPerSensor == [1, 0])
    }
}

/// A source that delivers `packets` then fails (interface gone) or stops.
final class ScriptedSource: FrameSource, @unchecked Sendable {
    let failAtEnd: Bool
    private let remaining: Mutex<Int>
    private let stopped = Atomic(false)

    init(packets: Int, failAtEnd: Bool) {
        self.failAtEnd = failAtEnd
        self.remaining = Mutex(packets)
    }

    func pump() throws(CaptureError) -> PumpEvent {
        if stopped.load(ordering: .acquiring) { return .stopped }
        let left = remaining.withLock { value -> Int in
            defer { value -= 1 }
            return value
        }
        if left > 0 { return .packet }
        if failAtEnd { throw CaptureError(code: .interfaceGone, message: "interface wlan9: gone") }
        // Nothing more: behave like an idle capture until stopped.
        Thread.sleep(forTimeInterval: 0.01)
        return .timeout
    }

    func stop() { stopped.store(true, ordering: .releasing) }
    func publishStatistics() {}
}

/// Fails to open twice, then opens a source that loses its interface, then one that works.
final class FlakyFactory: FrameSourceFactory, @unchecked Sendable {
    let attempts = Mutex(0)

    func open(_ spec: SourceSpec, index: Int, ring: FrameRing, metrics: GatewayMetrics, logger: Logger) throws(CaptureError) -> any FrameSource {
        let attempt = attempts.withLock { value -> Int in
            value += 1
            return value
        }
        switch attempt {
        case 1, 2: throw CaptureError(code: .cannotOpen, message: "interface wlan9: no such interface")
        case 3: return ScriptedSource(packets: 3, failAtEnd: true)
        default: return ScriptedSource(packets: 3, failAtEnd: false)
        }
    }
}

/// Records the waits instead of sleeping; asks the service to stop once the source is back.
final class RecordingSleeper: BackoffSleeper, @unchecked Sendable {
    let waits = Mutex<[Double]>([])
    func sleep(seconds: Double, shouldStop: @Sendable () -> Bool) async {
        waits.withLock { $0.append(seconds) }
    }
}

@Suite("Sources that go away")
struct CaptureResilienceTests {
    @Test func lostInterfaceIsReopenedWithExponentialBackoff() async throws {
        let factory = FlakyFactory()
        let sleeper = RecordingSleeper()
        let (logger, log) = RecordingLogHandler.logger()
        let metrics = GatewayMetrics(sensorIDs: ["mon"], sourceNames: ["wlan9"])
        let service = CaptureService(
            spec: SourceSpec(kind: .monitor(interface: "wlan9", sensor: 0)), index: 0, factory: factory,
            ring: FrameRing(capacity: 8), metrics: metrics, logger: logger, sleeper: sleeper,
            // The source that is lost ran for a moment only; on a loaded machine that moment
            // can pass 30 s of wall-clock time, which would (rightly) start the backoff afresh.
            healthyRun: .seconds(86_400))
        let control = CaptureControl()
        // Stop once the fourth open (the working source) has happened.
        let watcher = Task {
            while factory.attempts.withLock({ $0 }) < 4 { try await Task.sleep(for: .milliseconds(10)) }
            control.requestStop()
        }
        let opened = await service.captureUntilStopped(control)
        try await watcher.value
        #expect(opened == 2)
        #expect(factory.attempts.withLock { $0 } == 4)
        // Two failed opens and one lost interface: 1 s, 2 s, 4 s.
        #expect(sleeper.waits.withLock { $0 } == [1, 2, 4])
        let text = metrics.exposition()
        #expect(text.contains(#"footfall_source_failures_total{source="wlan9"} 3"#))
        #expect(text.contains(#"footfall_source_up{source="wlan9"} 0"#))
        let lines = log.lines.withLock { $0 }
        #expect(lines.filter { $0.contains("source down") }.count == 3)
        #expect(lines.filter { $0.hasPrefix("info capturing") }.count == 2)
    }

    @Test func backoffDoublesUpToTheCapAndResets() {
        var backoff = Backoff(initialSeconds: 1, maximumSeconds: 60)
        #expect((0 ..< 8).map { _ in backoff.next() } == [1, 2, 4, 8, 16, 32, 60, 60])
        backoff.reset()
        #expect(backoff.next() == 1)
    }
}

/// Fails while `failing` is set, like a full disk; remembers what it wrote.
final class FlakySink: HourFileSink, @unchecked Sendable {
    let failing = Atomic(true)
    let written = Mutex<[PublishedHour]>([])
    func write(_ hour: PublishedHour) throws(OutputError) -> [String] {
        if failing.load(ordering: .acquiring) {
            throw OutputError(code: .write, message: "cannot write heatmap-2024-03-07T11.csv: No space left on device")
        }
        written.withLock { $0.append(hour) }
        return ["flows-x.csv", "heatmap-x.csv"]
    }
}

@Suite("Writer")
struct WriterTests {
    func hour(_ start: Int64) -> PublishedHour {
        let report = HourReport(hourStart: start, utcOffsetSeconds: 3600, partial: false, zones: [
            ZoneHour(zone: ZoneHour.siteWide, devices: 7, visitors: 0, visits: 0, averagePresent: 0, peakPresent: 0, medianDwellSeconds: nil, p90DwellSeconds: nil, passersby: 7),
        ], flows: [])
        return Suppression.publish(report, privacy: PrivacySettings())
    }

    @Test func failedWriteKeepsTheHourAndRetriesIt() {
        let sink = FlakySink()
        let metrics = GatewayMetrics(sensorIDs: [], sourceNames: [])
        let (logger, log) = RecordingLogHandler.logger()
        let writer = HourWriterCore(sink: sink, metrics: metrics, logger: logger, clock: ManualClock(wallNanos: tenTwenty))
        writer.enqueue([hour(1_709_802_000), hour(1_709_805_600)])
        #expect(writer.flush() == false)
        #expect(writer.flush() == false)
        #expect(writer.pendingCount == 2)
        #expect(sink.written.withLock { $0.isEmpty })
        #expect(metrics.exposition().contains("footfall_write_errors_total 2"))
        #expect(metrics.exposition().contains("footfall_pending_hours 2"))
        // One error line per outage, not per attempt.
        #expect(log.lines.withLock { $0 }.filter { $0.hasPrefix("error") }.count == 1)

        sink.failing.store(false, ordering: .releasing)
        #expect(writer.flush() == true)
        #expect(writer.pendingCount == 0)
        // Each hour once, in order.
        #expect(sink.written.withLock { $0.map(\.hourStart) } == [1_709_802_000, 1_709_805_600])
        let text = metrics.exposition()
        #expect(text.contains("footfall_hours_written_total 2"))
        #expect(text.contains("footfall_last_file_written_timestamp_seconds 1709806800"))
    }
}

extension WriterTests {
    /// P17 in the running collector: the writer deletes its own files once they are past
    /// `output.retention_days`, at start and then hourly, and leaves everything else alone.
    @Test func collectorDeletesOutputFilesPastRetention() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-retention-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // tenTwenty is 2024-03-07 10:20 local; with 3 days' retention, 03-03 is past, 03-05 is not.
        for name in ["heatmap-2024-03-03T09.csv", "flows-2024-03-03T09.csv", "heatmap-2024-03-05T09.csv", "notes.txt"] {
            try "x\n".write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let metrics = GatewayMetrics(sensorIDs: [], sourceNames: [])
        let (logger, _) = RecordingLogHandler.logger()
        let writer = HourWriterCore(sink: FlakySink(), metrics: metrics, logger: logger, clock: ManualClock(wallNanos: tenTwenty), retention: (dir.path, 3))
        writer.sweepIfDue()
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        #expect(left == ["heatmap-2024-03-05T09.csv", "notes.txt"])
        #expect(metrics.exposition().contains("footfall_files_expired_total 2"))
    }
}

@Suite("Live time")
struct LiveClockTests {
    @Test func backwardClockStepNeverGivesNegativeDurationsOrEarlierHours() throws {
        let clock = ManualClock(wallNanos: tenTwenty)
        let ring = FrameRing(capacity: 256)
        let output = CollectingOutput()
        let (logger, log) = RecordingLogHandler.logger()
        let pipeline = try makePipeline(ring: ring, output: output, clock: clock, logger: logger)
        let devices = testAddresses(6)
        var newest: Int64 = .min
        // Five minutes of frames, one a minute per device.
        for minute in 0 ..< 5 {
            for d in devices { push(ring, source: d, sensor: Int32(d % 2), atNanos: clock.wallNanos()) }
            pipeline.drain(timeoutNanos: 0)
            pipeline.tick()
            newest = try #require(pipeline.counters.eventTimeNanos)
            clock.advance(seconds: 60)
            _ = minute
        }
        // The wall clock is set back by an hour; capture timestamps follow it.
        clock.stepWall(seconds: -3600)
        for _ in 0 ..< 3 {
            for d in devices { push(ring, source: d, sensor: Int32(d % 2), atNanos: clock.wallNanos()) }
            pipeline.drain(timeoutNanos: 0)
            pipeline.tick()
            let now = try #require(pipeline.counters.eventTimeNanos)
            #expect(now >= newest, "event time went backwards")
            #expect(now >= newest + 59_000_000_000, "event time froze: it follows the monotonic clock while the wall clock is stepped")
            newest = now
            clock.advance(seconds: 60)
        }
        #expect(pipeline.counters.tracker.late == 0)
        pipeline.finish()
        let hours = output.hours
        // Nothing was put into the hour before (10:00 UTC is 11:00 local; 09:xx UTC never appears).
        #expect(hours.map(\.hourStart) == [1_709_805_600])
        for row in hours.flatMap(\.zones) {
            #expect((row.averagePresent.value ?? 0) >= 0)
            #expect((row.medianDwellSeconds?.value ?? 0) >= 0)
            #expect((row.p90DwellSeconds?.value ?? 0) >= 0)
        }
        #expect(hours.first?.zones.last?.devices.value == 6)
        #expect(log.lines.withLock { $0 }.contains { $0.contains("wall clock stepped back by 3600 s") })
    }

    @Test func aWallClockStepOfAYearForThreeSecondsNeitherClosesTheHourEarlyNorSendsFramesAYearAhead() throws {
        let clock = ManualClock(wallNanos: tenTwenty)
        let ring = FrameRing(capacity: 256)
        let output = CollectingOutput()
        let metrics = GatewayMetrics(sensorIDs: ["ap-entrance", "ap-checkout"], sourceNames: ["tzsp:lo:37008"])
        let (logger, log) = RecordingLogHandler.logger()
        let pipeline = try makePipeline(ring: ring, metrics: metrics, output: output, clock: clock, logger: logger)
        let devices = testAddresses(6)
        func minuteOfFrames() {
            // Capture times come from the wall clock, as libpcap stamps them.
            for d in devices { push(ring, source: d, sensor: Int32(d % 2), atNanos: clock.wallNanos()) }
            pipeline.drain(timeoutNanos: 0)
            pipeline.tick()
        }
        for _ in 0 ..< 5 {
            minuteOfFrames()
            clock.advance(seconds: 60)
        }
        // The wall clock jumps a year ahead for three seconds: frames and ticks in the step.
        let year: Int64 = 365 * 86_400
        clock.stepWall(seconds: year)
        for _ in 0 ..< 3 {
            minuteOfFrames()
            clock.advance(seconds: 1)
        }
        // Frames stamped in the step but taken out of the ring after the clock came back.
        for d in devices { push(ring, source: d, sensor: Int32(d % 2), atNanos: clock.wallNanos()) }
        clock.stepWall(seconds: -year)
        pipeline.drain(timeoutNanos: 0)
        for _ in 0 ..< 5 {
            clock.advance(seconds: 60)
            minuteOfFrames()
        }
        let eventTime = try #require(pipeline.counters.eventTimeNanos)
        #expect(eventTime < tenTwenty + 3600 * 1_000_000_000, "event time stayed in the real hour")
        #expect(output.hours.isEmpty, "no hour was closed early: \(output.hours.map(\.hourStart))")
        #expect(pipeline.counters.tracker.late == 0)
        pipeline.finish()
        // Only the real hour (10:00 UTC), partial at shutdown, with every device in it.
        #expect(output.hours.map(\.hourStart) == [1_709_805_600])
        #expect(output.hours.first?.partial == true)
        #expect(output.hours.first?.zones.last?.devices.value == 6)
        #expect(metrics.exposition().contains("footfall_clock_steps_total 1"), "\(metrics.exposition())")
        #expect(metrics.exposition().contains("footfall_clock_agrees 1"))
        let lines = log.lines.withLock { $0 }
        #expect(lines.filter { $0.contains("wall clock stepped forward by 31536000 s") }.count == 1, "warned once: \(lines)")
        #expect(lines.contains { $0.contains("agrees with the monotonic clock again") })
    }

    @Test func aStepThatLastsTenMinutesIsTakenAsACorrectionOfTheClock() throws {
        let clock = ManualClock(wallNanos: tenTwenty)
        let ring = FrameRing(capacity: 64)
        let output = CollectingOutput()
        let metrics = GatewayMetrics(sensorIDs: ["ap-entrance", "ap-checkout"], sourceNames: ["tzsp:lo:37008"])
        let pipeline = try makePipeline(ring: ring, metrics: metrics, output: output, clock: clock)
        pipeline.tick()
        clock.stepWall(seconds: 7200)  // NTP puts a clock that was two hours slow right
        for _ in 0 ..< 11 {
            clock.advance(seconds: 60)
            pipeline.tick()
            #expect(metrics.exposition().contains("footfall_clock_steps_total 1"))
        }
        let eventTime = try #require(pipeline.counters.eventTimeNanos)
        #expect(eventTime == clock.wallNanos(), "the wall clock is followed again")
        #expect(metrics.exposition().contains("footfall_clock_agrees 1"))
    }

    /// A collector (re)started at 10:20 UTC, quiet until 10:25, whose every source is down
    /// 11:10–11:20: the hours say how long they were heard, not 3600.
    @Test func listenedSecondsCountFromTheStartAndLeaveOutTimeEverySourceWasDown() throws {
        let clock = ManualClock(wallNanos: tenTwenty)
        let ring = FrameRing(capacity: 256)
        let output = CollectingOutput()
        let settings = twoZoneSettings()
        let allDown = Flag()
        let pipeline = LivePipeline(
            core: try PipelineCore(settings: settings), ring: ring,
            metrics: GatewayMetrics(sensorIDs: settings.sensors.map(\.id), sourceNames: ["tzsp:lo:37008"]),
            output: output, logger: Logger(label: "test"), clock: clock, sourcesHearing: { !allDown.isSet })
        let devices = testAddresses(6)
        pipeline.tick()
        for minute in 1 ... 115 {
            clock.advance(seconds: 60)
            let down = (51 ... 60).contains(minute)  // 11:11–11:20 (ticks after 11:10)
            if down { allDown.set() } else { allDown.clear() }
            if minute >= 5, !down {
                for d in devices { push(ring, source: d, sensor: Int32(d % 2), atNanos: clock.wallNanos()) }
                pipeline.drain(timeoutNanos: 0)
            }
            pipeline.tick()
        }
        let closed = output.hours.filter { !$0.partial }
        #expect(closed.map(\.hourStart) == [1_709_805_600, 1_709_809_200])
        #expect(closed.first?.listenedSeconds == 2400, "heard from the start at 10:20, not from the first frame at 10:25")
        #expect(closed.last?.listenedSeconds == 3000, "ten minutes of the hour no source was up")
    }

    @Test(.timeLimit(.minutes(1)))
    func aGatewayThatBootsWithItsClockIn1970WaitsForTheClockAndSaysSo() async throws {
        let clock = ManualClock(wallNanos: 0)
        let (logger, log) = RecordingLogHandler.logger()
        let metrics = GatewayMetrics(sensorIDs: ["ap-entrance"], sourceNames: ["tzsp:lo:37008"])
        let finished = Flag()
        let task = Task {
            await Gateway.waitForSaneClock(clock: clock, logger: logger, metrics: metrics, poll: .milliseconds(10))
            finished.set()
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(!finished.isSet, "it did not start with the clock in 1970")
        #expect(metrics.exposition().contains("footfall_clock_sane 0"))
        #expect(log.lines.withLock { $0 }.contains { $0.contains("the system clock says 1970-01-01T00:00:") && $0.contains("waiting for it to be set") })
        clock.stepWall(seconds: tenTwenty / 1_000_000_000)
        await task.value
        #expect(finished.isSet)
        #expect(metrics.exposition().contains("footfall_clock_sane 1"))
        #expect(log.lines.withLock { $0 }.contains { $0.contains("the system clock is set (2024-03-07T10:20:") })
    }

    @Test func timesyncdsSynchronisedFlagIsRead() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-timesync-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(SystemClockCheck.synchronised(root: root.path) == nil, "no timesyncd: unknown")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        #expect(SystemClockCheck.synchronised(root: root.path) == false)
        _ = FileManager.default.createFile(atPath: root.appendingPathComponent("synchronized").path, contents: nil)
        #expect(SystemClockCheck.synchronised(root: root.path) == true)
        #expect(!SystemClockCheck.isSane(wallNanos: 0))
        #expect(SystemClockCheck.isSane(wallNanos: tenTwenty))
    }

    @Test func hoursCloseByTheWallClockWithoutFrames() throws {
        let clock = ManualClock(wallNanos: tenTwenty)
        let ring = FrameRing(capacity: 64)
        let output = CollectingOutput()
        let pipeline = try makePipeline(ring: ring, output: output, clock: clock)
        for d in testAddresses(5) { push(ring, source: d, sensor: 0, atNanos: clock.wallNanos()) }
        pipeline.drain(timeoutNanos: 0)
        pipeline.tick()
        #expect(output.hours.isEmpty)
        // Nobody around for an hour and a half: the ticks alone close the hour.
        for _ in 0 ..< 90 {
            clock.advance(seconds: 60)
            pipeline.tick()
        }
        #expect(output.hours.map(\.hourStart) == [1_709_805_600])
        #expect(output.hours.first?.partial == false)
        #expect(output.hours.first?.zones.last?.devices.value == 5)
    }
}

@Suite("Reload")
struct ReloadTests {
    @Test func reloadKeepsCountsAndKeyAndAppliesNewThresholds() throws {
        let clock = ManualClock(wallNanos: tenTwenty)
        let ring = FrameRing(capacity: 64)
        let output = CollectingOutput()
        let metrics = GatewayMetrics(sensorIDs: ["ap-entrance", "ap-checkout"], sourceNames: ["tzsp:lo:37008"])
        let pipeline = try makePipeline(ring: ring, metrics: metrics, output: output, clock: clock)
        let devices = testAddresses(8)
        for d in devices.prefix(6) { push(ring, source: d, sensor: 0, atNanos: clock.wallNanos()) }
        pipeline.drain(timeoutNanos: 0)
        pipeline.tick()
        let before = pipeline.counters

        pipeline.requestReload(twoZoneSettings(entranceThreshold: -70, checkoutThreshold: -50))
        pipeline.applyPendingReload()
        clock.advance(seconds: 60)
        for d in devices.suffix(2) { push(ring, source: d, sensor: 0, atNanos: clock.wallNanos()) }
        pipeline.drain(timeoutNanos: 0)
        pipeline.tick()
        let after = pipeline.counters
        #expect(after.zoneThresholds == [-70, -50])
        #expect(after.keyGeneration == before.keyGeneration)
        #expect(after.activeDevices == 8)
        #expect(metrics.exposition().contains(#"footfall_config_reloads_total{result="applied"} 1"#))

        pipeline.finish()
        // Devices from before and after the reload are in the same hour.
        #expect(output.hours.first?.zones.last?.devices.value == 8)
    }

    @Test func reloadThatNeedsARestartIsRefusedAndTheOldSettingsStay() throws {
        let clock = ManualClock(wallNanos: tenTwenty)
        let ring = FrameRing(capacity: 64)
        let (logger, log) = RecordingLogHandler.logger()
        let pipeline = try makePipeline(ring: ring, output: CollectingOutput(), clock: clock, logger: logger)
        var changed = twoZoneSettings(entranceThreshold: -80)
        changed.zones.append(Zone(id: "cafe", name: "cafe", rssiThreshold: -60))
        pipeline.requestReload(changed)
        pipeline.applyPendingReload()
        pipeline.tick()
        #expect(pipeline.counters.zoneThresholds == [-60, -60])
        #expect(log.lines.withLock { $0 }.contains { $0.hasPrefix("error configuration reload rejected") && $0.contains("restart") })
    }
}

@Suite("Metrics endpoint")
struct MetricsEndpointTests {
    @Test func endpointServesTheMetricNamesAndNoIdentifier() async throws {
        let clock = ManualClock(wallNanos: tenTwenty)
        let ring = FrameRing(capacity: 64)
        let metrics = GatewayMetrics(sensorIDs: ["ap-entrance", "ap-checkout"], sourceNames: ["tzsp:lo:37008"])
        let pipeline = try makePipeline(ring: ring, metrics: metrics, output: CollectingOutput(), clock: clock)
        let devices = testAddresses(6)
        for d in devices { push(ring, source: d, sensor: Int32(d % 2), atNanos: clock.wallNanos()) }
        pipeline.drain(timeoutNanos: 0)
        pipeline.tick()

        let channel = try await MetricsService.bind(host: "127.0.0.1", port: 0, metrics: metrics)
        let port = try #require(channel.localAddress?.port)
        let (status, body) = try await Task.detached { try httpGet(port: port, path: "/metrics") }.value
        let (missingStatus, _) = try await Task.detached { try httpGet(port: port, path: "/secrets") }.value
        try await channel.close()

        #expect(status == 200)
        #expect(missingStatus == 404)
        for name in [
            "footfall_malformed_frames_total",
            "footfall_kernel_dropped_total", "footfall_tzsp_unknown_sender_total", "footfall_ring_dropped_total",
            "footfall_key_age_seconds", "footfall_last_file_written_timestamp_seconds",
            "footfall_write_errors_total", "footfall_source_up",
        ] {
            #expect(body.contains(name), "missing \(name)")
        }
        // Live counts of people's frames or devices are not exported (P7, P16).
        for name in ["footfall_frames_total", "footfall_probe_requests_total", "footfall_active_devices", "footfall_gate_dropped_total", "footfall_late_observations_total"] {
            #expect(!body.contains(name), "\(name) is a live count of people")
        }
        #expect(IdentifierScanner(addresses: devices).scan(body, source: "/metrics").isEmpty)
    }
}

/// A plain HTTP/1.1 GET over a blocking socket: status code and body.
func httpGet(port: Int, path: String) throws -> (Int, String) {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw CaptureError(code: .cannotOpen, message: "socket") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw CaptureError(code: .cannotOpen, message: "connect: errno \(errno)") }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        response += chunk[0 ..< n]
    }
    let text = String(decoding: response, as: UTF8.self)
    let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}

/// Set once from any thread.
final class Flag: @unchecked Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    func clear() { value.withLock { $0 = false } }
    var isSet: Bool { value.withLock { $0 } }
}
