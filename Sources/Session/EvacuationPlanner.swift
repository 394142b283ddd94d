/// Decides where each running guest of a host goes when the host is emptied.
///
/// Pure: it takes the guests and the candidate hosts as the runner read them and returns an ``EvacuationPlan``; it
/// never touches the network, so every decision is unit-tested without a host. The rules:
/// - Order: the nodes of guest clusters first (by cluster key, then node name), then the plain guests by memory,
///   largest first, then by name (first-fit decreasing). Placements come out in this order.
/// - A host can take a guest when its free memory is known, it is not the host being emptied, the guest is not in
///   its ``EvacuationCandidate/unsuitable``, and its free memory less the memory of the guests placed on it earlier
///   in this plan is at least the guest's memory.
/// - Among the hosts that can take a guest: for a cluster node, first the fewest nodes of its cluster there (running
///   there, or placed there earlier in this plan), so that one host's failure takes as few nodes as possible; then
///   the most memory left after earlier placements; then the fewest guests placed there earlier; then the host's
///   name (and URI), so that the same input always gives the same plan, whatever its order.
/// - A guest no host can take is unplaced, with each host's obstacle.
///
/// Memory is written in binary units: `512 MiB`, `1.5 GiB`. The arithmetic cannot overflow: a host's placed memory
/// never exceeds its free memory.
public enum EvacuationPlanner {
    /// Plans the evacuation of `source`.
    ///
    /// - Parameters:
    ///   - source: The name of the host being emptied; a candidate of that name is never chosen.
    ///   - guests: The guests running on it, in any order.
    ///   - candidates: The hosts that may take them, in any order.
    /// - Returns: A placement for every guest some host can take, in the order they should start, and the others.
    public static func plan(
        source: String,
        guests: [EvacuationGuest],
        candidates: [EvacuationCandidate]
    ) -> EvacuationPlan {
        var hosts = candidates.enumerated().map { HostState(candidate: $0.element, index: $0.offset) }
        hosts.sort { ($0.candidate.name, $0.candidate.uri, $0.index) < ($1.candidate.name, $1.candidate.uri, $1.index) }

        var plan = EvacuationPlan(source: source, placements: [], unplaced: [])
        for guest in self.order(guests) {
            var eligible: [Int] = []
            var obstacles: [String] = []
            for (index, host) in hosts.enumerated() {
                if let obstacle = host.obstacle(to: guest, source: source) {
                    obstacles.append("\(host.candidate.name): \(obstacle)")
                } else {
                    eligible.append(index)
                }
            }
            let chosen = eligible.min { self.precedes(hosts[$0], hosts[$1], for: guest) }
            guard let chosen else {
                let reason = hosts.isEmpty ? "no destination host" : obstacles.joined(separator: "; ")
                plan.unplaced.append(EvacuationPlan.Unplaced(guest: guest, reason: reason))
                continue
            }
            let others = eligible.filter { $0 != chosen }.map { hosts[$0] }
            plan.placements.append(
                EvacuationPlan.Placement(
                    guest: guest,
                    destination: hosts[chosen].candidate.name,
                    destinationURI: hosts[chosen].candidate.uri,
                    reason: self.reason(for: guest, on: hosts[chosen], others: others),
                    colocatedWith: guest.cluster.map { hosts[chosen].nodes(of: $0) } ?? []
                )
            )
            hosts[chosen].place(guest)
        }
        return plan
    }

    /// The guests in placement order: cluster nodes by cluster and node, then plain guests largest first.
    static func order(_ guests: [EvacuationGuest]) -> [EvacuationGuest] {
        let nodes = guests.filter { $0.cluster != nil }.sorted {
            let (left, right) = ($0.cluster?.cluster ?? "", $1.cluster?.cluster ?? "")
            let (leftNode, rightNode) = ($0.cluster?.node ?? "", $1.cluster?.node ?? "")
            return (left, leftNode, $0.name, $0.uuid) < (right, rightNode, $1.name, $1.uuid)
        }
        let plain = guests.filter { $0.cluster == nil }.sorted {
            if $0.memoryBytes != $1.memoryBytes { return $0.memoryBytes > $1.memoryBytes }
            return ($0.name, $0.uuid) < ($1.name, $1.uuid)
        }
        return nodes + plain
    }

    /// Whether `first` is a better host than `second` for `guest`; both can take it.
    private static func precedes(_ first: HostState, _ second: HostState, for guest: EvacuationGuest) -> Bool {
        if let membership = guest.cluster {
            let (firstNodes, secondNodes) = (first.nodes(of: membership).count, second.nodes(of: membership).count)
            if firstNodes != secondNodes { return firstNodes < secondNodes }
        }
        if first.leftBytes != second.leftBytes { return first.leftBytes > second.leftBytes }
        if first.placedCount != second.placedCount { return first.placedCount < second.placedCount }
        return (first.candidate.name, first.candidate.uri, first.index)
            < (second.candidate.name, second.candidate.uri, second.index)
    }

    // MARK: - Reasons

    /// Why `host` was chosen for `guest` over `others` (the other hosts that could take it), in one line.
    private static func reason(for guest: EvacuationGuest, on host: HostState, others: [HostState]) -> String {
        guard let membership = guest.cluster else {
            return self.memoryReason(host, rivals: others, anyOther: !others.isEmpty)
        }
        let joined = host.nodes(of: membership)
        let otherCounts = others.map { $0.nodes(of: membership).count }
        // Only the hosts with as few nodes of the cluster compete on memory.
        let rivals = others.filter { $0.nodes(of: membership).count == joined.count }
        let memory = self.memoryReason(host, rivals: rivals, anyOther: !others.isEmpty)
        if joined.isEmpty {
            if !others.isEmpty && rivals.isEmpty {
                return "the only host without a node of its cluster; \(memory)"
            }
            return "\(memory); no other node of its cluster there"
        }
        let nodes = joined.joined(separator: ", ")
        if others.isEmpty {
            return "joins \(nodes) of its cluster: no other host can take it; \(Self.memory(host.leftBytes)) left"
        }
        let comparison: String
        if otherCounts.allSatisfy({ $0 == joined.count }) {
            comparison = "every other host has as many"
        } else if rivals.isEmpty {
            comparison = "every other host has more"
        } else {
            comparison = "every other host has as many or more"
        }
        return "joins \(nodes) of its cluster: \(comparison); \(memory)"
    }

    /// The memory part of a reason: how `host` compares with `rivals`, the hosts equal to it on everything before
    /// memory; `anyOther` says whether any other host could take the guest at all.
    private static func memoryReason(_ host: HostState, rivals: [HostState], anyOther: Bool) -> String {
        let left = Self.memory(host.leftBytes)
        guard !rivals.isEmpty else {
            return anyOther ? "\(left) left" : "the only host that can take it (\(left) left)"
        }
        // The chosen host has the most memory left of its rivals; those with as much were passed over on count or name.
        let tied = rivals.filter { $0.leftBytes == host.leftBytes }
        guard !tied.isEmpty else { return "most free memory left (\(left))" }
        let names = tied.map(\.candidate.name).joined(separator: ", ")
        let memory = "most free memory left (\(left), as much as \(names))"
        if tied.allSatisfy({ $0.placedCount > host.placedCount }) {
            return "\(memory); fewest guests placed there (\(host.placedCount))"
        }
        return "\(memory); first by name of the hosts alike"
    }

    /// Memory in binary units for a reason: `640 KiB`, `512 MiB` (whole MiB, rounded down) below 1 GiB; above it,
    /// GiB to one decimal (`1.5 GiB`, rounded to the nearest tenth).
    static func memory(_ bytes: UInt64) -> String {
        let gib: UInt64 = 1 << 30
        guard bytes >= gib else {
            return bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : "\(bytes >> 10) KiB"
        }
        // Integer arithmetic: the remainder is below 2^30, so ten times it cannot overflow.
        var whole = bytes / gib
        var tenths = (bytes % gib * 10 + gib / 2) / gib
        if tenths == 10 {
            whole += 1
            tenths = 0
        }
        return "\(whole).\(tenths) GiB"
    }
}

// MARK: - Host state

/// A candidate host and what this plan has put on it so far.
private struct HostState {
    let candidate: EvacuationCandidate
    /// The candidate's position in the input: the last tie-break between hosts of one name and URI.
    let index: Int
    /// The memory of the guests placed here; never more than the free memory, so subtracting it cannot trap.
    var placedBytes: UInt64 = 0
    var placedCount = 0
    /// Cluster key → nodes placed here in this plan.
    var placedNodes: [String: [String]] = [:]

    init(candidate: EvacuationCandidate, index: Int) {
        self.candidate = candidate
        self.index = index
    }

    /// The free memory left after the guests placed here; 0 when the free memory is unknown (never compared then:
    /// such a host never takes a guest).
    var leftBytes: UInt64 {
        guard let free = self.candidate.freeMemoryBytes else { return 0 }
        return free - min(self.placedBytes, free)
    }

    /// The other nodes of `membership`'s cluster here, running or placed earlier, sorted and without repeats.
    func nodes(of membership: ClusterMembership) -> [String] {
        let running = self.candidate.clusterNodes[membership.cluster] ?? []
        let placed = self.placedNodes[membership.cluster] ?? []
        return Set(running + placed).subtracting([membership.node]).sorted()
    }

    /// Why this host cannot take `guest`, in a few words; `nil` when it can.
    func obstacle(to guest: EvacuationGuest, source: String) -> String? {
        guard self.candidate.freeMemoryBytes != nil else { return "did not answer" }
        if self.candidate.name == source { return "the host being emptied" }
        if let why = self.candidate.unsuitable[guest.name] { return why }
        guard self.leftBytes >= guest.memoryBytes else {
            let left = EvacuationPlanner.memory(self.leftBytes)
            let needs = EvacuationPlanner.memory(guest.memoryBytes)
            return self.placedBytes == 0
                ? "\(left) left, needs \(needs)"
                : "\(left) left after earlier placements, needs \(needs)"
        }
        return nil
    }

    mutating func place(_ guest: EvacuationGuest) {
        // The caller placed it only because it fits: placed + memory <= free.
        self.placedBytes += guest.memoryBytes
        self.placedCount += 1
        if let membership = guest.cluster {
            self.placedNodes[membership.cluster, default: []].append(membership.node)
        }
    }
}
