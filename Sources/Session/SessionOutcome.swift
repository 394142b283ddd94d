import Cluster
import Migration
import Verification

/// How a ``MigrationSession`` ended: what it did, and one ``Status`` that the command line maps to its exit code.
public struct SessionOutcome: Sendable {
    /// How the operation ended, from the operator's side. Each status has one exit code.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// The guest runs on the destination (and the cluster, if any, is healthy).
        case migrated
        /// Refused before anything changed: a check failed, the domain is busy, the cluster is not ready.
        case refused
        /// Aborted on request: the guest keeps running on the source.
        case aborted
        /// The migration failed: the guest keeps running on the source.
        case migrationFailed
        /// A host or node could not be reached, or a URI is malformed: nothing changed.
        case unreachable
        /// The guest cluster is not healthy afterwards.
        case clusterNotHealthy
        /// The guest's location needs the operator: on both hosts, none, unknown, or split by post-copy.
        case needsAttention
        /// Something this tool did not expect.
        case internalFailure
    }

    public var status: Status
    /// Why the operation was refused before the migration started, when it was.
    public var refusal: Refusal?
    /// The migration's report, when it ran (or a post-copy migration was resumed).
    public var report: MigrationReport?
    /// What the cluster part did, when there was one and it got past its checks.
    public var cluster: ClusterOperation.Report?
    /// Who the migration concerned, once the pre-flight found it.
    public var target: MigrationTarget?
    /// The verification of the domain after it moved (``Verifier``), when it moved.
    public var verification: VerificationReport?

    /// Why nothing migrated.
    public enum Refusal: Sendable, CustomStringConvertible {
        case migration(MigrationError)
        case cluster(ClusterError)

        public var description: String {
            switch self {
            case .migration(let error): error.message
            case .cluster(let error): error.description
            }
        }
    }

    public init(
        status: Status,
        refusal: Refusal? = nil,
        report: MigrationReport? = nil,
        cluster: ClusterOperation.Report? = nil,
        target: MigrationTarget? = nil,
        verification: VerificationReport? = nil
    ) {
        self.status = status
        self.refusal = refusal
        self.report = report
        self.cluster = cluster
        self.target = target
        self.verification = verification
    }

    /// This outcome with the verification of the moved domain: a migration that ended well but whose verification
    /// fails is not a success (placement: ``Status/needsAttention``; anything else: ``Status/clusterNotHealthy``).
    func verified(by report: VerificationReport) -> SessionOutcome {
        var outcome = self
        outcome.verification = report
        if report.outcome == .fail, outcome.status == .migrated || outcome.status == .clusterNotHealthy {
            outcome.status = report.placementFailed ? .needsAttention : .clusterNotHealthy
        }
        return outcome
    }
}

// MARK: - Classification

extension SessionOutcome.Status {
    /// How a migration that ran ended: libvirt's word and where the hosts say the guest runs must agree.
    public init(_ report: MigrationReport) {
        switch (report.outcome, report.location.summary) {
        case (_, .both), (_, .nowhere), (_, .unknown), (_, .postCopyBroken): self = .needsAttention
        case (.completed, .destination): self = .migrated
        // libvirt's word and the hosts' disagree: the operator must look.
        case (.completed, .source), (.aborted, .destination), (.failed, .destination): self = .needsAttention
        case (.aborted, .source): self = .aborted
        case (.failed, .source): self = .migrationFailed
        }
    }

    /// How an operation that this error stopped ended.
    public init(_ error: MigrationError) {
        switch error.code {
        case .hostUnreachable, .invalidURI: self = .unreachable
        case .aborted: self = .aborted
        case .migrationFailed: self = .migrationFailed
        case .stateUnknown: self = .needsAttention
        default: self = error.code.isRefusal ? .refused : .internalFailure
        }
    }

    /// How an operation that the cluster's checks refused ended.
    public init(_ error: ClusterError) {
        self = error.code == .nodeUnreachable ? .unreachable : .refused
    }

    /// A migration inside the cluster steps: the guest's location comes first, then the cluster's health.
    public init(_ report: MigrationReport, cluster: ClusterOperation.Report) {
        let migration = Self(report)
        self = migration != .needsAttention && !cluster.healthy ? .clusterNotHealthy : migration
    }
}
