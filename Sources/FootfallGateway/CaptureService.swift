import FootfallCapture
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Waits between attempts to reopen a source: 1 s, 2 s, 4 s … up to a cap.
public struct Backoff: Sendable, Equatable {
    public var initialSeconds: Double
    public var maximumSeconds: Double
    public private(set) var nextSeconds: Double

    public init(initialSeconds: Double = 1, maximumSeconds: Double = 60) {
        self.initialSeconds = initialSeconds
        self.maximumSeconds = maximumSeconds
        self.nextSeconds = initialSeconds
    }

    /// The wait before the next attempt; doubles the one after, up to the cap.
    public mutating func next() -> Double {
        defer { nextSeconds = min(nextSeconds * 2, maximumSeconds) }
        return nextSeconds
    }

    /// After a source ran well for a while, the next failure starts again at the initial wait.
    public mutating func reset() { nextSeconds = initialSeconds }
}

/// Sleeps between reopen attempts. Injected so tests need not wait.
public protocol BackoffSleeper: Sendable {
    /// Sleeps about `seconds`, returning early when `shouldStop` becomes true.
    func sleep(seconds: Double, shouldStop: @Sendable () -> Bool) async
}

public struct TaskBackoffSleeper: BackoffSleeper {
    public init() {}

    public func sleep(seconds: Double, shouldStop: @Sendable () -> Bool) async {
        // In steps of 100 ms, so a shutdown during a long backoff is not delayed by it.
        var left = seconds
        while left > 0, !shouldStop() {
            let step = min(left, 0.1)
            try? await Task.sleep(for: .milliseconds(Int(step * 1000)))
            left -= step
        }
    }
}

/// Shared between a capture service's task, its capture thread and the shutdown handler.
final class CaptureControl: Sendable {
    private struct State {
        var stopping = false
        var stopDeadline: ContinuousClock.Instant?
        var current: (any FrameSource)?
    }

    private let state = Mutex(State())
    /// Mirrors `state.stopping` so the per-packet check takes no lock.
    private let stoppingFlag = Atomic(false)
    /// How long the capture keeps reading after shutdown was asked for, so frames already in
    /// the kernel buffer reach the pipeline; it stops earlier at the first read timeout.
    static let drainDuration: Duration = .milliseconds(500)

    var isStopping: Bool { stoppingFlag.load(ordering: .acquiring) }

    /// Whether the reading thread should stop now: shutdown was asked for and the drain time
    /// is over (or the source had nothing more to read).
    func shouldStopReading(sawTimeout: Bool) -> Bool {
        guard stoppingFlag.load(ordering: .acquiring) else { return false }
        return state.withLock { s in
            guard s.stopping else { return false }
            return sawTimeout || (s.stopDeadline.map { ContinuousClock.now >= $0 } ?? true)
        }
    }

    func requestStop() {
        let source: (any FrameSource)? = state.withLock { s in
            if !s.stopping {
                s.stopping = true
                stoppingFlag.store(true, ordering: .releasing)
                s.stopDeadline = ContinuousClock.now + CaptureControl.drainDuration
            }
            return s.current
        }
        guard let source else { return }
        // A backstop for a source whose reads never time out: break its loop after the drain.
        Task {
            try? await Task.sleep(for: CaptureControl.drainDuration * 2)
            source.stop()
        }
    }

    /// - Returns: `false` when shutdown was already asked for (the source is then stopped).
    func setCurrent(_ source: any FrameSource) -> Bool {
        let stopping = state.withLock { s in
            s.current = source
            return s.stopping
        }
        if stopping { source.stop() }
        return !stopping
    }

    func clearCurrent() { state.withLock { $0.current = nil } }
}

/// Runs `body` on a new thread (pcap reads block, and must not hold a thread of Swift's
/// cooperative pool) and returns its result.
func runOnThread<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            continuation.resume(returning: body())
        }
        thread.name = name
        thread.start()
    }
}

/// One live source as a service: opens it, reads it on its own thread into the ring, and
/// when the interface goes away (or cannot be opened) tries again with exponential backoff,
/// reporting each change in the log and in `footfall_source_up`.
///
/// On graceful shutdown (captures stop first) it reads on for at most half a second, until
/// the kernel buffer is empty, then stops the capture (`pcap_breakloop`).
public final class CaptureService: Service, CustomStringConvertible {
    public let spec: SourceSpec
    private let index: Int
    private let factory: any FrameSourceFactory
    private let ring: FrameRing
    private let metrics: GatewayMetrics
    private let logger: Logger
    private let sleeper: any BackoffSleeper
    private let initialBackoff: Backoff
    /// A source that ran this long before failing starts its backoff afresh.
    public static let defaultHealthyRun: Duration = .seconds(30)
    private let healthyRun: Duration
    /// Kernel and decoder counts are published this often.
    static let statisticsInterval: Duration = .seconds(5)

    public init(spec: SourceSpec, index: Int, factory: any FrameSourceFactory, ring: FrameRing, metrics: GatewayMetrics, logger: Logger, backoff: Backoff = Backoff(), sleeper: any BackoffSleeper = TaskBackoffSleeper(), healthyRun: Duration = CaptureService.defaultHealthyRun) {
        self.spec = spec
        self.healthyRun = healthyRun
        self.index = index
        self.factory = factory
        self.ring = ring
        self.metrics = metrics
        self.logger = logger
        self.sleeper = sleeper
        self.initialBackoff = backoff
    }

    public var description: String { "CaptureService(\(spec.name))" }

    public func run() async throws {
        let control = CaptureControl()
        _ = await withGracefulShutdownHandler {
            await self.captureUntilStopped(control)
        } onGracefulShutdown: {
            control.requestStop()
        }
    }

    /// The open → read → reopen loop; returns when `control` is stopped.
    /// - Returns: how many times the source was opened.
    @discardableResult
    func captureUntilStopped(_ control: CaptureControl) async -> Int {
        var backoff = initialBackoff
        var opened = 0
        var metadata: Logger.Metadata = ["source": "\(spec.name)"]
        while !control.isStopping {
            let source: any FrameSource
            do {
                source = try factory.open(spec, index: index, ring: ring, metrics: metrics, logger: logger)
            } catch {
                let wait = backoff.next()
                metrics.setSourceUp(index, false)
                metrics.sourceFailed(index)
                metadata["source.retry_seconds"] = "\(Int(wait))"
                logger.warning("source down: cannot open it; retrying", metadata: metadata.merging(["source.error": "\(error.message)"]) { $1 })
                await sleeper.sleep(seconds: wait) { control.isStopping }
                continue
            }
            opened += 1
            guard control.setCurrent(source) else { break }
            metrics.setSourceUp(index, true)
            metadata["source.retry_seconds"] = nil
            logger.info("capturing", metadata: metadata)
            let started = ContinuousClock.now
            let outcome = await runOnThread(name: "capture \(spec.name)") { [self] in
                self.read(source, control: control)
            }
            control.clearCurrent()
            metrics.setSourceUp(index, false)
            guard case .failure(let error) = outcome else { break }
            if ContinuousClock.now - started >= healthyRun { backoff.reset() }
            let wait = backoff.next()
            metrics.sourceFailed(index)
            logger.warning("source down; reopening it", metadata: metadata.merging(["source.error": "\(error.message)", "source.retry_seconds": "\(Int(wait))"]) { $1 })
            await sleeper.sleep(seconds: wait) { control.isStopping }
        }
        logger.info("source stopped", metadata: ["source": "\(spec.name)"])
        return opened
    }

    /// The reading loop on the source's thread.
    private func read(_ source: any FrameSource, control: CaptureControl) -> Result<Void, CaptureError> {
        var lastStatistics = ContinuousClock.now
        defer { source.publishStatistics() }
        while true {
            let event: PumpEvent
            do {
                event = try source.pump()
            } catch {
                return .failure(error)
            }
            if event == .stopped { return .success(()) }
            if control.shouldStopReading(sawTimeout: event == .timeout) {
                source.stop()
                return .success(())
            }
            let now = ContinuousClock.now
            if now - lastStatistics >= Self.statisticsInterval {
                lastStatistics = now
                source.publishStatistics()
            }
        }
    }
}
