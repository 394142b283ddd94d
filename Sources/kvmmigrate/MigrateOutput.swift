import ArgumentParser
import Foundation
import Libvirt
import Migration

/// The `--json` document of `kvmmigrate migrate`: stable snake_case keys with units in their names.
struct MigrateDocument: Encodable {
    var schemaVersion = 1
    var command = "migrate"
    /// `completed`, `aborted`, `failed`, `refused` or `unreachable`.
    var outcome: String
    var exitCode: Int32
    var domain: DomainPart?
    var source: HostPart?
    var destination: HostPart?
    var startedAt: Date?
    var totalTimeMilliseconds: Int64?
    var downtimeMilliseconds: Int64?
    var setupTimeMilliseconds: Int64?
    var migrationTimeMilliseconds: Int64?
    var dataTransferredBytes: UInt64?
    var memoryPasses: Int?
    var averageThroughputBytesPerSecond: UInt64?
    var runningOn: String?
    var abortReason: String?
    /// The convergence policy and the steps it took.
    var policy: PolicyPart?
    var steps: [StepPart]?
    /// What was done after a failure so that the guest runs on exactly one host.
    var recoveryActions: [String]?
    /// Set when a broken post-copy migration is left to resume: the command that resumes it.
    var resumeCommand: String?
    var error: ErrorPart?
    /// The PRIMECLUSTER part, with `--cluster`.
    var cluster: ClusterPart?
    /// The verification of the moved domain (and its cluster, with `--cluster`).
    var verification: VerificationDocument?

    struct DomainPart: Encodable {
        var name: String
        var uuid: String?
    }

    struct HostPart: Encodable {
        var uri: String
        var hostname: String?
        /// The domain's state there after the migration, as `virsh domstate --reason` would say it.
        var domainState: String?
    }

    struct PolicyPart: Encodable {
        /// The preset, or `custom`.
        var name: String
        var summary: String
        var maxDowntimeMilliseconds: Int64
        var downtimeStepsMilliseconds: [Int64]
        var autoConverge: Bool
        var allowPostcopy: Bool
        var completionTimeoutSecondsPerGib: Int64?
        var completionTimeoutMilliseconds: Int64?
        var timeoutAction: String

        init(_ policy: ConvergencePolicy, memoryBytes: UInt64?) {
            self.name = policy.preset?.rawValue ?? "custom"
            self.summary = policy.summary
            self.maxDowntimeMilliseconds = policy.maximumDowntime.wholeMilliseconds
            self.downtimeStepsMilliseconds = policy.downtimeSteps.map { $0.wholeMilliseconds }
            self.autoConverge = policy.autoConverge
            self.allowPostcopy = policy.allowPostCopy
            self.completionTimeoutSecondsPerGib = policy.completionTimeoutPerGiB.map { $0.wholeMilliseconds / 1000 }
            self.completionTimeoutMilliseconds = memoryBytes.flatMap { policy.completionTimeout(memoryBytes: $0) }
                .map { $0.wholeMilliseconds }
            self.timeoutAction = policy.timeoutAction.rawValue
        }
    }

    struct StepPart: Encodable {
        /// `downtime`, `auto_converge`, `post_copy`, `timeout` or `failed`.
        var kind: String
        var elapsedMilliseconds: Int64
        var memoryPass: Int?
        var downtimeMilliseconds: Int64?
        var throttlePercent: Int?
        var timeoutAction: String?
        var detail: String

        init(_ step: ConvergenceStep) {
            self.kind = step.kind.rawValue
            self.elapsedMilliseconds = step.elapsed.wholeMilliseconds
            self.memoryPass = step.pass
            self.downtimeMilliseconds = step.downtime.map { $0.wholeMilliseconds }
            self.throttlePercent = step.throttlePercent
            self.timeoutAction = step.timeoutAction?.rawValue
            self.detail = step.detail
        }
    }

    struct ErrorPart: Encodable {
        var code: String
        var message: String
    }

    init(report: MigrationReport, exitCode: ExitCode) {
        self.outcome = report.outcome.rawValue
        self.exitCode = exitCode.rawValue
        self.domain = DomainPart(name: report.domainName, uuid: report.domainUUID)
        self.source = HostPart(
            uri: report.sourceURI,
            hostname: report.sourceHostname,
            domainState: report.location.sourceState?.description ?? "absent"
        )
        self.destination = HostPart(
            uri: report.destinationURI,
            hostname: report.destinationHostname,
            domainState: report.location.destinationState?.description ?? "absent"
        )
        self.startedAt = report.startedAt
        self.totalTimeMilliseconds = Format.milliseconds(report.totalTime)
        self.downtimeMilliseconds = Format.milliseconds(report.downtime)
        self.setupTimeMilliseconds = Format.milliseconds(report.setupTime)
        self.migrationTimeMilliseconds = Format.milliseconds(report.migrationJobTime)
        self.dataTransferredBytes = report.dataTransferredBytes
        self.memoryPasses = report.memoryPasses
        self.averageThroughputBytesPerSecond = report.averageThroughputBytesPerSecond
        self.runningOn = report.location.summary.rawValue
        self.abortReason = report.abortReason
        self.policy = report.policy.map { PolicyPart($0, memoryBytes: report.memoryBytes) }
        self.steps = report.steps.map(StepPart.init)
        self.recoveryActions = report.recoveryActions
        self.resumeCommand = report.resumeCommand
        if let message = report.errorMessage {
            self.error = ErrorPart(code: report.outcome == .aborted ? "aborted" : "migration-failed", message: message)
        }
    }

    init(error: MigrationError, request: MigrationRequest, exitCode: ExitCode, cluster: ClusterPart? = nil) {
        self.cluster = cluster
        self.outcome = error.code == .hostUnreachable || error.code == .invalidURI ? "unreachable" : "refused"
        self.exitCode = exitCode.rawValue
        self.domain = DomainPart(name: request.domain, uuid: nil)
        self.source = HostPart(uri: request.sourceURI)
        self.destination = HostPart(uri: request.destinationURI)
        self.error = ErrorPart(code: error.code.rawValue, message: error.message)
    }

    func json() -> String {
        JSONOutput.encode(self)
    }
}

extension MigrationReport {
    /// The final report for standard error: on a terminal, broken to its width.
    var text: String {
        self.text(width: ProgressDisplay.usableWidth(.standardError), glyphs: .current)
    }

    /// The final report in the characters `glyphs` allows, each line at most `width` columns where it can be
    /// broken at a space: a row's value continues under itself, the headline under its second word.
    func text(width: Int?, glyphs: Glyphs) -> String {
        var headline: String
        switch self.outcome {
        case .completed:
            headline = "Migrated \(self.domainName) from \(self.sourceHostname) to \(self.destinationHostname)."
        case .aborted:
            headline = "Migration of \(self.domainName) aborted\(self.abortReason.map { " (\($0))" } ?? "")."
        case .failed: headline = "Migration of \(self.domainName) failed: \(self.errorMessage ?? "unknown error")"
        }
        if self.outcome != .completed, self.location.summary == .destination {
            headline += "\n  libvirt reported the migration unfinished, but the guest runs on the destination."
        }
        let runningOn: String
        switch self.location.summary {
        case .destination:
            runningOn = "\(self.destinationHostname) (\(self.destinationURI)), \(self.location.destinationState!)"
        case .source: runningOn = "\(self.sourceHostname) (\(self.sourceURI)), \(self.location.sourceState!)"
        case .both:
            runningOn =
                "BOTH hosts — stop one copy: source \(self.location.sourceState!), destination \(self.location.destinationState!)"
        case .nowhere: runningOn = "no host — the guest is not running anywhere"
        case .unknown: runningOn = "unknown: \(self.location.problem ?? "")"
        case .postCopyBroken:
            runningOn =
                "SPLIT by a broken post-copy migration — do not stop either copy: source "
                + "\(Self.copyState(self.location.sourceState, answered: self.location.sourceAnswered)), destination "
                + "\(Self.copyState(self.location.destinationState, answered: self.location.destinationAnswered))"
        }
        var rows: [(String, String)] = [
            ("running on", runningOn),
            ("total time", Format.duration(self.totalTime)),
        ]
        if self.outcome == .completed {
            rows += [
                ("downtime", Format.duration(self.downtime)),
                ("setup time", Format.duration(self.setupTime)),
                ("migration time", Format.duration(self.migrationJobTime)),
                ("data transferred", Format.bytes(self.dataTransferredBytes)),
                ("memory passes", self.memoryPasses.map(String.init) ?? "-"),
                ("avg throughput", Format.rate(self.averageThroughputBytesPerSecond)),
            ]
        }
        if let command = self.resumeCommand { rows.append(("resume with", command)) }
        for action in self.recoveryActions { rows.append(("recovery", action)) }
        if let policy = self.policy { rows.append(("policy", policy.summary)) }
        rows.append(("policy steps", self.steps.isEmpty ? "none" : "\(self.steps.count)"))
        let steps = self.steps.map { "    \(Format.clock($0.elapsed)) \($0.detail)" }
        guard let width else {
            return glyphs.text(
                ([headline] + rows.map { "  \($0.0.padding(toLength: 17, withPad: " ", startingAt: 0))\($0.1)" } + steps)
                    .joined(separator: "\n")
            )
        }
        let labelColumns = 19
        let rowLines = rows.map { label, value in
            let head = "  " + label.padding(toLength: 17, withPad: " ", startingAt: 0)
            let lines = Format.wrapped(glyphs.text(value), width: width - labelColumns)
            return head + lines.joined(separator: "\n" + String(repeating: " ", count: labelColumns))
        }
        return
            ([Columns.wrapped(lines: glyphs.text(headline), width: width)] + rowLines
            + steps.map { Columns.wrapped(lines: glyphs.text($0), width: width, hanging: 12) })
            .joined(separator: "\n")
    }

    /// One copy's state for the "running on" row: its state, "not answering" when its host could not be asked,
    /// or "no copy" when its host answered without one.
    private static func copyState(_ state: DomainStateInfo?, answered: Bool) -> String {
        state.map(String.init(describing:)) ?? (answered ? "no copy" : "not answering")
    }
}
