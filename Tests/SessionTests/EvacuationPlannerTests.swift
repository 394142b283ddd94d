import Foundation
import Testing

@testable import Session

/// Where the planner sends each guest of the host being emptied, and why: anti-affinity for guest-cluster nodes,
/// memory after earlier placements, hosts that cannot take a guest, and the same plan for the same input.
@Suite struct EvacuationPlannerTests {
    static let cluster = "guest1+guest2+guest3+guest4"
    static let gib: UInt64 = 1 << 30
    static let mib: UInt64 = 1 << 20

    /// A guest-cluster node: its domain is `domain<n>`, its node name `guest<n>`.
    static func node(_ number: Int, memory: UInt64 = 2 * gib) -> EvacuationGuest {
        EvacuationGuest(
            name: "domain\(number)",
            uuid: "uuid-domain\(number)",
            memoryBytes: memory,
            cluster: ClusterMembership(cluster: Self.cluster, node: "guest\(number)")
        )
    }

    static func plain(_ name: String, memory: UInt64 = 2 * gib) -> EvacuationGuest {
        EvacuationGuest(name: name, uuid: "uuid-\(name)", memoryBytes: memory)
    }

    static func host(
        _ name: String,
        free: UInt64? = 16 * gib,
        nodes: [String] = [],
        unsuitable: [String: String] = [:]
    ) -> EvacuationCandidate {
        EvacuationCandidate(
            name: name,
            uri: "qemu+tcp://\(name)/system",
            freeMemoryBytes: free,
            unsuitable: unsuitable,
            clusterNodes: nodes.isEmpty ? [:] : [Self.cluster: nodes]
        )
    }

    static func plan(_ guests: [EvacuationGuest], _ hosts: [EvacuationCandidate]) -> EvacuationPlan {
        EvacuationPlanner.plan(source: "hostA", guests: guests, candidates: hosts)
    }

    /// Guest name → host name, for the placed guests.
    static func destinations(_ plan: EvacuationPlan) -> [String: String] {
        Dictionary(uniqueKeysWithValues: plan.placements.map { ($0.guest.name, $0.destination) })
    }

    // MARK: - Guest clusters

    @Test func twoNodesOntoTwoHostsThatEachRunANodeAreColocatedAndReported() {
        // hostA runs guest1 and guest4 of a four-node cluster; hostB runs guest2 and hostC guest3.
        let plan = Self.plan(
            [Self.plain("plain1", memory: Self.gib), Self.node(4), Self.node(1)],
            [
                Self.host("hostC", free: 6 * Self.gib, nodes: ["guest3"]),
                Self.host("hostB", free: 8 * Self.gib, nodes: ["guest2"]),
            ]
        )
        #expect(plan.placements.map(\.guest.name) == ["domain1", "domain4", "plain1"])
        #expect(plan.placements.map(\.destination) == ["hostB", "hostC", "hostB"])
        #expect(plan.placements.map(\.destinationURI)[0] == "qemu+tcp://hostB/system")
        #expect(plan.placements.map(\.colocatedWith) == [["guest2"], ["guest3"], []])
        #expect(plan.colocations.map(\.guest.name) == ["domain1", "domain4"])
        #expect(plan.unplaced.isEmpty)
        #expect(
            plan.placements.map(\.reason) == [
                "joins guest2 of its cluster: every other host has as many; most free memory left (8.0 GiB)",
                // hostB holds guest1 now as well.
                "joins guest3 of its cluster: every other host has more; 6.0 GiB left",
                "most free memory left (6.0 GiB)",
            ]
        )
    }

    @Test func aHostWithoutANodeOfTheClusterIsChosenOverOnesWithMoreMemory() {
        let plan = Self.plan(
            [Self.node(1), Self.node(4)],
            [
                Self.host("hostB", free: 64 * Self.gib, nodes: ["guest2"]),
                Self.host("hostC", free: 64 * Self.gib, nodes: ["guest3"]),
                Self.host("hostD", free: 4 * Self.gib),
            ]
        )
        #expect(plan.placements[0].guest.name == "domain1")
        #expect(plan.placements[0].destination == "hostD")
        #expect(plan.placements[0].colocatedWith == [])
        #expect(plan.placements[0].reason == "the only host without a node of its cluster; 4.0 GiB left")
        // Four nodes, three destinations: guest4 must share a host; the one with the most memory left.
        #expect(plan.placements[1].destination == "hostB")
        #expect(plan.placements[1].colocatedWith == ["guest2"])
        #expect(plan.colocations.map(\.guest.name) == ["domain4"])
    }

    @Test func nodesPlacedEarlierInThePlanCountForAntiAffinity() {
        let plan = Self.plan(
            [Self.node(2), Self.node(1)],
            [Self.host("hostB", free: 64 * Self.gib), Self.host("hostC", free: 8 * Self.gib)]
        )
        #expect(Self.destinations(plan) == ["domain1": "hostB", "domain2": "hostC"])
        #expect(plan.colocations.isEmpty)
        #expect(plan.placements[0].reason == "most free memory left (64.0 GiB); no other node of its cluster there")
        #expect(plan.placements[1].reason == "the only host without a node of its cluster; 8.0 GiB left")
    }

    @Test func aNodeColocatedWithANodePlacedEarlierNamesIt() {
        let plan = Self.plan([Self.node(1), Self.node(2)], [Self.host("hostB")])
        #expect(plan.placements.map(\.destination) == ["hostB", "hostB"])
        #expect(plan.placements[1].colocatedWith == ["guest1"])
        #expect(
            plan.placements[1].reason == "joins guest1 of its cluster: no other host can take it; 14.0 GiB left"
        )
        #expect(plan.colocations.map(\.guest.name) == ["domain2"])
    }

    @Test func clusterNodesStartFirstByClusterThenNodeThenPlainGuestsLargestFirst() {
        let other = EvacuationGuest(
            name: "db1",
            uuid: "uuid-db1",
            memoryBytes: Self.gib,
            cluster: ClusterMembership(cluster: "db1+db2", node: "db1")
        )
        let plan = Self.plan(
            [
                Self.plain("small", memory: Self.gib), Self.node(3), Self.plain("big", memory: 8 * Self.gib), other,
                Self.plain("also-small", memory: Self.gib), Self.node(1),
            ],
            [Self.host("hostB", free: 64 * Self.gib)]
        )
        #expect(plan.placements.map(\.guest.name) == ["db1", "domain1", "domain3", "big", "also-small", "small"])
        // Another cluster's node on the host is not a node of this one.
        #expect(plan.placements.map(\.colocatedWith) == [[], [], ["guest1"], [], [], []])
    }

    // MARK: - Memory

    @Test func memoryIsCountedAfterEarlierPlacements() {
        let plan = Self.plan(
            [Self.plain("small", memory: 2 * Self.gib), Self.plain("big", memory: 3 * Self.gib)],
            [Self.host("hostB", free: 4 * Self.gib)]
        )
        #expect(Self.destinations(plan) == ["big": "hostB"])
        #expect(plan.unplaced.map(\.guest.name) == ["small"])
        #expect(plan.unplaced.first?.reason == "hostB: 1.0 GiB left after earlier placements, needs 2.0 GiB")
    }

    @Test func aGuestFitsWhenExactlyItsMemoryIsLeft() {
        let plan = Self.plan(
            [Self.plain("big", memory: 3 * Self.gib), Self.plain("small", memory: 2 * Self.gib)],
            [Self.host("hostB", free: 4 * Self.gib), Self.host("hostC", free: 2 * Self.gib)]
        )
        #expect(Self.destinations(plan) == ["big": "hostB", "small": "hostC"])
        #expect(plan.placements[1].reason == "the only host that can take it (2.0 GiB left)")
        #expect(plan.unplaced.isEmpty)
    }

    @Test func largestGuestsGoFirstSoThatEveryGuestFits() {
        // Smallest first would put "small" on hostB (most memory) and leave no room for "big".
        let plan = Self.plan(
            [Self.plain("small", memory: Self.gib), Self.plain("big", memory: 4 * Self.gib)],
            [Self.host("hostB", free: 4 * Self.gib), Self.host("hostC", free: 3 * Self.gib)]
        )
        #expect(Self.destinations(plan) == ["big": "hostB", "small": "hostC"])
    }

    @Test func equalMemoryLeftGoesToTheHostWithFewerGuestsPlaced() {
        let plan = Self.plan(
            [Self.plain("first", memory: 2 * Self.gib), Self.plain("second", memory: Self.gib)],
            [Self.host("hostB", free: 10 * Self.gib), Self.host("hostC", free: 8 * Self.gib)]
        )
        // After "first", both hosts have 8 GiB left; hostC has no guest placed yet.
        #expect(Self.destinations(plan) == ["first": "hostB", "second": "hostC"])
        #expect(
            plan.placements[1].reason
                == "most free memory left (8.0 GiB, as much as hostB); fewest guests placed there (0)"
        )
    }

    // MARK: - Hosts that cannot take a guest

    @Test func anUnsuitableHostIsPassedOverWhateverItsMemory() {
        let plan = Self.plan(
            [Self.plain("vm1")],
            [
                Self.host("hostB", free: 64 * Self.gib, unsuitable: ["vm1": "CPU: the host CPU lacks avx512f"]),
                Self.host("hostC", free: 4 * Self.gib),
            ]
        )
        #expect(Self.destinations(plan) == ["vm1": "hostC"])
        #expect(plan.placements[0].reason == "the only host that can take it (4.0 GiB left)")
    }

    @Test func aHostThatDidNotAnswerIsNeverChosen() {
        let plan = Self.plan(
            [Self.plain("vm1"), Self.node(1)],
            [Self.host("hostB", free: nil), Self.host("hostC", free: 4 * Self.gib, nodes: ["guest2"])]
        )
        #expect(Self.destinations(plan) == ["vm1": "hostC", "domain1": "hostC"])
    }

    @Test func theHostBeingEmptiedIsNeverChosen() {
        let plan = Self.plan([Self.plain("vm1")], [Self.host("hostA"), Self.host("hostB", free: 2 * Self.gib)])
        #expect(Self.destinations(plan) == ["vm1": "hostB"])
    }

    @Test func anUnplacedGuestNamesEachHostsObstacleInHostOrder() {
        let plan = Self.plan(
            [Self.plain("vm1", memory: Self.gib)],
            [
                Self.host("hostD", free: nil),
                Self.host("hostC", unsuitable: ["vm1": "CPU: the host CPU is incompatible"]),
                Self.host("hostB", free: 512 * Self.mib),
            ]
        )
        #expect(plan.placements.isEmpty)
        #expect(
            plan.unplaced == [
                EvacuationPlan.Unplaced(
                    guest: Self.plain("vm1", memory: Self.gib),
                    reason: "hostB: 512 MiB left, needs 1.0 GiB; hostC: CPU: the host CPU is incompatible; "
                        + "hostD: did not answer"
                )
            ]
        )
    }

    @Test func withoutCandidatesEveryGuestIsUnplaced() {
        let plan = Self.plan([Self.node(1), Self.plain("vm1")], [])
        #expect(plan.placements.isEmpty)
        #expect(plan.unplaced.map(\.guest.name) == ["domain1", "vm1"])
        #expect(plan.unplaced.map(\.reason) == ["no destination host", "no destination host"])
        #expect(plan.source == "hostA")
    }

    // MARK: - Determinism and limits

    @Test func theSameGuestsAndHostsInAnyOrderGiveTheSamePlan() {
        let guests = [
            Self.node(1), Self.node(4), Self.plain("vm1"), Self.plain("vm2"), Self.plain("vm3", memory: Self.gib),
            Self.plain("vm4", memory: 3 * Self.gib),
        ]
        let hosts = [
            Self.host("hostB", nodes: ["guest2"]), Self.host("hostC", nodes: ["guest3"]), Self.host("hostD"),
            Self.host("hostE"),
        ]
        let expected = Self.plan(guests, hosts)
        for shift in 1..<hosts.count {
            let rotatedHosts = Array(hosts[shift...] + hosts[..<shift])
            let rotatedGuests = Array(guests[shift...] + guests[..<shift])
            #expect(Self.plan(rotatedGuests, rotatedHosts) == expected)
            #expect(Self.plan(rotatedGuests.reversed(), rotatedHosts.reversed()) == expected)
        }
        // Nodes to the hosts without one; then the largest guest first, ties by guests placed, then by name.
        #expect(expected.placements.map(\.guest.name) == ["domain1", "domain4", "vm4", "vm1", "vm2", "vm3"])
        #expect(expected.placements.map(\.destination) == ["hostD", "hostE", "hostB", "hostC", "hostC", "hostD"])
    }

    @Test func extremeMemoryFiguresDoNotTrap() {
        let plan = Self.plan(
            [Self.plain("huge1", memory: .max), Self.plain("huge2", memory: .max), Self.plain("empty", memory: 0)],
            [Self.host("hostB", free: .max), Self.host("hostC", free: 0)]
        )
        #expect(Self.destinations(plan) == ["huge1": "hostB", "empty": "hostC"])
        #expect(plan.unplaced.map(\.guest.name) == ["huge2"])
        #expect(
            plan.unplaced.first?.reason
                == "hostB: 0 KiB left after earlier placements, needs 17179869184.0 GiB; "
                + "hostC: 0 KiB left, needs 17179869184.0 GiB"
        )
    }

    @Test(
        arguments: [
            (0, "0 KiB"),
            (640 << 10, "640 KiB"),
            (512 << 20, "512 MiB"),
            ((1 << 30) - 1, "1023 MiB"),
            (1 << 30, "1.0 GiB"),
            (3 << 29, "1.5 GiB"),
            ((2 << 30) - (1 << 20), "2.0 GiB"),
            (UInt64.max, "17179869184.0 GiB"),
        ] as [(UInt64, String)]
    )
    func memoryIsWrittenInBinaryUnits(bytes: UInt64, text: String) {
        #expect(EvacuationPlanner.memory(bytes) == text)
    }

    @Test func aPlanRoundTripsThroughJSON() throws {
        let plan = Self.plan(
            [Self.node(1), Self.plain("vm1", memory: 64 * Self.gib)],
            [Self.host("hostB", nodes: ["guest2"])]
        )
        let decoded = try JSONDecoder().decode(EvacuationPlan.self, from: try JSONEncoder().encode(plan))
        #expect(decoded == plan)
        #expect(decoded.colocations.map(\.colocatedWith) == [["guest2"]])
    }
}
