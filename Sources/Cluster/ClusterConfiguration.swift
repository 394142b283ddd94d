import Foundation
import Yams

/// What kvmmigrate needs to know about a guest cluster that the cluster's own files do not say: how to reach
/// each node over ssh, and each libvirt host's URI, its address as the guests' SF agents reach it and its host
/// CF node name. Operators write it by hand, in YAML (see `Fixtures/cluster.yaml`).
///
/// Which nodes, domains, agents and weights exist is read from the nodes themselves (``ClusterTopology``).
public struct ClusterConfiguration: Sendable, Hashable {
    /// Guest mode (`sfkvmmigrate -g`) or host OS failover mode (also rewrites `SA_vmchkhost.cfg`).
    public enum Mode: String, Sendable, Hashable, Codable {
        case guest
        case hostFailover = "host-failover"
    }

    /// A libvirt host a guest of the cluster may run on.
    public struct Host: Sendable, Hashable {
        /// The host OS's CF node name (host OS failover mode), or just its name.
        public var name: String
        /// The libvirt URI kvmmigrate uses for this host.
        public var uri: String
        /// The host OS's IP address as the guests' SF agents reach it.
        public var address: String
        /// The SF weight to give a guest running on this host, when the operator wants it changed.
        public var weight: Int?

        public init(name: String, uri: String, address: String, weight: Int? = nil) {
            self.name = name
            self.uri = uri
            self.address = address
            self.weight = weight
        }
    }

    /// The mode the configuration states, if it states one (`mode:`). What the restore rewrites follows the
    /// cluster's own files (``ClusterTopology/mode(of:)``); a stated mode may only confirm them, which the checks
    /// verify before any change (``ClusterTopology/disagreements(with:)``).
    public var mode: Mode?
    /// How ssh reaches the nodes.
    public var ssh: SSHOptions
    /// CF node name → ssh destination (an alias of the ssh configuration, an address or `user@address`).
    /// A node not listed is reached by its CF node name.
    public var nodeDestinations: [String: String]
    public var hosts: [Host]
    /// The CF timeout, in seconds, while a guest migrates (`sfkvmmigrate -p` uses 600).
    public var migrationClusterTimeout: Int
    /// How long `verify` waits for every agent to show TestWorked and InitWorked.
    public var verifyTimeout: Duration
    /// How often the after-step is run again when an agent shows TestFailed or InitFailed.
    public var verifyRetries: Int
    /// Where the operation journal lives.
    public var journalDirectory: String
    /// Where `migrate` and `evacuate` write Prometheus metrics when `--metrics-file` names no file (`nil`: none).
    public var metricsFile: String?
    /// The largest clock difference `kvmmigrate verify` passes, in seconds (`nil`: its default).
    public var clockTolerance: Double?

    public init(
        mode: Mode? = nil,
        ssh: SSHOptions = SSHOptions(),
        nodeDestinations: [String: String] = [:],
        hosts: [Host] = [],
        migrationClusterTimeout: Int = 600,
        verifyTimeout: Duration = .seconds(120),
        verifyRetries: Int = 2,
        journalDirectory: String = "/var/lib/kvmmigrate/journal"
    ) {
        self.mode = mode
        self.ssh = ssh
        self.nodeDestinations = nodeDestinations
        self.hosts = hosts
        self.migrationClusterTimeout = migrationClusterTimeout
        self.verifyTimeout = verifyTimeout
        self.verifyRetries = verifyRetries
        self.journalDirectory = journalDirectory
    }

    /// The ssh destination of a node.
    public func destination(of node: String) -> String {
        self.nodeDestinations[node] ?? node
    }

    /// The host with this libvirt URI, name or address.
    public func host(matching text: String) -> Host? {
        self.hosts.first { $0.uri == text } ?? self.hosts.first { $0.name == text }
            ?? self.hosts.first { $0.address == text }
    }

    /// The configured host that a migration's destination is: the one with its URI, name or address, else the
    /// one named as the destination's libvirt names itself (`hostname`, when the destination answered).
    public func destinationHost(uri: String, hostname: String?) -> Host? {
        self.host(matching: uri) ?? hostname.flatMap { self.host(matching: $0) }
    }
}

// MARK: - YAML

extension ClusterConfiguration {
    /// The default place of the configuration file.
    public static let defaultPath = "/etc/kvmmigrate/cluster.yaml"

    /// Reads and checks a configuration file.
    ///
    /// - Throws: ``ClusterError`` with ``ClusterError/Code/malformedFile`` naming the file and what is wrong.
    public init(contentsOf path: String) throws(ClusterError) {
        try FileTrust.check(path, what: "the cluster configuration")
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ClusterError(
                .malformedFile,
                "cannot read the cluster configuration: \(error.localizedDescription)",
                path: path
            )
        }
        do throws(ClusterError) {
            try self.init(yaml: text)
        } catch {
            throw error.located(node: nil, path: path)
        }
        // ssh -F runs the file's ProxyCommand and Match exec as root; -i's key stands for root on every node.
        if let config = self.ssh.configFile { try FileTrust.check(config, what: "ssh.config") }
        if let identity = self.ssh.identityFile { try FileTrust.check(identity, what: "ssh.identity") }
    }

    /// Parses a configuration from YAML text.
    public init(yaml text: String) throws(ClusterError) {
        try Self.checkKeys(of: text)
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch let error as DecodingError {
            throw ClusterError(.malformedFile, Self.describe(error))
        } catch {
            throw ClusterError(
                .malformedFile,
                "not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")"
            )
        }
        try self.init(file)
    }

    private init(_ file: File) throws(ClusterError) {
        self.init()
        if let mode = file.mode {
            guard let parsed = Mode(rawValue: mode) else {
                throw ClusterError(.invalidValue, "mode must be 'guest' or 'host-failover', not '\(mode)'")
            }
            self.mode = parsed
        }
        if let ssh = file.ssh {
            try Self.checkPath(ssh.config, key: "ssh.config")
            try Self.checkPath(ssh.identity, key: "ssh.identity")
            if let user = ssh.user { try Self.checkWord(user, key: "ssh.user") }
            let connectTimeout = ssh.connectTimeout ?? 10
            guard (1...300).contains(connectTimeout) else {
                throw ClusterError(
                    .invalidValue,
                    "ssh.connect-timeout must be 1 to 300 seconds, not \(connectTimeout)"
                )
            }
            for option in ssh.options ?? [] {
                guard !option.hasPrefix("-"), option.contains(where: { $0 == "=" || $0 == " " }) else {
                    throw ClusterError(
                        .invalidValue,
                        "ssh.options: '\(option)' is not an ssh -o option (Name=value)"
                    )
                }
            }
            self.ssh = SSHOptions(
                configFile: ssh.config,
                user: ssh.user,
                identityFile: ssh.identity,
                connectTimeout: .seconds(connectTimeout),
                controlDirectory: nil,
                extraOptions: ssh.options ?? []
            )
        }
        for (node, destination) in file.nodes ?? [:] {
            try Self.checkWord(node, key: "nodes")
            try Self.checkWord(destination, key: "nodes.\(node)")
        }
        self.nodeDestinations = file.nodes ?? [:]
        var names = Set<String>()
        for host in file.hosts ?? [] {
            guard !host.name.isEmpty, !host.uri.isEmpty, !host.address.isEmpty else {
                throw ClusterError(.invalidValue, "every host needs a name, a uri and an address")
            }
            try Self.checkWord(host.name, key: "hosts: name")
            // Written into the nodes' files, which are ASCII where their format is defined (``ByteText``).
            guard host.name.unicodeScalars.allSatisfy({ $0.isASCII }) else {
                throw ClusterError(.invalidValue, "host '\(host.name)': a host CF node name is ASCII")
            }
            guard names.insert(host.name).inserted else {
                throw ClusterError(.duplicateKey, "host '\(host.name)' is listed twice")
            }
            guard Self.isIPAddress(host.address) else {
                throw ClusterError(
                    .invalidValue,
                    "host '\(host.name)': address must be the host OS's IP address, not '\(host.address)'"
                )
            }
            if let weight = host.weight, !(1...1_000_000).contains(weight) {
                throw ClusterError(.invalidValue, "host '\(host.name)': weight must be 1 to 1000000, not \(weight)")
            }
            self.hosts.append(Host(name: host.name, uri: host.uri, address: host.address, weight: host.weight))
        }
        guard !self.hosts.isEmpty else {
            throw ClusterError(.invalidValue, "no hosts: list every libvirt host the cluster's guests may run on")
        }
        if let timeout = file.cfTimeout {
            guard (11...86_400).contains(timeout) else {
                throw ClusterError(
                    .invalidValue,
                    "cf-timeout must be more than 10 and at most 86400 seconds, not \(timeout)"
                )
            }
            self.migrationClusterTimeout = timeout
        }
        if let verify = file.verify {
            if let timeout = verify.timeout {
                guard (1...86_400).contains(timeout) else {
                    throw ClusterError(.invalidValue, "verify.timeout must be 1 to 86400 seconds, not \(timeout)")
                }
                self.verifyTimeout = .seconds(timeout)
            }
            if let retries = verify.retries {
                guard (0...100).contains(retries) else {
                    throw ClusterError(.invalidValue, "verify.retries must be 0 to 100, not \(retries)")
                }
                self.verifyRetries = retries
            }
            if let tolerance = verify.clockTolerance {
                guard tolerance.isFinite, tolerance > 0, tolerance <= 3600 else {
                    throw ClusterError(
                        .invalidValue,
                        "verify.clock-tolerance must be more than 0 and at most 3600 seconds, not \(tolerance)"
                    )
                }
                self.clockTolerance = tolerance
            }
        }
        if let journal = file.journal {
            try Self.checkPath(journal, key: "journal")
            self.journalDirectory = journal
        }
        if let metrics = file.metricsFile {
            try Self.checkPath(metrics, key: "metrics-file")
            guard !metrics.hasSuffix("/") else {
                throw ClusterError(.invalidValue, "metrics-file must name a file, not the directory '\(metrics)'")
            }
            self.metricsFile = metrics
        }
    }

    /// Refuses an empty or relative path: it would be read relative to wherever kvmmigrate runs from.
    private static func checkPath(_ path: String?, key: String) throws(ClusterError) {
        guard let path else { return }
        guard path.hasPrefix("/") else {
            throw ClusterError(.invalidValue, "\(key) must be an absolute path, not '\(path)'")
        }
    }

    /// Refuses an empty word, one with blanks or control characters, and one that ssh would take for an option.
    private static func checkWord(_ word: String, key: String) throws(ClusterError) {
        guard !word.isEmpty, !word.hasPrefix("-"),
            !word.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw ClusterError(.invalidValue, "\(key): '\(word)' must be one word that does not start with '-'")
        }
    }

    /// Whether `text` is an IPv4 or IPv6 address (`inet_pton`).
    static func isIPAddress(_ text: String) -> Bool {
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        return inet_pton(AF_INET, text, &ipv4) == 1 || inet_pton(AF_INET6, text, &ipv6) == 1
    }

    /// The file's shape, as YAML keys.
    private struct File: Decodable {
        var mode: String?
        var ssh: SSH?
        var nodes: [String: String]?
        var hosts: [HostEntry]?
        var cfTimeout: Int?
        var verify: Verify?
        var journal: String?
        var metricsFile: String?

        enum CodingKeys: String, CodingKey {
            case mode, ssh, nodes, hosts, verify, journal
            case cfTimeout = "cf-timeout"
            case metricsFile = "metrics-file"
        }

        struct SSH: Decodable {
            var config: String?
            var user: String?
            var identity: String?
            var connectTimeout: Int?
            var options: [String]?
            enum CodingKeys: String, CodingKey {
                case config, user, identity, options
                case connectTimeout = "connect-timeout"
            }
        }

        struct HostEntry: Decodable {
            var name: String
            var uri: String
            var address: String
            var weight: Int?
        }

        struct Verify: Decodable {
            var timeout: Int?
            var retries: Int?
            var clockTolerance: Double?
            enum CodingKeys: String, CodingKey {
                case timeout, retries
                case clockTolerance = "clock-tolerance"
            }
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the file" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context)): missing '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "malformed configuration"
        }
    }
}
