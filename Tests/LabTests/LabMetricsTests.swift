import Foundation
import Testing

/// `migrate --metrics-file` on real migrations, the file read as node_exporter's textfile collector and Prometheus
/// would read it: by PyPI's prometheus-client parser (`Fixtures/lab/lab install` puts it in the lab's Python venv).
extension LabTests {
    @Suite(.serialized) struct LabMetricsTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        @Test func aClusterMigrationThenARefusalAreCountedAndTheFigureReadDuringTheRun() throws {
            let directory = FileManager.default.temporaryDirectory.appending(
                path: "kvmm-lab-metrics-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer {
                try? FileManager.default.removeItem(at: directory)
                try? self.lab.resetAll()
            }
            let path = directory.appending(path: "kvmmigrate.prom").path
            let domain = ["domain": self.lab.domain]
            // Capped, so that the copy takes a few seconds and the file is rewritten during it.
            let running = try RunningCommand(
                try self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster",
                    "--bandwidth", "30", "--metrics-file", path,
                ]
            )
            var during: [PrometheusFile.Sample] = []
            let deadline = ContinuousClock.now + .seconds(180)
            while running.process.isRunning && ContinuousClock.now < deadline {
                // The first samples, in libvirt's set-up, have nothing left and no rate yet: read on until the copy.
                if let text = try? String(contentsOfFile: path, encoding: .utf8),
                    text.contains("kvmmigrate_migration_memory_transfer_rate_bytes{")
                {
                    during = try PrometheusFile.parse(path)
                    if (PrometheusFile.value(during, "kvmmigrate_migration_data_remaining_bytes", domain) ?? 0) > 0 {
                        break
                    }
                }
                Thread.sleep(forTimeInterval: 0.2)
            }
            let result = try running.wait(timeLimit: .seconds(180))
            #expect(result.exitCode == 0, "\(result.standardError)")

            // During the copy: in progress, with what is left and the rates.
            #expect(PrometheusFile.value(during, "kvmmigrate_migration_in_progress", domain) == 1)
            #expect((PrometheusFile.value(during, "kvmmigrate_migration_data_remaining_bytes", domain) ?? 0) > 0)
            #expect(
                (PrometheusFile.value(during, "kvmmigrate_migration_memory_transfer_rate_bytes", domain) ?? -1) >= 0
            )

            // After it: the counters and the run's figures.
            let after = try PrometheusFile.parse(path)
            #expect(PrometheusFile.value(after, "kvmmigrate_migrations_started_total", domain) == 1)
            #expect(PrometheusFile.value(after, "kvmmigrate_migrations_succeeded_total", domain) == 1)
            #expect(PrometheusFile.value(after, "kvmmigrate_cluster_operations_total", domain) == 1)
            #expect(PrometheusFile.value(after, "kvmmigrate_migration_in_progress", domain) == 0)
            #expect((PrometheusFile.value(after, "kvmmigrate_migration_downtime_seconds", domain) ?? 0) > 0)
            #expect((PrometheusFile.value(after, "kvmmigrate_migration_total_time_seconds", domain) ?? 0) > 1)
            #expect(
                (PrometheusFile.value(after, "kvmmigrate_migration_data_processed_bytes", domain) ?? 0)
                    > Double(1 << 20)
            )
            #expect((PrometheusFile.value(after, "kvmmigrate_migration_memory_passes", domain) ?? 0) >= 1)
            #expect(PrometheusFile.value(after, "kvmmigrate_migration_data_remaining_bytes", domain) == nil)
            #expect(
                after.first { $0.name == "kvmmigrate_migrations_succeeded_total" }?.type == "counter",
                "prometheus-client reads the counters as counters"
            )

            // A refused run adds to the same file; the earlier totals stay.
            let refused = try run(
                try self.lab.binary,
                [
                    "migrate", "no-such-guest", self.lab.destinationURI, "-c", self.lab.sourceURI,
                    "--metrics-file", path,
                ],
                timeLimit: .seconds(60)
            )
            #expect(refused.exitCode == 2, "\(refused.standardError)")
            let both = try PrometheusFile.parse(path)
            #expect(
                PrometheusFile.value(
                    both,
                    "kvmmigrate_migrations_failed_total",
                    ["domain": "no-such-guest", "reason": "refused"]
                ) == 1
            )
            #expect(PrometheusFile.value(both, "kvmmigrate_migrations_started_total", ["domain": "no-such-guest"]) == 1)
            #expect(PrometheusFile.value(both, "kvmmigrate_migrations_succeeded_total", domain) == 1)
            #expect(
                PrometheusFile.value(both, "kvmmigrate_migration_downtime_seconds", domain) == nil,
                "the last run's only"
            )
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["kvmmigrate.prom"])
        }

        @Test func aMetricsFileThatCannotBeWrittenIsAUsageErrorBeforeAnythingChanges() throws {
            let result = try run(
                try self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster",
                    "--metrics-file", "/nonexistent-kvmm/kvmmigrate.prom",
                ],
                timeLimit: .seconds(60)
            )
            #expect(result.exitCode == 64, "\(result.standardError)")
            #expect(result.standardError.contains("--metrics-file"))
            try self.lab.expectUnchanged()
        }
    }
}
