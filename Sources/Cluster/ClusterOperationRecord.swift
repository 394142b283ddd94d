import Foundation

/// What the journal keeps of a cluster operation, so that a restore can finish it after a crash.
///
/// Holds names, addresses, timeouts and step states: never a password or a whole agent file.
public struct ClusterOperationRecord: Codable, Sendable, Hashable {
    /// Where the operation is.
    public enum Phase: String, Codable, Sendable {
        /// Checks done; nothing changed yet.
        case checking
        /// Changing the nodes (SF stop, CF timeout).
        case preparing
        /// Every node prepared; the migration may run.
        case prepared
        /// The migration runs.
        case migrating
        /// The migration ended (completed or not); the restore is next.
        case migrated
        /// Restoring the nodes.
        case restoring
        /// Every node restored and verified.
        case restored
    }

    /// A node's values before kvmmigrate changed them.
    public struct NodeRecord: Codable, Sendable, Hashable {
        public var name: String
        /// `CLUSTER_TIMEOUT` in `cluster.config` before the prepare, or `nil` when the line was absent.
        public var clusterTimeoutBefore: Int?
        /// Whether SF ran before the prepare.
        public var shutdownFacilityWasRunning: Bool
        /// The steps done on this node, in order (`sf-stopped`, `timeout-written`, `timeout-loaded`, …).
        public var stepsDone: [String]

        public init(name: String, clusterTimeoutBefore: Int?, shutdownFacilityWasRunning: Bool) {
            self.name = name
            self.clusterTimeoutBefore = clusterTimeoutBefore
            self.shutdownFacilityWasRunning = shutdownFacilityWasRunning
            self.stepsDone = []
        }
    }

    public var command: String
    public var domain: String
    /// The CF node name of the guest that moves.
    public var guestNode: String
    public var mode: ClusterConfiguration.Mode
    /// The configuration file the operation used, for `recover`.
    public var configurationPath: String
    public var sourceHost: String?
    public var destinationURI: String?
    /// Prepared and restored by the real `sfkvmmigrate` (`--delegate`).
    public var delegated: Bool
    public var phase: Phase
    public var nodes: [NodeRecord]
    /// The migration's outcome, once known.
    public var migrationOutcome: String?
    /// The host the restore pointed the agents at.
    public var restoredToHost: String?

    public init(
        command: String,
        domain: String,
        guestNode: String,
        mode: ClusterConfiguration.Mode,
        configurationPath: String,
        sourceHost: String?,
        destinationURI: String?,
        delegated: Bool = false
    ) {
        self.command = command
        self.domain = domain
        self.guestNode = guestNode
        self.mode = mode
        self.configurationPath = configurationPath
        self.sourceHost = sourceHost
        self.destinationURI = destinationURI
        self.delegated = delegated
        self.phase = .checking
        self.nodes = []
        self.migrationOutcome = nil
        self.restoredToHost = nil
    }

    /// The record of node `name`.
    public func node(_ name: String) -> NodeRecord? {
        self.nodes.first { $0.name == name }
    }

    mutating func markDone(_ step: String, on node: String) {
        guard let index = self.nodes.firstIndex(where: { $0.name == node }) else { return }
        if !self.nodes[index].stepsDone.contains(step) { self.nodes[index].stepsDone.append(step) }
    }
}
