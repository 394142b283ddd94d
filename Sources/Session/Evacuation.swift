import Foundation
import Journal
import Migration
import Synchronization

/// Empties one host: every guest running on it moves to another host, at most so many at once, never two nodes of
/// one guest cluster at the same time, each cluster node inside its full cluster operation (a ``MigrationSession``
/// with the cluster's prepare, restore and verify). The evacuation is journalled, so that after a crash
/// ``Options/resume`` finishes it without moving any guest twice.
///
/// Steps: survey the hosts (``EvacuationSurvey``), plan (``EvacuationPlanner``), refuse a plan that cannot empty the
/// host or that puts two nodes of a cluster on one host without ``EvacuationRequest/allowColocation``, then run the
/// sessions in the order of an ``EvacuationQueue``. Progress is reported as ``events``; nothing is printed.
///
/// Interrupts: ``requestAbort(reason:)`` starts nothing new and aborts the migrations in flight (their guests stay on
/// the source; their clusters are still restored).
public final class Evacuation: Sendable {
    public struct Options: Sendable {
        public var request: EvacuationRequest
        /// Each guest's migration: convergence policy, compression, parallel connections. Its domain, URIs, bandwidth
        /// and persistence are set per guest.
        public var migration: MigrationRequest
        /// Plan and check only; change nothing.
        public var dryRun: Bool
        /// Finish the unfinished evacuation of ``EvacuationRequest/sourceURI`` instead of starting one.
        public var resume: Bool
        /// Skip each migration's checks beyond the pre-flight (`--skip-checks`).
        public var skipChecks: Bool
        /// After a failure, how long each migration waits for a host that stopped answering.
        public var reconnectTimeout: Duration
        /// Where evacuations are journalled (``defaultJournalDirectory``).
        public var journalDirectory: URL
        /// The least time between two starts while a migration runs (``EvacuationQueue/startSpacing``), so that
        /// guests alike do not reach their switch-over at the same moment.
        public var startSpacing: Duration

        public init(
            request: EvacuationRequest,
            migration: MigrationRequest,
            dryRun: Bool = false,
            resume: Bool = false,
            skipChecks: Bool = false,
            reconnectTimeout: Duration = .seconds(120),
            journalDirectory: URL = Evacuation.defaultJournalDirectory,
            startSpacing: Duration = .seconds(1)
        ) {
            self.request = request
            self.migration = migration
            self.dryRun = dryRun
            self.resume = resume
            self.skipChecks = skipChecks
            self.reconnectTimeout = reconnectTimeout
            self.journalDirectory = journalDirectory
            self.startSpacing = startSpacing
        }
    }

    /// What an evacuation needs from the world; the real one reads libvirt and runs real sessions, the unit tests
    /// give fakes.
    public struct Environment: Sendable {
        /// Reads the source and the destinations of `request`.
        public var survey: @Sendable (EvacuationRequest) async throws(MigrationError) -> EvacuationSurvey
        /// The session that moves one guest (with its cluster's steps when it is a cluster node).
        public var session: @Sendable (EvacuationPlan.Placement, MigrationRequest) -> MigrationSession
        /// On `--resume`: finishes cluster operations a crash left unfinished; returns lines to tell.
        public var recoverClusters: @Sendable () async -> [String]
        /// On `--resume`: waits until no migration job of these guests runs on the source any more (a crash leaves
        /// libvirt's job running); returns lines to tell.
        public var waitForJobs: @Sendable (_ sourceURI: String, _ guests: [String]) async -> [String]

        public init(
            survey: @escaping @Sendable (EvacuationRequest) async throws(MigrationError) -> EvacuationSurvey,
            session: @escaping @Sendable (EvacuationPlan.Placement, MigrationRequest) -> MigrationSession,
            recoverClusters: @escaping @Sendable () async -> [String] = { [] },
            waitForJobs: @escaping @Sendable (String, [String]) async -> [String] = { _, _ in [] }
        ) {
            self.survey = survey
            self.session = session
            self.recoverClusters = recoverClusters
            self.waitForJobs = waitForJobs
        }
    }

    /// `$KVMMIGRATE_STATE_DIR/evacuations`, or `/var/lib/kvmmigrate/evacuations`.
    public static var defaultJournalDirectory: URL {
        let base = ProcessInfo.processInfo.environment["KVMMIGRATE_STATE_DIR"] ?? "/var/lib/kvmmigrate"
        return URL(filePath: base).appending(path: "evacuations")
    }

    public let options: Options
    private let environment: Environment
    /// The evacuation's progress, in order; it ends when ``run()`` returns.
    public let events: AsyncStream<EvacuationEvent>
    private let sink: AsyncStream<EvacuationEvent>.Continuation
    private let interrupt = Mutex(Interrupt())

    private struct Interrupt {
        var reason: String?
        var running: [String: MigrationSession] = [:]
    }

    public init(_ options: Options, environment: Environment) {
        self.options = options
        self.environment = environment
        (self.events, self.sink) = AsyncStream.makeStream(of: EvacuationEvent.self, bufferingPolicy: .unbounded)
    }

    // MARK: - Interrupts

    /// Starts nothing new and aborts every migration in flight (see ``MigrationSession/requestAbort(reason:)``).
    /// Any thread.
    public func requestAbort(reason: String) {
        let running = self.interrupt.withLock { state in
            state.reason = state.reason ?? reason
            return Array(state.running.values)
        }
        for session in running { session.requestAbort(reason: reason) }
    }

    private var abortReason: String? { self.interrupt.withLock { $0.reason } }

    // MARK: - Run

    /// Plans and (unless ``Options/dryRun``) runs the evacuation. Never throws: a refusal is an outcome.
    public func run() async -> EvacuationOutcome {
        defer { self.sink.finish() }
        let started = ContinuousClock.now
        var outcome = await self.runSteps()
        outcome.elapsed = ContinuousClock.now - started
        return outcome
    }

    private func runSteps() async -> EvacuationOutcome {
        var request = self.options.request
        let store: JournalStore<EvacuationRecord>
        do throws(JournalError) {
            store = try JournalStore<EvacuationRecord>(directory: self.options.journalDirectory)
        } catch {
            return EvacuationOutcome(status: .internalFailure, message: "the evacuation journal: \(error.message)")
        }
        let key = request.sourceURI
        let unfinished: JournalEntry<EvacuationRecord>?
        do throws(JournalError) {
            unfinished = try store.unfinished().first { $0.key == key }
        } catch {
            return EvacuationOutcome(status: .internalFailure, message: "the evacuation journal: \(error.message)")
        }
        if let unfinished, unfinished.processRunning {
            return EvacuationOutcome(
                status: .refused,
                message: "\(key) is being evacuated already by kvmmigrate (pid \(unfinished.pid), since "
                    + "\(unfinished.startedAt.formatted(.iso8601)))"
            )
        }
        var notes: [String] = []
        var record: EvacuationRecord?
        if self.options.resume {
            guard let unfinished else {
                return EvacuationOutcome(
                    status: .refused,
                    message: "no unfinished evacuation of \(key) to resume (kvmmigrate evacuate \(key) starts one)"
                )
            }
            record = unfinished.record
            // The choices of the evacuation being finished, not of this command line.
            request = unfinished.record.request
            let interrupted = unfinished.record.guests.filter { $0.state == .started }.map(\.name)
            notes += await self.environment.waitForJobs(key, interrupted)
            notes += await self.environment.recoverClusters()
        } else if let unfinished, !self.options.dryRun {
            return EvacuationOutcome(
                status: .refused,
                message: "an evacuation of \(key) (pid \(unfinished.pid), started "
                    + "\(unfinished.startedAt.formatted(.iso8601))) was cut short: finish it with "
                    + "`kvmmigrate evacuate \(key) --resume`"
            )
        }
        for note in notes { self.sink.yield(.notice(note)) }

        let survey: EvacuationSurvey
        do throws(MigrationError) {
            survey = try await self.environment.survey(request)
        } catch {
            return EvacuationOutcome(status: .init(error), message: error.message, notes: notes)
        }
        for note in survey.notes { self.sink.yield(.notice(note)) }
        notes += survey.notes

        // On --resume: only the guests of the record that still run on the source; the others moved already.
        var guests = survey.guests
        var alreadyMoved: [EvacuationResult] = []
        if let record {
            let resumed = Self.resuming(record, survey: survey)
            guests = resumed.guests
            alreadyMoved = resumed.alreadyMoved
            for result in resumed.alreadyMoved { self.sink.yield(.notice(result.note ?? "")) }
            for line in resumed.notes { self.sink.yield(.notice(line)) }
            notes += resumed.notes
        }

        let plan = EvacuationPlanner.plan(source: survey.source, guests: guests, candidates: survey.candidates)
        self.sink.yield(.planned(plan))
        var outcome = EvacuationOutcome(
            status: .migrated,
            source: survey.source,
            plan: plan,
            results: alreadyMoved,
            notes: notes
        )
        if let refusal = Self.refusal(of: plan, request: request) {
            outcome.status = .refused
            outcome.message = refusal
            return outcome
        }
        if self.options.dryRun {
            // Each guest's own checks, as `kvmmigrate check` gives them (read-only), one guest after another.
            for placement in plan.placements {
                let session = self.environment.session(
                    placement,
                    self.request(for: placement, bandwidth: nil, persistent: survey.persistent)
                )
                let checks = await session.check()
                outcome.checks.append((placement.guest.name, checks))
                self.sink.yield(.checked(guest: placement.guest.name, checks))
            }
            if outcome.checks.contains(where: { $0.checks.contains { $0.status == .fail } }) {
                outcome.status = .refused
                outcome.message = "a guest's checks fail (listed above)"
            }
            return outcome
        }

        // The journal: on disk before the first migration starts.
        let handle: JournalHandle<EvacuationRecord>
        do throws(JournalError) {
            if let unfinished {
                handle = try store.resume(unfinished)
            } else {
                handle = try store.begin(
                    key: key,
                    record: EvacuationRecord(
                        request: request,
                        source: survey.source,
                        guests: plan.placements.map {
                            EvacuationRecord.Guest(name: $0.guest.name, uuid: $0.guest.uuid, state: .pending)
                        }
                    )
                )
            }
        } catch {
            outcome.status = .internalFailure
            outcome.message = "the evacuation journal: \(error.message)"
            return outcome
        }
        let results = await self.migrate(plan, request: request, persistent: survey.persistent, journal: handle)
        outcome.results += results
        let stopped = self.abortReason
        outcome.status = EvacuationOutcome.status(of: outcome.results, stopped: stopped != nil)
        if let stopped { outcome.message = "\(stopped): stopped; the guests not moved still run on \(survey.source)" }
        // Finished when nothing is left to resume: every guest moved, or ended (failed or not started) this run.
        try? handle.finish()
        return outcome
    }

    /// Why `plan` must not run, when it must not: it cannot empty the host, or it colocates cluster nodes unasked.
    /// What is left of an evacuation being resumed: the guests of `record` still on the source, and one result
    /// for each guest of the record that runs elsewhere already (moved before the crash, or by someone else).
    /// Guests that started on the source after the evacuation began are left where they are, each with a note.
    static func resuming(
        _ record: EvacuationRecord,
        survey: EvacuationSurvey
    ) -> (guests: [EvacuationGuest], alreadyMoved: [EvacuationResult], notes: [String]) {
        let here = Set(survey.guests.map(\.uuid))
        var alreadyMoved: [EvacuationResult] = []
        for guest in record.guests where !here.contains(guest.uuid) {
            let line =
                "\(guest.name) runs elsewhere already"
                + (guest.state == .moved ? " (moved to \(guest.destination ?? "?") before)" : "")
            var result = EvacuationResult(
                guest: EvacuationGuest(name: guest.name, uuid: guest.uuid, memoryBytes: 0, cluster: nil),
                destination: guest.destination,
                note: line
            )
            result.alreadyMoved = true
            alreadyMoved.append(result)
        }
        let planned = Set(record.guests.map(\.uuid))
        let notes = survey.guests.filter { !planned.contains($0.uuid) }.map {
            "\($0.name) started on \(survey.source) after the evacuation began: left where it is"
        }
        return (survey.guests.filter { planned.contains($0.uuid) }, alreadyMoved, notes)
    }

    static func refusal(of plan: EvacuationPlan, request: EvacuationRequest) -> String? {
        if !plan.unplaced.isEmpty {
            return "no host can take "
                + plan.unplaced.map { "\($0.guest.name) (\($0.reason))" }.joined(separator: "; ")
        }
        let colocations = plan.colocations
        if !colocations.isEmpty && !request.allowColocation {
            return "the plan puts "
                + colocations.map {
                    "\($0.guest.cluster?.node ?? $0.guest.name) beside \($0.colocatedWith.joined(separator: ", ")) on "
                        + $0.destination
                }.joined(separator: "; ")
                + " (nodes of one guest cluster on one host: no other host can take them); "
                + "--allow-colocation accepts that"
        }
        return nil
    }

    // MARK: - Migrations

    /// Runs every placement in the queue's order; returns the results in plan order.
    private func migrate(
        _ plan: EvacuationPlan,
        request: EvacuationRequest,
        persistent: Set<String>,
        journal: JournalHandle<EvacuationRecord>
    ) async -> [EvacuationResult] {
        var queue = EvacuationQueue(
            plan.placements,
            maxParallel: request.maxParallel,
            maxIncomingPerDestination: request.maxIncomingPerDestination,
            startSpacing: self.options.startSpacing
        )
        let share = request.bandwidthMiBPerSecond.map {
            EvacuationQueue.bandwidthShare(
                totalMiBPerSecond: $0,
                maxParallel: request.maxParallel,
                placements: plan.placements.count
            )
        }
        var results: [String: EvacuationResult] = [:]
        var stopReason: String?
        // The child tasks return nothing and hand their result over here: Swift 6.3.1 miscompiles some async
        // closures that return values (see `concurrently` in the Cluster module).
        let ended = EndedResults()
        // When a child task sleeps until the spacing lets the next placement start.
        var wakeUp: ContinuousClock.Instant?
        await withTaskGroup(of: Void.self) { group in
            func stop(_ reason: String) {
                guard stopReason == nil else { return }
                stopReason = reason
                let cancelled = queue.cancelPending()
                for placement in cancelled {
                    let note = "not started: \(reason)"
                    results[placement.guest.name] = EvacuationResult(
                        guest: placement.guest,
                        destination: placement.destination,
                        note: note
                    )
                    try? journal.update { $0.set(placement.guest.name, .skipped, detail: note) }
                }
                self.sink.yield(.stopping(reason: reason, cancelled: cancelled.map(\.guest.name)))
            }
            func startReady() {
                if let reason = self.abortReason { stop(reason) }
                guard stopReason == nil else { return }
                for placement in queue.startable() {
                    let migration = self.request(for: placement, bandwidth: share, persistent: persistent)
                    try? journal.update {
                        $0.set(placement.guest.name, .started, destination: placement.destination)
                    }
                    let session = self.environment.session(placement, migration)
                    let reason = self.interrupt.withLock { state in
                        state.running[placement.guest.name] = session
                        return state.reason
                    }
                    if let reason { session.requestAbort(reason: reason) }
                    self.sink.yield(.started(placement, bandwidthMiBPerSecond: share))
                    group.addTask {
                        let result = await self.run(session, placement: placement)
                        ended.append(result)
                    }
                }
                if wakeUp == nil, let next = queue.nextSpacedStart {
                    wakeUp = next
                    group.addTask { try? await Task.sleep(until: next) }
                }
            }
            startReady()
            while await group.next() != nil {
                if let instant = wakeUp, ContinuousClock.now >= instant { wakeUp = nil }
                for result in ended.take() {
                    self.finished(result, queue: &queue, results: &results, journal: journal)
                    if !result.moved && request.stopOnError {
                        stop("\(result.guest.name) was not moved (--stop-on-error)")
                    }
                }
                startReady()
            }
        }
        return plan.placements.compactMap { results[$0.guest.name] }
    }

    /// Books one ended guest: the queue, the journal, the events.
    private func finished(
        _ result: EvacuationResult,
        queue: inout EvacuationQueue,
        results: inout [String: EvacuationResult],
        journal: JournalHandle<EvacuationRecord>
    ) {
        queue.finished(result.guest.name)
        _ = self.interrupt.withLock { $0.running.removeValue(forKey: result.guest.name) }
        results[result.guest.name] = result
        try? journal.update {
            $0.set(
                result.guest.name,
                result.moved ? .moved : .failed,
                detail: result.outcome?.status.rawValue
            )
        }
        self.sink.yield(.finished(result))
    }

    /// One guest's migration request: the template's policy and options, its own domain and destination, its share
    /// of the link, and its definition moved along when it is persistent on the source.
    func request(
        for placement: EvacuationPlan.Placement,
        bandwidth: UInt64?,
        persistent: Set<String>
    ) -> MigrationRequest {
        var request = self.options.migration
        request.domain = placement.guest.name
        request.sourceURI = self.options.request.sourceURI
        request.destinationURI = placement.destinationURI
        if persistent.contains(placement.guest.name) {
            // Emptying a host moves the guest for good: a definition left behind would start it there again.
            request.persistent = true
            request.undefineSource = true
        }
        if let bandwidth {
            request.parameters.bandwidthMiBPerSecond = bandwidth
            if request.policy.needsPostCopy { request.parameters.postCopyBandwidthMiBPerSecond = bandwidth }
        }
        return request
    }

    /// Runs one guest's session, passing its events on.
    private func run(_ session: MigrationSession, placement: EvacuationPlan.Placement) async -> EvacuationResult {
        let started = ContinuousClock.now
        async let outcome = session.run()
        for await event in session.events { self.sink.yield(.session(guest: placement.guest.name, event)) }
        let ended = await outcome
        return EvacuationResult(
            guest: placement.guest,
            destination: placement.destination,
            outcome: ended,
            elapsed: ContinuousClock.now - started
        )
    }
}

/// Results handed over from the evacuation's child tasks, taken in the order they ended.
private final class EndedResults: Sendable {
    private let list = Mutex<[EvacuationResult]>([])

    func append(_ result: EvacuationResult) {
        self.list.withLock { $0.append(result) }
    }

    /// Every result handed over since the last call.
    func take() -> [EvacuationResult] {
        self.list.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }
}
