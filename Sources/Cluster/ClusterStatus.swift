import Logging

/// The whole cluster's state.
public struct ClusterStatus: Sendable {
    public var nodes: [NodeStatus]

    public var isHealthy: Bool { self.nodes.allSatisfy(\.isHealthy) }

    /// Asks every node at once.
    public static func read(_ topology: ClusterTopology, logger: Logger) async -> ClusterStatus {
        let statuses = ConcurrentResults<NodeStatus>()
        await concurrently(topology.nodes) { node in
            statuses.record(await NodeStatus.read(node, logger: logger), for: node)
        }
        return ClusterStatus(nodes: statuses.inOrder(of: topology.nodes).map(\.value))
    }
}
