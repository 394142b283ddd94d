import Logging

/// The guest cluster as its own files describe it: its nodes (from `rcsd.cfg`), and which libvirt domain each
/// node is and which host its SF agents think it runs on (from `SA_libvirtgp.cfg`).
public struct ClusterTopology: Sendable {
    /// A node that is a KVM guest, as the libvirt agent file describes it.
    public struct Guest: Sendable, Hashable {
        public var nodeName: String
        public var domainName: String
        /// The host address the SF agents use for it now.
        public var hostAddress: String
    }

    public var nodes: [ClusterNode]
    public var daemonConfig: ShutdownDaemonConfig
    public var guests: [Guest]
    /// The node whose files these are, for messages.
    public var readFrom: String?

    public init(nodes: [ClusterNode], daemonConfig: ShutdownDaemonConfig, guests: [Guest], readFrom: String? = nil) {
        self.nodes = nodes
        self.daemonConfig = daemonConfig
        self.guests = guests
        self.readFrom = readFrom
    }

    /// The agents whose configuration names the host a guest runs on.
    public static let hostAgents = ["SA_libvirtgp", "SA_libvirtgr", "SA_vmchkhost"]

    /// The agents `rcsd.cfg` lists for `node` that name the host a guest runs on: what the restore points at the
    /// guest's new host, in the order of ``hostAgents``.
    public func hostAgents(of node: String) -> [String] {
        guard let entry = self.daemonConfig.entry(for: node) else { return [] }
        return Self.hostAgents.filter { entry.agent(named: $0) != nil }
    }

    /// The mode the cluster's files describe for `node`: host OS failover when `rcsd.cfg` lists `SA_vmchkhost`
    /// for it (its `SA_vmchkhost.cfg` line then names the guest's host), guest mode otherwise.
    public func mode(of node: String) -> ClusterConfiguration.Mode {
        self.hostAgents(of: node).contains("SA_vmchkhost") ? .hostFailover : .guest
    }

    /// Where the configuration says something the cluster's files also say, and the two differ: one line each,
    /// naming the file and what each says. Empty when they agree. Pure: the checks refuse on any line, before
    /// anything changes.
    ///
    /// - The nodes: every node under `nodes:` must be a node of `rcsd.cfg` (a node the configuration leaves out is
    ///   reached by its CF node name).
    /// - The mode, when `mode:` is set: `guest` when no node lists `SA_vmchkhost`, `host-failover` when every
    ///   node does.
    /// - The weights: a host's `weight:` is what `rcsd.cfg` gives each guest the agents place on that host.
    public func disagreements(with configuration: ClusterConfiguration) -> [String] {
        var lines: [String] = []
        let file = "rcsd.cfg" + (self.readFrom.map { " on \($0)" } ?? "")
        let clusterNodes = self.daemonConfig.entries.map(\.nodeName)
        let unknown = configuration.nodeDestinations.keys.filter { !clusterNodes.contains($0) }.sorted()
        if !unknown.isEmpty {
            lines.append(
                "the cluster configuration names \(Self.list(unknown)) under nodes, but \(file) does not list "
                    + "\(unknown.count == 1 ? "it" : "them") (its nodes: \(clusterNodes.joined(separator: ", ")))"
            )
        }
        if let mode = configuration.mode {
            let other = clusterNodes.filter { self.mode(of: $0) != mode }
            if !other.isEmpty {
                lines.append(
                    mode == .guest
                        ? "the cluster configuration says mode: guest, but \(file) lists SA_vmchkhost (the host OS "
                            + "failover function) for \(Self.list(other)), whose SA_vmchkhost.cfg lines must follow "
                            + "the guest: set mode: host-failover, or remove mode"
                        : "the cluster configuration says mode: host-failover, but \(file) lists no SA_vmchkhost for "
                            + "\(Self.list(other)): set mode: guest, or remove mode"
                )
            }
        }
        for guest in self.guests.sorted(by: { $0.nodeName < $1.nodeName }) {
            guard let host = configuration.hosts.first(where: { $0.address == guest.hostAddress }),
                let weight = host.weight, let entry = self.daemonConfig.entry(for: guest.nodeName),
                entry.weight != weight
            else { continue }
            lines.append(
                "the cluster configuration gives guests on \(host.name) weight \(weight), but \(file) gives "
                    + "\(guest.nodeName) (on \(host.name), \(host.address)) weight \(entry.weight)"
            )
        }
        return lines
    }

    private static func list(_ names: [String]) -> String {
        names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " and " + (names.last ?? "")
    }

    /// The guest node that is libvirt domain `domain`.
    public func guest(forDomain domain: String) -> Guest? {
        self.guests.first { $0.domainName == domain }
    }

    /// A stable name for the cluster: its node names, sorted. Used as the journal's lock key.
    public var key: String {
        self.nodes.map(\.name).sorted().joined(separator: "+")
    }

    /// Reads the topology from the first node that answers: the configured nodes first, in name order.
    ///
    /// - Throws: ``ClusterError`` when no configured node answers or its files are malformed.
    public static func discover(
        _ configuration: ClusterConfiguration,
        logger: Logger
    ) async throws(ClusterError)
        -> ClusterTopology
    {
        let candidates = configuration.nodeDestinations.keys.sorted()
        guard !candidates.isEmpty else {
            throw ClusterError(.invalidValue, "the cluster configuration names no nodes: add them under 'nodes'")
        }
        var lastError: ClusterError?
        for name in candidates {
            let node = ClusterNode(
                name: name,
                destination: configuration.destination(of: name),
                options: configuration.ssh
            )
            do throws(ClusterError) {
                return try await Self.read(from: node, configuration: configuration, logger: logger)
            } catch  where error.code == .nodeUnreachable {
                lastError = error
            }
        }
        throw lastError ?? ClusterError(.nodeUnreachable, "no node of the cluster answers")
    }

    static func read(
        from node: ClusterNode,
        configuration: ClusterConfiguration,
        logger: Logger
    )
        async throws(ClusterError) -> ClusterTopology
    {
        guard let daemonText = try await node.read(ClusterFormat.shutdownDaemonConfigPath, logger: logger) else {
            throw ClusterError(
                .malformedFile,
                "no shutdown facility configuration: is this a PRIMECLUSTER node?",
                node: node.name,
                path: ClusterFormat.shutdownDaemonConfigPath
            )
        }
        let agentText = try await node.read(ClusterFormat.libvirtPanicAgentConfigPath, logger: logger) ?? ""
        return try ClusterTopology(
            daemonConfigText: daemonText,
            libvirtAgentText: agentText,
            configuration: configuration,
            readFrom: node.name
        )
    }

    /// The topology that a node's `rcsd.cfg` and `SA_libvirtgp.cfg` describe (pure).
    ///
    /// - Throws: ``ClusterError`` naming the file that is malformed.
    public init(
        daemonConfigText: String,
        libvirtAgentText: String,
        configuration: ClusterConfiguration,
        readFrom node: String
    ) throws(ClusterError) {
        let daemonConfig: ShutdownDaemonConfig
        let agents: LibvirtAgentConfig
        do throws(ClusterError) {
            daemonConfig = try ShutdownDaemonConfig(parsing: daemonConfigText)
        } catch {
            throw error.located(node: node, path: ClusterFormat.shutdownDaemonConfigPath)
        }
        do throws(ClusterError) {
            agents = try LibvirtAgentConfig(parsing: libvirtAgentText)
        } catch {
            throw error.located(node: node, path: ClusterFormat.libvirtPanicAgentConfigPath)
        }
        let nodes = daemonConfig.entries.map { entry in
            ClusterNode(
                name: entry.nodeName,
                destination: configuration.destination(of: entry.nodeName),
                options: configuration.ssh
            )
        }
        let guests = agents.entries.map {
            Guest(nodeName: $0.nodeName, domainName: $0.domainName, hostAddress: $0.hostAddress)
        }
        self.init(nodes: nodes, daemonConfig: daemonConfig, guests: guests, readFrom: node)
    }
}
