import Foundation
import Testing

/// A host's libvirtd that takes connections and then answers nothing (`kill -STOP`, issue 9): `migrate`,
/// `check`, `status` and `cancel` end within their bound, with exit 5 and one line, and nothing changes.
extension LabTests {
    @Suite(.serialized, .timeLimit(.minutes(5))) struct LabFrozenDaemonTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.reset()
        }

        /// Runs `body` with hostB's libvirtd stopped (SIGSTOP), and lets it go on (SIGCONT) whatever happens.
        private func withDestinationFrozen<T>(_ body: () throws -> T) throws -> T {
            let state = ProcessInfo.processInfo.environment["KVMMIGRATE_LAB_STATE"] ?? "/run/kvmm-lab"
            let text = try String(contentsOfFile: "\(state)/hosts/hostB/libvirtd.pid", encoding: .utf8)
            let pid = try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(kill(pid, SIGSTOP) == 0)
            defer { kill(pid, SIGCONT) }
            return try body()
        }

        /// `arguments` against the frozen destination: exit 5 within the 30 s bound (and some slack), one error line.
        private func expectBounded(_ arguments: [String], mentioning text: String) throws {
            let start = ContinuousClock.now
            let result = try self.withDestinationFrozen { try run(try self.lab.binary, arguments) }
            let elapsed = ContinuousClock.now - start
            #expect(result.exitCode == 5, "\(arguments): \(result.standardError)")
            #expect(elapsed < .seconds(50), "\(arguments) took \(elapsed)")
            let errors = result.standardError.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(errors.count <= 1, "\(result.standardError)")
            #expect(
                result.standardError.contains(text) || result.standardOutput.contains(text),
                "\(result.standardError)"
            )
        }

        @Test func migrateEndsWithinItsBoundAndChangesNothing() throws {
            try self.expectBounded(
                ["migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--json"],
                mentioning: "did not answer within 30 s"
            )
            try self.lab.expectUnchanged()
        }

        @Test func statusEndsWithinItsBound() throws {
            try self.expectBounded(
                ["status", "-c", self.lab.destinationURI],
                mentioning: "did not answer within 30 s"
            )
        }

        @Test func cancelEndsWithinItsBound() throws {
            try self.expectBounded(
                ["cancel", self.lab.domain, "-c", self.lab.destinationURI],
                mentioning: "did not answer within 30 s"
            )
            try self.lab.expectUnchanged()
        }
    }
}
