import Foundation
import Libvirt
import Migration
import Session
import Synchronization
import Testing

@testable import MetricsExport

/// A directory of its own for one test, removed afterwards.
private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appending(path: "kvmm-metrics-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Collects what a recorder reports.
private final class Warnings: Sendable {
    private let list = Mutex<[String]>([])
    func append(_ line: String) { self.list.withLock { $0.append(line) } }
    var all: [String] { self.list.withLock { $0 } }
}

/// A clock a test moves by hand.
private final class ManualClock: Sendable {
    private let now = Mutex(ContinuousClock.now)
    func advance(_ duration: Duration) { self.now.withLock { $0 += duration } }
    var instant: ContinuousClock.Instant { self.now.withLock { $0 } }
}

/// The file's samples, as a user greps them: `name{labels} value` → value.
private func samples(_ path: String) throws -> [String: String] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var samples: [String: String] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        let parts = line.split(separator: " ")
        samples[String(parts[0])] = String(parts[1])
    }
    return samples
}

private func progress(remaining: UInt64, pass: Int) -> MigrationProgress {
    MigrationProgress(
        phase: .preCopy(pass: pass),
        elapsed: .seconds(3),
        dataProcessedBytes: 300 << 20,
        dataRemainingBytes: remaining,
        throughputBytesPerSecond: 100 << 20,
        memoryPass: pass,
        dirtyRateBytesPerSecond: 8 << 20,
        fractionDone: 0.5,
        expectedDowntime: nil
    )
}

private func completedReport(domain: String) -> MigrationReport {
    var statistics = JobStats(type: .completed)
    statistics.downtime = .milliseconds(250)
    statistics.dataProcessed = 1_073_741_824
    statistics.memoryIteration = 4
    return MigrationReport(
        outcome: .completed,
        domainName: domain,
        domainUUID: "6b3c7a1e-0000-4000-8000-000000000001",
        sourceURI: "qemu+tcp://a/system",
        destinationURI: "qemu+tcp://b/system",
        sourceHostname: "a",
        destinationHostname: "b",
        startedAt: Date(timeIntervalSince1970: 0),
        totalTime: .milliseconds(12_500),
        completedStatistics: statistics,
        memoryPassesSeen: 3,
        location: DomainLocation(sourceState: nil, destinationState: DomainStateInfo(state: .running, reason: 2)),
        errorMessage: nil,
        abortReason: nil
    )
}

@Suite struct MetricsExportTests {
    @Test func aMigrationThatSucceededShowsItsFiguresAndCounts() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "kvmmigrate.prom").path
        let file = try MetricsFile(path: path)
        let metrics = SessionMetrics(MetricsRecorder(file, warn: { _ in }), domain: "guest1")
        #expect(try samples(path)[#"kvmmigrate_migration_in_progress{domain="guest1"}"#] == "1.0")
        metrics.record(.preparingCluster(domain: "guest1"))
        metrics.record(.progress(progress(remaining: 200 << 20, pass: 2)))
        metrics.record(
            .policyStep(ConvergenceStep(kind: .downtime, elapsed: .seconds(2), pass: 2, detail: "raised"))
        )
        let during = try samples(path)
        #expect(during[#"kvmmigrate_migration_data_remaining_bytes{domain="guest1"}"#] == "209715200.0")
        #expect(during[#"kvmmigrate_migration_memory_transfer_rate_bytes{domain="guest1"}"#] == "104857600.0")
        #expect(during[#"kvmmigrate_migration_dirty_memory_rate_bytes{domain="guest1"}"#] == "8388608.0")
        metrics.finish(SessionOutcome(status: .migrated, report: completedReport(domain: "guest1")))

        let after = try samples(path)
        #expect(after[#"kvmmigrate_migrations_started_total{domain="guest1"}"#] == "1.0")
        #expect(after[#"kvmmigrate_migrations_succeeded_total{domain="guest1"}"#] == "1.0")
        #expect(after[#"kvmmigrate_cluster_operations_total{domain="guest1"}"#] == "1.0")
        #expect(after[#"kvmmigrate_migration_policy_steps_total{domain="guest1",step="downtime"}"#] == "1.0")
        #expect(after[#"kvmmigrate_migration_downtime_seconds{domain="guest1"}"#] == "0.25")
        #expect(after[#"kvmmigrate_migration_total_time_seconds{domain="guest1"}"#] == "12.5")
        #expect(after[#"kvmmigrate_migration_data_processed_bytes{domain="guest1"}"#] == "1073741824.0")
        #expect(after[#"kvmmigrate_migration_memory_passes{domain="guest1"}"#] == "4.0")
        #expect(after[#"kvmmigrate_migration_in_progress{domain="guest1"}"#] == "0.0")
        // A run that ended has no rate or remaining bytes: they would be stale.
        #expect(after[#"kvmmigrate_migration_data_remaining_bytes{domain="guest1"}"#] == nil)
        #expect(after[#"kvmmigrate_migration_memory_transfer_rate_bytes{domain="guest1"}"#] == nil)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("# TYPE kvmmigrate_migrations_started_total counter"))
        #expect(text.contains("# TYPE kvmmigrate_migration_downtime_seconds gauge"))
        #expect(text.contains("# HELP kvmmigrate_migration_downtime_seconds "))
    }

    @Test func countersAddUpOverRunsAndFailuresHaveTheirReason() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "kvmmigrate.prom").path
        let file = try MetricsFile(path: path)
        for status in [SessionOutcome.Status.migrated, .refused, .migrationFailed, .refused] {
            SessionMetrics(MetricsRecorder(file, warn: { _ in }), domain: "guest1").finish(
                SessionOutcome(status: status)
            )
        }
        SessionMetrics(MetricsRecorder(file, warn: { _ in }), domain: "other").finish(SessionOutcome(status: .aborted))
        let after = try samples(path)
        #expect(after[#"kvmmigrate_migrations_started_total{domain="guest1"}"#] == "4.0")
        #expect(after[#"kvmmigrate_migrations_succeeded_total{domain="guest1"}"#] == "1.0")
        #expect(after[#"kvmmigrate_migrations_failed_total{domain="guest1",reason="refused"}"#] == "2.0")
        #expect(after[#"kvmmigrate_migrations_failed_total{domain="guest1",reason="migration_failed"}"#] == "1.0")
        #expect(after[#"kvmmigrate_migrations_failed_total{domain="other",reason="aborted"}"#] == "1.0")
        #expect(after[#"kvmmigrate_migrations_started_total{domain="other"}"#] == "1.0")
        // The gauges describe the last run only.
        #expect(after[#"kvmmigrate_migration_in_progress{domain="guest1"}"#] == nil)
        #expect(after[#"kvmmigrate_migration_in_progress{domain="other"}"#] == "0.0")
    }

    /// Two migrations at once writing one file (as with a `metrics-file` in the configuration): neither process's
    /// counts are lost, whichever writes last.
    @Test func twoRunsAtOnceOnOneFileKeepEachOthersCounts() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "kvmmigrate.prom").path
        let file = try MetricsFile(path: path)
        let first = SessionMetrics(MetricsRecorder(file, warn: { _ in }), domain: "guest1")
        let second = SessionMetrics(MetricsRecorder(file, warn: { _ in }), domain: "guest2")
        first.record(.preparingCluster(domain: "guest1"))
        second.record(.preparingCluster(domain: "guest2"))
        first.finish(SessionOutcome(status: .migrated))
        second.finish(SessionOutcome(status: .refused))
        let after = try samples(path)
        #expect(after[#"kvmmigrate_migrations_started_total{domain="guest1"}"#] == "1.0")
        #expect(after[#"kvmmigrate_migrations_started_total{domain="guest2"}"#] == "1.0")
        #expect(after[#"kvmmigrate_cluster_operations_total{domain="guest1"}"#] == "1.0")
        #expect(after[#"kvmmigrate_cluster_operations_total{domain="guest2"}"#] == "1.0")
        #expect(after[#"kvmmigrate_migrations_succeeded_total{domain="guest1"}"#] == "1.0")
        #expect(after[#"kvmmigrate_migrations_failed_total{domain="guest2",reason="refused"}"#] == "1.0")
    }

    @Test func everyStatusButMigratedIsAKnownReason() {
        for status in SessionOutcome.Status.allCases where status != .migrated {
            #expect(MigrationMetrics.failureReasons.contains(SessionTracer.key(status)), "\(status)")
        }
    }

    @Test func aDomainNameWithQuotesIsEscapedAndReadBack() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "kvmmigrate.prom").path
        let file = try MetricsFile(path: path)
        let name = #"odd "name"\ here"#
        SessionMetrics(MetricsRecorder(file, warn: { _ in }), domain: name).finish(SessionOutcome(status: .migrated))
        SessionMetrics(MetricsRecorder(file, warn: { _ in }), domain: name).finish(SessionOutcome(status: .migrated))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(#"kvmmigrate_migrations_succeeded_total{domain="odd \"name\"\\ here"} 2.0"#))
    }

    @Test func foreignOrMalformedLinesAreNotReadBack() {
        let text = """
            kvmmigrate_migrations_started_total{domain="a"} 3
            kvmmigrate_migrations_started_total{domain="a",extra="x"} 9
            kvmmigrate_migrations_failed_total{domain="a",reason="made up"} 9
            kvmmigrate_migrations_failed_total{domain="a",reason="refused"} 2
            kvmmigrate_migrations_failed_total{domain="a",reason="refused} 7
            kvmmigrate_migrations_succeeded_total{domain="a"} -1
            kvmmigrate_migrations_succeeded_total{domain="b"} NaN
            other_total{domain="a"} 5
            kvmmigrate_migration_downtime_seconds{domain="a"} 1
            """
        let totals = MetricsFile.totals(in: text)
        #expect(
            totals == [
                MigrationMetrics.Series(.started, domain: "a"): 3,
                MigrationMetrics.Series(.failed, domain: "a", "refused"): 2,
            ]
        )
    }

    @Test func aFileWritableByOthersIsNotTrustedAndCountingStartsAgain() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "kvmmigrate.prom").path
        try #"kvmmigrate_migrations_started_total{domain="a"} 1000"#.write(
            toFile: path,
            atomically: false,
            encoding: .utf8
        )
        chmod(path, 0o666)
        let warnings = Warnings()
        let file = try MetricsFile(path: path)
        SessionMetrics(MetricsRecorder(file, warn: warnings.append), domain: "a").finish(
            SessionOutcome(status: .migrated)
        )
        #expect(try samples(path)[#"kvmmigrate_migrations_started_total{domain="a"}"#] == "1.0")
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("writable by group or others") == true)
        // The file written in its place is the collector's to read, and no one else's to write.
        var information = stat()
        #expect(stat(path, &information) == 0)
        #expect(information.st_mode & 0o777 == 0o644)
    }

    @Test func theFileIsReplacedByRenameAndNoTemporaryIsLeft() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "kvmmigrate.prom").path
        let file = try MetricsFile(path: path)
        SessionMetrics(MetricsRecorder(file, warn: { _ in }), domain: "a").finish(SessionOutcome(status: .migrated))
        let before = try String(contentsOfFile: path, encoding: .utf8)
        // A reader that opened the file before a write reads the old file whole, not a mix.
        let reader = try #require(FileHandle(forReadingAtPath: path))
        defer { try? reader.close() }
        SessionMetrics(MetricsRecorder(file, warn: { _ in }), domain: "a").finish(SessionOutcome(status: .migrated))
        #expect(String(decoding: try reader.readToEnd() ?? Data(), as: UTF8.self) == before)
        #expect(try samples(path)[#"kvmmigrate_migrations_started_total{domain="a"}"#] == "2.0")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["kvmmigrate.prom"])
    }

    @Test func progressIsWrittenAtMostOncePerInterval() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "kvmmigrate.prom").path
        let clock = ManualClock()
        let recorder = MetricsRecorder(
            try MetricsFile(path: path),
            interval: .seconds(1),
            clock: { clock.instant },
            warn: { _ in }
        )
        let metrics = SessionMetrics(recorder, domain: "a")
        let remaining = #"kvmmigrate_migration_data_remaining_bytes{domain="a"}"#
        clock.advance(.milliseconds(1_500))
        metrics.record(.progress(progress(remaining: 100, pass: 1)))
        #expect(try samples(path)[remaining] == "100.0")
        clock.advance(.milliseconds(300))
        metrics.record(.progress(progress(remaining: 50, pass: 1)))
        #expect(try samples(path)[remaining] == "100.0")
        clock.advance(.milliseconds(800))
        metrics.record(.progress(progress(remaining: 20, pass: 2)))
        #expect(try samples(path)[remaining] == "20.0")
    }

    @Test func aFileThatCannotBeCreatedIsRefusedBeforeTheRun() throws {
        #expect(throws: MetricsFileError.self) { try MetricsFile(path: "/nonexistent-kvmm/metrics.prom") }
        #expect(throws: MetricsFileError.self) { try MetricsFile(path: "") }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: MetricsFileError.self) { try MetricsFile(path: directory.path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func aWriteThatFailsLaterWarnsOnceAndGoesOn() throws {
        let directory = try temporaryDirectory()
        let path = directory.appending(path: "kvmmigrate.prom").path
        let file = try MetricsFile(path: path)
        let warnings = Warnings()
        let metrics = SessionMetrics(MetricsRecorder(file, warn: warnings.append), domain: "a")
        try FileManager.default.removeItem(at: directory)
        metrics.record(.preparingCluster(domain: "a"))
        metrics.finish(SessionOutcome(status: .migrated))
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("the migration goes on") == true)
    }
}
