import Foundation
import Testing

/// A lost terminal or reader never stops an operation (issue 9): the operator's ssh session dropping (SIGHUP) and
/// output piped into a reader that exits (`| head`) leave a cluster migration to finish, restore included.
extension LabTests {
    @Suite(.serialized, .timeLimit(.minutes(5))) struct LabHangupTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        private var arguments: [String] {
            [
                "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster",
                "--persistent", "--undefine-source", "--bandwidth", "16", "--json",
            ]
        }

        /// Waits until the migration job of the lab's guest has sent data.
        private func waitForTheMigrationToSendData() async throws {
            let domain = try self.lab.source().domain(named: self.lab.domain)
            for _ in 0..<600 {
                if let stats = try? domain.jobStats(), stats.type.isActive, (stats.dataProcessed ?? 0) > 0 { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("the migration did not start within 30 s")
        }

        @Test func aHangUpDuringAClusterMigrationLetsItFinish() async throws {
            let command = try RunningCommand(try self.lab.binary, self.arguments)
            try await self.waitForTheMigrationToSendData()
            command.signal(SIGHUP)
            let result = command.wait()
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(try result.json["outcome"] as? String == "completed", "\(result.standardOutput)")
            #expect(try self.lab.addressOfHost(running: self.lab.domain) == "10.77.0.2")
            try self.lab.expectRestored(pointingAt: "10.77.0.2")
        }

        /// `kvmmigrate … 2>&1 | head -c 1`: the reader is gone after the first byte; every later write fails.
        @Test func aClosedOutputPipeLetsAClusterMigrationFinish() throws {
            let script = "\"$@\" 2>&1 | head -c 1 >/dev/null; exit \"${PIPESTATUS[0]}\""
            let result = try run(
                URL(filePath: "/usr/bin/timeout"),
                ["240", "/bin/bash", "-c", script, "kvmmigrate", try self.lab.binary.path] + self.arguments
            )
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(try self.lab.addressOfHost(running: self.lab.domain) == "10.77.0.2")
            try self.lab.expectRestored(pointingAt: "10.77.0.2")
        }
    }
}
