import FootfallCore

/// A problem talking to the chain's database, with what to do about it.
///
/// Messages name the server, the hour file or the SQL state, never a password and never a
/// value from the hours: the server's own message is kept only for errors footfall's SQL
/// cannot cause with well-formed files (permissions, missing schema), where it says which
/// object is involved.
public struct ChainError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        /// The server could not be reached or the connection broke; retrying later helps.
        public static let unreachable = Code(raw: "unreachable")
        /// TLS failed (certificate not trusted, wrong name, server without TLS).
        public static let tls = Code(raw: "tls")
        /// The server refused the user or password.
        public static let authentication = Code(raw: "authentication")
        /// The footfall schema is missing or older than this footfall; run `footfall db migrate`.
        public static let schema = Code(raw: "schema")
        /// The server refused a statement (permissions, row-level security, a constraint).
        public static let refused = Code(raw: "refused")
        /// The password file or CA file could not be used.
        public static let configuration = Code(raw: "configuration")
        public var description: String { raw }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// Whether trying again later may succeed (the shipper keeps the hour and backs off).
    public var isTransient: Bool { code == .unreachable }
}

extension ChainError: FootfallErrorConvertible {
    /// sysexits(3): unreachable is EX_UNAVAILABLE, a refusal EX_NOPERM, an old schema
    /// EX_PROTOCOL, an unusable password or CA file EX_CONFIG.
    public var footfallError: FootfallError {
        let exit: FootfallError.Code = switch code {
        case .unreachable: .unavailable
        case .authentication, .refused, .tls: .noPermission
        case .configuration: .configuration
        case .schema: .protocolMismatch
        default: .failure
        }
        return FootfallError(code: exit, message: message)
    }
}
