import Foundation
import Testing

/// `migrate --metrics-file` on real migrations, the file read as node_exporter's textfile collector and Prometheus
/// would read it: by PyPI's prometheus-client parser (`Fixtures/lab/lab install` puts it in the lab's Python venv).
extension LabTests {
    @Suite(.serialized) struct LabMetricsTests {
        let lab: Lab

        /// Where `Fixtures/lab/lab install` puts prometheus-client.
        static let python = URL(filePath: "/opt/kvmm-ansible/bin/python")

        /// Prints every sample as JSON: `[family type, sample name, labels, value]`.
        static let parser = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = []
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for sample in family.samples:
                    out.append([family.type, sample.name, sample.labels, sample.value])
            print(json.dumps(out))
            """

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        /// One sample of the parsed file.
        struct Sample {
            var type: String
            var name: String
            var labels: [String: String]
            var value: Double
        }

        /// The file as prometheus-client parses it; a file it cannot parse fails the test.
        func parse(_ path: String) throws -> [Sample] {
            guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
                throw LabError("no \(Self.python.path): run Fixtures/lab/lab install")
            }
            let result = try run(Self.python, ["-c", Self.parser, path])
            #expect(result.exitCode == 0, "prometheus-client cannot parse \(path): \(result.standardError)")
            let rows = try #require(
                try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[Any]]
            )
            return try rows.map { row in
                Sample(
                    type: try #require(row[0] as? String),
                    name: try #require(row[1] as? String),
                    labels: try #require(row[2] as? [String: String]),
                    value: try #require((row[3] as? NSNumber)?.doubleValue)
                )
            }
        }

        func value(_ samples: [Sample], _ name: String, _ labels: [String: String]) -> Double? {
            samples.first { $0.name == name && $0.labels == labels }?.value
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
            var during: [Sample] = []
            let deadline = ContinuousClock.now + .seconds(180)
            while running.process.isRunning && ContinuousClock.now < deadline {
                // The first samples, in libvirt's set-up, have nothing left and no rate yet: read on until the copy.
                if let text = try? String(contentsOfFile: path, encoding: .utf8),
                    text.contains("kvmmigrate_migration_memory_transfer_rate_bytes{")
                {
                    during = try self.parse(path)
                    if (self.value(during, "kvmmigrate_migration_data_remaining_bytes", domain) ?? 0) > 0 { break }
                }
                Thread.sleep(forTimeInterval: 0.2)
            }
            let result = try running.wait(timeLimit: .seconds(180))
            #expect(result.exitCode == 0, "\(result.standardError)")

            // During the copy: in progress, with what is left and the rates.
            #expect(self.value(during, "kvmmigrate_migration_in_progress", domain) == 1)
            #expect((self.value(during, "kvmmigrate_migration_data_remaining_bytes", domain) ?? 0) > 0)
            #expect((self.value(during, "kvmmigrate_migration_memory_transfer_rate_bytes", domain) ?? -1) >= 0)

            // After it: the counters and the run's figures.
            let after = try self.parse(path)
            #expect(self.value(after, "kvmmigrate_migrations_started_total", domain) == 1)
            #expect(self.value(after, "kvmmigrate_migrations_succeeded_total", domain) == 1)
            #expect(self.value(after, "kvmmigrate_cluster_operations_total", domain) == 1)
            #expect(self.value(after, "kvmmigrate_migration_in_progress", domain) == 0)
            #expect((self.value(after, "kvmmigrate_migration_downtime_seconds", domain) ?? 0) > 0)
            #expect((self.value(after, "kvmmigrate_migration_total_time_seconds", domain) ?? 0) > 1)
            #expect((self.value(after, "kvmmigrate_migration_data_processed_bytes", domain) ?? 0) > Double(1 << 20))
            #expect((self.value(after, "kvmmigrate_migration_memory_passes", domain) ?? 0) >= 1)
            #expect(self.value(after, "kvmmigrate_migration_data_remaining_bytes", domain) == nil)
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
            let both = try self.parse(path)
            #expect(
                self.value(
                    both,
                    "kvmmigrate_migrations_failed_total",
                    ["domain": "no-such-guest", "reason": "refused"]
                ) == 1
            )
            #expect(self.value(both, "kvmmigrate_migrations_started_total", ["domain": "no-such-guest"]) == 1)
            #expect(self.value(both, "kvmmigrate_migrations_succeeded_total", domain) == 1)
            #expect(self.value(both, "kvmmigrate_migration_downtime_seconds", domain) == nil, "the last run's only")
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
