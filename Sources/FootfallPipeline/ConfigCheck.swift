import FootfallConfig
import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallPlatform
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `footfall check-config`: the meaning of a configuration file, or every error in it.
///
/// It runs every check `footfall run` runs before it starts capturing, so a file it accepts
/// is not then refused by `run` (exit 78, which under `Restart=on-failure` would loop): the
/// opt-out file exists and is readable, the output directory exists and is writable (or can
/// be created). What `run` accepts but is probably a mistake is a warning.
public enum ConfigCheck {
    /// - Parameter outputDirectory: the `--output` that `run` will be given, if any.
    /// - Returns: the summary and any warnings (valid) or the errors, one per line (invalid).
    public static func run(path: String, outputDirectory: String? = nil) -> (text: String, valid: Bool) {
        let settings: Settings
        do {
            settings = try ConfigLoader.load(path: path)
        } catch {
            return (error.description, false)
        }
        let errors = problems(settings, outputDirectory: outputDirectory)
        if !errors.isEmpty {
            return (errors.map { "\(path): \($0)" }.joined(separator: "\n"), false)
        }
        let text = ([ConfigSummary.text(for: settings)] + warnings(settings).map { "warning: \($0)" }).joined(separator: "\n")
        return (text, true)
    }

    /// What `run` would refuse beyond the file itself.
    static func problems(_ settings: Settings, outputDirectory: String?) -> [String] {
        var errors: [String] = []
        if let optOut = settings.privacy.optOutFile {
            var watcher = OptOutFileWatcher(path: optOut)
            do { _ = try watcher.loadIfChanged() } catch { errors.append("privacy.opt_out_file: \(error.message)") }
        }
        let directory = outputDirectory ?? settings.output.directory
        if let problem = outputDirectoryProblem(directory) {
            errors.append("\(outputDirectory == nil ? "output.directory" : "--output") \(directory): \(problem)")
        }
        return errors
    }

    /// Why files could not be written to `directory`, or `nil`: it must be a writable
    /// directory, or not exist in a writable directory (`run` creates it).
    static func outputDirectoryProblem(_ directory: String) -> String? {
        var info = stat()
        if stat(directory, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else { return "exists and is not a directory" }
            return access(directory, W_OK | X_OK) == 0 ? nil : "not writable by this user (\(String(cString: strerror(errno))))"
        }
        let parent = directory.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let parentPath = parent.isEmpty ? (directory.hasPrefix("/") ? "/" : ".") : parent
        guard stat(parentPath, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            return "does not exist, nor does the directory it would be created in"
        }
        return access(parentPath, W_OK | X_OK) == 0 ? nil : "does not exist and cannot be created (\(String(cString: strerror(errno))))"
    }

    /// What `run` accepts but is most likely a mistake.
    static func warnings(_ settings: Settings) -> [String] {
        var warnings: [String] = []
        let live = settings.sensors.filter { $0.feed != .file }
        if live.isEmpty {
            warnings.append("no live source (sensors with file: true are for footfall replay); footfall run refuses this configuration")
        }
        let heard = Set(settings.sensors.map(\.zone))
        for (index, zone) in settings.zones.enumerated() where !heard.contains(index) {
            warnings.append("zone \(zone.id) has no sensor: it will never count anyone")
        }
        var zonesByInterface: [String: Set<Int>] = [:]
        for sensor in settings.sensors {
            if case .interface(let name) = sensor.feed { zonesByInterface[name, default: []].insert(sensor.zone) }
        }
        for (name, zones) in zonesByInterface.sorted(by: { $0.key < $1.key }) where zones.count > 1 {
            let ids = zones.sorted().map { settings.zones[$0].id }.joined(separator: ", ")
            warnings.append("interface \(name) is the sensor of zones \(ids): one radio hears one place, so every frame it hears lands in one of them")
        }
        return warnings
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
