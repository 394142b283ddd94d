import Testing

@testable import Session

/// Which migrations of an evacuation run at once: the parallel limit, the per-destination limit, one node of a guest
/// cluster at a time, and stopping.
@Suite struct EvacuationQueueTests {
    static func placement(_ guest: String, to host: String, node: String? = nil) -> EvacuationPlan.Placement {
        EvacuationPlan.Placement(
            guest: EvacuationGuest(
                name: guest,
                uuid: "uuid-\(guest)",
                memoryBytes: 1 << 30,
                cluster: node.map { ClusterMembership(cluster: "guest1+guest2+guest3+guest4", node: $0) }
            ),
            destination: host,
            destinationURI: "qemu+tcp://\(host)/system",
            reason: "test"
        )
    }

    /// Two nodes of one cluster and two plain guests, in plan order (nodes first).
    static let mixed = [
        placement("domain1", to: "hostB", node: "guest1"), placement("domain4", to: "hostC", node: "guest4"),
        placement("plain1", to: "hostB"), placement("plain2", to: "hostC"),
    ]

    static func names(_ placements: [EvacuationPlan.Placement]) -> [String] { placements.map(\.guest.name) }

    @Test func oneAtATimeRunsStrictlyInPlanOrder() {
        var queue = EvacuationQueue(Self.mixed, maxParallel: 1, maxIncomingPerDestination: 4)
        var order: [String] = []
        while !queue.isDone {
            let started = Self.names(queue.startable())
            #expect(started.count == 1)
            #expect(Self.names(queue.startable()) == [], "nothing more while one runs")
            #expect(queue.running.count == 1)
            order += started
            for guest in started { queue.finished(guest) }
        }
        #expect(order == ["domain1", "domain4", "plain1", "plain2"])
    }

    @Test func twoAtOnceNeverRunTwoNodesOfOneCluster() {
        var queue = EvacuationQueue(Self.mixed, maxParallel: 2, maxIncomingPerDestination: 2)
        // domain4 waits for domain1; plain1 behind it is not held up.
        #expect(Self.names(queue.startable()) == ["domain1", "plain1"])
        queue.finished("plain1")
        #expect(Self.names(queue.startable()) == ["plain2"])
        #expect(Self.names(queue.running) == ["domain1", "plain2"])
        queue.finished("domain1")
        #expect(Self.names(queue.startable()) == ["domain4"])
        queue.finished("plain2")
        queue.finished("domain4")
        #expect(Self.names(queue.startable()) == [])
        #expect(queue.isDone)
    }

    @Test func inEveryOrderOfEndingsAtMostOneNodeRunsAndEveryGuestStarts() {
        var orders = 0
        func explore(_ queue: EvacuationQueue, started: [String]) {
            var queue = queue
            let now = started + Self.names(queue.startable())
            let running = queue.running
            #expect(running.count <= 2)
            #expect(running.filter { $0.guest.cluster != nil }.count <= 1, "\(Self.names(running))")
            guard !running.isEmpty else {
                #expect(queue.isDone)
                #expect(now.sorted() == ["domain1", "domain4", "plain1", "plain2"])
                orders += 1
                return
            }
            for placement in running {
                var next = queue
                next.finished(placement.guest.name)
                explore(next, started: now)
            }
        }
        explore(EvacuationQueue(Self.mixed, maxParallel: 2, maxIncomingPerDestination: 2), started: [])
        #expect(orders > 1)
    }

    @Test func aDestinationTakesNoMoreThanItsIncomingLimit() {
        let placements = [
            Self.placement("vm1", to: "hostB"), Self.placement("vm2", to: "hostB"), Self.placement("vm3", to: "hostB"),
            Self.placement("vm4", to: "hostC"),
        ]
        var queue = EvacuationQueue(placements, maxParallel: 4, maxIncomingPerDestination: 2)
        #expect(Self.names(queue.startable()) == ["vm1", "vm2", "vm4"])
        #expect(Self.names(queue.pending) == ["vm3"])
        queue.finished("vm4")
        #expect(Self.names(queue.startable()) == [], "hostC's slot does not serve hostB")
        queue.finished("vm1")
        #expect(Self.names(queue.startable()) == ["vm3"])
    }

    @Test func startsBesideARunningMigrationKeepTheSpacing() {
        let zero = ContinuousClock.now
        var queue = EvacuationQueue(
            Self.mixed,
            maxParallel: 2,
            maxIncomingPerDestination: 2,
            startSpacing: .seconds(1)
        )
        #expect(Self.names(queue.startable(at: zero)) == ["domain1"], "the second waits for the spacing")
        #expect(queue.nextSpacedStart == zero + .seconds(1))
        #expect(Self.names(queue.startable(at: zero + .milliseconds(999))) == [])
        #expect(Self.names(queue.startable(at: zero + .seconds(1))) == ["plain1"])
        #expect(queue.nextSpacedStart == nil, "two run: what is pending waits for an end, not for the spacing")
        queue.finished("plain1")
        // A migration ends 0.5 s after the last start: the next start beside domain1 waits until 2 s.
        #expect(Self.names(queue.startable(at: zero + .milliseconds(1500))) == [])
        #expect(queue.nextSpacedStart == zero + .seconds(2))
        #expect(Self.names(queue.startable(at: zero + .seconds(2))) == ["plain2"])
        queue.finished("domain1")
        queue.finished("plain2")
        // Nothing runs: a start need not wait.
        #expect(Self.names(queue.startable(at: zero + .milliseconds(2100))) == ["domain4"])
        #expect(queue.nextSpacedStart == nil)
    }

    @Test func noSpacingStartsTogether() {
        var queue = EvacuationQueue(Self.mixed, maxParallel: 2, maxIncomingPerDestination: 2, startSpacing: .zero)
        #expect(Self.names(queue.startable()) == ["domain1", "plain1"])
        #expect(queue.nextSpacedStart == nil)
        let negative = EvacuationQueue(
            Self.mixed,
            maxParallel: 2,
            maxIncomingPerDestination: 2,
            startSpacing: .seconds(-1)
        )
        #expect(negative.startSpacing == .zero)
    }

    @Test func cancellingDropsThePendingOnesAndLeavesTheRunningOnes() {
        var queue = EvacuationQueue(Self.mixed, maxParallel: 2, maxIncomingPerDestination: 2)
        _ = queue.startable()
        #expect(Self.names(queue.cancelPending()) == ["domain4", "plain2"])
        #expect(queue.pending.isEmpty)
        #expect(Self.names(queue.running) == ["domain1", "plain1"])
        #expect(!queue.isDone)
        queue.finished("domain1")
        #expect(Self.names(queue.startable()) == [])
        queue.finished("plain1")
        #expect(queue.isDone)
        #expect(queue.cancelPending().isEmpty)
    }

    @Test func limitsBelowOneCountAsOneAndUnknownGuestsAreIgnored() {
        var queue = EvacuationQueue(Self.mixed, maxParallel: 0, maxIncomingPerDestination: -3)
        #expect(queue.maxParallel == 1)
        #expect(queue.maxIncomingPerDestination == 1)
        #expect(Self.names(queue.startable()) == ["domain1"])
        queue.finished("no-such-guest")
        queue.finished("plain1")  // pending, not running: stays pending
        #expect(Self.names(queue.running) == ["domain1"])
        #expect(Self.names(queue.pending) == ["domain4", "plain1", "plain2"])
        #expect(EvacuationQueue([], maxParallel: 2, maxIncomingPerDestination: 2).isDone)
    }

    @Test(
        arguments: [
            // total, max parallel, placements, share
            (1000, 4, 10, 250),
            (1000, 4, 2, 500),  // two guests share the link among two
            (1000, 4, 0, 1000),
            (1000, 0, 5, 1000),  // max parallel taken as 1
            (3, 4, 10, 1),  // at least 1 MiB/s
            (UInt64.max, 1, 1, UInt64.max),
        ] as [(UInt64, Int, Int, UInt64)]
    )
    func theLinkIsSharedAmongTheMigrationsThatRunAtOnce(
        total: UInt64,
        maxParallel: Int,
        placements: Int,
        share: UInt64
    ) {
        #expect(
            EvacuationQueue.bandwidthShare(totalMiBPerSecond: total, maxParallel: maxParallel, placements: placements)
                == share
        )
    }
}
