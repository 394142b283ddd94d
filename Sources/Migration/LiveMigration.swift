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
        let domain = prepared.domain
        let request = prepared.request
        let tracker = LockedValue(ProgressTracker())
        let clock = ContinuousClock()
        let start = clock.now
        let startedAt = Date()

        // The convergence policy: fed every observation; its actions run one at a time on their own thread.
        let controller = LockedValue(
            ConvergenceController(policy: request.policy, memoryBytes: prepared.memoryKiB * 1024)
        )
        let (actions, actionSink) = AsyncStream.makeStream(of: ConvergenceAction.self)
        let observe: @Sendable (JobStats) -> Void = { statistics in
            let elapsed = clock.now - start
            let (due, steps): ([ConvergenceAction], [ConvergenceStep]) = controller.withLock { controller in
                let before = controller.steps.count
                let due = controller.observe(statistics, elapsed: elapsed)
                return (due, Array(controller.steps[before...]))
            }
            for step in steps { onStep(step) }
            for action in due { actionSink.yield(action) }
        }
        let actor = Task {
            for await action in actions {
                if let message = await self.perform(action) {
                    let step: ConvergenceStep? = controller.withLock { controller in
                        controller.noteFailure(of: action, elapsed: clock.now - start, message: message)
                        return controller.steps.last
                    }
                    step.map(onStep)
                }
            }
        }

        let lifecycle = try? prepared.source.lifecycleEvents(for: domain)
        let iterations = try? prepared.source.migrationIterationEvents(for: domain)
        let completions = try? prepared.source.jobCompletedEvents(for: domain)
        let completedEvent = LockedValue<JobStats?>(nil)
        let watchers = Task {
            await withTaskGroup(of: Void.self) { group in
                if let lifecycle {
                    group.addTask {
                        for await event in lifecycle {
                            tracker.withLock { $0.note(event) }
                            if event.isPostCopyStarted { controller.withLock { $0.notePostCopyStarted() } }
                        }
                    }
                }
                if let iterations {
                    group.addTask {
                        for await event in iterations {
                            tracker.withLock { $0.note(iteration: event.iteration) }
                            // A pass begins: what is left now is what the last pass left dirty. Read it at once.
                            if let statistics = await runOnDedicatedThread(
                                named: "job stats",
                                { try? domain.jobStats() }
                            ) {
                                observe(statistics)
                            }
                        }
                    }
                }
                if let completions {
                    group.addTask {
                        for await event in completions { completedEvent.withLock { $0 = event.statistics } }
                    }
                }
            }
        }
        let poller = Task {
            // Data that stops moving is how a broken link first shows; libvirt itself gives up only after its
            // keep-alive runs out (about 30 s).
            var lastMoved: (bytes: UInt64, at: ContinuousClock.Instant)?
            var stalledSaid = false
            while !Task.isCancelled {
                if let statistics = try? domain.jobStats() {
                    let elapsed = clock.now - start
                    if let progress = tracker.withLock({ $0.update(statistics, elapsed: elapsed) }) {
                        onProgress(progress)
                        let bytes = progress.dataProcessedBytes
                        if lastMoved == nil || bytes != lastMoved!.bytes {
                            if stalledSaid { onNotice("data moves again") }
                            lastMoved = (bytes, clock.now)
                            stalledSaid = false
                        } else if !stalledSaid, clock.now - lastMoved!.at >= .seconds(10) {
                            stalledSaid = true
                            onNotice(
                                "no data sent for 10 s: is the link between the hosts down? libvirt gives up after about 30 s"
                            )
                        }
                    }
                    observe(statistics)
                }
                try? await Task.sleep(for: pollInterval)
            }
        }

        if !request.offline {
            do { try domain.setMaximumDowntime(request.policy.maximumDowntime) } catch {
                logger.debug("Could not set the maximum downtime", metadata: ["error": "\(error)"])
            }
        }
        logger.debug(
            "Starting migration",
            metadata: ["domain": "\(prepared.domainName)", "destination": "\(request.destinationURI)"]
        )
        let result: Result<Void, LibvirtError> = await withTaskCancellationHandler {
            await runOnDedicatedThread(named: "migrate \(prepared.domainName)") {
                do throws(LibvirtError) {
                    try domain.migrate(
                        to: request.destinationURI,
                        parameters: request.parameters,
                        flags: request.flags
                    )
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
        } onCancel: {
            self.requestAbort(reason: "cancelled")
        }
        var totalTime = clock.now - start
        self.state.withLock { $0.finished = true }
        poller.cancel()
        actionSink.finish()
        await actor.value

        // The completed job's statistics: read on the source, kept for later readers (`virsh domjobinfo
        // --completed` shows the same numbers). A transient domain is gone from the source after success;
        // then the JOB_COMPLETED event carries them.
        var completed: JobStats? = nil
        if case .success = result {
            completed = try? domain.jobStats(completed: true, keepCompleted: true)
            if completed?.type != .completed || completed?.downtime == nil {
                for _ in 0..<20 where completedEvent.withLock({ $0 }) == nil {
                    try? await Task.sleep(for: .milliseconds(100))
                }
                completed = completedEvent.withLock { $0 } ?? completed
            }
        }
        watchers.cancel()

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
        let (steps, suspended) = controller.withLock { ($0.steps, $0.steps.contains { $0.timeoutAction == .suspend }) }
        if suspended, case .success = result, location.destinationState?.state == .paused {
            // The timeout action paused the guest to finish the copy; it must run on the destination now.
            logger.debug("Resuming the guest paused by the timeout action")
            await runOnDedicatedThread(named: "resume") {
                _ = try? prepared.destination.domain(uuid: prepared.domainUUID).resume()
            }
            location = await Self.locate(prepared)
        }
        let abortReason = self.state.withLock { $0.abortReason }
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
            outcome = error.code == .operationAborted ? .aborted : .failed
            errorMessage = error.message
            logger.debug("Migration ended with an error", metadata: ["error": "\(error.message)"])
        }
        return MigrationReport(
            outcome: outcome,
            domainName: prepared.domainName,
            domainUUID: prepared.domainUUID,
            sourceURI: request.sourceURI,
            destinationURI: request.destinationURI,
            sourceHostname: prepared.sourceHostname,
            destinationHostname: prepared.destinationHostname,
            startedAt: startedAt,
            totalTime: totalTime,
            completedStatistics: completed,
            memoryPassesSeen: tracker.withLock { $0.memoryPasses },
            location: location,
            errorMessage: errorMessage,
            abortReason: abortReason,
            policy: request.policy,
            steps: steps,
            memoryBytes: prepared.memoryKiB * 1024
        )
    }

    /// Carries out one action of the convergence policy; returns libvirt's message when it fails.
    private func perform(_ action: ConvergenceAction) async -> String? {
        let domain = self.prepared.domain
        switch action {
        case .abort:
            self.requestAbort(reason: "not finished within the completion timeout")
            return nil
        case .setMaximumDowntime(let downtime):
            return await runOnDedicatedThread(named: "set downtime") {
                do throws(LibvirtError) { try domain.setMaximumDowntime(downtime) } catch { return error.message }
                return nil
            }
        case .startPostCopy:
            return await runOnDedicatedThread(named: "start post-copy") {
                do throws(LibvirtError) { try domain.startPostCopy() } catch { return error.message }
                return nil
            }
        case .suspend:
            return await runOnDedicatedThread(named: "suspend") {
                do throws(LibvirtError) { try domain.suspend() } catch { return error.message }
                return nil
            }
        }
    }

    /// Asks both daemons for the domain's state, by UUID (the domain may have a new name on the destination).
    ///
    /// With `reconnect`, a connection that died (the link went down) is replaced by a new read-only one.
    public static func locate(_ prepared: PreparedMigration, reconnect: Bool = false) async -> DomainLocation {
        let uuid = prepared.domainUUID
        return await runOnDedicatedThread(named: "locate domain") {
            var problems: [String] = []
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
                    return nil
                }
            }
            let source = state(on: prepared.source, "source")
            let destination = state(on: prepared.destination, "destination")
            return DomainLocation(
                sourceState: source,
                destinationState: destination,
                problem: problems.isEmpty ? nil : problems.joined(separator: "; ")
            )
        }
    }
}
