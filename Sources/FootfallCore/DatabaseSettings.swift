/// The chain's PostgreSQL, where every store's published hours are gathered (`output.database`).
///
/// Only what the hour files already show leaves the store, so the database holds nothing the
/// CSV files would not; the settings here only say where it is and how to reach it safely.
public struct DatabaseSettings: Sendable, Equatable {
    /// How the connection is protected.
    public enum TLSMode: String, Sendable, Equatable {
        /// TLS required, the server's certificate checked against the trusted roots and its
        /// name against the host (libpq's `verify-full`). The default.
        case verifyFull = "verify-full"
        /// No TLS; accepted only for a loopback host, where nothing crosses a network.
        case disable
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    /// A file holding the password alone (mode 0600, owned by the service user); `nil` for
    /// servers that authenticate otherwise (e.g. a client certificate or `trust` on loopback).
    public var passwordFile: String?
    public var tls: TLSMode
    /// PEM file of the certificate authorities trusted for `verify-full`; `nil` uses the
    /// system's trust store.
    public var caFile: String?
    /// Hours older than this many days are removed from the database by `footfall db prune`.
    public var retentionDays: Int

    public init(host: String, port: Int = 5432, user: String, database: String, passwordFile: String? = nil, tls: TLSMode = .verifyFull, caFile: String? = nil, retentionDays: Int = 90) {
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.passwordFile = passwordFile
        self.tls = tls
        self.caFile = caFile
        self.retentionDays = retentionDays
    }

    /// `postgresql://user@host:port/db`, never with a password (that lives in its own file).
    public var url: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgresql://\(user)@\(shownHost):\(port)/\(database)"
    }

    /// Parses `postgresql://user@host[:port]/database` (also `postgres://`). A password in the
    /// URL is refused: a configuration file is readable by more people than a secret should be.
    /// - Returns: the parts, or a message saying what is wrong.
    public static func parseURL(_ text: String) -> Result<(user: String, host: String, port: Int, database: String), URLError> {
        let rest: Substring
        if text.hasPrefix("postgresql://") {
            rest = text.dropFirst("postgresql://".count)
        } else if text.hasPrefix("postgres://") {
            rest = text.dropFirst("postgres://".count)
        } else {
            return .failure(URLError("expected postgresql://user@host:port/database"))
        }
        guard let at = rest.firstIndex(of: "@") else { return .failure(URLError("expected postgresql://user@host:port/database (the user is missing)")) }
        let userPart = rest[..<at]
        if userPart.contains(":") { return .failure(URLError("a password does not belong in the URL; put it in password_file")) }
        guard !userPart.isEmpty, userPart.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
            return .failure(URLError("expected a user name of letters, digits, '_', '-' or '.' before '@'"))
        }
        let afterAt = rest[rest.index(after: at)...]
        guard let slash = afterAt.firstIndex(of: "/") else { return .failure(URLError("expected /database after the host")) }
        let hostPort = afterAt[..<slash]
        let database = afterAt[afterAt.index(after: slash)...]
        guard !database.isEmpty, database.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            return .failure(URLError("expected a database name of letters, digits, '_' or '-' after the host (no query options; tls is its own key)"))
        }
        var host: Substring
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { return .failure(URLError("an IPv6 host needs its closing ']'")) }
            host = hostPort[hostPort.index(after: hostPort.startIndex) ..< close]
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return .failure(URLError("expected :port after the IPv6 host")) }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = hostPort
        }
        guard !host.isEmpty else { return .failure(URLError("the host is missing")) }
        var port = 5432
        if let portText {
            guard let p = Int(portText), (1 ... 65535).contains(p) else { return .failure(URLError("expected a TCP port between 1 and 65535 after the host")) }
            port = p
        }
        return .success((String(userPart), String(host), port, String(database)))
    }

    /// Whether `host` names this machine (127.0.0.0/8, ::1, localhost), where TLS may be off.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    public struct URLError: Error, Sendable, Equatable {
        public var message: String
        public init(_ message: String) { self.message = message }
    }
}
