import Cluster
import Foundation
import Migration
import Verification

/// What a ``MigrationSession`` needs from libvirt: the pre-flight, which opens both hosts.
///
/// ``LibvirtMigrationDriver`` is the real one; the session's unit tests give a fake, so that the order of the
/// session's steps is tested without hosts.
public protocol MigrationDriver: Sendable {
    /// Opens both hosts and checks the request against them (``MigrationPreflight``). Changes nothing.
    ///
    /// - Parameter resumingPostCopy: The domain must be in a broken post-copy migration instead of running.
    /// - Throws: ``MigrationError`` with a refusal code, or ``MigrationError/Code/hostUnreachable``.
    func connect(
        _ request: MigrationRequest,
        resumingPostCopy: Bool
    ) async throws(MigrationError)
        -> any MigrationConnection
}

/// One migration over open connections, after its pre-flight passed.
public protocol MigrationConnection: Sendable {
    var target: MigrationTarget { get }

    /// What the pre-flight established and every check beyond it (``MigrationCheck/afterPreflight(_:copyStorage:)``).
    func checks(copyStorage: Bool) async -> [CheckResult]

    /// Runs the migration to its end (``LiveMigration/run(pollInterval:logger:onProgress:onStep:reconnectTimeout:onNotice:)``).
    func migrate(
        reconnectTimeout: Duration,
        onProgress: @escaping @Sendable (MigrationProgress) -> Void,
        onStep: @escaping @Sendable (ConvergenceStep) -> Void,
        onNotice: @escaping @Sendable (String) -> Void
    ) async -> MigrationReport

    /// Asks the running migration to abort; the guest keeps running on the source. Safe at any time.
    func requestAbort(reason: String)

    /// Resumes a broken post-copy migration (``MigrationRecovery/resume()``).
    func resumePostCopy(
        reconnectTimeout: Duration,
        onNotice: @escaping @Sendable (String) -> Void
    ) async
        -> MigrationReport
}

/// What a ``MigrationSession`` needs from the guest cluster. ``ClusterOperation`` is the real one.
public protocol ClusterDriver: Sendable {
    /// The checks before a migration (``ClusterOperation/check(domain:destinationURI:destinationHostname:)``).
    ///
    /// - Returns: What was found healthy, and whether the move would put two nodes of the cluster on one host.
    func checkBeforeMigrating(
        domain: String,
        destinationURI: String,
        destinationHostname: String?
    ) async throws(ClusterError)
        -> ClusterReadiness

    /// Checks, prepares, runs `body`, restores and verifies
    /// (``ClusterOperation/run(domain:command:sourceHost:destinationURI:destinationHostname:delegate:restoreAfterwards:body:)``).
    func migrate(
        domain: String,
        sourceHost: String,
        destinationURI: String,
        destinationHostname: String,
        delegate: Bool,
        onEvent: @escaping @Sendable (ClusterEvent) -> Void,
        body: @Sendable () async -> MigrationReport
    ) async throws(ClusterError) -> (MigrationReport?, ClusterOperation.Report)

    /// Ends what the driver keeps open (ssh's shared connections).
    func close()
}

/// What a guest cluster's checks before a migration found (``ClusterDriver/checkBeforeMigrating(domain:destinationURI:destinationHostname:)``).
public struct ClusterReadiness: Sendable, Hashable {
    /// One line that says what was found healthy.
    public var summary: String
    /// One line when the migration would put the domain's node on a host that runs another node of its cluster;
    /// `nil` otherwise.
    public var colocation: String?

    public init(summary: String, colocation: String? = nil) {
        self.summary = summary
        self.colocation = colocation
    }
}

/// What a ``MigrationSession`` needs to verify the domain it moved. ``VerifierDriver`` is the real one.
public protocol VerificationDriver: Sendable {
    /// Verifies `domain` after it moved to the destination at `movedAt` (``Verifier/verify(_:)``); changes nothing.
    func verify(
        domain: String,
        request: MigrationRequest,
        target: MigrationTarget,
        movedAt: Date
    ) async
        -> VerificationReport
}
