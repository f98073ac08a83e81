/// What went wrong, as the command line reports it: a code that says what kind of failure
/// it is and carries its exit status, and a message for the user that names the file, line,
/// key or offset (never a frame's contents or an identifier, P14).
///
/// Every module keeps its own error type for the details its callers branch on (the config
/// loader's key paths, the capture's codes); each says which ``FootfallError`` it is
/// (``FootfallErrorConvertible``), so an exit status is decided in one place: ``Code``.
public struct FootfallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, and the exit status that goes with it (sysexits(3) where one fits).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The process exit status.
        public let exitStatus: Int32
        /// A short name, for logs and tests.
        public let name: String

        public init(exitStatus: Int32, name: String) {
            self.exitStatus = exitStatus
            self.name = name
        }

        public var description: String { name }

        /// Any other failure (EXIT_FAILURE), e.g. hours that could not be written before exit.
        public static let failure = Code(exitStatus: 1, name: "failure")
        /// `footfall audit` could not read the directory at all (findings exit with `failure`).
        public static let cannotAudit = Code(exitStatus: 2, name: "cannot_audit")
        /// EX_USAGE: the options do not fit the input (e.g. one picture file for several days).
        public static let usage = Code(exitStatus: 64, name: "usage")
        /// EX_DATAERR: damaged input (a capture that ends mid-record, a malformed CSV row);
        /// everything before the damage was used.
        public static let data = Code(exitStatus: 65, name: "damaged_input")
        /// EX_NOINPUT: an input that cannot be opened, or is not 802.11 (the link type is named).
        public static let noInput = Code(exitStatus: 66, name: "unreadable_input")
        /// EX_CANTCREAT: an output file cannot be written.
        public static let cannotCreate = Code(exitStatus: 73, name: "cannot_create")
        /// EX_UNAVAILABLE: a service footfall needs (the chain's database) cannot be reached;
        /// trying again later may help.
        public static let unavailable = Code(exitStatus: 69, name: "unavailable")
        /// EX_PROTOCOL: the other side speaks another version (the database schema is older
        /// than this footfall).
        public static let protocolMismatch = Code(exitStatus: 76, name: "protocol_mismatch")
        /// EX_NOPERM: the other side refused (authentication, permissions, TLS trust).
        public static let noPermission = Code(exitStatus: 77, name: "no_permission")
        /// EX_CONFIG: the configuration is invalid (every problem with file, line and key).
        public static let configuration = Code(exitStatus: 78, name: "configuration")
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// An error that knows which ``FootfallError`` it is.
public protocol FootfallErrorConvertible: Error {
    var footfallError: FootfallError { get }
}

extension FootfallError: FootfallErrorConvertible {
    public var footfallError: FootfallError { self }
}
