import Foundation
import Testing

@testable import Cluster

@Suite struct ClusterConfigurationTests {
    @Test func theLabsExampleFileParses() throws {
        let path = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "Fixtures/cluster.yaml").path
        let configuration = try ClusterConfiguration(contentsOf: path)
        #expect(configuration.mode == nil)
        #expect(configuration.hosts.map(\.name) == ["hostA", "hostB", "hostC"])
        #expect(configuration.host(matching: "qemu+tcp://10.77.0.2/system")?.address == "10.77.0.2")
        #expect(configuration.host(matching: "hostA")?.uri == "qemu+tcp://10.77.0.1/system")
        #expect(configuration.destination(of: "guest1") == "guest1")
        #expect(configuration.destination(of: "guest7") == "guest7")
        #expect(configuration.ssh.configFile == "/run/kvmm-lab/ssh_config")
        #expect(configuration.ssh.connectTimeout == .seconds(5))
        #expect(configuration.migrationClusterTimeout == 600)
        #expect(configuration.verifyTimeout == .seconds(90))
        #expect(configuration.verifyRetries == 2)
    }

    @Test func defaultsApplyToWhatIsLeftOut() throws {
        let configuration = try ClusterConfiguration(
            yaml: "hosts:\n  - {name: a, uri: 'qemu+ssh://a/system', address: 192.0.2.1, weight: 2}\n"
        )
        #expect(configuration.mode == nil, "left out, the cluster's files decide")
        #expect(configuration.migrationClusterTimeout == 600)
        #expect(configuration.journalDirectory == "/var/lib/kvmmigrate/journal")
        #expect(configuration.hosts.first?.weight == 2)
    }

    @Test(arguments: [
        ("hosts: []\n", "no hosts"),
        ("mode: sideways\nhosts: [{name: a, uri: u, address: x}]\n", "mode must be"),
        ("hosts: [{name: a, uri: u}]\n", "address"),
        ("hosts: [{name: a, uri: u, address: x}, {name: a, uri: v, address: y}]\n", "listed twice"),
        ("hosts: [{name: a, uri: u, address: x, weight: 0}]\n", "weight"),
        ("cf-timeout: 5\nhosts: [{name: a, uri: u, address: x}]\n", "cf-timeout"),
        ("hosts: [{name: a, uri: u, address: x}]\nnodes: [guest1]\n", "nodes"),
        ("hosts: {{{\n", "YAML"),
    ])
    func mistakesAreOneLineErrors(yaml: String, mentioning: String) {
        let error = #expect(throws: ClusterError.self) { try ClusterConfiguration(yaml: yaml) }
        #expect(error?.description.contains(mentioning) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("\n") == false)
    }

    @Test func aMissingFileSaysWhichFile() {
        let error = #expect(throws: ClusterError.self) {
            try ClusterConfiguration(contentsOf: "/nonexistent/cluster.yaml")
        }
        #expect(error?.description.contains("/nonexistent/cluster.yaml") == true)
    }
}
