import Foundation
import Libvirt

/// How a migration ended.
public enum MigrationOutcome: String, Sendable, Hashable, Codable {
    /// The guest runs on the destination.
    case completed
    /// The migration was aborted on request; the guest keeps running on the source.
    case aborted
    /// libvirt reported a failure.
    case failed
}

/// What a migration did, for the final report and `--json`.
public struct MigrationReport: Sendable {
    public var outcome: MigrationOutcome
    public var domainName: String
    public var domainUUID: String
    public var sourceURI: String
    public var destinationURI: String
    public var sourceHostname: String
    public var destinationHostname: String
    public var startedAt: Date
    /// Wall time from the start of the migration call to its return, or to the end of the recovery that followed
    /// a failure, as this tool measured it.
    public var totalTime: Duration
    /// The statistics of the completed job (real downtime, setup time, data, passes), when libvirt had them.
    public var completedStatistics: JobStats?
    /// The memory passes seen while the migration ran.
    public var memoryPassesSeen: Int?
    public var location: DomainLocation
    /// Why the migration did not complete, in libvirt's words.
    public var errorMessage: String?
    /// Set when an abort was requested, and why.
    public var abortReason: String?
    /// The convergence policy the migration ran under.
    public var policy: ConvergencePolicy?
    /// The steps the policy took, in order.
    public var steps: [ConvergenceStep]
    /// What was done after a failure to leave the guest running on exactly one host (``MigrationRecovery``).
    public var recoveryActions: [String]
    /// Set when a post-copy migration is left broken: the command that resumes it.
    public var resumeCommand: String?
    /// The guest's memory, which the completion timeout scales with.
    public var memoryBytes: UInt64?

    public init(
        outcome: MigrationOutcome,
        domainName: String,
        domainUUID: String,
        sourceURI: String,
        destinationURI: String,
        sourceHostname: String,
        destinationHostname: String,
        startedAt: Date,
        totalTime: Duration,
        completedStatistics: JobStats?,
        memoryPassesSeen: Int?,
        location: DomainLocation,
        errorMessage: String?,
        abortReason: String?,
        policy: ConvergencePolicy? = nil,
        steps: [ConvergenceStep] = [],
        memoryBytes: UInt64? = nil,
        recoveryActions: [String] = [],
        resumeCommand: String? = nil
    ) {
        self.recoveryActions = recoveryActions
        self.resumeCommand = resumeCommand
        self.memoryBytes = memoryBytes
        self.policy = policy
        self.steps = steps
        self.outcome = outcome
        self.domainName = domainName
        self.domainUUID = domainUUID
        self.sourceURI = sourceURI
        self.destinationURI = destinationURI
        self.sourceHostname = sourceHostname
        self.destinationHostname = destinationHostname
        self.startedAt = startedAt
        self.totalTime = totalTime
        self.completedStatistics = completedStatistics
        self.memoryPassesSeen = memoryPassesSeen
        self.location = location
        self.errorMessage = errorMessage
        self.abortReason = abortReason
    }

    /// The real downtime (from the completed job, never the running estimate).
    public var downtime: Duration? { self.completedStatistics?.downtime }
    public var setupTime: Duration? { self.completedStatistics?.setupTime }
    /// QEMU's own time for the migration job.
    public var migrationJobTime: Duration? { self.completedStatistics?.timeElapsed }
    public var dataTransferredBytes: UInt64? {
        self.completedStatistics?.dataProcessed ?? self.completedStatistics?.memoryProcessed
    }
    public var memoryPasses: Int? {
        self.completedStatistics?.memoryIteration.map { Int(clamping: $0) } ?? self.memoryPassesSeen
    }

    /// Data transferred divided by QEMU's job time.
    public var averageThroughputBytesPerSecond: UInt64? {
        guard let bytes = self.dataTransferredBytes, let time = self.migrationJobTime ?? Optional(self.totalTime)
        else { return nil }
        let milliseconds = time / .milliseconds(1)
        guard milliseconds > 0 else { return nil }
        return UInt64(Double(bytes) / (Double(milliseconds) / 1000))
    }
}

extension MigrationReport {
    /// The report of a migration ``LiveMigration`` ran: how it ended, from libvirt's answer to the migration call
    /// and, after a failure, from what ``MigrationRecovery`` did.
    ///
    /// A failed call still counts as completed when the guest runs on the destination because recovery resumed
    /// the broken post-copy migration or the source's libvirt finished it by itself; otherwise libvirt's error says
    /// whether the migration was aborted (`VIR_ERR_OPERATION_ABORTED`) or failed.
    ///
    /// - Parameters:
    ///   - prepared: The migration.
    ///   - result: What the migration call returned.
    ///   - recovery: What recovery did, when the migration needed it.
    ///   - location: Where the guest runs now.
    ///   - startedAt: When the migration started.
    ///   - totalTime: From the start of the migration call to its return, or to the end of the recovery after it.
    ///   - completedStatistics: The completed job's statistics, after a success.
    ///   - memoryPassesSeen: The memory passes seen while the migration ran.
    ///   - abortReason: Why an abort was requested, if one was.
    ///   - steps: The steps the convergence policy took.
    init(
        _ prepared: PreparedMigration,
        result: Result<Void, LibvirtError>,
        recovery: MigrationRecovery.Outcome?,
        location: DomainLocation,
        startedAt: Date,
        totalTime: Duration,
        completedStatistics: JobStats?,
        memoryPassesSeen: Int?,
        abortReason: String?,
        steps: [ConvergenceStep]
    ) {
        let request = prepared.request
        let outcome: MigrationOutcome
        let errorMessage: String?
        switch result {
        case .success:
            outcome = .completed
            errorMessage = nil
        case .failure
        where (recovery?.resumedPostCopy == true || recovery?.finishedBySource == true)
            && location.summary == .destination:
            outcome = .completed
            errorMessage = nil
        case .failure(let error):
            // An abort that kvmmigrate asked for (Ctrl-C, the policy's time limit) can reach QEMU while the
            // destination is loading a page: libvirt then reports the destination's load error instead of
            // "operation aborted" (seen: "Unknown combination of migration flags: 0x0"). With the guest on the
            // source, that is still the abort that was asked for; libvirt's message stays in the report.
            let askedAndStayed = abortReason != nil && location.summary == .source
            outcome = error.code == .operationAborted || askedAndStayed ? .aborted : .failed
            errorMessage = error.message
        }
        // What recovery did is in the report too (the "recovery" and "resume with" rows, `--json`), not only in
        // the notices shown while it ran.
        self.init(
            outcome: outcome,
            domainName: prepared.domainName,
            domainUUID: prepared.domainUUID,
            sourceURI: request.sourceURI,
            destinationURI: request.destinationURI,
            sourceHostname: prepared.sourceHostname,
            destinationHostname: prepared.destinationHostname,
            startedAt: startedAt,
            totalTime: totalTime,
            completedStatistics: completedStatistics,
            memoryPassesSeen: memoryPassesSeen,
            location: location,
            errorMessage: errorMessage,
            abortReason: abortReason,
            policy: request.policy,
            steps: steps,
            memoryBytes: prepared.memoryKiB * 1024,
            recoveryActions: recovery?.actions ?? [],
            resumeCommand: recovery?.resumeCommand
        )
    }
}
