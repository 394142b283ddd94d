import Foundation
import Testing

/// The lock on the nodes themselves (issue 9): two kvmmigrate processes with different configurations, or on two
/// admin hosts, never prepare one guest cluster at once; an unfinished operation keeps the others out until
/// `recover`.
extension LabTests {
    @Suite(.serialized, .timeLimit(.minutes(5))) struct LabNodeLockTests {
        let lab: Lab
        static let lock = "/run/kvmmigrate.lock"

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        private func migrate(environment: [String: String] = [:]) throws -> CommandRun {
            let hooked = environment.keys.contains { $0.hasPrefix("KVMMIGRATE_TEST_") }
            return try run(
                hooked ? self.lab.testHooksBinary : self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster",
                    "--persistent", "--undefine-source", "--json",
                ],
                environment: environment
            )
        }

        /// The lock's line on `node`, or `nil` when there is none.
        private func lockLine(on node: String) throws -> String? {
            let text = try self.lab.shell(on: node, "cat \(Self.lock) 2>/dev/null || true")
            return text.isEmpty ? nil : text.trimmingCharacters(in: .newlines)
        }

        @Test func anotherAdminHostsOperationRefusesThisOneWithNothingChanged() throws {
            defer { try? self.lab.resetAll() }
            let foreign = "6f1c2d3e-other admin2 4242 2026-12-04T10:00:00Z"
            try self.lab.shell(on: "guest2", "printf '%s\\n' '\(foreign)' > \(Self.lock)")
            let before = try self.lab.nodeFiles()
            let result = try self.migrate()
            #expect(result.exitCode == 2, "\(result.standardError)")
            let errors = result.standardError.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(errors.count == 1, "\(result.standardError)")
            #expect(result.standardError.contains("locked by another kvmmigrate"), "\(result.standardError)")
            #expect(result.standardError.contains("admin2"), "\(result.standardError)")
            #expect(try self.lab.nodeFiles() == before, "node files byte for byte")
            try self.lab.expectUnchanged()
            // The other operation's lock is as it was; this one took none that it kept.
            #expect(try self.lockLine(on: "guest2") == foreign)
            #expect(try self.lockLine(on: "guest1") == nil)
            #expect(try self.lab.shutdownFacility(on: "guest1")?.isHealthy == true)
        }

        @Test func aFinishedMigrationLeavesNoLock() throws {
            let result = try self.migrate()
            #expect(result.exitCode == 0, "\(result.standardError)")
            for node in self.lab.nodes { #expect(try self.lockLine(on: node) == nil, "\(node)") }
        }

        /// Killed while the cluster is prepared: the lock stays (others must stay out), `recover` lets it go.
        @Test func anUnfinishedOperationKeepsTheLockUntilRecover() throws {
            let crashed = try self.migrate(environment: ["KVMMIGRATE_TEST_CRASH_AFTER_STEP": "3"])
            #expect(crashed.exitCode == SIGKILL, "\(crashed.standardError)")
            let lines = try self.lab.nodes.map { try self.lockLine(on: $0) }
            #expect(lines.allSatisfy { $0 != nil }, "\(lines)")
            #expect(Set(lines.compactMap { $0?.split(separator: " ").first }).count == 1, "one operation: \(lines)")
            let recovered = try run(self.lab.binary, ["recover"])
            #expect(recovered.exitCode == 0, "\(recovered.standardError)")
            for node in self.lab.nodes { #expect(try self.lockLine(on: node) == nil, "\(node)") }
            try self.lab.expectRestored(pointingAt: "10.77.0.1")
        }
    }
}
