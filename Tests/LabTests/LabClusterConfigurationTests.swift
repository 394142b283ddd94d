import Cluster
import Foundation
import Journal
import Testing

/// What the restore rewrites follows the cluster's own files; a configuration that contradicts them is refused
/// before anything changes. The lab's nodes are seeded with the host OS failover function's agent
/// (SA_vmchkhost in every rcsd.cfg) unless a test says otherwise.
extension LabTests {
    @Suite(.serialized) struct LabClusterConfigurationTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll(hostFailover: true)
        }

        private func migrate(configuration path: String) throws -> CommandRun {
            try run(
                self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster",
                    "--cluster-config", path, "--json",
                ]
            )
        }

        /// Without a mode, and with one that confirms the files, SA_vmchkhost.cfg follows the guest.
        @Test(arguments: ["# mode: guest", "mode: host-failover"])
        func theHostCheckAgentFollowsTheGuest(modeLine: String) throws {
            let path = try self.lab.clusterConfiguration {
                $0.replacingOccurrences(of: "# mode: guest", with: modeLine)
            }
            let result = try self.migrate(configuration: path)
            #expect(result.exitCode == 0, "\(result.standardError)")
            for node in self.lab.nodes {
                #expect(try self.lab.hostCheckHost(on: node, for: "guest1") == ["hostB", "10.77.0.2"], "\(node)")
            }
            try self.lab.expectRestored(pointingAt: "10.77.0.2")
            #expect(try self.lab.shutdownFacility(on: "guest1")?.rows.count == 6, "three agents on each node")
        }

        @Test(arguments: [
            ("cf-timeout: 600", "cf_timeout: 900", "unknown key 'cf_timeout' (did you mean 'cf-timeout'?)"),
            ("address: 10.77.0.2", "address: hostB.lab", "address must be the host OS's IP address"),
            ("connect-timeout: 5 ", "connect-timeout: 0 ", "ssh.connect-timeout must be 1 to 300 seconds, not 0"),
            // The source left out of hosts: the restore could not find the guest if the migration failed.
            (
                "  - name: hostA\n    uri: qemu+tcp://10.77.0.1/system\n    address: 10.77.0.1\n", "",
                "'domain1' runs on none of the hosts of",
            ),
        ])
        func aConfigurationMistakeIsRefusedBeforeAnyChange(line: String, mistake: String, message: String) throws {
            let before = try self.lab.nodeFiles()
            let path = try self.lab.clusterConfiguration { $0.replacingOccurrences(of: line, with: mistake) }
            let result = try self.migrate(configuration: path)
            #expect(result.exitCode == 2, "\(result.standardError)")
            let errors = result.standardError.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(errors.count == 1, "one line says why: \(result.standardError)")
            #expect(result.standardError.contains(message), "\(result.standardError)")
            #expect(try self.lab.nodeFiles() == before, "node files byte for byte")
            try self.lab.expectUnchanged()
            #expect(try self.lab.shutdownFacility(on: "guest1")?.isHealthy == true)
        }

        /// A journal shared by two configurations: `recover` with this cluster's leaves the other cluster's
        /// unfinished operation alone (restoring it from these nodes' files would write these values there).
        @Test func recoverLeavesAnotherClustersOperationAlone() throws {
            let journal = FileManager.default.temporaryDirectory.appending(path: "kvmm-journal-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: journal) }
            let store = try JournalStore<ClusterOperationRecord>(directory: journal)
            do {
                let record = ClusterOperationRecord(
                    command: "migrate",
                    domain: "otherdomain1",
                    guestNode: "other1",
                    mode: .guest,
                    configurationPath: "/etc/kvmmigrate/other.yaml",
                    sourceHost: "hostA",
                    destinationURI: self.lab.destinationURI
                )
                _ = try store.begin(key: "other1+other2", record: record)
            }
            let before = try self.lab.nodeFiles()
            let path = try self.lab.clusterConfiguration {
                $0.replacingOccurrences(of: "journal: /run/kvmm-lab/journal", with: "journal: \(journal.path)")
            }
            let result = try run(self.lab.binary, ["recover", "--cluster-config", path, "--json"])
            #expect(result.exitCode != 0, "nothing of this cluster's to recover: \(result.standardError)")
            let errors = result.standardError.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(errors.count == 1, "\(result.standardError)")
            #expect(
                result.standardError.contains("is of the guest cluster other1+other2, not of guest1+guest2"),
                "\(result.standardError)"
            )
            #expect(try store.unfinished().map(\.key) == ["other1+other2"], "left as it was")
            #expect(try self.lab.nodeFiles() == before, "node files byte for byte")
            #expect(try self.lab.shutdownFacility(on: "guest1")?.isHealthy == true)
        }

        @Test func guestModeOverTheHostFailoverAgentIsRefusedWithNothingChanged() throws {
            let before = try self.lab.nodeFiles()
            let path = try self.lab.clusterConfiguration {
                $0.replacingOccurrences(of: "# mode: guest", with: "mode: guest")
            }
            let result = try self.migrate(configuration: path)
            #expect(result.exitCode == 2, "\(result.standardError)")
            let errors = result.standardError.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(errors.count == 1, "one line says why: \(result.standardError)")
            #expect(result.standardError.contains("says mode: guest, but rcsd.cfg on guest1 lists SA_vmchkhost"))
            #expect(try self.lab.nodeFiles() == before)
            try self.lab.expectUnchanged()
            #expect(try self.lab.shutdownFacility(on: "guest1")?.isHealthy == true)
        }

        @Test func hostFailoverModeOverAClusterWithoutTheAgentIsRefused() throws {
            try self.lab.resetAll(hostFailover: false)
            let before = try self.lab.nodeFiles()
            let path = try self.lab.clusterConfiguration {
                $0.replacingOccurrences(of: "# mode: guest", with: "mode: host-failover")
            }
            let result = try self.migrate(configuration: path)
            #expect(result.exitCode == 2, "\(result.standardError)")
            #expect(
                result.standardError.contains("says mode: host-failover, but rcsd.cfg on guest1 lists no SA_vmchkhost")
            )
            #expect(try self.lab.nodeFiles() == before)
            try self.lab.expectUnchanged()
        }

        @Test func aNodeTheClusterDoesNotHaveIsRefusedWithNothingChanged() throws {
            let before = try self.lab.nodeFiles()
            let path = try self.lab.clusterConfiguration {
                $0.replacingOccurrences(of: "  guest2: guest2\n", with: "  guest2: guest2\n  guest3: guest3\n")
            }
            let result = try self.migrate(configuration: path)
            #expect(result.exitCode == 2, "\(result.standardError)")
            #expect(result.standardError.contains("names guest3 under nodes, but rcsd.cfg on guest1 does not list it"))
            #expect(try self.lab.nodeFiles() == before)
            try self.lab.expectUnchanged()
            let check = try run(
                self.lab.binary,
                ["check", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster-config", path]
            )
            #expect(check.exitCode == 2)
            #expect(check.standardError.contains("FAIL  cluster"))
        }

        /// A node the configuration leaves out is still a node of the cluster: reached by its CF node name and
        /// restored like the others.
        @Test func aNodeTheConfigurationLeavesOutIsStillRestored() throws {
            let path = try self.lab.clusterConfiguration { $0.replacingOccurrences(of: "  guest2: guest2\n", with: "") }
            let result = try self.migrate(configuration: path)
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(try (result.json["cluster"] as? [String: Any])?["nodes"] as? [String] == ["guest1", "guest2"])
            try self.lab.expectRestored(pointingAt: "10.77.0.2")
            #expect(try self.lab.hostCheckHost(on: "guest2", for: "guest1") == ["hostB", "10.77.0.2"])
        }
    }
}
