import FootfallCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One connection to the chain's database, made from `output.database` (postgres-nio, TLS
/// through NIOSSL). Opened for a round of shipping and closed after it: a store ships a
/// few rows an hour, so it holds no connection open between hours.
public struct ChainConnection: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    public let settings: DatabaseSettings

    /// How long connecting may take before the server counts as unreachable: a push
    /// against a dead WAN link must fail in bounded time, not hang.
    public static let defaultConnectTimeout: Duration = .seconds(10)

    /// Connects and authenticates.
    /// - Throws: ``ChainError`` (`.unreachable`, `.tls`, `.authentication`, `.configuration`).
    public static func connect(_ settings: DatabaseSettings, logger: Logger, connectTimeout: Duration = defaultConnectTimeout) async throws(ChainError) -> ChainConnection {
        let password = try settings.passwordFile.map { path throws(ChainError) in try readSecret(path) }
        let tls: PostgresConnection.Configuration.TLS
        switch settings.tls {
        case .disable:
            tls = .disable
        case .verifyFull:
            var config = TLSConfiguration.makeClientConfiguration()
            config.certificateVerification = .fullVerification
            config.minimumTLSVersion = .tlsv12
            if let ca = settings.caFile { config.trustRoots = .file(ca) }
            do {
                tls = .require(try NIOSSLContext(configuration: config))
            } catch {
                throw ChainError(.configuration, "output.database.ca_file: cannot load trusted certificates\(settings.caFile.map { " from \($0)" } ?? "") (\(error))")
            }
        }
        var configuration = PostgresConnection.Configuration(host: settings.host, port: settings.port, username: settings.user, password: password, database: settings.database, tls: tls)
        let (seconds, attoseconds) = connectTimeout.components
        configuration.options.connectTimeout = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        if !isIPAddress(settings.host) { configuration.options.tlsServerName = settings.host }
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            return ChainConnection(connection: connection, logger: logger, settings: settings)
        } catch {
            throw ChainConnection.describe(error, settings: settings)
        }
    }

    public func close() async {
        try? await connection.close()
    }

    /// Runs one statement, mapping failures to ``ChainError``.
    @discardableResult
    func run(_ query: PostgresQuery, on connection: PostgresConnection? = nil) async throws(ChainError) -> [PostgresRow] {
        do {
            var rows: [PostgresRow] = []
            for try await row in try await (connection ?? self.connection).query(query, logger: logger) { rows.append(row) }
            return rows
        } catch {
            throw ChainConnection.describe(error, settings: settings)
        }
    }

    /// Runs `body` in one transaction: all of it is committed or none.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws(ChainError) -> T {
        do {
            return try await connection.withTransaction(logger: logger) { c in try await body(c) }
        } catch let error as PostgresTransactionError {
            let cause: any Error = error.closureError ?? error.commitError ?? error.beginError ?? error
            throw (cause as? ChainError) ?? ChainConnection.describe(cause, settings: settings)
        } catch {
            throw (error as? ChainError) ?? ChainConnection.describe(error, settings: settings)
        }
    }

    /// A clear message for a postgres-nio error. PSQLError's own description is deliberately
    /// vague; its code and the server's SQLSTATE and message tell the operator what to do.
    static func describe(_ error: any Error, settings: DatabaseSettings) -> ChainError {
        if let error = error as? ChainError { return error }
        let server = "\(settings.host):\(settings.port)"
        if let error = error as? PSQLError {
            let state = error.serverInfo?[.sqlState]
            let message = error.serverInfo?[.message] ?? ""
            switch error.code {
            case .sslUnsupported:
                return ChainError(.tls, "the database at \(server) does not offer TLS; enable ssl on the server (tls: disable is allowed for a loopback server only)")
            case .failedToAddSSLHandler:
                return ChainError(.tls, "cannot set up TLS to \(server)")
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
                if let underlying = error.underlying, let ssl = underlying as? NIOSSLError {
                    return ChainError(.tls, "TLS with \(server) failed: \(ssl) (is the server's certificate signed by a trusted CA in output.database.ca_file, and valid for \(settings.host)?)")
                }
                if let underlying = error.underlying, String(describing: type(of: underlying)).contains("SSL") {
                    return ChainError(.tls, "TLS with \(server) failed: \(underlying) (is the server's certificate trusted and valid for \(settings.host)?)")
                }
                return ChainError(.unreachable, "cannot reach the chain's database at \(server)\(error.underlying.map { ": \($0)" } ?? "") (nothing was lost: the hours stay pending and are shipped when it is back)")
            case .server:
                if let state, state.hasPrefix("28") {
                    return ChainError(.authentication, "the database at \(server) refused user \(settings.user): \(message) (check output.database.url and password_file)")
                }
                if let state, state == "57P01" || state == "57P02" || state == "57P03" || state.hasPrefix("08") {
                    return ChainError(.unreachable, "the database at \(server) is shutting down or not accepting connections (\(state)); the hours stay pending")
                }
                if state == "42P01" || state == "3F000" {
                    return ChainError(.schema, "the footfall schema is missing in \(settings.database) at \(server): run `footfall db migrate` as the schema's owner (\(message))")
                }
                return ChainError(.refused, "the database at \(server) refused a statement (SQLSTATE \(state ?? "?")): \(message)")
            case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
                return ChainError(.authentication, "cannot authenticate as \(settings.user) at \(server) (a password is needed: set output.database.password_file)")
            default:
                return ChainError(.unreachable, "the connection to \(server) failed (\(error.code)); the hours stay pending")
            }
        }
        if let ssl = error as? NIOSSLError {
            return ChainError(.tls, "TLS with \(server) failed: \(ssl)")
        }
        if error is CancellationError {
            return ChainError(.unreachable, "shipping to \(server) was cancelled; the hours stay pending")
        }
        return ChainError(.unreachable, "cannot reach the chain's database at \(server): \(error) (the hours stay pending)")
    }

    /// The password: the file's first line. The configuration loader already refused a file
    /// another user could read; it is checked again here because it may have changed since.
    static func readSecret(_ path: String) throws(ChainError) -> String {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & 0o077 == 0, info.st_uid == geteuid() else {
            throw ChainError(.configuration, "output.database.password_file: \(path) must exist, be owned by the service user and have mode 0600")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ChainError(.configuration, "output.database.password_file: cannot read \(path)") }
        defer { _ = Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw ChainError(.configuration, "output.database.password_file: \(path) is empty") }
        let text = String(decoding: buffer[..<n], as: UTF8.self)
        return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").trimmingCharacters(in: "\r")
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
