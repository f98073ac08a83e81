#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import FootfallChain
import FootfallConfig
import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallOutput
import FootfallPipeline
import FootfallPlatform
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import UnixSignals

/// An error that stops `footfall run`, with a message for the operator.
public struct GatewayError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The configuration file was invalid (exit status 78, EX_CONFIG).
    public var isConfiguration = false
    public init(_ message: String, isConfiguration: Bool = false) {
        self.message = message
        self.isConfiguration = isConfiguration
    }
    public var description: String { message }
}

extension GatewayError: FootfallErrorConvertible {
    public var footfallError: FootfallError { FootfallError(code: isConfiguration ? .configuration : .failure, message: message) }
}

/// `footfall run`: every live source of the configuration at once → one pipeline → hourly
/// files, as a `ServiceGroup`.
///
/// Start order: metrics endpoint, writer, shipper (when `output.database` is set), pipeline,
/// one capture service per source. SIGTERM
/// and SIGINT shut down in reverse: the captures stop (draining the kernel buffer for at most
/// half a second), the pipeline drains the ring and closes the hour in progress as partial,
/// the writer writes it, the metrics endpoint goes last.
public enum Gateway {
    /// Runs until SIGTERM or SIGINT.
    /// - Parameters:
    ///   - configPath: the configuration file (also what SIGHUP reloads).
    ///   - outputDirectory: overrides `output.directory` when given.
    ///   - logger: the process logger (stderr, for journald).
    ///   - factory: opens the live sources (libpcap unless a test says otherwise).
    /// - Throws: ``GatewayError`` for an invalid configuration (`isConfiguration`) or a
    ///   failure that stopped the collector.
    public static func run(configPath: String, outputDirectory: String?, logger: Logger, factory: any FrameSourceFactory = PcapSourceFactory()) async throws(GatewayError) {
        // Before the key exists: no core dumps, not ptrace-attachable (P3).
        let hardening = ProcessHardening.apply()
        for problem in hardening.problems { logger.warning("process hardening: \(problem)") }

        let settings: Settings
        do {
            settings = try ConfigLoader.load(path: configPath)
        } catch {
            throw GatewayError(error.description, isConfiguration: true)
        }
        let (sources, fileSensors) = SourcePlan.sources(for: settings)
        if !fileSensors.isEmpty {
            logger.notice("sensors fed from capture files are not live and are ignored by run (use footfall replay)", metadata: ["config.file_sensors": "\(fileSensors.joined(separator: ","))"])
        }
        guard !sources.isEmpty else {
            throw GatewayError("\(configPath): no live source; give at least one sensor an interface, a tzsp or a peekremote stream", isConfiguration: true)
        }
        let clock = settings.site.clock

        var optOutWatcher = settings.privacy.optOutFile.map { OptOutFileWatcher(path: $0) }
        let list: OptOutList
        do {
            list = try optOutWatcher?.loadIfChanged() ?? .empty
        } catch {
            throw GatewayError("privacy.opt_out_file: \(error.message)", isConfiguration: true)
        }
        let core: PipelineCore
        do {
            core = try PipelineCore(settings: settings, optOut: list)
        } catch {
            throw GatewayError(error.message)
        }
        switch core.keyLockStatus {
        case .locked: break
        case .notLocked(let reason): logger.warning("key memory not locked: \(reason)")
        case nil: logger.warning("key memory not locked: no locked memory could be mapped; the key is in ordinary memory")
        }

        let directory = outputDirectory ?? settings.output.directory
        let metrics = GatewayMetrics(registry: PrometheusCollectorRegistry(), sensorIDs: settings.sensors.map(\.id), sourceNames: sources.map(\.name))
        let ring = FrameRing()
        if case .notLocked(let reason) = ring.lockStatus {
            logger.warning("frame ring not locked in RAM, raw frames may be swapped out: \(reason)")
        }
        if !ring.excludedFromCoreDumps { logger.warning("frame ring not excluded from core dumps") }
        let (writer, shipper, _) = outputServices(settings: settings, directory: directory, clock: clock, metrics: metrics, logger: logger)
        let pipeline = LivePipeline(core: core, optOutWatcher: optOutWatcher, ring: ring, metrics: metrics, output: writer, logger: logger,
                                    sourcesHearing: { metrics.anySourceUp })

        var summary = configurationMetadata(settings)
        summary["run.sources"] = "\(sources.map(\.name).joined(separator: ","))"
        summary["run.output"] = "\(directory)"
        summary["run.metrics"] = "\(settings.metrics.enabled ? "\(settings.metrics.address):\(settings.metrics.port)" : "off")"
        logger.info("footfall run starting", metadata: summary)

        // Before any capture starts, so a failure here ends `run` at once with the reason.
        try prepareOutputDirectory(directory, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if settings.metrics.enabled {
            let address = "\(settings.metrics.address):\(settings.metrics.port)"
            let channel: any Channel
            do {
                channel = try await MetricsService.bind(host: settings.metrics.address, port: Int(settings.metrics.port), metrics: metrics)
            } catch {
                throw GatewayError("metrics: cannot listen on \(address) (\(error)); free the port, choose another metrics.port or metrics.address, or set metrics.enabled: false")
            }
            services.append(.init(service: MetricsService(channel: channel, host: settings.metrics.address, port: Int(settings.metrics.port), logger: logger)))
        }
        // A gateway that booted without a set clock says 1970 (or its image's date): no
        // hour is opened before the clock is plausible. After the metrics endpoint is bound
        // (it serves from then on), so footfall_clock_sane says why nothing is counted.
        await waitForSaneClock(clock: SystemGatewayClock(), logger: logger, metrics: metrics)
        if SystemClockCheck.synchronised() == false {
            logger.warning("the system clock is not synchronised yet (systemd-timesyncd has not reached a time server); hours are labelled by the clock as it is", metadata: ["clock.wall": "\(SystemClockCheck.describe(SystemGatewayClock().wallNanos()))"])
        }
        services.append(.init(service: writer))
        if let shipper { services.append(.init(service: shipper)) }
        // SIGHUP is trapped (and buffered) from here on, before any service starts.
        let reloadSignals = await UnixSignalsSequence(trapping: .sighup)
        services.append(.init(service: PipelineService(pipeline: pipeline, configPath: configPath, reloadSignals: reloadSignals, metrics: metrics, logger: logger)))
        for (index, spec) in sources.enumerated() {
            services.append(.init(service: CaptureService(spec: spec, index: index, factory: factory, ring: ring, metrics: metrics, logger: logger)))
        }
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        // A stuck shutdown must not keep the process (and the key) alive.
        configuration.maximumGracefulShutdownDuration = .seconds(15)
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
        } catch let error as GatewayError {
            throw error
        } catch {
            throw GatewayError("stopped: \(error)")
        }
        // Operational counts only: frames, probe requests and gate drops are counts of
        // people's phones (an opted-out phone's frames among them), see GatewayMetrics.
        let counters = pipeline.counters
        logger.info("footfall run stopped", metadata: [
            "run.malformed": "\(counters.parse.malformed)",
            "run.ring_dropped": "\(counters.ring.droppedFull + counters.ring.droppedOversize)",
        ])
    }

    /// Waits until the wall clock is plausible (see ``SystemClockCheck/isSane(wallNanos:)``),
    /// saying so in the log once, then every 10 minutes. Returns at once when it is.
    /// - Parameters:
    ///   - metrics: `footfall_clock_sane` is 0 while it waits.
    ///   - poll: how often the clock is looked at (tests shorten it).
    static func waitForSaneClock(clock: any GatewayClock, logger: Logger, metrics: GatewayMetrics? = nil, poll: Duration = .seconds(5)) async {
        var lastLogged: Int64 = .min
        defer { metrics?.clockSane.record(1) }
        while !SystemClockCheck.isSane(wallNanos: clock.wallNanos()), !Task.isCancelled {
            metrics?.clockSane.record(0)
            let monotonic = clock.monotonicNanos()
            if lastLogged == .min || monotonic - lastLogged >= 600 * 1_000_000_000 {
                lastLogged = monotonic
                logger.warning("the system clock says \(SystemClockCheck.describe(clock.wallNanos())), before 2024: waiting for it to be set (NTP or an RTC) before counting; nothing is captured or written meanwhile")
            }
            try? await Task.sleep(for: poll)
        }
        if lastLogged != .min {
            logger.notice("the system clock is set (\(SystemClockCheck.describe(clock.wallNanos()))); starting")
        }
    }

    /// Creates the output directory when missing and removes the temporary files that
    /// processes killed in the middle of a write left behind (see ``StaleTemporaryFiles``).
    static func prepareOutputDirectory(_ directory: String, logger: Logger) throws(GatewayError) {
        do {
            try AtomicFileWriter().ensureDirectory(path: directory)
        } catch {
            throw GatewayError("output.directory: \(error.message)")
        }
        let removed = StaleTemporaryFiles.remove(in: directory)
        if !removed.isEmpty {
            logger.notice("removed temporary files of processes that ended in the middle of a write", metadata: ["output.removed_temporary_files": "\(removed.count)"])
        }
    }

    /// The output side of `run`, wired as `run` uses it (and as the tests drive it): the
    /// writer and, with a chain database configured, the shipper. The hour files are the
    /// shipper's outbox: the writer wakes it after each hour written, and retention keeps
    /// every hour it has not shipped yet.
    static func outputServices(settings: Settings, directory: String, clock: HourClock, metrics: GatewayMetrics, logger: Logger,
                               gatewayClock: any GatewayClock = SystemGatewayClock(),
                               shipperBackoff: (initial: Duration, maximum: Duration) = (.seconds(2), .seconds(300))) -> (WriterService, ShipperService?, HourWriterCore) {
        let shipper = settings.output.database.map { database in
            ShipperService(shipper: HourShipper(directory: directory, site: settings.site.id ?? "", settings: database, logger: logger),
                           metrics: metrics, logger: logger, clock: gatewayClock, initialBackoff: shipperBackoff.initial, maximumBackoff: shipperBackoff.maximum)
        }
        let journal = ShippingJournal(directory: directory)
        var protectedFiles: (@Sendable () throws -> Set<String>)?
        var onHourWritten: (@Sendable () -> Void)?
        if let shipper {
            protectedFiles = { try journal.unshippedFileNames() }
            onHourWritten = { shipper.hourWritten() }
        }
        let writerCore = HourWriterCore(
            sink: HourFileWriter(directory: directory, clock: clock), metrics: metrics, logger: logger, clock: gatewayClock,
            retention: (directory, settings.output.retentionDays), protectedFiles: protectedFiles, onHourWritten: onHourWritten)
        return (WriterService(core: writerCore, logger: logger), shipper, writerCore)
    }
}

/// Whether the system's wall clock can be believed, for `run` and `check-config`.
public enum SystemClockCheck {
    /// 2024-01-01T00:00:00Z, before this version of footfall existed: a wall clock earlier
    /// than that was never set (1970 after a boot without an RTC) or is its image's date.
    public static let earliestSaneSeconds: Int64 = 1_704_067_200

    public static func isSane(wallNanos: Int64) -> Bool {
        wallNanos >= earliestSaneSeconds * 1_000_000_000
    }

    /// Whether systemd-timesyncd has synchronised the clock: `nil` when it is not in use
    /// (no /run/systemd/timesync), else whether /run/systemd/timesync/synchronized exists.
    public static func synchronised(root: String = "/run/systemd/timesync") -> Bool? {
        var info = stat()
        guard stat(root, &info) == 0 else { return nil }
        return stat(root + "/synchronized", &info) == 0
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` of a wall time (for log lines about the clock).
    public static func describe(_ wallNanos: Int64) -> String {
        let seconds = wallNanos >= 0 ? wallNanos / 1_000_000_000 : (wallNanos + 1) / 1_000_000_000 - 1
        return LocalTime(utcSeconds: seconds, utcOffsetSeconds: 0).iso8601
    }
}
