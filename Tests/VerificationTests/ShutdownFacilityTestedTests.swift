import Cluster
import Testing

@testable import Verification

/// The `SF tested` check of `ClusterChecks.nodeChecks(_:)`: SF's last test of each host-naming agent came after its
/// configuration changed and after its guest moved.
@Suite struct ShutdownFacilityTestedTests {
    let now = Fixture.now

    func tested(_ snapshot: NodeSnapshot, movedAt: [String: Double] = [:]) throws -> VerificationCheck {
        try #require(Fixture.checks([snapshot], movedAt: movedAt).nodeChecks(snapshot).only("SF tested"))
    }

    @Test func testsAfterTheChangeAndTheMovePass() throws {
        let snapshot = try Fixture.snapshot("guest1", changedAt: self.now - 600, testedAt: self.now - 60)
        let check = try self.tested(snapshot, movedAt: ["domain1": self.now - 300])
        #expect(check.outcome == .pass)
        #expect(check.detail.contains("moved"))
        #expect(check.repair == nil)
    }

    @Test func aTestOlderThanTheAgentFileIsAWarningWithARetest() throws {
        var snapshot = try Fixture.snapshot("guest1", changedAt: self.now - 3600, testedAt: self.now - 600)
        snapshot.modified[ClusterFormat.libvirtPanicAgentConfigPath] = self.now - 60
        let check = try self.tested(snapshot)
        #expect(check.outcome == .warn)
        #expect(check.repair == .retestShutdownFacility(node: "guest1"))
        #expect(check.detail.contains("guest1 SA_libvirtgp"))
        #expect(check.detail.contains("guest2 SA_libvirtgp"))
        #expect(check.detail.contains("SA_libvirtgp.cfg"))
        #expect(!check.detail.contains("SA_libvirtgr"))
    }

    @Test func aTestBeforeTheGuestMovedIsAWarning() throws {
        let snapshot = try Fixture.snapshot("guest1", testedAt: self.now - 600)
        let check = try self.tested(snapshot, movedAt: ["domain2": self.now - 60])
        #expect(check.outcome == .warn)
        #expect(check.repair == .retestShutdownFacility(node: "guest1"))
        #expect(check.detail.contains("domain2 moved"))
        #expect(check.detail.contains("guest2 SA_libvirtgp"))
        #expect(!check.detail.contains("guest1 SA_libvirtgp"))
    }

    @Test func theMoveIsComparedOnTheNodesClock() throws {
        // The node runs 30 s ahead: its test at now+20 (its clock) came before the move at now+10 (this host's),
        // which was now+40 on its clock.
        let snapshot = try Fixture.snapshot(
            "guest1",
            testedAt: self.now + 20,
            clock: NodeClock(offset: 30, uncertainty: 0.01)
        )
        let check = try self.tested(snapshot, movedAt: ["domain1": self.now + 10])
        #expect(check.outcome == .warn)
        #expect(check.detail.contains("domain1 moved"))
    }

    @Test func anAgentWithoutALogLineIsAWarning() throws {
        var snapshot = try Fixture.snapshot("guest1")
        snapshot.testLog = ShutdownFacilityLog(
            results: snapshot.testLog.results.filter { !($0.node == "guest2" && $0.agent == "SA_libvirtgr") }
        )
        let check = try self.tested(snapshot)
        #expect(check.outcome == .warn)
        #expect(check.detail.contains("no test"))
        #expect(check.detail.contains("guest2 SA_libvirtgr"))
        #expect(!check.detail.contains("guest1"))
        #expect(check.repair == .retestShutdownFacility(node: "guest1"))
    }

    /// The stale line names the file that changed last: a change to `rcsd.cfg` alone is reported as such.
    @Test func aTestOlderThanRcsdCfgNamesRcsdCfg() throws {
        var snapshot = try Fixture.snapshot("guest1", changedAt: self.now - 3600, testedAt: self.now - 600)
        snapshot.modified[ClusterFormat.shutdownDaemonConfigPath] = self.now - 60
        let check = try self.tested(snapshot)
        #expect(check.outcome == .warn)
        #expect(check.detail.contains("rcsd.cfg"))
    }
}
