import Cluster
import Libvirt

@testable import Verification

/// A two-guest cluster on two hosts, as the checks' tests build it by hand: `guest1` is `domain1`, `guest2` is
/// `domain2`; `hostA` is 10.77.0.1 and `hostB` 10.77.0.2.
enum Fixture {
    static let hostA = ClusterConfiguration.Host(name: "hostA", uri: "qemu+ssh://hostA/system", address: "10.77.0.1")
    static let hostB = ClusterConfiguration.Host(name: "hostB", uri: "qemu+ssh://hostB/system", address: "10.77.0.2")
    static let configuration = ClusterConfiguration(hosts: [hostA, hostB])
    static let domains: [(node: String, domain: String)] = [("guest1", "domain1"), ("guest2", "domain2")]

    /// The agents' encrypted password: it must never reach a check's detail.
    static let password = "D0860AB04E1B8FA3"

    /// 2026-11-30 04:10:30 UTC.
    static let now = 1_796_011_830.0

    static let daemonConfigText = """
        guest1,weight=1,admIP=10.77.0.11:agent=SA_libvirtgp,timeout=35:agent=SA_libvirtgr,timeout=35
        guest2,weight=1,admIP=10.77.0.12:agent=SA_libvirtgp,timeout=35:agent=SA_libvirtgr,timeout=35

        """

    /// `rcsd.cfg` with the host OS failover function: `SA_vmchkhost` as a third agent.
    static let hostFailoverDaemonConfigText = """
        guest1,weight=1,admIP=10.77.0.11:agent=SA_libvirtgp,timeout=35:agent=SA_libvirtgr,timeout=35:agent=SA_vmchkhost,timeout=35
        guest2,weight=1,admIP=10.77.0.12:agent=SA_libvirtgp,timeout=35:agent=SA_libvirtgr,timeout=35:agent=SA_vmchkhost,timeout=35

        """

    /// `SA_libvirtgp.cfg` / `SA_libvirtgr.cfg` naming `guest1`'s and `guest2`'s hosts by address.
    static func agentFile(
        guest1: ClusterConfiguration.Host = hostA,
        guest2: ClusterConfiguration.Host = hostB
    ) -> String {
        """
        guest1 domain1 \(guest1.address) sfuser \(password)
        guest2 domain2 \(guest2.address) sfuser \(password)

        """
    }

    /// `SA_vmchkhost.cfg`: each guest's host by CF node name and address.
    static func hostCheckFile(
        guest1: ClusterConfiguration.Host = hostA,
        guest2: ClusterConfiguration.Host = hostB
    )
        -> String
    {
        """
        guest1 \(guest1.name) \(guest1.address) sfuser \(password)
        guest2 \(guest2.name) \(guest2.address) sfuser \(password)

        """
    }

    static func nodeTableText(guest2State: String = "UP") -> String {
        """
        Node     Number State       Os      Cpu
        guest1   1      UP          Linux   EM64T
        guest2   2      \(guest2State)          Linux   EM64T

        """
    }

    static func sdtoolText(agents: [String] = ["SA_libvirtgp", "SA_libvirtgr"], test: String = "TestWorked") -> String {
        var text = """
            Cluster Host    Agent             SA State      Shut State  Test State    Init State
            ------------    -----             --------      ----------  ----------    ----------

            """
        for node in ["guest1", "guest2"] {
            for agent in agents {
                text += "\(node)          \(agent).so   Idle          Unknown     \(test)    InitWorked\n"
            }
        }
        return text
    }

    /// A healthy node: files as given, every agent tested at `testedAt` after the files changed at `changedAt`.
    static func snapshot(
        _ node: String,
        daemonConfig: String = daemonConfigText,
        panicAgent: String? = agentFile(),
        resetAgent: String? = agentFile(),
        hostCheck: String? = nil,
        agents: [String] = ["SA_libvirtgp", "SA_libvirtgr"],
        changedAt: Double = now - 3600,
        testedAt: Double = now - 60,
        clock: NodeClock = NodeClock(offset: 0.002, uncertainty: 0.01)
    ) throws -> NodeSnapshot {
        var snapshot = NodeSnapshot(node: node)
        snapshot.answered = true
        snapshot.shutdownFacilityRead = true
        snapshot.clock = clock
        snapshot.nodeTable = try NodeTable(parsing: nodeTableText())
        snapshot.clusterTimeoutInUse = 10
        snapshot.clusterTimeoutConfigured = 10
        snapshot.shutdownFacility = try ShutdownFacilityStatus(parsing: sdtoolText(agents: agents))
        let files: [(String, String?)] = [
            (ClusterFormat.shutdownDaemonConfigPath, daemonConfig),
            (ClusterFormat.libvirtPanicAgentConfigPath, panicAgent),
            (ClusterFormat.libvirtResetAgentConfigPath, resetAgent),
            (ClusterFormat.hostCheckAgentConfigPath, hostCheck),
        ]
        for (path, text) in files {
            guard let text else { continue }
            snapshot.files[path] = text
            snapshot.modified[path] = changedAt
        }
        snapshot.testLog = ShutdownFacilityLog(
            results: ["guest1", "guest2"].flatMap { target in
                agents.map { ShutdownFacilityLog.TestResult(node: target, agent: $0, time: testedAt, worked: true) }
            }
        )
        return snapshot
    }

    static func running(
        _ domain: String,
        on host: ClusterConfiguration.Host,
        persistent: Bool = true,
        alsoShutOffOn others: [ClusterConfiguration.Host] = []
    ) -> DomainPlacement {
        DomainPlacement(
            domain: domain,
            copies: [DomainPlacement.Copy(host: host, state: runningState, persistent: persistent)]
                + others.map { DomainPlacement.Copy(host: $0, state: shutOffState, persistent: true) }
        )
    }

    /// `domain1` on `guest1`'s host, `domain2` on `guest2`'s.
    static func placements(
        guest1: ClusterConfiguration.Host = hostA,
        guest2: ClusterConfiguration.Host = hostB
    )
        -> [String: DomainPlacement]
    {
        ["domain1": running("domain1", on: guest1), "domain2": running("domain2", on: guest2)]
    }

    static let runningState = DomainStateInfo(state: .running, reason: 1)
    static let pausedState = DomainStateInfo(state: .paused, reason: 2)
    static let shutOffState = DomainStateInfo(state: .shutOff, reason: 4)

    static func checks(
        _ snapshots: [NodeSnapshot],
        configuration: ClusterConfiguration = configuration,
        daemonConfig: String = daemonConfigText,
        placements: [String: DomainPlacement] = placements(),
        movedAt: [String: Double] = [:]
    ) throws -> ClusterChecks {
        ClusterChecks(
            configuration: configuration,
            daemonConfig: try ShutdownDaemonConfig(parsing: daemonConfig),
            domains: domains,
            snapshots: snapshots,
            placements: placements,
            movedAt: movedAt,
            clockTolerance: Verifier.defaultClockTolerance
        )
    }
}

extension [VerificationCheck] {
    /// The checks with this name.
    func named(_ name: String) -> [VerificationCheck] { self.filter { $0.name == name } }

    /// The one check with this name, or `nil` when there is none or several.
    func only(_ name: String) -> VerificationCheck? {
        let found = self.named(name)
        return found.count == 1 ? found[0] : nil
    }
}
