import Libvirt

/// Watches a running migration for ``LiveMigration``: polls its job statistics, follows its events, feeds both to
/// the ``ConvergenceController`` and carries out the controller's actions one at a time, and says when data stops
/// moving.
///
/// Every libvirt call it makes runs through ``runBlocking(named:_:)``. Start it with
/// ``start(_:since:pollInterval:onProgress:onStep:onNotice:requestAbort:)`` before the migration call; when that
/// returns, ``stopPolling()``, read ``completedStatistics()`` after a success, then ``stopWatchingEvents()``.
final class MigrationMonitor: Sendable {
    private let tracker: LockedValue<ProgressTracker>
    private let controller: LockedValue<ConvergenceController>
    /// The statistics the `JOB_COMPLETED` event carried.
    private let completedEvent: LockedValue<JobStats?>
    private let domain: Domain
    private let actionSink: AsyncStream<ConvergenceAction>.Continuation
    private let actionRunner: Task<Void, Never>
    private let watchers: Task<Void, Never>
    private let poller: Task<Void, Never>

    private init(
        tracker: LockedValue<ProgressTracker>,
        controller: LockedValue<ConvergenceController>,
        completedEvent: LockedValue<JobStats?>,
        domain: Domain,
        actionSink: AsyncStream<ConvergenceAction>.Continuation,
        actionRunner: Task<Void, Never>,
        watchers: Task<Void, Never>,
        poller: Task<Void, Never>
    ) {
        self.tracker = tracker
        self.controller = controller
        self.completedEvent = completedEvent
        self.domain = domain
        self.actionSink = actionSink
        self.actionRunner = actionRunner
        self.watchers = watchers
        self.poller = poller
    }

    /// Registers for the domain's events and starts watching.
    ///
    /// - Parameters:
    ///   - prepared: The migration to watch.
    ///   - start: When the migration started; elapsed times count from it.
    ///   - pollInterval: How often job statistics are read (one cheap RPC each).
    ///   - onProgress: Called with each observation, from a background task.
    ///   - onStep: Called with each step the convergence policy takes, from a background task.
    ///   - onNotice: Called with a line for the operator when data stops, or starts again, moving.
    ///   - requestAbort: Aborts the migration (the policy's timeout action may ask for it), with the reason.
    static func start(
        _ prepared: PreparedMigration,
        since start: ContinuousClock.Instant,
        pollInterval: Duration,
        onProgress: @escaping @Sendable (MigrationProgress) -> Void,
        onStep: @escaping @Sendable (ConvergenceStep) -> Void,
        onNotice: @escaping @Sendable (String) -> Void,
        requestAbort: @escaping @Sendable (String) -> Void
    ) async -> MigrationMonitor {
        let domain = prepared.domain
        let source = prepared.source
        let tracker = LockedValue(ProgressTracker())

        // The convergence policy: fed every observation; its actions run one at a time on their own thread.
        let controller = LockedValue(
            ConvergenceController(policy: prepared.request.policy, memoryBytes: prepared.memoryKiB * 1024)
        )
        let (actions, actionSink) = AsyncStream.makeStream(of: ConvergenceAction.self)
        let observe: @Sendable (JobStats) -> Void = { statistics in
            let elapsed = ContinuousClock.now - start
            let (due, steps): ([ConvergenceAction], [ConvergenceStep]) = controller.withLock { controller in
                let before = controller.steps.count
                let due = controller.observe(statistics, elapsed: elapsed)
                return (due, Array(controller.steps[before...]))
            }
            for step in steps { onStep(step) }
            for action in due { actionSink.yield(action) }
        }
        let actionRunner = Task {
            for await action in actions {
                if let message = await Self.perform(action, on: domain, requestAbort: requestAbort) {
                    let step: ConvergenceStep? = controller.withLock { controller in
                        controller.noteFailure(of: action, elapsed: ContinuousClock.now - start, message: message)
                        return controller.steps.last
                    }
                    step.map(onStep)
                }
            }
        }

        // Registering is a round trip to the source's daemon.
        let (lifecycle, iterations, completions) = await runBlocking(named: "watch events") {
            (
                try? source.lifecycleEvents(for: domain), try? source.migrationIterationEvents(for: domain),
                try? source.jobCompletedEvents(for: domain)
            )
        }
        let completedEvent = LockedValue<JobStats?>(nil)
        let watchers = Task {
            await withTaskGroup(of: Void.self) { group in
                if let lifecycle {
                    group.addTask {
                        for await event in lifecycle {
                            // A new phase (switch-over, post-copy) is shown when it begins, from the last reading.
                            let elapsed = ContinuousClock.now - start
                            if let change = tracker.withLock({ $0.phaseChange(event, elapsed: elapsed) }) {
                                onProgress(change)
                            }
                            if event.isPostCopyStarted { controller.withLock { $0.notePostCopyStarted() } }
                        }
                    }
                }
                if let iterations {
                    group.addTask {
                        for await event in iterations {
                            tracker.withLock { $0.note(iteration: event.iteration) }
                            // A pass begins: what is left now is what the last pass left dirty. Read it at once,
                            // unless this is the final pass, run with the guest paused (see `isSwitchingOver`).
                            // libvirt sends the pause before that pass's event, but on the lifecycle stream, which
                            // another task reads: give it a moment to land.
                            try? await Task.sleep(for: .milliseconds(25))
                            if tracker.withLock({ $0.isSwitchingOver }) { continue }
                            if let statistics = await runBlocking(named: "job stats", { try? domain.jobStats() }) {
                                // The pass's first observation is shown too: a trace then has each pass's start.
                                let elapsed = ContinuousClock.now - start
                                if let progress = tracker.withLock({ $0.update(statistics, elapsed: elapsed) }) {
                                    onProgress(progress)
                                }
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
            var pausedSince: ContinuousClock.Instant?
            var stalledSaid = false
            while !Task.isCancelled {
                // The guest is paused for the switch-over, or gone: no read that could lengthen the downtime, for
                // as long as a switch-over normally takes. One that takes longer is stuck, and reads show why.
                if tracker.withLock({ $0.isSwitchingOver }) {
                    let since = pausedSince ?? ContinuousClock.now
                    pausedSince = since
                    if ContinuousClock.now - since < .seconds(2) {
                        try? await Task.sleep(for: pollInterval)
                        continue
                    }
                } else {
                    pausedSince = nil
                }
                if let statistics = await runBlocking(named: "job stats", { try? domain.jobStats() }) {
                    let elapsed = ContinuousClock.now - start
                    if let progress = tracker.withLock({ $0.update(statistics, elapsed: elapsed) }) {
                        onProgress(progress)
                        let bytes = progress.dataProcessedBytes
                        if lastMoved == nil || bytes != lastMoved!.bytes {
                            if stalledSaid { onNotice("data moves again") }
                            lastMoved = (bytes, ContinuousClock.now)
                            stalledSaid = false
                        } else if !stalledSaid, ContinuousClock.now - lastMoved!.at >= .seconds(10) {
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
        return MigrationMonitor(
            tracker: tracker,
            controller: controller,
            completedEvent: completedEvent,
            domain: domain,
            actionSink: actionSink,
            actionRunner: actionRunner,
            watchers: watchers,
            poller: poller
        )
    }

    /// The steps the convergence policy took, in order.
    var steps: [ConvergenceStep] { self.controller.withLock { $0.steps } }

    /// The memory passes seen while the migration ran.
    var memoryPassesSeen: Int? { self.tracker.withLock { $0.memoryPasses } }

    /// Stops reading job statistics, and waits for the policy's action under way, if any: no action is taken
    /// after this returns.
    func stopPolling() async {
        self.poller.cancel()
        self.actionSink.finish()
        await self.actionRunner.value
    }

    /// The completed job's statistics, after a migration call that succeeded.
    ///
    /// Read on the source, and kept for later readers (`virsh domjobinfo --completed` shows the same numbers). A
    /// transient domain is gone from the source after success; then the `JOB_COMPLETED` event carries them, which
    /// may take a moment to arrive.
    func completedStatistics() async -> JobStats? {
        let domain = self.domain
        var completed = await runBlocking(named: "completed job") {
            try? domain.jobStats(completed: true, keepCompleted: true)
        }
        if completed?.type != .completed || completed?.downtime == nil {
            for _ in 0..<20 where self.completedEvent.value == nil {
                try? await Task.sleep(for: .milliseconds(100))
            }
            completed = self.completedEvent.value ?? completed
        }
        return completed
    }

    /// Stops following the domain's events.
    func stopWatchingEvents() async {
        // Cancelling ends each event stream, whose termination deregisters its callback: a round trip to the
        // source's daemon, made on the thread that cancels.
        let watchers = self.watchers
        await runBlocking(named: "unwatch events") { watchers.cancel() }
    }

    /// Carries out one action of the convergence policy; returns libvirt's message when it fails.
    private static func perform(
        _ action: ConvergenceAction,
        on domain: Domain,
        requestAbort: @Sendable (String) -> Void
    ) async -> String? {
        switch action {
        case .abort:
            requestAbort("not finished within the completion timeout")
            return nil
        case .setMaximumDowntime(let downtime):
            return await Self.failure(named: "set downtime") { () throws(LibvirtError) in
                try domain.setMaximumDowntime(downtime)
            }
        case .startPostCopy:
            return await Self.failure(named: "start post-copy") { () throws(LibvirtError) in try domain.startPostCopy()
            }
        case .suspend:
            return await Self.failure(named: "suspend") { () throws(LibvirtError) in try domain.suspend() }
        }
    }

    /// Runs one libvirt call on its own thread; returns libvirt's message when it fails.
    private static func failure(
        named name: String,
        _ body: @escaping @Sendable () throws(LibvirtError) -> Void
    ) async -> String? {
        do throws(LibvirtError) {
            try await runBlocking(named: name, body)
            return nil
        } catch {
            return error.message
        }
    }
}
