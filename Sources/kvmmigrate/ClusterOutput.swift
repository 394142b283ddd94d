import ArgumentParser
import Cluster
import Foundation

/// The cluster part of reports: text for a terminal and the JSON shape.
struct ClusterPart: Encodable {
    var guestNode: String
    var nodes: [String]
    var prepared: Bool
    var restored: Bool
    var healthy: Bool
    var host: HostPart?
    var verifySeconds: Double?
    var afterStepRetries: Int?
    /// Per node, what is still wrong.
    var problems: [String: [String]]
    var prepareFailure: String?
    var restoreProblem: String?
    var steps: [Step]

    struct HostPart: Encodable {
        var name: String
        var address: String
    }

    struct Step: Encodable {
        var node: String?
        var step: String
        var message: String
        var failed: Bool
        var warning: Bool
    }

    init(_ report: ClusterOperation.Report) {
        self.guestNode = report.guestNode
        self.nodes = report.nodes
        self.prepared = report.prepared
        self.restored = report.restore?.succeeded ?? false
        self.healthy = report.healthy
        self.host = report.host.map { HostPart(name: $0.name, address: $0.address) }
        self.verifySeconds = report.verification.map { Double($0.elapsed / .milliseconds(1)) / 1000 }
        self.afterStepRetries = report.verification?.retries
        var problems = report.verification?.problems ?? [:]
        for (node, failure) in report.restore?.failures ?? [:] {
            problems[node, default: []].append(failure.description)
        }
        self.problems = problems
        self.prepareFailure = report.prepareFailure
        self.restoreProblem = report.restoreProblem
        self.steps = report.events.map {
            Step(node: $0.node, step: $0.step, message: $0.message, failed: $0.failed, warning: $0.warning)
        }
    }

    var text: String {
        var lines: [String] = []
        let verdict = self.healthy ? "healthy" : "NOT healthy"
        lines.append(
            "Cluster (\(self.nodes.joined(separator: ", "))): \(verdict)"
                + (self.host.map { ", agents of \(self.guestNode) point at \($0.name) (\($0.address))" } ?? "")
        )
        if let failure = self.prepareFailure { lines.append("  prepare failed: \(failure)") }
        if let problem = self.restoreProblem { lines.append("  \(problem)") }
        if let seconds = self.verifySeconds {
            lines.append(
                String(format: "  verified in %.1f s", seconds)
                    + ((self.afterStepRetries ?? 0) > 0 ? ", after-step run again \(self.afterStepRetries!)×" : "")
            )
        }
        for node in self.problems.keys.sorted() {
            for problem in self.problems[node]! { lines.append("  \(node): \(problem)") }
        }
        return lines.joined(separator: "\n")
    }
}

/// Output helpers shared by the cluster commands.
enum ClusterOutput {
    /// Reports a refusal: one line on standard error (and a JSON document with `--json`); returns the exit code
    /// for the command to throw, so that its `defer`s run.
    static func refusal(_ error: ClusterError, command: String, json: Bool) -> ExitCode {
        if json {
            print(
                JSONOutput.encode(
                    RefusalDocument(command: command, exitCode: error.exitCode.rawValue, error: .init(error))
                )
            )
        }
        ProgressDisplay.write("Error: \(error.description)\n")
        return error.exitCode
    }

    struct RefusalDocument: Encodable {
        var schemaVersion = 1
        var command: String
        var outcome = "refused"
        var exitCode: Int32
        var error: ErrorPart

        struct ErrorPart: Encodable {
            var code: String
            var message: String
            var node: String?
            init(_ error: ClusterError) {
                self.code = error.code.rawValue
                self.message = error.description
                self.node = error.node
            }
        }
    }
}

/// The one JSON encoder of the command line: snake_case keys, sorted, ISO 8601 dates.
enum JSONOutput {
    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

extension ClusterEvent {
    /// The mark in front of the event's line: ✗ failed, ! a warning, ✓ done.
    var mark: String { self.failed ? "✗" : self.warning ? "!" : "✓" }

    /// The event as one line, without indent: its mark, its node (when it has one), its message.
    var line: String { "\(self.mark) \(self.node.map { "\($0): " } ?? "")\(self.message)" }
}
