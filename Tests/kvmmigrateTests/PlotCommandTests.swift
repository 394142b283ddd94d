import ArgumentParser
import Foundation
import Testing

@testable import kvmmigrate

@Suite struct PlotCommandTests {
    private func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appending(path: "kvmm-plot-\(UUID().uuidString)-\(name)")
    }

    /// Runs `kvmmigrate plot` as a user would; returns the exit code it throws (0 when none).
    private func plot(_ arguments: [String]) throws -> Int32 {
        let command = try #require(try KVMMigrate.parseAsRoot(["plot"] + arguments) as? KVMMigrate.Plot)
        do {
            try command.run()
            return 0
        } catch let code as ExitCode {
            return code.rawValue
        }
    }

    @Test func aTraceBecomesAnSVGFile() throws {
        let trace = self.temporaryFile("run.jsonl")
        let picture = self.temporaryFile("run.svg")
        defer {
            try? FileManager.default.removeItem(at: trace)
            try? FileManager.default.removeItem(at: picture)
        }
        try Data(
            """
            {"command":"migrate","domain":"domain1","t":0,"trace_version":1,"type":"start"}
            {"name":"checks","t":0,"type":"phase"}
            {"destination_host":"hostB","name":"migrating","source_host":"hostA","t":0.5,"type":"phase"}
            {"data_remaining_bytes":104857600,"data_total_bytes":104857600,"pass":1,"t":0.7,"type":"sample"}
            {"t":1.5,"type":"migration_end"}
            {"status":"migrated","t":1.6,"type":"outcome"}

            """.utf8
        ).write(to: trace)
        #expect(try self.plot([trace.path, "-o", picture.path]) == 0)
        let svg = try String(contentsOf: picture, encoding: .utf8)
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains("domain1: hostA → hostB, migrated"))
    }

    @Test func anUnusableTraceIsExit65() throws {
        let trace = self.temporaryFile("bad.jsonl")
        defer { try? FileManager.default.removeItem(at: trace) }
        try Data("{\"t\": 0, \"type\": \"start\"}\n{\"t\": 1, \"ty".utf8).write(to: trace)
        #expect(try self.plot([trace.path, "-o", self.temporaryFile("x.svg").path]) == 65)
        #expect(try self.plot(["/nonexistent-kvmm/run.jsonl", "-o", self.temporaryFile("x.svg").path]) == 65)
    }

    @Test func anOutputThatIsNeitherSVGNorPNGIsAUsageError() {
        #expect(usageError(["plot", "run.jsonl", "-o", "run.gif"]).contains(".svg or a .png"))
        #expect(usageError(["plot", "run.jsonl", "-o", "run.svg", "--width", "10"]).contains("480 to 4000"))
        #expect(usageError(["plot", "run.jsonl"]).contains("--output"))
    }

    @Test func traceAndDryRunAreAUsageError() {
        #expect(
            usageError(["migrate", "d", "qemu+tcp://b/system", "--trace", "run.jsonl", "--dry-run"]).contains("--trace")
        )
        #expect(usageError(["migrate", "d", "qemu+tcp://b/system", "--trace", ""]).contains("--trace"))
    }

    @Test func migrateTakesATraceFile() throws {
        let command = try #require(
            try KVMMigrate.parseAsRoot(["migrate", "d", "qemu+tcp://b/system", "--trace", "run.jsonl"])
                as? KVMMigrate.Migrate
        )
        #expect(command.trace == "run.jsonl")
    }

    @Test func theExitCodeTableHasPlotsCodes() {
        #expect(ExitCodes.table.contains { $0.code == 65 && $0.meaning.contains("trace") })
        #expect(ExitCodes.table.contains { $0.code == 64 && $0.meaning.contains("librsvg2-bin") })
    }
}
