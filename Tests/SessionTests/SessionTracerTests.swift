import Cluster
import Foundation
import Migration
import Testing
import Trace

@testable import Session

@Suite struct SessionTracerTests {
    /// A tracer writing to a file of its own, and that file read back.
    private func traced(_ body: (SessionTracer) -> Void) throws -> [TraceRecord] {
        let path = FileManager.default.temporaryDirectory.appending(path: "kvmm-session-\(UUID().uuidString).jsonl")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try TraceWriter(path: path) { _ in }
        body(SessionTracer(writer, command: "migrate", domain: "domain1"))
        return try TraceFile(contentsOf: path).records
    }

    private func progress(
        _ phase: MigrationPhase,
        pass: Int?,
        processed: UInt64,
        remaining: UInt64
    ) -> MigrationProgress {
        MigrationProgress(
            phase: phase,
            elapsed: .seconds(1),
            dataProcessedBytes: processed,
            dataRemainingBytes: remaining,
            throughputBytesPerSecond: 50 << 20,
            memoryPass: pass,
            dirtyRateBytesPerSecond: 64 << 20,
            fractionDone: 0.5,
            expectedDowntime: .milliseconds(300),
            dataTotalBytes: processed + remaining
        )
    }

    @Test func aSessionBecomesPhasesSamplesPassesStepsAndAnOutcome() throws {
        let records = try self.traced { tracer in
            tracer.record(.preparingCluster(domain: "domain1"))
            tracer.record(
                .cluster(ClusterEvent(node: "guest1", step: "sf-stopped", message: "shutdown facility stopped"))
            )
            tracer.record(.migrationStarted(sessionTarget, policy: "balanced"))
            tracer.record(.progress(self.progress(.preCopy(pass: 1), pass: 1, processed: 10, remaining: 100)))
            tracer.record(.progress(self.progress(.preCopy(pass: 1), pass: 1, processed: 20, remaining: 90)))
            tracer.record(.progress(self.progress(.preCopy(pass: 2), pass: 2, processed: 30, remaining: 40)))
            tracer.record(
                .policyStep(
                    ConvergenceStep(
                        kind: .downtime,
                        elapsed: .seconds(2),
                        pass: 2,
                        downtime: .milliseconds(400),
                        detail: "pass 2 stalled: allowing 400 ms of downtime"
                    )
                )
            )
            // The switch-over, shown from the last reading: a phase line, not a sample.
            tracer.record(.progress(self.progress(.switchOver, pass: 2, processed: 30, remaining: 40)))
            tracer.record(.migrationEnded)
            tracer.record(.restoringCluster)
            tracer.record(.verifying(domain: "domain1"))
            tracer.finish(SessionOutcome(status: .migrated, report: report(), target: sessionTarget))
        }
        #expect(
            records.map { $0.kind == .phase || $0.kind == .cluster ? $0.name! : $0.kind.rawValue } == [
                "start", "checks", "prepare", "sf-stopped", "migrating", "pass", "sample", "sample", "pass", "sample",
                "policy", "switch-over", "migration_end", "restore", "verify", "outcome",
            ]
        )
        #expect(records.map(\.time) == records.map(\.time).sorted())
        let migrating = try #require(records.first { $0.name == "migrating" })
        #expect(migrating.sourceHost == "hostA")
        #expect(migrating.destinationHost == "hostB")
        #expect(migrating.policy == "balanced")
        let samples = records.filter { $0.kind == .sample }
        #expect(samples.map(\.dataRemainingBytes) == [100, 90, 40])
        #expect(samples.map(\.pass) == [1, 1, 2])
        #expect(samples.first?.dataTotalBytes == 110)
        #expect(samples.first?.dirtyRateBytesPerSecond == 64 << 20)
        #expect(samples.first?.transferRateBytesPerSecond == 50 << 20)
        #expect(samples.first?.expectedDowntimeMilliseconds == 300)
        let policy = try #require(records.first { $0.kind == .policy })
        #expect(policy.name == "downtime")
        #expect(policy.downtimeMilliseconds == 400)
        #expect(policy.detail == "pass 2 stalled: allowing 400 ms of downtime")
        let outcome = try #require(records.last)
        #expect(outcome.status == "migrated")
        #expect(outcome.runningOn == "destination")
        #expect(outcome.outcome == "completed")
        #expect(outcome.totalTimeMilliseconds == 2000)
    }

    @Test func aRefusalIsTheOutcomeWithItsReason() throws {
        let records = try self.traced { tracer in
            tracer.finish(
                SessionOutcome(status: .migrationFailed, refusal: .migration(MigrationError(.migrationFailed, "no")))
            )
        }
        #expect(records.map(\.kind) == [.start, .phase, .outcome])
        #expect(records.last?.status == "migration_failed")
        #expect(records.last?.message == "no")
    }

    @Test func statusKeysAreSnakeCase() {
        #expect(SessionTracer.key(.clusterNotHealthy) == "cluster_not_healthy")
        #expect(SessionTracer.key(.migrated) == "migrated")
    }
}
