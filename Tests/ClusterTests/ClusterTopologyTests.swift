import Testing

@testable import Cluster

/// What the restore rewrites comes from the cluster's files; a configuration that says otherwise is refused,
/// one line per disagreement naming the file and what each side says.
@Suite struct ClusterTopologyTests {
    static func topology(hostFailover: [String] = [], weights: [String: Int] = [:]) throws -> ClusterTopology {
        let nodes = ["guest1", "guest2"]
        let rcsd = nodes.map { node in
            let agents = ["SA_libvirtgp", "SA_libvirtgr"] + (hostFailover.contains(node) ? ["SA_vmchkhost"] : [])
            return "\(node),weight=\(weights[node] ?? 1),admIP=192.0.2.\(node.last!)"
                + agents.map { ":agent=\($0),timeout=35" }.joined() + "\n"
        }.joined()
        return ClusterTopology(
            nodes: nodes.map { ClusterNode(name: $0, destination: $0, options: SSHOptions()) },
            daemonConfig: try ShutdownDaemonConfig(parsing: rcsd),
            guests: [
                .init(nodeName: "guest1", domainName: "domain1", hostAddress: "10.77.0.1"),
                .init(nodeName: "guest2", domainName: "domain2", hostAddress: "10.77.0.2"),
            ],
            readFrom: "guest1"
        )
    }

    static func configuration(
        mode: ClusterConfiguration.Mode? = nil,
        nodes: [String] = ["guest1", "guest2"],
        weightA: Int? = nil
    )
        -> ClusterConfiguration
    {
        ClusterConfiguration(
            mode: mode,
            nodeDestinations: Dictionary(uniqueKeysWithValues: nodes.map { ($0, $0) }),
            hosts: [
                .init(name: "hostA", uri: "qemu+tcp://10.77.0.1/system", address: "10.77.0.1", weight: weightA),
                .init(name: "hostB", uri: "qemu+tcp://10.77.0.2/system", address: "10.77.0.2"),
            ]
        )
    }

    @Test func theAgentsToRewriteAreThoseRcsdListsForTheGuest() throws {
        let topology = try Self.topology(hostFailover: ["guest1"])
        #expect(topology.hostAgents(of: "guest1") == ["SA_libvirtgp", "SA_libvirtgr", "SA_vmchkhost"])
        #expect(topology.hostAgents(of: "guest2") == ["SA_libvirtgp", "SA_libvirtgr"])
        #expect(topology.hostAgents(of: "guest9") == [])
        #expect(topology.mode(of: "guest1") == .hostFailover)
        #expect(topology.mode(of: "guest2") == .guest)
    }

    @Test(arguments: [
        ([], nil),
        (["guest1", "guest2"], nil),
        ([], ClusterConfiguration.Mode.guest),
        (["guest1", "guest2"], .hostFailover),
    ])
    func aModeThatConfirmsTheFilesOrNoModeAgrees(hostFailover: [String], mode: ClusterConfiguration.Mode?) throws {
        let topology = try Self.topology(hostFailover: hostFailover)
        #expect(topology.disagreements(with: Self.configuration(mode: mode)) == [])
    }

    @Test func guestModeOverAClusterWithTheHostFailoverAgentIsRefused() throws {
        let topology = try Self.topology(hostFailover: ["guest1", "guest2"])
        #expect(
            topology.disagreements(with: Self.configuration(mode: .guest)) == [
                "the cluster configuration says mode: guest, but rcsd.cfg on guest1 lists SA_vmchkhost (the host OS "
                    + "failover function) for guest1 and guest2, whose SA_vmchkhost.cfg lines must follow the guest: "
                    + "set mode: host-failover, or remove mode"
            ]
        )
    }

    @Test func hostFailoverModeOverNodesWithoutTheAgentIsRefused() throws {
        let topology = try Self.topology(hostFailover: ["guest1"])
        #expect(
            topology.disagreements(with: Self.configuration(mode: .hostFailover)) == [
                "the cluster configuration says mode: host-failover, but rcsd.cfg on guest1 lists no SA_vmchkhost for "
                    + "guest2: set mode: guest, or remove mode"
            ]
        )
    }

    @Test func aNodeTheClusterDoesNotHaveIsRefused() throws {
        let lines = try Self.topology().disagreements(with: Self.configuration(nodes: ["guest1", "guest2", "guest3"]))
        #expect(
            lines == [
                "the cluster configuration names guest3 under nodes, but rcsd.cfg on guest1 does not list it (its "
                    + "nodes: guest1, guest2)"
            ]
        )
    }

    @Test func aNodeTheConfigurationLeavesOutIsNoDisagreement() throws {
        #expect(try Self.topology().disagreements(with: Self.configuration(nodes: ["guest1"])) == [])
    }

    @Test func aWeightThatDiffersFromRcsdIsRefused() throws {
        #expect(try Self.topology(weights: ["guest1": 2]).disagreements(with: Self.configuration(weightA: 2)) == [])
        #expect(
            try Self.topology().disagreements(with: Self.configuration(weightA: 2)) == [
                "the cluster configuration gives guests on hostA weight 2, but rcsd.cfg on guest1 gives guest1 (on "
                    + "hostA, 10.77.0.1) weight 1"
            ]
        )
    }

    @Test func everyDisagreementIsItsOwnLine() throws {
        let lines = try Self.topology(hostFailover: ["guest1", "guest2"])
            .disagreements(with: Self.configuration(mode: .guest, nodes: ["guest1", "guest2", "guest5"], weightA: 3))
        #expect(lines.count == 3)
    }
}
