import Foundation
import Testing

@testable import Cluster

@Suite struct ClusterConfigurationTests {
    @Test func theLabsExampleFileParses() throws {
        let path = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "Fixtures/cluster.yaml").path
        // The text, not the file: the ssh_config it names exists only while the lab is up.
        let configuration = try ClusterConfiguration(yaml: String(contentsOfFile: path, encoding: .utf8))
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
        ("mode: sideways\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "mode must be"),
        ("hosts: [{name: a, uri: u}]\n", "address"),
        ("hosts: [{name: a, uri: u, address: 192.0.2.1}, {name: a, uri: v, address: 192.0.2.2}]\n", "listed twice"),
        ("hosts: [{name: a, uri: u, address: 192.0.2.1, weight: 0}]\n", "weight"),
        ("hosts: [{name: a, uri: u, address: 192.0.2.1, weight: 99999999999}]\n", "weight"),
        ("cf-timeout: 5\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "cf-timeout"),
        ("cf-timeout: 9223372036854775807\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "cf-timeout"),
        ("hosts: [{name: a, uri: u, address: 192.0.2.1}]\nnodes: [guest1]\n", "nodes"),
        ("hosts: {{{\n", "YAML"),
        // Typos: an unknown key is refused, with the key meant.
        ("cf_timeout: 900\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "did you mean 'cf-timeout'"),
        ("hosts: [{name: a, uri: u, adress: 192.0.2.1}]\n", "unknown key 'adress' in hosts[0] (did you mean 'address'"),
        ("ssh: {conect-timeout: 5}\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "in ssh (did you mean"),
        ("verify: {timout: 5}\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "'timeout'"),
        ("colour: blue\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "unknown key 'colour'; known keys:"),
        // Values that would fail only after the guest moved.
        ("hosts: [{name: a, uri: u, address: host-a.example}]\n", "IP address"),
        ("hosts: [{name: a, uri: u, address: 10.0.0.256}]\n", "IP address"),
        ("hosts: [{name: 'host a', uri: u, address: 192.0.2.1}]\n", "one word"),
        ("ssh: {config: ssh_config}\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "absolute path"),
        ("ssh: {identity: ''}\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "absolute path"),
        ("journal: var/journal\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "absolute path"),
        ("metrics-file: k.prom\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "absolute path"),
        ("metrics-file: /var/lib/\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "metrics-file must name a file"),
        ("metrics_file: /k.prom\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "'metrics-file'"),
        ("ssh: {connect-timeout: 0}\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "connect-timeout"),
        ("ssh: {connect-timeout: 100000}\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "connect-timeout"),
        ("ssh: {user: '-oProxyCommand=x'}\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "ssh.user"),
        ("ssh: {options: ['-F /tmp/x']}\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "ssh.options"),
        (
            "nodes: {guest1: '-oProxyCommand=touch /tmp/x'}\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n",
            "nodes.guest1"
        ),
        ("nodes: {guest1: ''}\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "nodes.guest1"),
        ("verify: {timeout: 0}\nhosts: [{name: a, uri: u, address: 192.0.2.1}]\n", "verify.timeout"),
    ])
    func mistakesAreOneLineErrors(yaml: String, mentioning: String) {
        let error = #expect(throws: ClusterError.self) { try ClusterConfiguration(yaml: yaml) }
        #expect(error?.description.contains(mentioning) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("\n") == false)
    }

    @Test func theMetricsFileIsReadWhenGiven() throws {
        let hosts = "hosts: [{name: a, uri: u, address: 192.0.2.1}]\n"
        #expect(try ClusterConfiguration(yaml: hosts).metricsFile == nil)
        let configuration = try ClusterConfiguration(yaml: "metrics-file: /var/lib/node-exporter/kvmm.prom\n" + hosts)
        #expect(configuration.metricsFile == "/var/lib/node-exporter/kvmm.prom")
    }

    @Test func ipv6AddressesAndFreeNodeNamesAreAccepted() throws {
        let configuration = try ClusterConfiguration(
            yaml: "nodes: {guest1: root@guest1.example, node_7: guest7}\n"
                + "hosts: [{name: a, uri: u, address: '2001:db8::1'}]\n"
        )
        #expect(configuration.hosts.first?.address == "2001:db8::1")
        #expect(configuration.destination(of: "node_7") == "guest7", "node names are the operator's own keys")
    }

    @Test(arguments: [
        ("cf_timeout", "cf-timeout"), ("CF-Timeout", "cf-timeout"), ("hsots", "hosts"), ("jornal", "journal"),
        ("colour", nil),
    ])
    func theKeyMeantIsTheClosestOne(typed: String, meant: String?) {
        let keys = ["mode", "ssh", "nodes", "hosts", "cf-timeout", "verify", "journal"]
        #expect(ClusterConfiguration.closest(to: typed, among: keys) == meant)
    }

    @Test func aMissingFileSaysWhichFile() {
        let error = #expect(throws: ClusterError.self) {
            try ClusterConfiguration(contentsOf: "/nonexistent/cluster.yaml")
        }
        #expect(error?.description.contains("/nonexistent/cluster.yaml") == true)
    }
}
