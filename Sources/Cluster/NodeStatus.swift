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
    public static let preparedClusterTimeout = 300

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

    /// `cluster.config` as the node had it when asked.
    public var clusterConfigText: String?

    /// Asks the node, in one remote command (`cftool -n`, `cfset -a`, `cluster.config`, `sdtool -s`). Never
    /// throws: what could not be read is in ``unreachable`` or ``errors``.
    public static func read(_ node: ClusterNode, logger: Logger) async -> NodeStatus {
        var status = NodeStatus(node: node.name)
        let commands = [
            "\(ClusterCommands.clusterTool) -n 2>&1",
            "\(ClusterCommands.clusterSet) -a 2>&1",
            "cat \(ClusterFormat.clusterConfigPath) 2>/dev/null",
            "\(ClusterCommands.shutdownTool) -s 2>/dev/null",
        ]
        let script = commands.map { "\($0); echo \"\(Self.marker) $?\"" }.joined(separator: "; ")
        let sections: [(output: String, status: Int32)]
        do throws(ClusterError) {
            let result = try await node.run(["sh", "-c", script], logger: logger)
            // Byte for byte: cluster.config is in it, and its text may be written back (``ByteText``).
            sections = Self.sections(of: ByteText.decode(result.standardOutputBytes))
        } catch  where error.code == .nodeUnreachable {
            status.unreachable = error.message
            return status
        } catch {
            status.errors.append(error.description)
            return status
        }
        guard sections.count == commands.count else {
            status.errors.append("unexpected answer to the status commands")
            return status
        }
        if sections[0].status == 0, let table = try? NodeTable(parsing: sections[0].output) {
            status.nodeTable = table
        } else {
            status.errors.append("cftool -n: \(RemoteResult.firstLine(of: sections[0].output) ?? "no output")")
        }
        if sections[1].status == 0, let output = try? CFSetOutput(parsing: sections[1].output) {
            status.clusterTimeoutInUse = output.clusterTimeout
        } else {
            status.errors.append("cfset -a: \(RemoteResult.firstLine(of: sections[1].output) ?? "no output")")
        }
        if sections[2].status == 0 {
            status.clusterConfigText = sections[2].output
            status.clusterTimeoutConfigured = (try? ClusterConfigFile(parsing: sections[2].output))?.clusterTimeout
        } else {
            status.errors.append("\(ClusterFormat.clusterConfigPath) cannot be read")
        }
        if sections[3].status == 0, !sections[3].output.isEmpty {
            do throws(ClusterError) {
                status.shutdownFacility = try ShutdownFacilityStatus(parsing: sections[3].output)
            } catch {
                status.errors.append("sdtool -s: \(error.message)")
            }
        }
        return status
    }

    /// `sdtool -s` on a node: the table, or `nil` when SF is not running (the command fails with nothing on
    /// standard output).
    static func shutdownFacility(
        on node: ClusterNode,
        logger: Logger
    ) async throws(ClusterError)
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
