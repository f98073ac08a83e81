import FootfallConfig
import FootfallCore
import FootfallIngest
import FootfallAggregate

/// `footfall check-config`: the meaning of a configuration file, or every error in it.
public enum ConfigCheck {
    /// - Returns: the summary (valid) or the errors, one per line (invalid).
    public static func run(path: String) -> (text: String, valid: Bool) {
        do {
            let settings = try ConfigLoader.load(path: path)
            return (ConfigSummary.text(for: settings), true)
        } catch {
            return (error.description, false)
        }
    }
}

extension Replay {
    /// Loads the configuration, then replays; configuration errors come back as one
    /// ``ReplayError`` listing them all (with ``ReplayError/isConfiguration`` set).
    public static func run(configPath: String, outputDirectory: String?, arguments: [String], progress: (any ReplayProgress)? = nil) throws(ReplayError) -> ReplaySummary {
        let settings: Settings
        do {
            settings = try ConfigLoader.load(path: configPath)
        } catch {
            var failure = ReplayError(error.description)
            failure.isConfiguration = true
            throw failure
        }
        var inputs: [ReplayInput] = []
        for argument in arguments { inputs.append(try ReplayInput(argument: argument)) }
        return try run(settings: settings, outputDirectory: outputDirectory, inputs: inputs, progress: progress)
    }
}
