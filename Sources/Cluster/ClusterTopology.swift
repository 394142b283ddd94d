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

    public init(nodes: [ClusterNode], daemonConfig: ShutdownDaemonConfig, guests: [Guest]) {
        self.nodes = nodes
        self.daemonConfig = daemonConfig
        self.guests = guests
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
        let daemonConfig: ShutdownDaemonConfig
        let agents: LibvirtAgentConfig
        do throws(ClusterError) {
            daemonConfig = try ShutdownDaemonConfig(parsing: daemonText)
        } catch {
            throw error.located(node: node.name, path: ClusterFormat.shutdownDaemonConfigPath)
        }
        let agentText = try await node.read(ClusterFormat.libvirtPanicAgentConfigPath, logger: logger) ?? ""
        do throws(ClusterError) {
            agents = try LibvirtAgentConfig(parsing: agentText)
        } catch {
            throw error.located(node: node.name, path: ClusterFormat.libvirtPanicAgentConfigPath)
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
        return ClusterTopology(nodes: nodes, daemonConfig: daemonConfig, guests: guests)
    }
}
