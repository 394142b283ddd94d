import Foundation
import Verification

/// A verification, for `--json` and for the terminal.
struct VerificationDocument: Encodable {
    var schemaVersion = 1
    var command: String
    var outcome: String
    var exitCode: Int32
    var elapsedSeconds: Double
    var checks: [Check]
    /// What `--fix` did.
    var repairs: [String]?
    /// The checks before `--fix` repaired anything.
    var before: [Check]?

    struct Check: Encodable {
        /// `domain`, `node` or `cluster`.
        var kind: String
        var subject: String?
        /// The CF node name of a domain that is a node of the cluster.
        var node: String?
        var check: String
        var outcome: String
        var detail: String
        /// What `--fix` does about it.
        var repair: String?

        init(_ check: VerificationCheck) {
            switch check.subject {
            case .domain(let name, let node):
                (self.kind, self.subject, self.node) = ("domain", name, node)
            case .node(let name):
                (self.kind, self.subject, self.node) = ("node", name, name)
            case .cluster:
                (self.kind, self.subject, self.node) = ("cluster", nil, nil)
            }
            self.check = check.name
            self.outcome = check.outcome.rawValue
            self.detail = check.detail
            self.repair = check.repair?.description
        }
    }

    private var report: VerificationReport

    enum CodingKeys: String, CodingKey {
        case schemaVersion, command, outcome, exitCode, elapsedSeconds, checks, repairs, before
    }

    init(_ report: VerificationReport, command: String) {
        self.report = report
        self.command = command
        self.outcome = report.outcome.rawValue
        self.exitCode = report.exitCode?.rawValue ?? 0
        self.elapsedSeconds = Double(report.elapsed / .milliseconds(1)) / 1000
        self.checks = report.checks.map(Check.init)
        self.repairs = report.repairs.isEmpty ? nil : report.repairs
        self.before = report.before?.map(Check.init)
    }

    /// One line per check, grouped by domain and node; what --fix did; a summary line.
    var text: String {
        var lines: [String] = []
        if let before = self.report.before {
            let failing = before.filter { $0.outcome != .pass }
            lines.append("Before repairing:")
            for check in failing {
                lines.append(Self.line(check, subject: true, indent: "  ", width: Terminal.standardError.columns))
            }
        }
        if !self.report.repairs.isEmpty {
            lines.append("Repaired:")
            for repair in self.report.repairs { lines.append("  \(repair)") }
            lines.append("After repairing:")
        }
        // On a terminal, long details wrap under themselves.
        let width = Terminal.standardError.columns
        for (subject, checks) in self.report.grouped {
            lines.append(subject.description)
            for check in checks { lines.append(Self.line(check, subject: false, indent: "  ", width: width)) }
        }
        lines.append(self.summary)
        return lines.joined(separator: "\n")
    }

    /// What a migration's report shows: what did not pass, then the summary.
    var briefText: String {
        let notPassing = self.report.checks.filter { $0.outcome != .pass }
        let counts = Dictionary(grouping: self.report.checks, by: \.outcome).mapValues(\.count)
        let summary =
            "Verified where it runs now (kvmmigrate verify): \(counts[.pass] ?? 0) passed, "
            + "\(counts[.warn] ?? 0) warned, \(counts[.fail] ?? 0) failed"
        let width = Terminal.standardError.columns
        return ([summary] + notPassing.map { Self.line($0, subject: true, indent: "  ", width: width) })
            .joined(separator: "\n")
    }

    static func line(
        _ check: VerificationCheck,
        subject: Bool,
        indent: String = "",
        width: Int? = nil
    ) -> String {
        let mark =
            switch check.outcome {
            case .pass: "pass"
            case .warn: "warn"
            case .fail: "FAIL"
            }
        let name = check.name.padding(toLength: max(16, check.name.count), withPad: " ", startingAt: 0)
        let head = indent + "\(mark)  " + (subject ? "\(check.subject): " : "") + "\(name)  "
        guard let width else { return head + check.detail }
        let headColumns = Columns.width(of: head)
        let lines = Format.wrapped(check.detail, width: width - headColumns)
        return head + lines.joined(separator: "\n" + String(repeating: " ", count: headColumns))
    }

    var summary: String {
        let counts = Dictionary(grouping: self.report.checks, by: \.outcome).mapValues(\.count)
        let failed = counts[.fail] ?? 0
        let warned = counts[.warn] ?? 0
        let passed = counts[.pass] ?? 0
        return String(format: "Verified in %.2f s: ", self.elapsedSeconds)
            + "\(failed) failed, \(warned) warning\(warned == 1 ? "" : "s"), \(passed) passed."
    }
}
