/// A running guest on the host being emptied, as the planner sees it.
public struct EvacuationGuest: Sendable, Hashable, Codable {
    /// The domain's name.
    public var name: String
    public var uuid: String
    /// The guest's current memory, which the destination must have free.
    public var memoryBytes: UInt64
    /// The guest-cluster node this guest is; `nil` for a plain guest.
    public var cluster: ClusterMembership?

    public init(name: String, uuid: String, memoryBytes: UInt64, cluster: ClusterMembership? = nil) {
        self.name = name
        self.uuid = uuid
        self.memoryBytes = memoryBytes
        self.cluster = cluster
    }
}

/// A guest that is a node of a guest cluster.
public struct ClusterMembership: Sendable, Hashable, Codable {
    /// The cluster's key (for example `guest1+guest2+guest3+guest4`).
    public var cluster: String
    /// The node's name in the cluster (for example `guest1`), which may differ from its domain's name.
    public var node: String

    public init(cluster: String, node: String) {
        self.cluster = cluster
        self.node = node
    }
}

/// A host that may take guests, as the runner found it (libvirt: free memory, CPU comparison, running domains).
public struct EvacuationCandidate: Sendable, Hashable {
    /// The host's name (for example `hostB`).
    public var name: String
    /// Its libvirt URI as the source reaches it.
    public var uri: String
    /// Its free memory; `nil` when it is unknown (the host did not answer), and then the host is never chosen.
    public var freeMemoryBytes: UInt64?
    /// Guest name → why this host cannot take that guest (for example its CPU comparison), in one line.
    public var unsuitable: [String: String]
    /// Cluster key → the names of that cluster's nodes already running on this host.
    public var clusterNodes: [String: [String]]

    public init(
        name: String,
        uri: String,
        freeMemoryBytes: UInt64?,
        unsuitable: [String: String] = [:],
        clusterNodes: [String: [String]] = [:]
    ) {
        self.name = name
        self.uri = uri
        self.freeMemoryBytes = freeMemoryBytes
        self.unsuitable = unsuitable
        self.clusterNodes = clusterNodes
    }
}

/// Where each running guest of a host goes when the host is emptied, and which guests no host can take.
///
/// ``EvacuationPlanner/plan(source:guests:candidates:)`` makes it; ``EvacuationQueue`` orders its start.
public struct EvacuationPlan: Sendable, Hashable, Codable {
    /// One guest and the host chosen for it.
    public struct Placement: Sendable, Hashable, Codable {
        public var guest: EvacuationGuest
        /// The chosen host's name.
        public var destination: String
        /// The chosen host's libvirt URI.
        public var destinationURI: String
        /// Why this host, in one line.
        public var reason: String
        /// The nodes of the guest's cluster on the chosen host (running there, or placed there earlier in the plan),
        /// sorted; empty for a plain guest, or a node alone of its cluster there.
        public var colocatedWith: [String]

        public init(
            guest: EvacuationGuest,
            destination: String,
            destinationURI: String,
            reason: String,
            colocatedWith: [String] = []
        ) {
            self.guest = guest
            self.destination = destination
            self.destinationURI = destinationURI
            self.reason = reason
            self.colocatedWith = colocatedWith
        }
    }

    /// A guest that no host can take.
    public struct Unplaced: Sendable, Hashable, Codable {
        public var guest: EvacuationGuest
        /// Why no host can take it, in one line naming each host's obstacle.
        public var reason: String

        public init(guest: EvacuationGuest, reason: String) {
            self.guest = guest
            self.reason = reason
        }
    }

    /// The name of the host being emptied.
    public var source: String
    /// The guests that have a host, in the order they should start.
    public var placements: [Placement]
    /// The guests that have none.
    public var unplaced: [Unplaced]

    public init(source: String, placements: [Placement], unplaced: [Unplaced]) {
        self.source = source
        self.placements = placements
        self.unplaced = unplaced
    }

    /// Placements that put a node beside another node of its cluster, in plan order.
    public var colocations: [Placement] {
        self.placements.filter { !$0.colocatedWith.isEmpty }
    }
}
