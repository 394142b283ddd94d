import Cluster
import Testing

@testable import Verification

@Suite struct NodeSnapshotTests {
    /// What one node answers to the snapshot script, command by command.
    struct Answers {
        var nodeStart = "1796011830.100000000"
        var zone = "+0900"
        var nodeTable = (Fixture.nodeTableText(), Int32(0))
        var clusterSet = (
            "From cfset configuration in CF module: KEY: CFCP VALUE: cfcp KEY: CFSH VALUE: cfsh "
                + "KEY: CLUSTER_TIMEOUT VALUE: 600\n",
            Int32(0)
        )
        var shutdownTool = (Fixture.sdtoolText(), Int32(0))
        /// What `cat` prints, by path; a path not here does not exist (`cat` exits with 1, printing nothing).
        var files: [String: String] = [
            ClusterFormat.clusterConfigPath: "# CF configuration\nCLUSTER_TIMEOUT \"10\"\n",
            ClusterFormat.shutdownDaemonConfigPath: Fixture.daemonConfigText,
            ClusterFormat.libvirtPanicAgentConfigPath: Fixture.agentFile(),
            ClusterFormat.libvirtResetAgentConfigPath: Fixture.agentFile(),
        ]
        var stat = """
            1796008230 /etc/opt/SMAW/SMAWsf/rcsd.cfg
            1796010030 /etc/opt/SMAW/SMAWsf/SA_libvirtgp.cfg
            1796010030 /etc/opt/SMAW/SMAWsf/SA_libvirtgr.cfg

            """
        /// In the node's local time, +0900.
        var log = """
            2026-11-30 13:05:30 rcsd[4321]: guest1 SA_libvirtgp.so: TestWorked: domain1 running on 10.77.0.1
            2026-11-30 13:10:30 rcsd[4321]: guest2 SA_libvirtgp.so: TestWorked: domain2 running on 10.77.0.2

            """
        var nodeEnd = "1796011830.150000000"

        /// The script's standard output: each command's output, then its marker line, as the shell prints them.
        var output: String {
            var text = ""
            for (index, command) in NodeSnapshot.commands.enumerated() {
                let answer: (String, Int32)
                if command.hasPrefix("date -u") {
                    answer = ((index == 0 ? self.nodeStart : self.nodeEnd) + "\n", 0)
                } else if command.hasPrefix("date +%z") {
                    answer = (self.zone + "\n", 0)
                } else if command.contains("cftool -n") {
                    answer = self.nodeTable
                } else if command.contains("cfset -a") {
                    answer = self.clusterSet
                } else if command.contains("sdtool -s") {
                    answer = self.shutdownTool
                } else if command.hasPrefix("cat ") {
                    let path = String(command.dropFirst(4).prefix { $0 != " " })
                    answer = self.files[path].map { ($0, 0) } ?? ("", 1)
                } else if command.hasPrefix("stat ") {
                    answer = (self.stat, self.files.count == 5 ? 0 : 1)
                } else if command.contains(ShutdownFacilityLog.path) {
                    answer = (self.log, 0)
                } else {
                    Issue.record("no answer for \(command)")
                    answer = ("", 127)
                }
                text += answer.0 + "\(NodeStatus.marker) \(answer.1)\n"
            }
            return text
        }

        func snapshot() -> NodeSnapshot {
            var snapshot = NodeSnapshot(node: "guest1")
            snapshot.parse(self.output, sent: 1_796_011_830.0, received: 1_796_011_830.2)
            return snapshot
        }
    }

    @Test func everyAnswerLandsWhereItBelongs() throws {
        let snapshot = Answers().snapshot()
        #expect(snapshot.errors.isEmpty)
        #expect(snapshot.unreachable == nil)
        let clock = try #require(snapshot.clock)
        #expect(abs(clock.offset - -0.05) < 1e-6)
        #expect(abs(clock.uncertainty - 0.15) < 1e-6)
        #expect(snapshot.nodeTable?.nodes.map(\.name) == ["guest1", "guest2"])
        #expect(snapshot.clusterTimeoutInUse == 600)
        #expect(snapshot.clusterTimeoutConfigured == 10)
        #expect(snapshot.shutdownFacility?.rows.count == 4)
        #expect(snapshot.files[ClusterFormat.shutdownDaemonConfigPath] == Fixture.daemonConfigText)
        #expect(snapshot.files[ClusterFormat.libvirtPanicAgentConfigPath] == Fixture.agentFile())
        #expect(snapshot.files[ClusterFormat.libvirtResetAgentConfigPath] == Fixture.agentFile())
        #expect(snapshot.modified[ClusterFormat.shutdownDaemonConfigPath] == 1_796_008_230)
        #expect(snapshot.modified[ClusterFormat.libvirtPanicAgentConfigPath] == 1_796_010_030)
        #expect(snapshot.testLog.latest(node: "guest2", agent: "SA_libvirtgp")?.time == 1_796_011_830)
        #expect(snapshot.testLog.latest(node: "guest1", agent: "SA_libvirtgp")?.time == 1_796_011_530)
    }

    @Test func aFileCatCannotReadIsAbsentFromFiles() {
        // Guest mode: no SA_vmchkhost.cfg on the node.
        let snapshot = Answers().snapshot()
        #expect(snapshot.files[ClusterFormat.hostCheckAgentConfigPath] == nil)
        #expect(snapshot.modified[ClusterFormat.hostCheckAgentConfigPath] == nil)
        #expect(snapshot.files.count == 3)
    }

    @Test func aStoppedShutdownFacilityIsNilAndNoError() {
        var answers = Answers()
        answers.shutdownTool = ("", 1)
        let snapshot = answers.snapshot()
        #expect(snapshot.shutdownFacility == nil)
        #expect(snapshot.errors.isEmpty)
    }

    @Test func aFailingCommandIsAnErrorQuotingItsFirstLine() {
        var answers = Answers()
        answers.nodeTable = ("cftool: CF not yet initialized\nmore\n", 1)
        let snapshot = answers.snapshot()
        #expect(snapshot.nodeTable == nil)
        #expect(snapshot.errors.count == 1)
        #expect(snapshot.errors.first?.contains("cftool -n") == true)
        #expect(snapshot.errors.first?.contains("CF not yet initialized") == true)
        #expect(snapshot.clusterTimeoutInUse == 600)
    }

    @Test func aWrongNumberOfSectionsIsAnErrorAndReadsNothing() {
        var snapshot = NodeSnapshot(node: "guest1")
        let output = Answers().output + "extra\n\(NodeStatus.marker) 0\n"
        snapshot.parse(output, sent: 1_796_011_830.0, received: 1_796_011_830.2)
        #expect(snapshot.errors.count == 1)
        #expect(snapshot.clock == nil)
        #expect(snapshot.nodeTable == nil)
        #expect(snapshot.files.isEmpty)
    }

    /// `cat` prints a file as it is: when its last line has no newline, the shell's marker follows on the same line;
    /// the file still reads, exactly as it is.
    @Test func anAgentFileWithoutAFinalNewlineStillReads() {
        var answers = Answers()
        let text =
            "guest1 domain1 10.77.0.1 sfuser \(Fixture.password)\nguest2 domain2 10.77.0.2 sfuser \(Fixture.password)"
        answers.files[ClusterFormat.libvirtPanicAgentConfigPath] = text
        let snapshot = answers.snapshot()
        #expect(snapshot.errors.isEmpty)
        #expect(snapshot.files[ClusterFormat.libvirtPanicAgentConfigPath] == text)
        #expect(snapshot.clock != nil)
    }
}
