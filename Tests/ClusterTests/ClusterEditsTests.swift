import Testing

@testable import Cluster

/// The restore plan, computed from what a node has and what the journal recorded.
@Suite struct ClusterEditsTests {
    let clusterConfig = "# CF settings of guest1\nCFCP \"cfcp\"\nCFSH \"cfsh\"\nCLUSTER_TIMEOUT \"10\"\n"
    let agents = """
        # CFName domain host-ip user password
        guest1 domain1 10.77.0.1 sfuser D0860AB04E1B8FA3
        guest2  domain2  10.77.0.2  sfuser  0A1B2C3D4E5F6071

        """

    @Test func prepareThenRestoreGivesBackTheSameBytes() throws {
        let prepared = try ClusterEdits.prepared(clusterConfig: self.clusterConfig, timeout: 600)
        #expect(prepared == self.clusterConfig.replacingOccurrences(of: "\"10\"", with: "\"600\""))
        #expect(try ClusterEdits.restored(clusterConfig: prepared, before: 10) == self.clusterConfig)
    }

    @Test func aTimeoutTheFileDidNotHaveIsRemovedAgain() throws {
        let original = "CFCP 'cfcp'\n"
        let prepared = try ClusterEdits.prepared(clusterConfig: original, timeout: 600)
        #expect(prepared == "CFCP 'cfcp'\nCLUSTER_TIMEOUT \"600\"\n")
        #expect(try ClusterEdits.restored(clusterConfig: prepared, before: nil) == original)
    }

    @Test func restoreIsIdempotent() throws {
        let once = try ClusterEdits.restored(clusterConfig: self.clusterConfig, before: 30)
        #expect(try ClusterEdits.restored(clusterConfig: once, before: 30) == once)
        let pointed = try ClusterEdits.pointed(
            libvirtAgentConfig: self.agents,
            fileName: "SA_libvirtgp.cfg",
            guest: "guest1",
            address: "10.77.0.2"
        )
        #expect(
            try ClusterEdits.pointed(
                libvirtAgentConfig: pointed,
                fileName: "SA_libvirtgp.cfg",
                guest: "guest1",
                address: "10.77.0.2"
            )
                == pointed
        )
    }

    @Test func onlyTheMigratedGuestsLineChanges() throws {
        let pointed = try ClusterEdits.pointed(
            libvirtAgentConfig: self.agents,
            fileName: "SA_libvirtgr.cfg",
            guest: "guest1",
            address: "10.77.0.2"
        )
        #expect(pointed == self.agents.replacingOccurrences(of: "domain1 10.77.0.1", with: "domain1 10.77.0.2"))
        // The other guest's odd spacing and password, and the comment, stay as they were.
        #expect(pointed.contains("guest2  domain2  10.77.0.2  sfuser  0A1B2C3D4E5F6071"))
        #expect(pointed.hasPrefix("# CFName domain host-ip user password\n"))
    }

    @Test func aGuestWithoutALineLeavesTheFileAlone() throws {
        #expect(
            try ClusterEdits.pointed(
                libvirtAgentConfig: self.agents,
                fileName: "SA_libvirtgp.cfg",
                guest: "guest9",
                address: "10.0.0.9"
            )
                == self.agents
        )
    }

    @Test func hostFailoverModeRewritesTheHostCheckAgent() throws {
        let text = "guest1 hostA 10.77.0.1 sfuser D0860AB04E1B8FA3\nguest2 hostB 10.77.0.2 sfuser D0860AB04E1B8FA3\n"
        let pointed = try ClusterEdits.pointed(
            hostCheckConfig: text,
            guest: "guest1",
            hostName: "hostB",
            address: "10.77.0.2"
        )
        #expect(pointed.hasPrefix("guest1 hostB 10.77.0.2 sfuser D0860AB04E1B8FA3\n"))
        #expect(pointed.hasSuffix("guest2 hostB 10.77.0.2 sfuser D0860AB04E1B8FA3\n"))
    }

    @Test func weightChangesOnlyThatNode() throws {
        let text = """
            guest1,weight=1,admIP=10.77.0.11:agent=SA_libvirtgp,timeout=35:agent=SA_libvirtgr,timeout=35
            guest2,weight=1,admIP=10.77.0.12:agent=SA_libvirtgp,timeout=35:agent=SA_libvirtgr,timeout=35

            """
        let weighted = try ClusterEdits.weighted(daemonConfig: text, guest: "guest1", weight: 3)
        #expect(weighted == text.replacingOccurrences(of: "guest1,weight=1", with: "guest1,weight=3"))
    }

    @Test func aMalformedFileIsAnErrorThatKeepsThePasswordOut() {
        let broken = "guest1 domain1 10.77.0.1 sfuser S3CR3TPASSWORD extra-field\n"
        let error = #expect(throws: ClusterError.self) {
            try ClusterEdits.pointed(
                libvirtAgentConfig: broken,
                fileName: "SA_libvirtgp.cfg",
                guest: "guest1",
                address: "x"
            )
        }
        #expect(error?.description.contains("S3CR3TPASSWORD") == false)
    }
}

@Suite struct NodeStatusScriptTests {
    @Test func theStatusScriptsOutputSplitsAtItsMarkers() {
        let output = """
            Node     Number State       Os      Cpu
            guest1   1      UP          Linux   EM64T
            @@kvmmigrate-status 0
            cftool: not loaded
            @@kvmmigrate-status 1
            @@kvmmigrate-status 0
            @@kvmmigrate-status 1

            """
        let sections = NodeStatus.sections(of: output)
        #expect(sections.map(\.status) == [0, 1, 0, 1])
        #expect(
            sections[0].output == "Node     Number State       Os      Cpu\nguest1   1      UP          Linux   EM64T\n"
        )
        #expect(sections[1].output == "cftool: not loaded\n")
        #expect(sections[2].output == "")
    }
}
