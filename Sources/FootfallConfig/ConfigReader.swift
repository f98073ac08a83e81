import FootfallCore
import FootfallIngest
import Foundation
import Yams

/// A node with the key path that leads to it.
struct Field {
    var node: Node
    var path: String

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    var line: Int? { node.mark?.line }
}

/// Walks the composed YAML tree, collecting errors with key path and line.
struct NodeReader {
    let file: String
    /// Where relative paths in the file (the floor plan) are resolved; `nil`: not read.
    let baseDirectory: String?
    var errors: [ConfigError] = []

    init(file: String, baseDirectory: String? = nil) {
        self.file = file
        self.baseDirectory = baseDirectory
    }

    mutating func fail(_ field: Field, _ message: String) {
        errors.append(ConfigError(file: file, line: field.line, path: field.path, message: message))
    }

    /// Text of a scalar for an error message, quoted and cut short.
    static func shown(_ node: Node) -> String {
        switch node {
        case .scalar(let s):
            let text = s.string.count > 40 ? String(s.string.prefix(40)) + "…" : s.string
            return "\"\(text)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain || s.style == .any else { return false }
        return s.string.isEmpty || s.string == "~" || s.string == "null" || s.string == "Null" || s.string == "NULL"
    }

    // MARK: primitives

    /// A mapping whose keys are all in `allowed`; unknown keys are errors (a typo must not
    /// silently fall back to a default).
    mutating func mapping(_ field: Field, allowed: [String], what: String) -> [String: Field]? {
        guard case .mapping(let mapping) = field.node else {
            fail(field, "expected \(what) (a mapping), got \(NodeReader.shown(field.node))")
            return nil
        }
        var result: [String: Field] = [:]
        for (key, value) in mapping {
            guard case .scalar(let k) = key else {
                fail(Field(node: key, path: field.path), "keys must be plain words")
                continue
            }
            let name = k.string
            guard allowed.contains(name) else {
                fail(Field(node: key, path: field.child(name)), "unknown key \"\(name)\" (expected one of: \(allowed.joined(separator: ", ")))")
                continue
            }
            if result[name] != nil {
                fail(Field(node: key, path: field.child(name)), "key appears twice")
                continue
            }
            result[name] = Field(node: value, path: field.child(name))
        }
        return result
    }

    mutating func require(_ fields: [String: Field], _ key: String, in parent: Field) -> Field? {
        if let field = fields[key] { return field }
        fail(parent, "missing key \"\(key)\"")
        return nil
    }

    mutating func string(_ field: Field, what: String = "a string") -> String? {
        guard case .scalar(let s) = field.node, !NodeReader.isNull(field.node) else {
            fail(field, "expected \(what), got \(NodeReader.shown(field.node))")
            return nil
        }
        return s.string
    }

    mutating func int(_ field: Field, _ range: ClosedRange<Int>, what: String) -> Int? {
        guard case .scalar(let s) = field.node, s.style == .plain || s.style == .any,
              let value = Int(s.string), range.contains(value) else {
            fail(field, "expected \(what) between \(range.lowerBound) and \(range.upperBound), got \(NodeReader.shown(field.node))")
            return nil
        }
        return value
    }

    mutating func double(_ field: Field, what: String, where valid: (Double) -> Bool) -> Double? {
        guard case .scalar(let s) = field.node, s.style == .plain || s.style == .any,
              let value = Double(s.string), value.isFinite, valid(value) else {
            fail(field, "expected \(what), got \(NodeReader.shown(field.node))")
            return nil
        }
        return value
    }

    mutating func bool(_ field: Field) -> Bool? {
        if case .scalar(let s) = field.node, s.style == .plain || s.style == .any {
            switch s.string {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        fail(field, "expected true or false, got \(NodeReader.shown(field.node))")
        return nil
    }

    mutating func sequence(_ field: Field, what: String) -> [Field]? {
        guard case .sequence(let sequence) = field.node else {
            fail(field, "expected \(what) (a list), got \(NodeReader.shown(field.node))")
            return nil
        }
        return sequence.enumerated().map { Field(node: $1, path: "\(field.path)[\($0)]") }
    }

    /// Ids end up in CSV cells and file-system paths, so they are kept to a safe alphabet.
    mutating func identifier(_ field: Field) -> String? {
        guard let text = string(field, what: "an id") else { return nil }
        let allowed = text.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D || c == 0x2E
        }
        guard !text.isEmpty, text.count <= 64, allowed, text != Zone.siteWideID else {
            fail(field, "expected an id of 1–64 letters, digits, '_', '-' or '.' (not \"\(Zone.siteWideID)\"), got \(NodeReader.shown(field.node))")
            return nil
        }
        return text
    }
}
