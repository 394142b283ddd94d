import Foundation
import Libvirt
import Testing

/// Guests that dirty memory faster than the (capped) link carries it: the convergence policy finishes them, or
/// its timeout action ends them as asked.
extension LabTests {
    @Suite(.serialized) struct LabConvergenceTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
        }

        /// 64 MiB rewritten as fast as the guest can (hundreds of MiB/s under KVM here) over a link capped at
        /// 50 MiB/s: what is left after every pass needs about 1.3 s of downtime, far more than pre-copy allows.
        private func busyGuest() throws -> TestGuest {
            try TestGuest(self.lab, name: "busy", ["fill=96", "dirty=64"])
        }

        @Test func theDefaultPolicyFinishesAGuestThatPreCopyCannot() async throws {
            let guest = try self.busyGuest()
            defer { guest.stop() }
            let before = guest.heartbeats
            let result = try guest.migrate(["--bandwidth", "50"]).wait()
            #expect(result.exitCode == 0, "\(result.standardError)")
            let report = try result.json
            #expect(report["outcome"] as? String == "completed")
            #expect(report["running_on"] as? String == "destination")
            #expect((report["policy"] as? [String: Any])?["name"] as? String == "balanced")
            // The steps, in the policy's order: downtime raised, then post-copy.
            let kinds = try result.policySteps.map(\.kind)
            #expect(kinds.first == "downtime")
            #expect(kinds.last == "post_copy")
            #expect(result.standardError.contains("switching to post-copy"))
            #expect(result.standardError.contains("policy steps"))
            let states = try guest.states()
            #expect(states.destination?.state == .running)
            #expect(states.source == nil)
            try await guest.expectAliveAndIntact(after: before)
        }

        @Test func timeoutActionAbortLeavesTheGuestRunningOnTheSource() async throws {
            let guest = try self.busyGuest()
            defer { guest.stop() }
            let before = guest.heartbeats
            // Plain pre-copy with a 10 s limit (40 s per GiB of a 256 MiB guest): it cannot converge.
            let result = try guest.migrate([
                "--bandwidth", "50", "--policy", "low-downtime", "--no-auto-converge", "--downtime-steps", "none",
                "--completion-timeout", "40", "--timeout-action", "abort",
            ]).wait()
            #expect(result.exitCode == 3, "\(result.standardError)")
            let report = try result.json
            #expect(report["outcome"] as? String == "aborted")
            #expect(report["running_on"] as? String == "source")
            let steps = try result.policySteps
            #expect(steps.map(\.kind) == ["timeout"])
            #expect(steps.first?.detail.contains("keeps running on the source") == true)
            let states = try guest.states()
            #expect(states.source?.state == .running)
            #expect(states.destination == nil)
            try await guest.expectAliveAndIntact(after: before)
        }

        @Test func timeoutActionSuspendFinishesAndTheGuestRunsOnTheDestination() async throws {
            let guest = try self.busyGuest()
            defer { guest.stop() }
            let before = guest.heartbeats
            let result = try guest.migrate([
                "--bandwidth", "50", "--policy", "low-downtime", "--no-auto-converge", "--downtime-steps", "none",
                "--completion-timeout", "40", "--timeout-action", "suspend",
            ]).wait()
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(try result.policySteps.map(\.kind) == ["timeout"])
            let states = try guest.states()
            #expect(states.destination?.state == .running)
            #expect(states.source == nil)
            try await guest.expectAliveAndIntact(after: before)
        }

        @Test func resumingWithoutABrokenPostCopyIsRefused() throws {
            let guest = try TestGuest(self.lab, name: "idle", ["fill=32"])
            defer { guest.stop() }
            let result = try guest.migrate(["--postcopy-resume"]).wait()
            #expect(result.exitCode == 2, "\(result.standardError)")
            #expect(result.standardError.contains("no broken post-copy migration"))
            let states = try guest.states()
            #expect(states.source?.state == .running)
            #expect(states.destination == nil)
        }
    }
}
