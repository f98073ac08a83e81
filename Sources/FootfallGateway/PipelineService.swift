import FootfallConfig
import FootfallCore
import FootfallIngest
import FootfallAggregate
import Logging
import ServiceLifecycle
import UnixSignals

/// The pipeline as a service: runs ``LivePipeline/run()`` on its own thread, turns SIGHUP
/// into a configuration reload, and on graceful shutdown (after every capture has stopped)
/// lets the pipeline drain the ring and write the hour in progress.
public final class PipelineService: Service, CustomStringConvertible {
    public let pipeline: LivePipeline
    private let configPath: String?
    private let reloadSignals: UnixSignalsSequence?
    private let metrics: GatewayMetrics
    private let logger: Logger

    /// - Parameters:
    ///   - configPath: the file SIGHUP reloads; `nil` ignores SIGHUP.
    ///   - reloadSignals: SIGHUP, trapped by the caller before any service starts: a
    ///     SIGHUP that came before this service ran would otherwise meet the default action
    ///     and end the process (another service may already have logged that it captures).
    public init(pipeline: LivePipeline, configPath: String?, reloadSignals: UnixSignalsSequence?, metrics: GatewayMetrics, logger: Logger) {
        self.pipeline = pipeline
        self.configPath = configPath
        self.reloadSignals = reloadSignals
        self.metrics = metrics
        self.logger = logger
    }

    public var description: String { "PipelineService" }

    public func run() async throws {
        let pipeline = self.pipeline
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                if let configPath, let signals = reloadSignals {
                    group.addTask { [logger, metrics] in
                        for await _ in signals {
                            PipelineService.reload(path: configPath, into: pipeline, metrics: metrics, logger: logger)
                        }
                    }
                }
                await runOnThread(name: "pipeline") { pipeline.run() }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            pipeline.requestFinish()
        }
    }

    /// Reads and validates the configuration file and hands it to the pipeline thread, which
    /// applies what can change while running. An invalid file is refused with every problem
    /// logged; the running configuration stays in force.
    static func reload(path: String, into pipeline: LivePipeline, metrics: GatewayMetrics, logger: Logger) {
        logger.notice("SIGHUP: reloading the configuration", metadata: ["config.file": "\(path)"])
        do {
            pipeline.requestReload(try ConfigLoader.load(path: path))
        } catch {
            metrics.reloadsRejected.increment()
            logger.error("configuration reload rejected; the running configuration stays in force", metadata: ["config.errors": "\(error.description)"])
        }
    }
}
