import Cluster
import Foundation
import Testing

/// A file the migration would edit that kvmmigrate cannot edit, on one node (issue 9: "an operator's value is
/// lost"): the checks try every edit on every node before the first change, so the migration is refused with every
/// node exactly as it was, the other node's own CF timeout included.
extension LabTests {
    @Suite(.serialized) struct LabUneditableFileTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        private func migrate() throws -> CommandRun {
            try run(
                self.lab.binary,
                ["migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster", "--json"]
            )
        }

        /// guest1 runs CF with an operator's 30 s; the file to edit on guest2 is broken.
        private func expectRefusedWithNothingChanged(naming path: String) throws {
            defer { try? self.lab.resetAll() }
            try self.lab.shell(
                on: "guest1",
                "sed -i 's/^CLUSTER_TIMEOUT \"10\"/CLUSTER_TIMEOUT \"30\"/' /etc/default/cluster.config"
                    + " && /opt/SMAW/bin/cfset -r"
            )
            #expect(try self.lab.shell(on: "guest1", "/opt/SMAW/bin/cfset -a").contains("CLUSTER_TIMEOUT VALUE: 30"))
            let files = try self.lab.nodeFiles()

            let result = try self.migrate()
            #expect(result.exitCode == 2, "\(result.standardError)")
            let error = try #require(try result.json["error"] as? [String: Any])
            let message = error["message"] as? String ?? ""
            #expect(message.contains("guest2") && message.contains(path), "\(message)")
            #expect(message.contains("nothing was changed"), "\(message)")

            // Every node as it was: its files byte for byte, guest1's 30 s still loaded, SF running, the guest on the
            // source, and nothing left for recover.
            #expect(try self.lab.nodeFiles() == files)
            #expect(try self.lab.shell(on: "guest1", "/opt/SMAW/bin/cfset -a").contains("CLUSTER_TIMEOUT VALUE: 30"))
            for node in self.lab.nodes {
                #expect(try self.lab.shutdownFacility(on: node) != nil, "\(node): SF not running")
            }
            #expect(try self.lab.addressOfHost(running: self.lab.domain) == "10.77.0.1")
            let recover = try run(self.lab.binary, ["recover", "--json"])
            #expect(recover.exitCode == 0, "\(recover.standardError)")
            #expect(try self.lab.nodeFiles() == files)
        }

        @Test func aClusterConfigItCannotParseOnOneNodeRefusesAndKeepsTheOthersTimeout() throws {
            try self.lab.shell(on: "guest2", "printf 'BROKEN \"unterminated\\n' >>/etc/default/cluster.config")
            try self.expectRefusedWithNothingChanged(naming: "/etc/default/cluster.config")
        }

        @Test func anAgentFileItCannotParseOnOneNodeRefusesWithNothingChanged() throws {
            try self.lab.shell(
                on: "guest2",
                "printf 'guest1 only-two-fields\\n' >>/etc/opt/SMAW/SMAWsf/SA_libvirtgr.cfg"
            )
            try self.expectRefusedWithNothingChanged(naming: "SA_libvirtgr.cfg")
        }
    }
}
