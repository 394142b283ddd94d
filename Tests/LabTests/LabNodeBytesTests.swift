import Foundation
import Testing

/// Node files with any bytes round-trip exactly (issue 9): a comment that is not UTF-8, a CRLF line and no final
/// newline in cluster.config and an SF agent file survive a cluster migration byte for byte.
extension LabTests {
    @Suite(.serialized, .timeLimit(.minutes(5))) struct LabNodeBytesTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        /// The file's bytes on `node`, as hexadecimal (the shell's output is text).
        private func bytes(of path: String, on node: String) throws -> String {
            try self.lab.shell(on: node, "od -An -v -tx1 \(path) | tr -d ' \\n'")
        }

        /// Appends `printfFormat` (printf's escapes) to `path` on `node`, keeping its owner and mode.
        private func append(_ printfFormat: String, to path: String, on node: String) throws {
            try self.lab.shell(on: node, "printf '\(printfFormat)' >> \(path)")
        }

        @Test func oddBytesInNodeFilesSurviveAClusterMigration() throws {
            let config = "/etc/default/cluster.config"
            let agent = "/etc/opt/SMAW/SMAWsf/SA_libvirtgp.cfg"
            // A Latin-1 comment (é is 0xE9: not UTF-8), a CRLF comment, and a last line without a newline.
            try self.append("# caf\\351 \\377 Stra\\337e\\r\\n# no final newline", to: config, on: "guest1")
            // The agent files stay alike on every node (verify compares them).
            for node in ["guest1", "guest2"] { try self.append("# \\351t\\351\\r\\n", to: agent, on: node) }
            let before = (
                config1: try self.bytes(of: config, on: "guest1"), config2: try self.bytes(of: config, on: "guest2"),
                agent2: try self.bytes(of: agent, on: "guest2")
            )
            #expect(before.config1.hasSuffix("6e65776c696e65"), "the last line has no newline: \(before.config1)")

            let result = try run(
                self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster",
                    "--persistent", "--undefine-source", "--json",
                ]
            )
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(try self.lab.addressOfHost(running: self.lab.domain) == "10.77.0.2")
            // cluster.config was changed (600 s) and restored: exactly what the node had.
            #expect(try self.bytes(of: config, on: "guest1") == before.config1)
            #expect(try self.bytes(of: config, on: "guest2") == before.config2)
            let loaded = try self.lab.shell(on: "guest1", "/opt/SMAW/bin/cfset -a")
            #expect(loaded.contains("KEY: CLUSTER_TIMEOUT VALUE: 10"), "\(loaded)")
            // The agent file was rewritten to point at hostB: only that line changed, the odd bytes stayed.
            let agent2 = try self.bytes(of: agent, on: "guest2")
            #expect(agent2.hasSuffix("2320e974e90d0a"), "\(agent2)")
            #expect(agent2 != before.agent2)
        }
    }
}
