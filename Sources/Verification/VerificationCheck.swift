/// One line of a verification: what was checked, about what, and what was found.
public struct VerificationCheck: Sendable, Hashable, Codable {
    /// How a check ended, from best to worst.
    public enum Outcome: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
        case pass
        case warn
        case fail

        private var rank: Int {
            switch self {
            case .pass: 0
            case .warn: 1
            case .fail: 2
            }
        }

        public static func < (lhs: Outcome, rhs: Outcome) -> Bool { lhs.rank < rhs.rank }
    }

    /// What a check is about.
    public enum Subject: Sendable, Hashable, Codable, CustomStringConvertible {
        /// A libvirt domain; `node` is its CF node name when it is a node of the guest cluster.
        case domain(String, node: String?)
        /// A node of the guest cluster, as seen from that node.
        case node(String)
        /// The guest cluster as a whole (what its nodes must agree on).
        case cluster

        public var description: String {
            switch self {
            case .domain(let name, let node?): "\(name) (\(node))"
            case .domain(let name, nil): name
            case .node(let name): "node \(name)"
            case .cluster: "cluster"
            }
        }
    }

    public var subject: Subject
    /// The check's short name: `placement`, `definition`, `SA_libvirtgp`, `CF timeout`, `clock`, ….
    public var name: String
    public var outcome: Outcome
    /// One line of why.
    public var detail: String
    /// What `--fix` does about it, when it can do something.
    public var repair: Repair?

    public init(_ subject: Subject, _ name: String, _ outcome: Outcome, _ detail: String, repair: Repair? = nil) {
        self.subject = subject
        self.name = name
        self.outcome = outcome
        self.detail = detail
        self.repair = repair
    }
}

/// What `verify --fix` does about a check that did not pass: the same code as the restore.
public enum Repair: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Point the guest's SF agent lines (and its weight) at the host where libvirt runs its domain, on every
    /// node, then make SF re-read and test (`sdtool -r`).
    case pointAgents(guest: String, host: String)
    /// Load `cluster.config` into CF on the node (`cfset -r`): CF uses another timeout than the file says.
    case reloadClusterTimeout(node: String)
    /// Write `CLUSTER_TIMEOUT` into the node's `cluster.config` and load it (`cfset -r`): the file still holds a
    /// migration's timeout, and the operator gave the one to restore (`--cf-timeout`).
    case setClusterTimeout(node: String, seconds: Int)
    /// Start SF on the node, or make it re-read and test again (`sdtool -b` / `sdtool -r`).
    case retestShutdownFacility(node: String)
    /// Set the guest's clock from its hardware clock through its guest agent (`virDomainSetTime`, sync).
    case synchronizeGuestClock(domain: String, host: String)

    public var description: String {
        switch self {
        case .pointAgents(let guest, let host): "point \(guest)'s SF agents at \(host) on every node, then sdtool -r"
        case .reloadClusterTimeout(let node): "cfset -r on \(node)"
        case .setClusterTimeout(let node, let seconds):
            "CLUSTER_TIMEOUT \(seconds) in cluster.config on \(node), cfset -r"
        case .retestShutdownFacility(let node): "sdtool -r (or -b) on \(node)"
        case .synchronizeGuestClock(let domain, _): "set \(domain)'s clock through its guest agent"
        }
    }
}
