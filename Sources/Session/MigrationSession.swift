import Cluster
import Foundation
import Logging
import Migration
import Synchronization

/// One whole migration as an operator asks for it: the checks, the lock that keeps a domain to one migration at
/// a time, the guest cluster's prepare, the migration with its convergence policy and recovery, the cluster's
/// restore (always, once prepared) and verify, and one outcome.
///
/// `kvmmigrate migrate`, `migrate --dry-run` and `check` are this type; evacuating a host runs several. Progress is
/// reported as ``events``; nothing is printed and nothing exits the process.
///
/// ```swift
/// let session = MigrationSession(options, migrationDriver: LibvirtMigrationDriver(logger: logger), cluster: operation)
/// async let outcome = session.run()
/// for await event in session.events { render(event) }
/// let result = await outcome
/// ```
///
/// Interrupts: ``requestAbort(reason:)`` before the migration starts stops the session with nothing changed; during
/// the migration it aborts it (the guest keeps running on the source, the cluster is still restored); during the
/// restore it is refused, because a cluster left prepared cannot fence a failed node.
public final class MigrationSession: Sendable {
    /// What to do.
    public struct Options: Sendable {
        public var request: MigrationRequest
        /// Skip the checks beyond the pre-flight (`--skip-checks`).
        public var skipChecks: Bool
        /// Resume a broken post-copy migration instead of starting one (`--postcopy-resume`).
        public var resumePostCopy: Bool
        /// After a failure, how long to wait for a host that stopped answering.
        public var reconnectTimeout: Duration
        /// Let the nodes' own `sfkvmmigrate -p/-u` do the cluster steps (`--delegate`).
        public var delegate: Bool
        /// Where the one-migration-per-domain locks are (``MigrationLock/defaultDirectory``).
        public var lockDirectory: URL

        public init(
            request: MigrationRequest,
            skipChecks: Bool = false,
            resumePostCopy: Bool = false,
            reconnectTimeout: Duration = .seconds(120),
            delegate: Bool = false,
            lockDirectory: URL = MigrationLock.defaultDirectory
        ) {
            self.request = request
            self.skipChecks = skipChecks
            self.resumePostCopy = resumePostCopy
            self.reconnectTimeout = reconnectTimeout
            self.delegate = delegate
            self.lockDirectory = lockDirectory
        }
    }

    /// What ``requestAbort(reason:)`` did.
    public enum AbortResponse: Sendable, Hashable {
        /// The migration has not started: the session stops before changing anything.
        case stoppingBeforeStart
        /// The migration is being aborted; `first` is false when an abort was asked before.
        case aborting(first: Bool)
        /// The cluster is being restored: that finishes first.
        case restoring
    }

    public let options: Options
    private let migrationDriver: any MigrationDriver
    private let cluster: (any ClusterDriver)?
    private let verification: (any VerificationDriver)?
    /// The session's progress, in order; it ends when ``run()`` or ``check()`` returns.
    public let events: AsyncStream<SessionEvent>
    private let sink: AsyncStream<SessionEvent>.Continuation
    private let interrupt = Mutex(Interrupt())

    private struct Interrupt {
        var reason: String?
        var connection: (any MigrationConnection)?
        var migrating = false
        var restoring = false
    }

    /// - Parameters:
    ///   - cluster: The guest cluster's steps, for `--cluster`; `nil` for a plain migration.
    ///   - verification: Verifies the domain once it moved (``VerifierDriver``); `nil` skips that.
    public init(
        _ options: Options,
        migrationDriver: any MigrationDriver,
        cluster: (any ClusterDriver)? = nil,
        verification: (any VerificationDriver)? = nil
    ) {
        self.options = options
        self.migrationDriver = migrationDriver
        self.cluster = cluster
        self.verification = verification
        (self.events, self.sink) = AsyncStream.makeStream(of: SessionEvent.self, bufferingPolicy: .unbounded)
    }

    // MARK: - Interrupts

    /// Asks the session to stop: see the type's discussion for what that means in each phase. Any thread.
    @discardableResult
    public func requestAbort(reason: String) -> AbortResponse {
        let (first, connection, migrating, restoring) = self.interrupt.withLock { state in
            defer { state.reason = state.reason ?? reason }
            return (state.reason == nil, state.connection, state.migrating, state.restoring)
        }
        if restoring { return .restoring }
        guard migrating, let connection else { return .stoppingBeforeStart }
        connection.requestAbort(reason: reason)
        return .aborting(first: first)
    }

    /// Why an abort was asked for, if it was.
    private var abortReason: String? { self.interrupt.withLock { $0.reason } }

    // MARK: - Checks

    /// The checks, as `kvmmigrate check` and `migrate --dry-run` show them: every one, in order, with the
    /// cluster's when there is a cluster; the pre-flight's failure skips the rest. Changes nothing.
    ///
    /// `migrate` runs the same pieces in ``run()``: the pre-flight, the same host checks (unless `--skip-checks`),
    /// and the same cluster checks, which ``ClusterDriver/migrate(domain:sourceHost:destinationURI:destinationHostname:delegate:onEvent:body:)``
    /// runs first.
    public func check() async -> [CheckResult] {
        defer {
            self.sink.finish()
            self.cluster?.close()
        }
        let request = self.options.request
        var results = [MigrationCheck.request(request)]
        guard results[0].status != .fail else { return results }
        let connection: any MigrationConnection
        do throws(MigrationError) {
            connection = try await self.migrationDriver.connect(request, resumingPostCopy: false)
        } catch {
            return results + MigrationCheck.failedPreflight(error)
        }
        results += await connection.checks(copyStorage: request.copyStorage)
        if let cluster = self.cluster {
            do throws(ClusterError) {
                let readiness = try await cluster.checkBeforeMigrating(
                    domain: connection.target.domainName,
                    destinationURI: request.destinationURI,
                    destinationHostname: connection.target.destinationHostname
                )
                results.append(CheckResult("cluster", .pass, readiness.summary))
                if let warning = readiness.colocation {
                    results.append(CheckResult("cluster-colocation", .warn, warning))
                }
            } catch {
                results.append(CheckResult("cluster", .fail, error.description))
            }
        }
        return results
    }

    // MARK: - Run

    /// Runs the whole operation and says how it ended. Never throws: a refusal is an outcome.
    public func run() async -> SessionOutcome {
        defer {
            self.sink.finish()
            self.cluster?.close()
        }
        let request = self.options.request
        let connection: any MigrationConnection
        do throws(MigrationError) {
            connection = try await self.migrationDriver.connect(request, resumingPostCopy: self.options.resumePostCopy)
        } catch {
            return Self.refused(.migration(error))
        }
        let target = connection.target
        self.interrupt.withLock { $0.connection = connection }
        if let stopped = self.stoppedBeforeStart(target) { return stopped }
        if self.options.resumePostCopy {
            self.sink.yield(.resumingPostCopy(target))
            let report = await connection.resumePostCopy(reconnectTimeout: self.options.reconnectTimeout) { line in
                self.sink.yield(.notice(line))
            }
            return SessionOutcome(status: .init(report), report: report, target: target)
        }
        if !self.options.skipChecks {
            let failed = await connection.checks(copyStorage: request.copyStorage).filter { $0.status == .fail }
            if !failed.isEmpty {
                return Self.refused(
                    .migration(
                        MigrationError(
                            .invalidRequest,
                            failed.map { "\($0.name): \($0.detail)" }.joined(separator: "; ")
                                + " (kvmmigrate check shows every check; --skip-checks skips these)"
                        )
                    ),
                    target: target
                )
            }
        }
        if let stopped = self.stoppedBeforeStart(target) { return stopped }
        // One migration of a domain at a time; `kvmmigrate status` reads what this lock records.
        let lock: MigrationLock
        do throws(MigrationError) {
            lock = try MigrationLock(
                record: MigrationRecord(
                    domain: target.domainName,
                    domainUUID: target.domainUUID,
                    sourceURI: request.sourceURI,
                    destinationURI: request.destinationURI,
                    policy: request.policy.summary
                ),
                directory: self.options.lockDirectory
            )
        } catch {
            return Self.refused(.migration(error), target: target)
        }
        defer { lock.release() }
        guard let cluster = self.cluster else {
            let report = await self.migrate(connection, lock: lock)
            return await self.verifyingMoved(
                SessionOutcome(status: .init(report), report: report, target: target),
                request: request
            )
        }

        self.sink.yield(.preparingCluster(domain: target.domainName))
        let result: (MigrationReport?, ClusterOperation.Report)
        do throws(ClusterError) {
            result = try await cluster.migrate(
                domain: target.domainName,
                sourceHost: target.sourceHostname,
                destinationURI: request.destinationURI,
                destinationHostname: target.destinationHostname,
                delegate: self.options.delegate,
                onEvent: { event in
                    self.sink.yield(.cluster(event))
                    lock.note(clusterStep: event.step)
                },
                body: { () -> MigrationReport in
                    lock.note(clusterStep: "migrating")
                    let report = await self.migrate(connection, lock: lock)
                    self.interrupt.withLock { $0.restoring = true }
                    lock.note(clusterStep: "restoring")
                    self.sink.yield(.restoringCluster)
                    return report
                }
            )
        } catch {
            return Self.refused(.cluster(error), target: target)
        }
        let (report, clusterReport) = result
        guard let report else {
            // The prepare failed: nothing migrated, and the restore undid the prepare.
            let refusal = MigrationError(
                .invalidRequest,
                "preparing the cluster failed: \(clusterReport.prepareFailure ?? "")"
            )
            return SessionOutcome(
                status: clusterReport.healthy ? .refused : .clusterNotHealthy,
                refusal: .migration(refusal),
                cluster: clusterReport,
                target: target
            )
        }
        return await self.verifyingMoved(
            SessionOutcome(
                status: .init(report, cluster: clusterReport),
                report: report,
                cluster: clusterReport,
                target: target
            ),
            request: request
        )
    }

    /// The outcome with the verification of the domain, when the migration moved it.
    private func verifyingMoved(_ outcome: SessionOutcome, request: MigrationRequest) async -> SessionOutcome {
        guard let verification = self.verification, let report = outcome.report, let target = outcome.target,
            report.outcome == .completed, report.location.summary == .destination
        else { return outcome }
        self.sink.yield(.verifying(domain: target.domainName))
        let verified = await verification.verify(
            domain: target.domainName,
            request: request,
            target: target,
            movedAt: report.startedAt.addingTimeInterval(Double(report.totalTime / .milliseconds(1)) / 1000)
        )
        return outcome.verified(by: verified)
    }

    /// The migration itself; an abort asked before it started aborts it at once.
    private func migrate(_ connection: any MigrationConnection, lock: MigrationLock) async -> MigrationReport {
        let reason = self.interrupt.withLock { state in
            state.migrating = true
            return state.reason
        }
        if let reason { connection.requestAbort(reason: reason) }
        let policy = self.options.request.policy.summary
        self.sink.yield(.migrationStarted(connection.target, policy: policy))
        let report = await connection.migrate(
            reconnectTimeout: self.options.reconnectTimeout,
            onProgress: { progress in self.sink.yield(.progress(progress)) },
            onStep: { step in
                self.sink.yield(.policyStep(step))
                lock.note(policyStep: step.detail)
            },
            onNotice: { line in self.sink.yield(.notice(line)) }
        )
        self.sink.yield(.migrationEnded)
        return report
    }

    /// The outcome when an abort was asked for before the migration started, if one was.
    private func stoppedBeforeStart(_ target: MigrationTarget) -> SessionOutcome? {
        self.abortReason.map { reason in
            Self.refused(
                .migration(MigrationError(.aborted, "\(reason) before the migration started: nothing changed")),
                target: target
            )
        }
    }

    private static func refused(_ refusal: SessionOutcome.Refusal, target: MigrationTarget? = nil) -> SessionOutcome {
        let status: SessionOutcome.Status
        switch refusal {
        case .migration(let error): status = .init(error)
        case .cluster(let error): status = .init(error)
        }
        return SessionOutcome(status: status, refusal: refusal, target: target)
    }
}
