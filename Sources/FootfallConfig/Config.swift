import FootfallCore
import FootfallIngest
import Foundation
import Yams

/// One problem in a configuration file, with the file, line and key path it is about, so
/// the operator can go straight to it:
/// `footfall.yaml:14: zones[2].rssi_threshold: expected an integer dBm between -100 and 0, got "strong"`.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    /// 1-based line, when the problem is tied to a place in the file.
    public var line: Int?
    /// Key path, e.g. `zones[2].rssi_threshold`; empty for the whole document.
    public var path: String
    public var message: String

    public init(file: String, line: Int?, path: String, message: String) {
        self.file = file
        self.line = line
        self.path = path
        self.message = message
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if !path.isEmpty { text += "\(path): " }
        return text + message
    }
}

/// Every problem found in one configuration file (validation goes on after the first, so
/// one run shows them all).
public struct ConfigErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

extension ConfigErrors: FootfallErrorConvertible {
    public var footfallError: FootfallError { FootfallError(code: .configuration, message: description) }
}

/// Reads and validates `footfall.yaml` (see `config/footfall.yaml` for every key).
public enum ConfigLoader {
    /// Loads a file; the errors name the file by its last path component.
    public static func load(path: String) throws(ConfigErrors) -> Settings {
        let name = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigErrors([ConfigError(file: name, line: nil, path: "", message: "cannot read the file (does it exist, and may this user read it?)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors([ConfigError(file: name, line: nil, path: "", message: "the file is not UTF-8 text")])
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try parse(yaml: text, file: name, baseDirectory: directory.isEmpty ? "." : directory)
    }

    /// Parses configuration text; `file` is the name used in error messages.
    /// - Parameters:
    ///   - baseDirectory: the directory the file is in; when given, `site.floor_plan` is
    ///     resolved against it and the plan is read and checked (and the zone areas with it).
    public static func parse(yaml: String, file: String = "footfall.yaml", baseDirectory: String? = nil) throws(ConfigErrors) -> Settings {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigErrors([syntaxError(error, file: file)])
        } catch {
            throw ConfigErrors([ConfigError(file: file, line: nil, path: "", message: "not valid YAML")])
        }
        guard let root else {
            throw ConfigErrors([ConfigError(file: file, line: nil, path: "", message: "the file is empty; it needs at least `site`, `zones` and `sensors`")])
        }
        var reader = NodeReader(file: file, baseDirectory: baseDirectory)
        let settings = reader.settings(Field(node: root, path: ""))
        if let settings, reader.errors.isEmpty { return settings }
        throw ConfigErrors(reader.errors)
    }

    /// A YAML syntax error, reduced to line and problem (Yams' own text quotes the document).
    static func syntaxError(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return ConfigError(file: file, line: mark.line, path: "", message: "YAML syntax: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return ConfigError(file: file, line: context.mark.line, path: "", message: "key \(keys) appears twice in the same mapping")
        case let .reader(problem, _, _, _):
            return ConfigError(file: file, line: nil, path: "", message: "YAML: \(problem)")
        default:
            return ConfigError(file: file, line: nil, path: "", message: "not valid YAML")
        }
    }
}
