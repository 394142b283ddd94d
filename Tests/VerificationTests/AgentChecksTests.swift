import Cluster
import Testing

@testable import Verification

/// `ClusterChecks.agentChecks(guest:domain:)`: whether every node's SF agents name the host libvirt runs the guest on.
@Suite struct AgentChecksTests {
    let hostA = Fixture.hostA
    let hostB = Fixture.hostB

    @Test func agentsStillNamingTheSourceFailWithARepairToTheRunningHost() throws {
        // domain1 moved to hostB; both nodes' files still name hostA for guest1.
        let checks = try Fixture.checks(
            [Fixture.snapshot("guest1"), Fixture.snapshot("guest2")],
            placements: Fixture.placements(guest1: self.hostB)
        ).agentChecks(guest: "guest1", domain: "domain1")
        #expect(checks.map(\.name) == ["SA_libvirtgp", "SA_libvirtgr"])
        for check in checks {
            #expect(check.outcome == .fail)
            #expect(check.subject == .domain("domain1", node: "guest1"))
            #expect(check.repair == .pointAgents(guest: "guest1", host: "hostB"))
            #expect(check.detail.contains("10.77.0.1 (hostA)"))
            #expect(check.detail.contains("every node"))
            #expect(check.detail.contains("hostB (10.77.0.2)"))
        }
    }

    @Test func agentsAndWeightAsTheRunningHostWantsPass() throws {
        var configuration = Fixture.configuration
        configuration.hosts[1].weight = 1
        let file = Fixture.agentFile(guest1: self.hostB)
        let checks = try Fixture.checks(
            [
                Fixture.snapshot("guest1", panicAgent: file, resetAgent: file),
                Fixture.snapshot("guest2", panicAgent: file, resetAgent: file),
            ],
            configuration: configuration,
            placements: Fixture.placements(guest1: configuration.hosts[1])
        ).agentChecks(guest: "guest1", domain: "domain1")
        #expect(checks.map(\.name) == ["SA_libvirtgp", "SA_libvirtgr", "SF weight"])
        #expect(checks.allSatisfy { $0.outcome == .pass && $0.repair == nil })
        #expect(checks.named("SA_libvirtgp").allSatisfy { $0.detail.contains("10.77.0.2") })
    }

    @Test func onlyTheNodeWithTheStaleFileIsNamed() throws {
        let moved = Fixture.agentFile(guest1: self.hostB)
        let checks = try Fixture.checks(
            [
                Fixture.snapshot("guest1", panicAgent: moved, resetAgent: moved),
                Fixture.snapshot("guest2", panicAgent: Fixture.agentFile(), resetAgent: moved),
            ],
            placements: Fixture.placements(guest1: self.hostB)
        ).agentChecks(guest: "guest1", domain: "domain1")
        #expect(checks.only("SA_libvirtgr")?.outcome == .pass)
        let panic = try #require(checks.only("SA_libvirtgp"))
        #expect(panic.outcome == .fail)
        #expect(panic.detail.contains("on guest2"))
        #expect(!panic.detail.contains("on guest1"))
        #expect(!panic.detail.contains("every node"))
        #expect(panic.repair == .pointAgents(guest: "guest1", host: "hostB"))
    }

    @Test func aStaleHostCheckAgentFailsInHostFailoverMode() throws {
        // The libvirt agents follow domain1 to hostB, but SA_vmchkhost.cfg still says hostA.
        let moved = Fixture.agentFile(guest1: self.hostB)
        let snapshots = try ["guest1", "guest2"].map {
            try Fixture.snapshot(
                $0,
                daemonConfig: Fixture.hostFailoverDaemonConfigText,
                panicAgent: moved,
                resetAgent: moved,
                hostCheck: Fixture.hostCheckFile(),
                agents: ["SA_libvirtgp", "SA_libvirtgr", "SA_vmchkhost"]
            )
        }
        let checks = try Fixture.checks(
            snapshots,
            daemonConfig: Fixture.hostFailoverDaemonConfigText,
            placements: Fixture.placements(guest1: self.hostB)
        ).agentChecks(guest: "guest1", domain: "domain1")
        #expect(checks.map(\.name) == ["SA_libvirtgp", "SA_libvirtgr", "SA_vmchkhost"])
        #expect(checks.only("SA_libvirtgp")?.outcome == .pass)
        let hostCheck = try #require(checks.only("SA_vmchkhost"))
        #expect(hostCheck.outcome == .fail)
        #expect(hostCheck.detail.contains("hostA 10.77.0.1"))
        #expect(hostCheck.repair == .pointAgents(guest: "guest1", host: "hostB"))
        // guest2 did not move: its three agents pass.
        let unmoved = try Fixture.checks(
            snapshots,
            daemonConfig: Fixture.hostFailoverDaemonConfigText,
            placements: Fixture.placements(guest1: self.hostB)
        ).agentChecks(guest: "guest2", domain: "domain2")
        #expect(unmoved.count == 3)
        #expect(unmoved.allSatisfy { $0.outcome == .pass })
        #expect(unmoved.only("SA_vmchkhost")?.detail.contains("hostB 10.77.0.2") == true)
    }

    @Test(arguments: [
        DomainPlacement(domain: "domain1", copies: []),
        DomainPlacement(
            domain: "domain1",
            copies: [
                DomainPlacement.Copy(host: Fixture.hostA, state: Fixture.runningState, persistent: true),
                DomainPlacement.Copy(host: Fixture.hostB, state: Fixture.runningState, persistent: true),
            ]
        ),
        DomainPlacement(
            domain: "domain1",
            copies: [DomainPlacement.Copy(host: Fixture.hostA, state: Fixture.runningState, persistent: true)],
            unanswered: [(Fixture.hostB, "timed out")]
        ),
    ])
    func anUnknownPlacementGivesOneNotCheckedLine(placement: DomainPlacement) throws {
        let checks = try Fixture.checks(
            [Fixture.snapshot("guest1"), Fixture.snapshot("guest2")],
            placements: ["domain1": placement, "domain2": Fixture.running("domain2", on: self.hostB)]
        ).agentChecks(guest: "guest1", domain: "domain1")
        #expect(checks.count == 1)
        #expect(checks.first?.outcome == .fail)
        #expect(checks.first?.detail.contains("not checked") == true)
        #expect(checks.first?.repair == nil)
    }

    @Test func aMissingLineFailsWithoutARepair() throws {
        let onlyGuest2 = "guest2 domain2 10.77.0.2 sfuser \(Fixture.password)\n"
        let checks = try Fixture.checks(
            [Fixture.snapshot("guest1"), Fixture.snapshot("guest2", panicAgent: onlyGuest2)]
        ).agentChecks(guest: "guest1", domain: "domain1")
        let panic = try #require(checks.only("SA_libvirtgp"))
        #expect(panic.outcome == .fail)
        #expect(panic.detail.contains("no line for guest1 on guest2"))
        #expect(panic.repair == nil)
    }

    @Test func aWeightOtherThanTheHostsFailsAsSFWeight() throws {
        // The weight comes with the host the placement read (the Verifier reads placements on the configuration's
        // hosts).
        var configuration = Fixture.configuration
        configuration.hosts[1].weight = 2
        let file = Fixture.agentFile(guest1: self.hostB)
        let checks = try Fixture.checks(
            [
                Fixture.snapshot("guest1", panicAgent: file, resetAgent: file),
                Fixture.snapshot("guest2", panicAgent: file, resetAgent: file),
            ],
            configuration: configuration,
            placements: Fixture.placements(guest1: configuration.hosts[1])
        ).agentChecks(guest: "guest1", domain: "domain1")
        #expect(checks.named("SA_libvirtgp").allSatisfy { $0.outcome == .pass })
        let weight = try #require(checks.only("SF weight"))
        #expect(weight.outcome == .fail)
        #expect(weight.detail.contains("guest1 (1)"))
        #expect(weight.detail.contains("guest2 (1)"))
        #expect(weight.detail.contains("hostB get 2"))
        #expect(weight.repair == .pointAgents(guest: "guest1", host: "hostB"))
    }
}
