import Foundation
import Libvirt
import Logging
import Synchronization

/// Runs one prepared migration: starts it on its own thread, watches it through job statistics and events,
/// aborts it on request, and reports how it ended and where the guest runs now.
public final class LiveMigration: Sendable {
    public let prepared: PreparedMigration
    private let state = Mutex(State())

    private struct State {
        var finished = false
        var abortReason: String?
        var aborting = false
    }

    public init(_ prepared: PreparedMigration) {
        self.prepared = prepared
    }

    /// Asks libvirt to abort the migration job; the guest keeps running on the source.
    ///
    /// Safe to call from any thread, any number of times, before or while the migration runs. The job may not
    /// exist yet when this is called (the migration is still being set up): the abort is retried until the job
    /// takes it or the migration ends.
    public func requestAbort(reason: String) {
        let start: Bool = self.state.withLock { state in
            if state.abortReason == nil { state.abortReason = reason }
            guard !state.finished, !state.aborting else { return false }
            state.aborting = true
            return true
        }
        guard start else { return }
        let domain = self.prepared.domain
        let thread = Thread { [self] in
            // virDomainAbortJob fails with "no job is active" until the migration job exists; keep trying.
            for _ in 0..<600 {
                if self.state.withLock({ $0.finished }) { return }
                if (try? domain.abortJob()) != nil { return }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        thread.name = "abort migration"
        thread.start()
    }

    /// Whether an abort was requested.
    public var abortRequested: Bool { self.state.withLock { $0.abortReason != nil } }

    /// Runs the migration to its end.
    ///
    /// Cancelling the calling task aborts the migration (as ``requestAbort(reason:)`` does) and still waits for
    /// libvirt to finish, so the report always says where the guest runs.
    ///
    /// - Parameters:
    ///   - pollInterval: How often job statistics are read (one cheap RPC each).
    ///   - logger: Debug messages.
    ///   - onProgress: Called with each observation, from a background task.
    ///   - onStep: Called with each step the convergence policy takes, from a background task.
    ///   - reconnectTimeout: After a failure, how long to wait for a host that stopped answering (see
    ///     ``MigrationRecovery``).
    ///   - onNotice: Called with a line for the operator: the link looks down, recovery steps.
    public func run(
        pollInterval: Duration = .milliseconds(250),
        logger: Logger,
        onProgress: @escaping @Sendable (MigrationProgress) -> Void = { _ in },
        onStep: @escaping @Sendable (ConvergenceStep) -> Void = { _ in },
        reconnectTimeout: Duration = .seconds(120),
        onNotice: @escaping @Sendable (String) -> Void = { _ in }
    ) async -> MigrationReport {
        let prepared = self.prepared
        let clock = ContinuousClock()
        let start = clock.now
        let startedAt = Date()

        let monitor = await MigrationMonitor.start(
            prepared,
            since: start,
            pollInterval: pollInterval,
            onProgress: onProgress,
            onStep: onStep,
            onNotice: onNotice,
            requestAbort: { reason in self.requestAbort(reason: reason) }
        )
        let result = await self.migrate(logger: logger)
        var totalTime = clock.now - start
        self.state.withLock { $0.finished = true }
        await monitor.stopPolling()
        var completed: JobStats? = nil
        if case .success = result {
            completed = await monitor.completedStatistics()
        }
        await monitor.stopWatchingEvents()

        var location = await Self.locate(prepared, reconnect: true)
        var recovery: MigrationRecovery.Outcome?
        if MigrationRecovery.needsRecovery(location) {
            logger.debug("Recovering", metadata: ["problem": "\(location.problem ?? "")"])
            let outcome = await MigrationRecovery(prepared, reconnectTimeout: reconnectTimeout, onNotice: onNotice)
                .settle(from: location)
            outcome.actions.forEach(onNotice)
            location = outcome.location
            recovery = outcome
            totalTime = clock.now - start  // The migration ended when the recovery did.
        }
        let steps = monitor.steps
        if steps.contains(where: { $0.timeoutAction == .suspend }), case .success = result,
            location.destinationState?.state == .paused
        {
            // The timeout action paused the guest to finish the copy; it must run on the destination now.
            logger.debug("Resuming the guest paused by the timeout action")
            await runBlocking(named: "resume") {
                _ = try? prepared.destination.domain(uuid: prepared.domainUUID).resume()
            }
            location = await Self.locate(prepared)
        }
        let report = MigrationReport(
            prepared,
            result: result,
            recovery: recovery,
            location: location,
            startedAt: startedAt,
            totalTime: totalTime,
            completedStatistics: completed,
            memoryPassesSeen: monitor.memoryPassesSeen,
            abortReason: self.state.withLock { $0.abortReason },
            steps: steps
        )
        if case .failure(let error) = result, report.outcome != .completed {
            logger.debug("Migration ended with an error", metadata: ["error": "\(error.message)"])
        }
        return report
    }

    /// Sets the allowed downtime, then makes the migration call on its own thread and waits for it to return:
    /// when the migration has ended. Cancelling the calling task aborts the migration.
    ///
    /// The corresponding C functions are `virDomainMigrateSetMaxDowntime` and `virDomainMigrateToURI3`.
    private func migrate(logger: Logger) async -> Result<Void, LibvirtError> {
        let prepared = self.prepared
        let domain = prepared.domain
        let request = prepared.request
        if !request.offline {
            let downtime = request.policy.maximumDowntime
            do throws(LibvirtError) {
                try await runBlocking(named: "set downtime") { () throws(LibvirtError) in
                    try domain.setMaximumDowntime(downtime)
                }
            } catch {
                logger.debug("Could not set the maximum downtime", metadata: ["error": "\(error)"])
            }
        }
        logger.debug(
            "Starting migration",
            metadata: ["domain": "\(prepared.domainName)", "destination": "\(request.destinationURI)"]
        )
        return await withTaskCancellationHandler {
            await runBlocking(named: "migrate \(prepared.domainName)") {
                Result { () throws(LibvirtError) in
                    try domain.migrate(to: request.destinationURI, parameters: request.parameters, flags: request.flags)
                }
            }
        } onCancel: {
            self.requestAbort(reason: "cancelled")
        }
    }

    /// Asks both daemons for the domain's state, by UUID (the domain may have a new name on the destination).
    ///
    /// With `reconnect`, a connection that died (the link went down) is replaced by a new read-only one.
    public static func locate(_ prepared: PreparedMigration, reconnect: Bool = false) async -> DomainLocation {
        let uuid = prepared.domainUUID
        return await runBlocking(named: "locate domain") {
            var problems: [String] = []
            var unanswered: Set<String> = []
            func state(on connection: Connection, _ role: String) -> DomainStateInfo? {
                do throws(LibvirtError) {
                    var connection = connection
                    if reconnect && !connection.isAlive {
                        connection = try Connection(uri: connection.uri, readOnly: true)
                    }
                    return try connection.domain(uuid: uuid).state()
                } catch  where error.code == .noDomain {
                    return nil
                } catch {
                    problems.append("the \(role) \(connection.uri) does not answer: \(error.message)")
                    unanswered.insert(role)
                    return nil
                }
            }
            let source = state(on: prepared.source, "source")
            let destination = state(on: prepared.destination, "destination")
            return DomainLocation(
                sourceState: source,
                destinationState: destination,
                problem: problems.isEmpty ? nil : problems.joined(separator: "; "),
                sourceAnswered: !unanswered.contains("source"),
                destinationAnswered: !unanswered.contains("destination")
            )
        }
    }
}
