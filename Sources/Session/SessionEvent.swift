import Cluster
import Migration

/// Something a ``MigrationSession`` tells while it runs, in order, for progress output.
public enum SessionEvent: Sendable {
    /// The cluster's checks and prepare begin.
    case preparingCluster(domain: String)
    /// One step of the cluster's checks, prepare, restore or verify, on a node or on the whole cluster.
    case cluster(ClusterEvent)
    /// The migration starts, under this convergence policy.
    case migrationStarted(MigrationTarget, policy: String)
    /// A broken post-copy migration is being resumed (`--postcopy-resume`).
    case resumingPostCopy(MigrationTarget)
    /// A progress observation of the running migration.
    case progress(MigrationProgress)
    /// A step the convergence policy took.
    case policyStep(ConvergenceStep)
    /// One line worth telling the operator: the link looks down, what recovery does.
    case notice(String)
    /// The migration call returned (successfully or not); no more progress follows.
    case migrationEnded
    /// The cluster's restore begins (after the migration, whatever its result).
    case restoringCluster
    /// The moved domain (and its cluster) is being verified.
    case verifying(domain: String)
}
