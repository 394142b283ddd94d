import ArgumentParser
import Foundation
import Migration
import Session
import Testing

@testable import kvmmigrate

@Suite struct EvacuateCommandTests {
    static let source = "qemu+tcp://10.77.0.1/system"

    @Test func everyOptionParsesIntoTheRequest() throws {
        let command = try #require(
            try KVMMigrate.parseAsRoot([
                "evacuate", Self.source, "--to", "qemu+tcp://10.77.0.2/system", "--to", "qemu+tcp://10.77.0.3/system",
                "--max-parallel", "3", "--max-incoming", "1", "--bandwidth", "200", "--allow-colocation",
                "--stop-on-error", "--policy", "low-downtime", "--json",
            ]) as? KVMMigrate.Evacuate
        )
        let request = command.request
        #expect(request.sourceURI == Self.source)
        #expect(request.destinationURIs == ["qemu+tcp://10.77.0.2/system", "qemu+tcp://10.77.0.3/system"])
        #expect(request.maxParallel == 3)
        #expect(request.maxIncomingPerDestination == 1)
        #expect(request.bandwidthMiBPerSecond == 200)
        #expect(request.allowColocation && request.stopOnError)
        #expect(try command.policyOptions.resolved().preset == .lowDowntime)
    }

    @Test(arguments: [
        ["--max-parallel", "0"], ["--max-parallel", "17"], ["--max-parallel", "-1"], ["--max-incoming", "0"],
        ["--bandwidth", "0"], ["--bandwidth", "x"], ["--to", "qemu+tcp://10.77.0.1/system"], ["--resume", "--dry-run"],
        ["--reconnect-timeout", "0"], ["--to", "qemu+tcp://b/system", "--to", "qemu+tcp://b/system"],
    ])
    func badNumbersAndContradictionsAreUsageErrors(_ arguments: [String]) {
        #expect(throws: (any Error).self, "\(arguments)") {
            _ = try KVMMigrate.parseAsRoot(["evacuate", Self.source] + arguments)
        }
    }

    @Test func statusesAreSnakeCaseInJSONAndWordsInText() {
        #expect(SessionOutcome.Status.migrationFailed.name == "migration_failed")
        #expect(SessionOutcome.Status.needsAttention.words == "needs attention")
        #expect(SessionOutcome.Status.migrated.name == "migrated")
    }

    @Test func longMessagesWrapUnderThemselvesOnATerminal() {
        let text = "  domain1 (cluster node guest1) → hostB: joins guest2 of its cluster: every other host has as many"
        let lines = EvacuationDisplay.wrapped(text, width: 40).split(separator: "\n")
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { $0.count <= 40 })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("    ") })
        #expect(lines.joined(separator: " ").split(separator: " ") == text.split(separator: " "))
    }

    @Test func theReportTableNamesEveryGuestAndWhyOneWasNotMoved() {
        let moved = EvacuationResult(
            guest: EvacuationGuest(name: "plain1", uuid: "u1", memoryBytes: 1 << 28),
            destination: "hostB",
            elapsed: .seconds(3)
        )
        let skipped = EvacuationResult(
            guest: EvacuationGuest(name: "plain2", uuid: "u2", memoryBytes: 1 << 28),
            destination: "hostC",
            note: "not started: SIGINT"
        )
        let text = EvacuateText.report(
            EvacuationOutcome(
                status: .aborted,
                message: "SIGINT: stopped",
                source: "hostA",
                results: [moved, skipped]
            ),
            dryRun: false
        )
        #expect(text.contains("Evacuation of hostA ended (aborted)"))
        #expect(text.contains("plain2: not started: SIGINT"))
        #expect(text.split(separator: "\n").contains { $0.contains("plain1") && $0.contains("hostB") })
    }
}
