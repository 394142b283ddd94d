/// An error from the Cluster layer: a PRIMECLUSTER file or command output that can't be used, or a cluster
/// operation that failed.
///
/// The parsers in this module know neither the node nor the path of what they read, so they leave ``node`` and
/// ``path`` empty; the caller that read the file adds them with ``located(node:path:)``.
///
/// An error never quotes a password: errors about the agent files name the line number, the field count and, for
/// a well-formed line, the CF node name, but never a field that might be a secret.
public struct ClusterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    ///
    /// The set of codes is open, like swift-system's `Errno`: later layers add their own static members, and a
    /// code this version doesn't know is still a valid value.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The code's name, for example `malformedFile`.
        public var rawValue: String

        /// Creates a code from its name.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String {
            self.rawValue
        }

        /// A configuration file has a line that doesn't follow its format, or breaks one of its limits.
        public static let malformedFile = Code(rawValue: "malformedFile")

        /// A configuration file or command output names the same key (or node) twice.
        public static let duplicateKey = Code(rawValue: "duplicateKey")
        /// A file kvmmigrate would act on could be changed by another user (owner or mode): see ``FileTrust``.
        public static let untrustedFile = Code(rawValue: "untrustedFile")

        /// A command's output doesn't have the expected layout.
        public static let malformedOutput = Code(rawValue: "malformedOutput")

        /// An edit names a node that the file doesn't list.
        public static let unknownNode = Code(rawValue: "unknownNode")

        /// An edit was asked to write a value the file's format can't hold (a space in a field, a quote in a
        /// value, a weight below 1, removing a node's last agent…).
        public static let invalidValue = Code(rawValue: "invalidValue")

        /// A command run on a cluster node exited unsuccessfully.
        public static let remoteCommandFailed = Code(rawValue: "remoteCommandFailed")

        /// A cluster node could not be reached.
        public static let nodeUnreachable = Code(rawValue: "nodeUnreachable")

        /// The cluster, or part of it, is not in the state an operation needs.
        public static let notHealthy = Code(rawValue: "notHealthy")

        /// The operation journal could not be written, or another operation holds it.
        public static let journal = Code(rawValue: "journal")

        /// The calling task was cancelled while a remote command ran (its ssh was killed).
        public static let cancelled = Code(rawValue: "cancelled")

        /// The cluster configuration says something the cluster's own files contradict (a node, the mode, a
        /// weight).
        public static let configurationMismatch = Code(rawValue: "configurationMismatch")

        /// libvirt could not say where a domain runs.
        public static let domainLocation = Code(rawValue: "domainLocation")

        /// Matches an error against a code, so that `catch ClusterError.Code.duplicateKey` works.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? ClusterError)?.code == code
        }
    }

    /// What kind of failure this is.
    public var code: Code

    /// What went wrong, in words a user can act on; it never contains a password.
    public var message: String

    /// The CF node name of the node the file or output came from, when known.
    public var node: String?

    /// The path of the file, when the error is about a file and the path is known.
    public var path: String?

    /// The 1-based line number within the file or output, when the error is about one line.
    public var line: Int?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - message: What went wrong; never put a password in it.
    ///   - node: The CF node name the file or output came from.
    ///   - path: The file's path.
    ///   - line: The 1-based line number.
    public init(_ code: Code, _ message: String, node: String? = nil, path: String? = nil, line: Int? = nil) {
        self.code = code
        self.message = message
        self.node = node
        self.path = path
        self.line = line
    }

    /// Returns this error with the node and path it is about, keeping any already set when an argument is `nil`.
    ///
    /// ```swift
    /// do {
    ///     file = try ClusterConfigFile(parsing: text)
    /// } catch {
    ///     throw error.located(node: "guest2", path: ClusterFormat.clusterConfigPath)
    /// }
    /// ```
    public func located(node: String? = nil, path: String? = nil) -> ClusterError {
        var copy = self
        copy.node = node ?? self.node
        copy.path = path ?? self.path
        return copy
    }

    /// One line for the user: `guest2: /etc/default/cluster.config line 4: duplicate key CLUSTER_TIMEOUT`.
    public var description: String {
        var location = ""
        if let node = self.node {
            location += node + ":"
        }
        if let path = self.path {
            location += (location.isEmpty ? "" : " ") + path
        }
        if let line = self.line {
            location += (location.isEmpty ? "" : " ") + "line \(line)"
        }
        guard !location.isEmpty else { return self.message }
        return location.hasSuffix(":") ? "\(location) \(self.message)" : "\(location): \(self.message)"
    }
}
