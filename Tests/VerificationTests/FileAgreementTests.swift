import Cluster
import Testing

@testable import Verification

/// `ClusterChecks.fileAgreement()`: every node holds the same SF configuration files.
@Suite struct FileAgreementTests {
    @Test func identicalFilesPassOncePerFile() throws {
        let checks = try Fixture.checks([Fixture.snapshot("guest1"), Fixture.snapshot("guest2")]).fileAgreement()
        // No SA_vmchkhost.cfg anywhere (guest mode): no line about it.
        #expect(checks.map(\.name) == ["rcsd.cfg", "SA_libvirtgp.cfg", "SA_libvirtgr.cfg"])
        #expect(checks.allSatisfy { $0.outcome == .pass && $0.subject == .cluster })
        #expect(checks.allSatisfy { $0.detail.contains("every node") })
    }

    @Test func aDifferingFileFailsNamingEachGroupOfNodes() throws {
        let snapshots = [
            try Fixture.snapshot("guest1"),
            try Fixture.snapshot("guest2"),
            try Fixture.snapshot("guest3", panicAgent: Fixture.agentFile(guest1: Fixture.hostB)),
        ]
        let checks = try Fixture.checks(snapshots).fileAgreement()
        #expect(checks.only("rcsd.cfg")?.outcome == .pass)
        #expect(checks.only("SA_libvirtgr.cfg")?.outcome == .pass)
        let panic = try #require(checks.only("SA_libvirtgp.cfg"))
        #expect(panic.outcome == .fail)
        #expect(panic.detail.contains("disagree"))
        #expect(panic.detail.contains("guest1, guest2"))
        #expect(panic.detail.contains("guest3"))
    }

    @Test func aFileMissingOnOneNodeFails() throws {
        let checks = try Fixture.checks([Fixture.snapshot("guest1"), Fixture.snapshot("guest2", resetAgent: nil)])
            .fileAgreement()
        let reset = try #require(checks.only("SA_libvirtgr.cfg"))
        #expect(reset.outcome == .fail)
        #expect(reset.detail.contains("missing on guest2"))
    }

    @Test func noDetailShowsAFileOrItsPasswords() throws {
        let snapshots = [
            try Fixture.snapshot("guest1", hostCheck: Fixture.hostCheckFile()),
            try Fixture.snapshot(
                "guest2",
                panicAgent: Fixture.agentFile(guest1: Fixture.hostB),
                resetAgent: "guest1 domain1 10.77.0.1 sfuser OTHERPASSWORD\n",
                hostCheck: Fixture.hostCheckFile(guest1: Fixture.hostB)
            ),
        ]
        let cluster = try Fixture.checks(snapshots, placements: Fixture.placements(guest1: Fixture.hostB))
        let checks =
            cluster.fileAgreement() + cluster.agentChecks(guest: "guest1", domain: "domain1")
            + snapshots.flatMap(cluster.nodeChecks)
        #expect(checks.contains { $0.outcome == .fail })
        for check in checks {
            #expect(!check.detail.contains(Fixture.password))
            #expect(!check.detail.contains("OTHERPASSWORD"))
            #expect(!check.detail.contains("sfuser"))
        }
    }

    @Test func unreachableNodesAreLeftOut() throws {
        var silent = NodeSnapshot(node: "guest2")
        silent.unreachable = "ssh: connect to host guest2 port 22: No route to host"
        #expect(try Fixture.checks([Fixture.snapshot("guest1"), silent]).fileAgreement().isEmpty)
    }
}
