import Cluster
import Libvirt
import Testing

@testable import Verification

@Suite struct DomainPlacementTests {
    let hostA = Fixture.hostA
    let hostB = Fixture.hostB

    func copy(
        _ host: ClusterConfiguration.Host,
        _ state: DomainStateInfo,
        persistent: Bool = true
    )
        -> DomainPlacement.Copy
    {
        DomainPlacement.Copy(host: host, state: state, persistent: persistent)
    }

    @Test func runningPersistentOnOneHostOnlyPassesBoth() throws {
        let checks = DomainPlacement(domain: "domain1", copies: [self.copy(self.hostA, Fixture.runningState)])
            .checks(node: "guest1")
        #expect(checks.map(\.name) == ["placement", "definition"])
        #expect(checks.allSatisfy { $0.outcome == .pass })
        #expect(checks.allSatisfy { $0.subject == .domain("domain1", node: "guest1") })
        let placement = try #require(checks.only("placement"))
        #expect(placement.detail.contains("hostA"))
        #expect(checks.allSatisfy { $0.repair == nil })
    }

    @Test func aDefinitionLeftOnTheSourceIsAWarningNamingIt() throws {
        let placement = DomainPlacement(
            domain: "domain1",
            copies: [self.copy(self.hostA, Fixture.shutOffState), self.copy(self.hostB, Fixture.runningState)]
        )
        #expect(placement.host == self.hostB)
        let checks = placement.checks(node: "guest1")
        #expect(checks.only("placement")?.outcome == .pass)
        let definition = try #require(checks.only("definition"))
        #expect(definition.outcome == .warn)
        #expect(definition.detail.contains("hostA"))
        #expect(definition.detail.contains("undefine"))
    }

    @Test func aTransientDomainIsAWarning() throws {
        let checks = DomainPlacement(
            domain: "domain1",
            copies: [self.copy(self.hostB, Fixture.runningState, persistent: false)]
        ).checks(node: nil)
        #expect(checks.only("placement")?.outcome == .pass)
        let definition = try #require(checks.only("definition"))
        #expect(definition.outcome == .warn)
        #expect(definition.detail.contains("transient"))
        #expect(definition.detail.contains("hostB"))
        #expect(definition.subject == .domain("domain1", node: nil))
    }

    @Test func aPausedLeftoverBesideTheRunningCopyFails() throws {
        let placement = DomainPlacement(
            domain: "domain1",
            copies: [self.copy(self.hostA, Fixture.runningState), self.copy(self.hostB, Fixture.pausedState)]
        )
        #expect(placement.host == nil)
        let checks = placement.checks(node: "guest1")
        let check = try #require(checks.only("placement"))
        #expect(check.outcome == .fail)
        #expect(check.detail.contains("paused copy on hostB"))
        #expect(check.detail.contains("leftover"))
        #expect(checks.named("definition").isEmpty)
    }

    @Test func runningOnTwoHostsFails() throws {
        let checks = DomainPlacement(
            domain: "domain1",
            copies: [self.copy(self.hostA, Fixture.runningState), self.copy(self.hostB, Fixture.runningState)]
        ).checks(node: "guest1")
        let check = try #require(checks.only("placement"))
        #expect(check.outcome == .fail)
        #expect(check.detail.contains("hostA"))
        #expect(check.detail.contains("hostB"))
        #expect(check.detail.contains("twice"))
    }

    @Test func runningNowhereFailsAndNamesWhereItIsDefined() throws {
        let checks = DomainPlacement(domain: "domain1", copies: [self.copy(self.hostA, Fixture.shutOffState)])
            .checks(node: "guest1")
        #expect(checks.count == 1)
        let check = try #require(checks.only("placement"))
        #expect(check.outcome == .fail)
        #expect(check.detail.contains("none of the configured hosts"))
        #expect(check.detail.contains("hostA"))
    }

    @Test func aSilentHostBesideTheRunningCopyIsAWarning() throws {
        let placement = DomainPlacement(
            domain: "domain1",
            copies: [self.copy(self.hostA, Fixture.runningState)],
            unanswered: [(self.hostB, "timed out after 15 s")]
        )
        #expect(placement.host == nil)
        let check = try #require(placement.checks(node: "guest1").only("placement"))
        #expect(check.outcome == .warn)
        #expect(check.detail.contains("hostB did not answer"))
        #expect(check.detail.contains("timed out after 15 s"))
    }

    @Test func noCopyAndASilentHostFailsAsUnknown() throws {
        let check = try #require(
            DomainPlacement(domain: "domain1", copies: [], unanswered: [(self.hostB, "connection refused")])
                .checks(node: nil).only("placement")
        )
        #expect(check.outcome == .fail)
        #expect(check.detail.contains("cannot tell"))
        #expect(check.detail.contains("hostB"))
    }

    @Test func aPausedOnlyCopyIsAWarning() throws {
        let placement = DomainPlacement(domain: "domain1", copies: [self.copy(self.hostB, Fixture.pausedState)])
        #expect(placement.host == self.hostB)
        let check = try #require(placement.checks(node: "guest1").only("placement"))
        #expect(check.outcome == .warn)
        #expect(check.detail.contains("paused"))
        #expect(check.detail.contains("hostB"))
    }
}
