import Libvirt

/// The migration engine's one error type: what went wrong, in words a user can act on, with the libvirt
/// error behind it when there is one.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; decides the exit code.
    public var code: Code
    /// One line, for the user.
    public var message: String
    /// The libvirt error behind it, if any.
    public var underlying: LibvirtError?

    public init(_ code: Code, _ message: String, underlying: LibvirtError? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { self.message }
}

extension MigrationError {
    /// An open set of failure kinds (new ones are added by later features).
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A URI could not be parsed.
        public static let invalidURI = Code(rawValue: "invalid-uri")
        /// A libvirt daemon could not be reached.
        public static let hostUnreachable = Code(rawValue: "host-unreachable")
        /// No domain of that name or UUID on the source.
        public static let domainNotFound = Code(rawValue: "domain-not-found")
        /// A live migration was asked for a domain that is not running (or an offline one for a running domain).
        public static let domainNotRunning = Code(rawValue: "domain-not-running")
        /// The destination already runs a domain of that name or UUID.
        public static let destinationHasDomain = Code(rawValue: "destination-has-domain")
        /// Source and destination are the same host.
        public static let sameHost = Code(rawValue: "same-host")
        /// The options contradict each other or the domain.
        public static let invalidRequest = Code(rawValue: "invalid-request")
        /// The migration was aborted on request (Ctrl-C, SIGTERM, cancel).
        public static let aborted = Code(rawValue: "aborted")
        /// libvirt reported that the migration failed.
        public static let migrationFailed = Code(rawValue: "migration-failed")
        /// Where the guest runs could not be established.
        public static let stateUnknown = Code(rawValue: "state-unknown")
        /// The operation journal could not be read or written.
        public static let journal = Code(rawValue: "journal")
        /// Another operation on the same cluster or domain is running, or was left unfinished.
        public static let operationInProgress = Code(rawValue: "operation-in-progress")

        public var description: String { self.rawValue }

        /// Whether this failure stopped the migration before anything was changed on any host.
        public var isRefusal: Bool {
            [
                .invalidURI, .hostUnreachable, .domainNotFound, .domainNotRunning, .destinationHasDomain, .sameHost,
                .invalidRequest, .operationInProgress,
                // The lock's record is written before anything is asked of a host: a journal that cannot be written
                // (a read-only or full state directory) refuses the migration with nothing changed.
                .journal,
            ].contains(self)
        }
    }
}
