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
    var error: ErrorPart?
    /// The PRIMECLUSTER part, with `--cluster`.
    var cluster: ClusterPart?

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

    struct ErrorPart: Encodable {
        var code: String
        var message: String
    }

    init(report: MigrationReport, exitCode: ExitCode) {
        self.outcome = report.outcome.rawValue
        self.exitCode = exitCode.rawValue
        self.domain = DomainPart(name: report.domainName, uuid: report.domainUUID)
        self.source = HostPart(
            uri: report.sourceURI, hostname: report.sourceHostname,
            domainState: report.location.sourceState?.description ?? "absent")
        self.destination = HostPart(
            uri: report.destinationURI, hostname: report.destinationHostname,
            domainState: report.location.destinationState?.description ?? "absent")
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
    /// The exit code that tells a script how the migration ended.
    var exitCode: ExitCode {
        switch (self.outcome, self.location.summary) {
        case (_, .both), (_, .nowhere), (_, .unknown): .needsAttention
        case (.completed, .destination): .success
        // libvirt's word and the hosts' disagree: the operator must look.
        case (.completed, .source), (.aborted, .destination), (.failed, .destination): .needsAttention
        case (.aborted, .source): .aborted
        case (.failed, .source): .migrationFailed
        }
    }

    /// The final report for a terminal.
    var text: String {
        var headline: String
        switch self.outcome {
        case .completed: headline = "Migrated \(self.domainName) from \(self.sourceHostname) to \(self.destinationHostname)."
        case .aborted:
            headline = "Migration of \(self.domainName) aborted\(self.abortReason.map { " (\($0))" } ?? "")."
        case .failed: headline = "Migration of \(self.domainName) failed: \(self.errorMessage ?? "unknown error")"
        }
        if self.outcome != .completed, self.location.summary == .destination {
            headline += "\n  libvirt reported the migration unfinished, but the guest runs on the destination."
        }
        let runningOn: String
        switch self.location.summary {
        case .destination: runningOn = "\(self.destinationHostname) (\(self.destinationURI)), \(self.location.destinationState!)"
        case .source: runningOn = "\(self.sourceHostname) (\(self.sourceURI)), \(self.location.sourceState!)"
        case .both: runningOn = "BOTH hosts — stop one copy: source \(self.location.sourceState!), destination \(self.location.destinationState!)"
        case .nowhere: runningOn = "no host — the guest is not running anywhere"
        case .unknown: runningOn = "unknown: \(self.location.problem ?? "")"
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
        return ([headline] + rows.map { "  \($0.0.padding(toLength: 17, withPad: " ", startingAt: 0))\($0.1)" })
            .joined(separator: "\n")
    }
}

extension MigrationError {
    var exitCode: ExitCode {
        switch self.code {
        case .hostUnreachable, .invalidURI: .unreachable
        case .aborted: .aborted
        case .migrationFailed: .migrationFailed
        case .stateUnknown: .needsAttention
        default: self.code.isRefusal ? .refused : .failure
        }
    }
}
