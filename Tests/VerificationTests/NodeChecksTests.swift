import Cluster
import Testing

@testable import Verification

/// `ClusterChecks.nodeChecks(_:)`: CF timeout, CF nodes, SF and the node's clock, as one node says them.
@Suite struct NodeChecksTests {
    func checks(_ snapshot: NodeSnapshot) throws -> [VerificationCheck] {
        try Fixture.checks([snapshot]).nodeChecks(snapshot)
    }

    @Test func aHealthyNodePassesEveryCheck() throws {
        let checks = try self.checks(Fixture.snapshot("guest1"))
        #expect(checks.map(\.name) == ["CF timeout", "CF nodes", "SF", "SF tested", "clock"])
        #expect(checks.allSatisfy { $0.outcome == .pass && $0.repair == nil })
        #expect(checks.allSatisfy { $0.subject == .node("guest1") })
    }

    @Test func aPreparedTimeoutTheFileAlsoSaysFailsWithoutARepair() throws {
        var snapshot = try Fixture.snapshot("guest1")
        snapshot.clusterTimeoutInUse = 600
        snapshot.clusterTimeoutConfigured = 600
        let check = try #require(self.checks(snapshot).only("CF timeout"))
        #expect(check.outcome == .fail)
        #expect(check.detail.contains("600 s"))
        #expect(check.detail.contains("after-step"))
        #expect(check.detail.contains("--cf-timeout"))
        #expect(check.repair == nil)
    }

    @Test func aPreparedFileIsRepairedWithTheTimeoutTheOperatorGives() throws {
        var snapshot = try Fixture.snapshot("guest1")
        snapshot.clusterTimeoutInUse = 600
        snapshot.clusterTimeoutConfigured = 600
        var checks = try Fixture.checks([snapshot])
        checks.restoredClusterTimeout = 10
        let check = try #require(checks.nodeChecks(snapshot).only("CF timeout"))
        #expect(check.outcome == .fail)
        #expect(check.repair == .setClusterTimeout(node: "guest1", seconds: 10))
    }

    @Test func aPreparedFileNotYetLoadedStillFails() throws {
        var snapshot = try Fixture.snapshot("guest1")
        snapshot.clusterTimeoutInUse = 10
        snapshot.clusterTimeoutConfigured = 600
        let check = try #require(self.checks(snapshot).only("CF timeout"))
        #expect(check.outcome == .fail)
        #expect(check.detail.contains("cluster.config says 600 s"))
    }

    @Test func aPreparedTimeoutLoadedOverAStrictFileIsReloaded() throws {
        var snapshot = try Fixture.snapshot("guest1")
        snapshot.clusterTimeoutInUse = 600
        snapshot.clusterTimeoutConfigured = 10
        let check = try #require(self.checks(snapshot).only("CF timeout"))
        #expect(check.outcome == .fail)
        #expect(check.detail.contains("cluster.config says 10 s"))
        #expect(check.detail.contains("after-step"))
        #expect(check.repair == .reloadClusterTimeout(node: "guest1"))
    }

    @Test func theTimeoutTheFileSaysPasses() throws {
        let check = try #require(self.checks(Fixture.snapshot("guest1")).only("CF timeout"))
        #expect(check.outcome == .pass)
        #expect(check.detail.contains("10 s"))
    }

    @Test func aStoppedShutdownFacilityFailsWithARetest() throws {
        var snapshot = try Fixture.snapshot("guest1")
        snapshot.shutdownFacility = nil
        let checks = try self.checks(snapshot)
        let check = try #require(checks.only("SF"))
        #expect(check.outcome == .fail)
        #expect(check.detail.contains("not running"))
        #expect(check.repair == .retestShutdownFacility(node: "guest1"))
        #expect(checks.named("SF tested").isEmpty)
    }

    @Test func aFailedAgentTestFailsTheSFCheck() throws {
        var snapshot = try Fixture.snapshot("guest1")
        snapshot.shutdownFacility = try ShutdownFacilityStatus(parsing: Fixture.sdtoolText(test: "TestFailed"))
        let check = try #require(self.checks(snapshot).only("SF"))
        #expect(check.outcome == .fail)
        #expect(check.detail.contains("guest2 SA_libvirtgp: TestFailed"))
        #expect(check.repair == .retestShutdownFacility(node: "guest1"))
    }

    @Test func aNodeThatLeftTheClusterFails() throws {
        var snapshot = try Fixture.snapshot("guest1")
        snapshot.nodeTable = try NodeTable(parsing: Fixture.nodeTableText(guest2State: "LEFTCLUSTER"))
        let check = try #require(self.checks(snapshot).only("CF nodes"))
        #expect(check.outcome == .fail)
        #expect(check.detail.contains("guest2 LEFTCLUSTER"))
        #expect(!check.detail.contains("guest1"))
    }

    @Test func aClockHalfAMinuteAheadFails() throws {
        let snapshot = try Fixture.snapshot("guest1", clock: NodeClock(offset: 30, uncertainty: 0.02))
        let check = try #require(self.checks(snapshot).only("clock"))
        #expect(check.outcome == .fail)
        #expect(check.detail.contains("+30"))
        #expect(check.detail.contains("tolerance"))
    }

    @Test func anUnreachableNodeIsOneFailingLine() throws {
        var snapshot = NodeSnapshot(node: "guest2")
        snapshot.unreachable = "ssh: connect to host guest2 port 22: No route to host"
        let checks = try self.checks(snapshot)
        #expect(checks.count == 1)
        #expect(checks.first?.outcome == .fail)
        #expect(checks.first?.subject == .node("guest2"))
        #expect(checks.first?.detail.contains("No route to host") == true)
    }

    /// An unrelated read error (here a malformed `cluster.config`) does not hide that SF is stopped: `--fix` still
    /// starts it.
    @Test func aStoppedShutdownFacilityIsReportedBesideAnUnrelatedReadError() throws {
        var snapshot = try Fixture.snapshot("guest1")
        snapshot.shutdownFacility = nil
        snapshot.errors = ["\(ClusterFormat.clusterConfigPath) is malformed"]
        let checks = try self.checks(snapshot)
        #expect(checks.only("read")?.outcome == .fail)
        let check = try #require(checks.only("SF"))
        #expect(check.outcome == .fail)
        #expect(check.repair == .retestShutdownFacility(node: "guest1"))
    }
}
