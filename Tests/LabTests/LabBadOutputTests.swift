import Cluster
import Foundation
import Testing

/// Bad bytes in the output of every PRIMECLUSTER command kvmmigrate reads (issue 9): 64 KiB of every byte value
/// (NUL, invalid UTF-8, CR, one long line, no final newline) with exit status 0, from `cftool`, `cfset` or `sdtool`
/// on one node. Before the prepare, the migration is refused on one line naming the node, with nothing changed;
/// during the verify, the restore is done and the verify fails on one line naming the node. Never a trap. (The
/// parsers themselves are fuzzed in `Fuzz/`.)
extension LabTests {
    @Suite(.serialized) struct LabBadOutputTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        /// Replaces `command` on `node` (only there, through a bind mount in the node's mount namespace) by a script
        /// that prints the bad bytes and exits 0.
        private func garble(_ command: String, on node: String) throws {
            try self.lab.shell(
                on: node,
                "perl -e 'print map { chr(($_ * 7919 + ($_ >> 8)) % 256) } 0..65535' >/run/kvmm-garbage"
                    + " && printf '#!/bin/sh\\ncat /run/kvmm-garbage\\n' >/run/kvmm-garbage.sh"
                    + " && chmod 0755 /run/kvmm-garbage.sh && mount --bind /run/kvmm-garbage.sh \(command)"
            )
        }

        private func restore(_ command: String, on node: String) {
            _ = try? self.lab.shell(on: node, "umount \(command); rm -f /run/kvmm-garbage /run/kvmm-garbage.sh")
        }

        private func migrate(binary: URL? = nil, environment: [String: String] = [:]) throws -> CommandRun {
            try run(
                binary ?? self.lab.binary,
                ["migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster", "--json"],
                environment: environment
            )
        }

        @Test(arguments: ["/opt/SMAW/bin/cftool", "/opt/SMAW/bin/cfset", "/opt/SMAW/bin/sdtool"])
        func badOutputBeforeThePrepareRefusesWithNothingChanged(command: String) throws {
            let files = try self.lab.nodeFiles()
            try self.garble(command, on: "guest2")
            defer { self.restore(command, on: "guest2") }
            let result = try self.migrate()
            #expect(result.exitCode == 2, "\(result.standardError)")
            let error = try #require(try result.json["error"] as? [String: Any])
            let message = error["message"] as? String ?? ""
            #expect(message.contains("guest2"), "\(message)")
            #expect(!message.contains("\n") && message.count < 600, "\(message.count) characters: \(message)")
            // Shown, never sent to the terminal: no control character of the node's bytes is in the message.
            #expect(!message.unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(message)")
            // Nothing was changed: the files byte for byte, CF and SF as before, the guest on the source.
            #expect(try self.lab.nodeFiles() == files)
            #expect(try self.lab.addressOfHost(running: self.lab.domain) == "10.77.0.1")
            for node in self.lab.nodes where node != "guest2" || !command.hasSuffix("sdtool") {
                #expect(try self.lab.shutdownFacility(on: node)?.isHealthy == true, "\(node)")
            }
            self.restore(command, on: "guest2")
            try self.lab.expectRestored(pointingAt: "10.77.0.1")
        }

        /// `sdtool -s` turns to bad bytes on guest2 after the restore wrote the files: the restore is done, the
        /// verify fails on one line naming guest2 (exit 6), and `cluster verify` passes once sdtool answers again.
        @Test func badOutputDuringTheVerifyFailsItWithTheRestoreDone() async throws {
            defer { try? self.lab.resetAll() }
            let command = "/opt/SMAW/bin/sdtool"
            defer { self.restore(command, on: "guest2") }
            // Step 14: SF started on both nodes (2 stopped, 2 written, 2 loaded; after the move 2 restored,
            // 2 reloaded, 2 pointed, 2 started); the verify comes next.
            let result = try await self.lab.migrateHolding(afterStep: 14, timeLimit: .seconds(600)) {
                try self.garble(command, on: "guest2")
            }
            #expect(result.exitCode == 6, "\(result.standardError)")
            let cluster = try #require(try result.json["cluster"] as? [String: Any])
            #expect(cluster["healthy"] as? Bool == false)
            let problems = cluster["problems"] as? [String: [String]] ?? [:]
            #expect(problems["guest2"]?.isEmpty == false, "\(cluster)")
            for problem in problems.values.joined() {
                #expect(!problem.contains("\n") && problem.count < 600, "\(problem)")
                #expect(!problem.unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(problem)")
            }
            #expect(try self.lab.addressOfHost(running: self.lab.domain) == "10.77.0.2")
            self.restore(command, on: "guest2")
            // What the restore wrote is all there: once sdtool answers again, every node is restored for hostB.
            try self.lab.expectRestored(pointingAt: "10.77.0.2")
        }
    }
}
