import Foundation
import Libvirt
import Testing

/// The link between the hosts goes down in the middle of a migration (`lab link hostB down`: the destination
/// is cut off from the source and from this tool). Whatever happens, the guest must end up running on exactly
/// one host with its memory intact, and the tool must say where.
extension LabTests {
    @Suite(.serialized) struct LabNetworkLossTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
        }

        /// A slow migration (20 MiB/s) of a guest that keeps 64 MiB busy.
        private func busyGuest() throws -> TestGuest {
            try TestGuest(self.lab, name: "cut", ["fill=96", "dirty=64"])
        }

        /// Cuts hostB off for `seconds` (libvirt gives up on a silent peer after its keep-alive, about 30 s), or
        /// until `restoreWhen` holds, then brings it back.
        private func cutHostB(for seconds: Int, restoreWhen: (() throws -> Bool)? = nil) async throws {
            try self.lab.link("hostB", up: false)
            if let restoreWhen {
                try? await self.waitFor("the link to be restorable", seconds: seconds, restoreWhen)
            } else {
                try await Task.sleep(for: .seconds(seconds))
            }
            try self.lab.link("hostB", up: true)
        }

        private func waitFor(_ what: String, seconds: Int, _ condition: () throws -> Bool) async throws {
            for _ in 0..<(seconds * 5) {
                if try condition() { return }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw LabError("timed out waiting for \(what)")
        }

        @Test func linkCutDuringPreCopy() async throws {
            let guest = try self.busyGuest()
            defer {
                try? self.lab.link("hostB", up: true)
                guest.stop()
            }
            let before = guest.heartbeats
            let migration = try guest.migrate(["--bandwidth", "20", "--policy", "low-downtime"])
            let source = try self.lab.source()
            try await self.waitFor("the migration to send data", seconds: 30) {
                ((try? source.domain(named: guest.name).jobStats())?.dataProcessed ?? 0) > 20 << 20
            }
            // libvirt gives up on the destination; the tool waits for hostB to answer again.
            try await self.cutHostB(for: 40)
            let result = migration.wait()
            #expect(result.exitCode == 4, "\(result.standardError)")
            let report = try result.json
            #expect(report["outcome"] as? String == "failed")
            #expect(report["running_on"] as? String == "source")
            #expect(result.standardError.contains("is the link between the hosts down?"))
            let states = try guest.states()
            #expect(states.source?.state == .running)
            #expect(states.destination == nil)
            try await guest.expectAliveAndIntact(after: before)
        }

        @Test func linkCutDuringPostCopy() async throws {
            let guest = try self.busyGuest()
            defer {
                try? self.lab.link("hostB", up: true)
                guest.stop()
            }
            let before = guest.heartbeats
            let migration = try guest.migrate([
                "--bandwidth", "20", "--policy", "fastest", "--reconnect-timeout", "180",
            ])
            let source = try self.lab.source()
            try await self.waitFor("post-copy", seconds: 60) {
                (try? source.domain(named: guest.name).state())?.isPostCopy == true
            }
            // Keep the link down until the source sees post-copy fail (or a minute): the guest runs on hostB with
            // part of its memory still on hostA.
            try await self.cutHostB(for: 60) {
                (try? source.domain(named: guest.name).state())?.isPostCopyFailed == true
            }
            let result = migration.wait()
            #expect(result.exitCode == 0, "\(result.standardError)")
            let report = try result.json
            #expect(report["outcome"] as? String == "completed")
            #expect(report["running_on"] as? String == "destination")
            // Depending on when QEMU notices, libvirt finishes the migration itself once the link is back, or the
            // tool resumes it (POSTCOPY_RESUME); either way the operator was told the link looked down.
            #expect(result.standardError.contains("is the link between the hosts down?"), "\(result.standardError)")
            let states = try guest.states()
            #expect(states.destination?.state == .running)
            #expect(states.source == nil)
            try await guest.expectAliveAndIntact(after: before)
        }

        /// The tool dies while post-copy runs over a dead link, and libvirt marks post-copy failed: once the link is
        /// back, the resume command that the report names finishes the migration, and the guest is intact.
        @Test func theResumeCommandFinishesAPostCopyWhoseToolDied() async throws {
            let guest = try self.busyGuest()
            defer {
                try? self.lab.link("hostB", up: true)
                guest.stop()
            }
            let before = guest.heartbeats
            let migration = try guest.migrate(["--bandwidth", "20", "--policy", "fastest"])
            let source = try self.lab.source()
            try await self.waitFor("post-copy", seconds: 60) {
                (try? source.domain(named: guest.name).state())?.isPostCopy == true
            }
            try self.lab.link("hostB", up: false)
            migration.signal(SIGKILL)
            _ = migration.wait()
            try await self.waitFor("libvirt to mark post-copy failed", seconds: 60) {
                (try? source.domain(named: guest.name).state())?.isPostCopyFailed == true
            }
            try self.lab.link("hostB", up: true)
            let result = try guest.migrate(["--postcopy-resume", "--reconnect-timeout", "120"]).wait()
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(try result.json["running_on"] as? String == "destination")
            let states = try guest.states()
            #expect(states.destination?.state == .running)
            #expect(states.source == nil)
            try await guest.expectAliveAndIntact(after: before)
        }

        @Test func linkCutDuringAClusterMigrationStillRestoresForTheHostThatRunsTheGuest() async throws {
            try self.lab.resetAll()
            defer { try? self.lab.link("hostB", up: true) }
            let domain = try self.lab.source().domain(named: self.lab.domain)
            let migration = try RunningCommand(
                try self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster",
                    "--persistent", "--undefine-source", "--bandwidth", "2", "--json",
                ]
            )
            try await self.waitFor("the migration to send data", seconds: 60) {
                ((try? domain.jobStats())?.dataProcessed ?? 0) > 4 << 20
            }
            try await self.cutHostB(for: 40)
            let result = migration.wait()
            #expect(result.exitCode == 4, "\(result.standardError)")
            let report = try result.json
            #expect(report["running_on"] as? String == "source")
            #expect((report["cluster"] as? [String: Any])?["healthy"] as? Bool == true, "\(result.standardError)")
            try self.lab.expectRestored(pointingAt: "10.77.0.1")
            try self.lab.expectUnchanged()
        }
    }
}
