import Foundation
import Libvirt
import Testing

/// `status` and `cancel` from another shell, and one migration of a domain at a time.
extension LabTests {
    @Suite(.serialized) struct LabControlTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.reset()
        }

        /// Starts a slow migration (1 MiB/s) and waits until its job sends data.
        private func startSlowMigration() async throws -> RunningCommand {
            let domain = try self.lab.source().domain(named: self.lab.domain)
            let command = try RunningCommand(
                try self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--bandwidth", "1",
                    "--json",
                ]
            )
            for _ in 0..<400 {
                if let stats = try? domain.jobStats(), stats.type.isActive, (stats.dataProcessed ?? 0) > 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            return command
        }

        private func kvmmigrate(_ arguments: [String]) throws -> CommandRun {
            try run(self.lab.binary, arguments)
        }

        @Test func statusAndCancelFromASecondShell() async throws {
            let migration = try await self.startSlowMigration()

            let onSource = try self.kvmmigrate(["status", "-c", self.lab.sourceURI, "--json"])
            #expect(onSource.exitCode == 0, "\(onSource.standardError)")
            let entries = try #require(try onSource.json["migrations"] as? [[String: Any]])
            let entry = try #require(entries.first { $0["domain"] as? String == self.lab.domain })
            #expect(entry["direction"] as? String == "outgoing")
            #expect(entry["destination_uri"] as? String == self.lab.destinationURI)
            #expect(entry["kvmmigrate_pid"] as? Int == Int(migration.process.processIdentifier))
            #expect((entry["data_processed_bytes"] as? Int ?? 0) > 0)
            #expect((entry["policy"] as? String)?.hasPrefix("balanced:") == true)
            #expect(onSource.standardError.contains("\(self.lab.domain) (outgoing to \(self.lab.destinationURI))"))

            let onDestination = try self.kvmmigrate([
                "status", self.lab.domain, "-c", self.lab.destinationURI, "--json",
            ])
            let incoming = try #require(try onDestination.json["migrations"] as? [[String: Any]])
            #expect(incoming.first?["direction"] as? String == "incoming")

            // Cancel without -c: the source comes from what the running kvmmigrate recorded.
            let cancel = try self.kvmmigrate(["cancel", self.lab.domain])
            #expect(cancel.exitCode == 0, "\(cancel.standardError)")
            let result = migration.wait()
            #expect(result.exitCode == 3, "\(result.standardError)")
            #expect(try result.json["outcome"] as? String == "aborted")
            try self.lab.expectUnchanged()

            let none = try self.kvmmigrate(["status", "-c", self.lab.sourceURI])
            #expect(none.exitCode == 0)
            #expect(none.standardError.contains("No migration is running"))
        }

        @Test func aSecondMigrationOfTheSameDomainIsRefused() async throws {
            let first = try await self.startSlowMigration()
            let second = try self.kvmmigrate(
                ["migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--json"])
            #expect(second.exitCode == 2, "\(second.standardError)")
            #expect(second.standardError.contains("is being migrated already"))
            #expect(second.standardError.contains("pid \(first.process.processIdentifier)"))
            #expect(try (second.json["error"] as? [String: Any])?["code"] as? String == "operation-in-progress")
            #expect(try self.kvmmigrate(["cancel", self.lab.domain, "-c", self.lab.sourceURI]).exitCode == 0)
            #expect(first.wait().exitCode == 3)
            try self.lab.expectUnchanged()
        }

        @Test func cancelWithNothingToCancel() throws {
            let result = try self.kvmmigrate(["cancel", self.lab.domain, "-c", self.lab.sourceURI])
            #expect(result.exitCode == 2, "\(result.standardError)")
            #expect(result.standardError.contains("no migration of \(self.lab.domain) is running"))
            try self.lab.expectUnchanged()
        }
    }
}
