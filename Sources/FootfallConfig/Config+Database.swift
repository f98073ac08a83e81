import FootfallCore
import Foundation

/// `site.id` and `output.database`: where a store's hours go in the chain's PostgreSQL.
extension NodeReader {
    /// `[a-z0-9][a-z0-9-]{0,63}`: the id leads every key in the chain's tables and names the
    /// store's database role, so it is kept to characters that need no quoting anywhere.
    mutating func siteID(_ field: Field) -> String? {
        guard let text = string(field, what: "a site id") else { return nil }
        guard NodeReader.isSiteID(text) else {
            fail(field, "expected a site id of 1–64 lower-case letters, digits or '-', starting with a letter or digit (e.g. prague-03), got \(NodeReader.shown(field.node))")
            return nil
        }
        return text
    }

    static func isSiteID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1 ... 64).contains(bytes.count) else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
        return alnum(bytes[0]) && bytes.dropFirst().allSatisfy { alnum($0) || $0 == 0x2D }
    }

    /// `output.database`: `url`, `password_file`, `tls`, `ca_file`, `retention_days`.
    /// - Parameter defaultRetention: `output.retention_days`, used when the database has none.
    mutating func database(_ field: Field, defaultRetention: Int) -> DatabaseSettings? {
        guard let m = mapping(field, allowed: ["url", "password_file", "tls", "ca_file", "retention_days"], what: "the database settings") else { return nil }
        var ok = true
        var parts: (user: String, host: String, port: Int, database: String)?
        if let f = require(m, "url", in: field), let text = string(f, what: "a URL such as postgresql://footfall@db.example.com:5432/footfall") {
            switch DatabaseSettings.parseURL(text) {
            case .success(let p): parts = p
            case .failure(let error): fail(f, error.message); ok = false
            }
        } else {
            ok = false
        }
        var tls = DatabaseSettings.TLSMode.verifyFull
        if let f = m["tls"] {
            if let text = string(f, what: "verify-full or disable"), let mode = DatabaseSettings.TLSMode(rawValue: text) {
                tls = mode
                if mode == .disable, let parts, !DatabaseSettings.isLoopback(parts.host) {
                    fail(f, "tls: disable is allowed only for a loopback host (127.0.0.1, ::1, localhost); \(parts.host) is reached over a network, so use verify-full")
                    ok = false
                }
            } else {
                if case .scalar = f.node { fail(f, "expected verify-full or disable, got \(NodeReader.shown(f.node))") }
                ok = false
            }
        }
        var passwordFile: String?
        if let f = m["password_file"], !NodeReader.isNull(f.node) {
            if let path = string(f, what: "a file path"), !path.isEmpty {
                if let problem = NodeReader.secretFileProblem(path) {
                    fail(f, problem)
                    ok = false
                } else {
                    passwordFile = path
                }
            } else {
                ok = false
            }
        }
        var caFile: String?
        if let f = m["ca_file"], !NodeReader.isNull(f.node) {
            if let path = string(f, what: "a PEM file path"), !path.isEmpty {
                if FileManager.default.isReadableFile(atPath: path) { caFile = path } else {
                    fail(f, "cannot read \(path) (does it exist, and may this user read it?)")
                    ok = false
                }
            } else {
                ok = false
            }
        }
        var retention = defaultRetention
        if let f = m["retention_days"] { if let v = int(f, 1 ... 3650, what: "a number of days") { retention = v } else { ok = false } }
        guard ok, let parts else { return nil }
        return DatabaseSettings(host: parts.host, port: parts.port, user: parts.user, database: parts.database, passwordFile: passwordFile, tls: tls, caFile: caFile, retentionDays: retention)
    }

    /// Why a password file may not be used, or `nil` when it may: it must be a regular file,
    /// owned by the user footfall runs as, readable and writable by that user alone (0600), so
    /// that no other account on the gateway can read the chain's credentials.
    static func secretFileProblem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return "cannot read \(path) (does it exist?)" }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return "\(path) is not a regular file" }
        let mode = info.st_mode & 0o7777
        guard mode == 0o600 else {
            return "\(path) has mode \(String(mode, radix: 8, uppercase: false).leftPadded(to: 4)); it must be 0600 (chmod 600 \(path)) so that only the service user can read it"
        }
        guard info.st_uid == geteuid() else {
            return "\(path) is owned by uid \(info.st_uid), not by the user footfall runs as (uid \(geteuid())); chown it to the service user"
        }
        return nil
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
