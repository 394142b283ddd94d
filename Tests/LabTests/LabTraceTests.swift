import Foundation
import Testing
import Trace

/// `migrate --trace` on a real cluster migration, and `plot` of what it wrote.
extension LabTests {
    @Suite(.serialized) struct LabTraceTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        @Test func aClusterMigrationsTraceHasItsSamplesStepsAndDowntimeAndPlots() throws {
            let directory = FileManager.default.temporaryDirectory.appending(
                path: "kvmm-lab-trace-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer {
                try? FileManager.default.removeItem(at: directory)
                try? self.lab.resetAll()
            }
            let trace = directory.appending(path: "run.jsonl").path
            // Capped, so that the copy takes a few seconds and the monitor samples it several times.
            let result = try run(
                try self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster",
                    "--bandwidth", "30", "--json", "--trace", trace,
                ],
                timeLimit: .seconds(180)
            )
            #expect(result.exitCode == 0, "\(result.standardError)")
            let report = try result.json

            let records = try TraceFile(contentsOf: trace).records
            #expect(records.first?.kind == .start)
            #expect(records.last?.kind == .outcome)
            #expect(records.last?.status == "migrated")
            #expect(records.last?.runningOn == "destination")
            #expect(records.map(\.time) == records.map(\.time).sorted())

            // Samples of the copy: what is left falls (this guest does not dirty its memory).
            let remaining = records.filter { $0.kind == .sample && ($0.dataTotalBytes ?? 0) > 0 }
                .compactMap(\.dataRemainingBytes)
            #expect(remaining.count >= 4, "\(remaining)")
            #expect(zip(remaining, remaining.dropFirst()).allSatisfy { $0 >= $1 }, "\(remaining)")
            #expect((remaining.first ?? 0) > (remaining.last ?? 0))
            #expect(records.contains { $0.kind == .pass && $0.pass == 1 })

            // The phases and the cluster's steps, in order.
            let phases = records.filter { $0.kind == .phase }.compactMap(\.name)
            for phase in ["checks", "prepare", "migrating", "restore", "verify"] {
                #expect(phases.contains(phase), "no \(phase) in \(phases)")
            }
            let steps = records.filter { $0.kind == .cluster }.compactMap(\.name)
            for step in [
                "sf-stopped", "timeout-written", "timeout-loaded", "timeout-restored", "agents-pointed",
                "sf-started", "verified",
            ] {
                #expect(steps.contains(step), "no \(step) in \(steps)")
            }
            let migrating = try #require(records.first { $0.name == "migrating" }).time
            let restoring = try #require(records.first { $0.name == "restore" }).time
            #expect(records.filter { $0.name == "sf-stopped" }.allSatisfy { $0.time < migrating })
            #expect(records.filter { $0.name == "sf-started" }.allSatisfy { $0.time > restoring })

            // The downtime is the report's.
            let downtime = try #require(records.first { $0.kind == .downtime })
            #expect(downtime.downtimeMilliseconds == (report["downtime_milliseconds"] as? Int).map(Int64.init))
            #expect((downtime.downtimeMilliseconds ?? 0) > 0)

            // And plot draws it.
            let picture = directory.appending(path: "run.svg").path
            let plotted = try run(try self.lab.binary, ["plot", trace, "-o", picture])
            #expect(plotted.exitCode == 0, "\(plotted.standardError)")
            let svg = try String(contentsOfFile: picture, encoding: .utf8)
            #expect(svg.hasPrefix("<?xml"))
            #expect(svg.contains("\(self.lab.domain): hostA → hostB, migrated"))
            #expect(svg.contains("class=\"remaining\""))
            #expect(svg.contains("switch-over: downtime \(downtime.downtimeMilliseconds ?? -1) ms"))
        }
    }
}
