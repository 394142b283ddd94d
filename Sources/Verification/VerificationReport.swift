import Foundation

/// Everything a verification found, and what `--fix` did.
public struct VerificationReport: Sendable {
    /// The checks, grouped by subject in the order they were made.
    public var checks: [VerificationCheck]
    /// What `--fix` did (empty without `--fix`), one line each, failures included.
    public var repairs: [String]
    /// The checks as they were before `--fix` repaired anything (`nil` without `--fix`, or when nothing needed it).
    public var before: [VerificationCheck]?
    public var elapsed: Duration

    public init(
        checks: [VerificationCheck],
        repairs: [String] = [],
        before: [VerificationCheck]? = nil,
        elapsed: Duration = .zero
    ) {
        self.checks = checks
        self.repairs = repairs
        self.before = before
        self.elapsed = elapsed
    }

    /// The worst outcome; `pass` when there is no check.
    public var outcome: VerificationCheck.Outcome { self.checks.map(\.outcome).max() ?? .pass }

    /// Whether a failing check is about where a domain runs (placement): the exit code tells it apart.
    public var placementFailed: Bool {
        self.checks.contains { $0.outcome == .fail && $0.name == VerificationReport.placement }
    }

    /// The subjects in the order of their first check, each with its checks.
    public var grouped: [(subject: VerificationCheck.Subject, checks: [VerificationCheck])] {
        var order: [VerificationCheck.Subject] = []
        var groups: [VerificationCheck.Subject: [VerificationCheck]] = [:]
        for check in self.checks {
            if groups[check.subject] == nil { order.append(check.subject) }
            groups[check.subject, default: []].append(check)
        }
        return order.map { ($0, groups[$0] ?? []) }
    }

    /// The name of the check on where a domain runs.
    public static let placement = "placement"
}
