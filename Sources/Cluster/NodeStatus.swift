import Logging

/// One node's cluster state, as `cftool -n`, `cfset -a`, `cluster.config` and `sdtool -s` show it.
public struct NodeStatus: Sendable {
    public var node: String
    /// Why the node could not be asked, if it could not.
    public var unreachable: String?
    public var nodeTable: NodeTable?
    /// The CF timeout CF uses now (`cfset -a`).
    public var clusterTimeoutInUse: Int?
    /// The CF timeout in `cluster.config` (10 when absent).
    public var clusterTimeoutConfigured: Int?
    /// The shutdown facility's table, or `nil` when SF is not running.
    public var shutdownFacility: ShutdownFacilityStatus?
    /// What went wrong reading any of these.
    public var errors: [String] = []

    public init(node: String) {
        self.node = node
    }

    public var isShutdownFacilityRunning: Bool { self.shutdownFacility != nil }

    /// A CF timeout this long is taken for a node left prepared for a migration (`sfkvmmigrate -p` sets 600 s;
    /// for an offline migration, the migration's time plus 300 s).
    static let preparedClusterTimeout = 300

    /// Everything that keeps this node from being healthy, one line each.
    public var problems: [String] {
        if let unreachable { return ["unreachable: \(unreachable)"] }
        var problems = self.errors
        if let table = self.nodeTable {
            problems += table.nodesNotUp.map { "cftool -n: \($0.name) is \($0.state)" }
        }
        if let timeout = self.clusterTimeoutInUse {
            if let configured = self.clusterTimeoutConfigured, configured != timeout {
                problems.append("CF timeout in use is \(timeout) s, cluster.config says \(configured) s")
            } else if timeout >= Self.preparedClusterTimeout {
                problems.append("CF timeout is \(timeout) s: the node looks prepared for a migration")
            }
        }
        if let sf = self.shutdownFacility {
            problems += sf.problems
        } else if self.errors.isEmpty {
            problems.append("shutdown facility not running")
        }
        return problems
    }

    public var isHealthy: Bool { self.problems.isEmpty }

    /// Asks the node. Never throws: what could not be read is in ``unreachable`` or ``errors``.
    public static func read(_ node: ClusterNode, logger: Logger) async -> NodeStatus {
        var status = NodeStatus(node: node.name)
        do throws(ClusterError) {
            let table = try await node.run([ClusterCommands.clusterTool, "-n"], logger: logger)
            if table.succeeded {
                status.nodeTable = try? NodeTable(parsing: table.standardOutput)
            } else {
                status.errors.append("cftool -n: \(table.firstErrorLine)")
            }
            let loaded = try await node.run([ClusterCommands.clusterSet, "-a"], logger: logger)
            if loaded.succeeded, let output = try? CFSetOutput(parsing: loaded.standardOutput) {
                status.clusterTimeoutInUse = output.clusterTimeout
            } else {
                status.errors.append("cfset -a: \(loaded.firstErrorLine)")
            }
            if let text = try await node.read(ClusterFormat.clusterConfigPath, logger: logger) {
                status.clusterTimeoutConfigured = (try? ClusterConfigFile(parsing: text))?.clusterTimeout
            }
            status.shutdownFacility = try await Self.shutdownFacility(on: node, logger: logger)
        } catch where error.code == .nodeUnreachable {
            status.unreachable = error.message
        } catch {
            status.errors.append(error.description)
        }
        return status
    }

    /// `sdtool -s` on a node: the table, or `nil` when SF is not running (the command fails with nothing on
    /// standard output).
    static func shutdownFacility(on node: ClusterNode, logger: Logger) async throws(ClusterError)
        -> ShutdownFacilityStatus?
    {
        let result = try await node.run([ClusterCommands.shutdownTool, "-s"], logger: logger)
        guard result.succeeded, !result.standardOutput.isEmpty else { return nil }
        do throws(ClusterError) {
            return try ShutdownFacilityStatus(parsing: result.standardOutput)
        } catch {
            throw error.located(node: node.name, path: nil)
        }
    }
}

extension RemoteResult {
    /// The first line of standard error, or of standard output when there is no error text.
    var firstErrorLine: String {
        Self.firstLine(of: self.standardError) ?? Self.firstLine(of: self.standardOutput)
            ?? "exit status \(self.exitStatus)"
    }
}

/// The whole cluster's state.
public struct ClusterStatus: Sendable {
    public var nodes: [NodeStatus]

    public var isHealthy: Bool { self.nodes.allSatisfy(\.isHealthy) }

    /// Asks every node at once.
    public static func read(_ topology: ClusterTopology, logger: Logger) async -> ClusterStatus {
        ClusterStatus(nodes: await forEachNode(topology.nodes) { await NodeStatus.read($0, logger: logger) })
    }
}
