import Libvirt

/// Decides, one step at a time, how to bring a migration that ended badly to a state where the guest runs on
/// exactly one host; ``MigrationRecovery`` carries the steps out.
///
/// Pure: it takes what both hosts said (a ``DomainLocation``), the source's migration job, the time and the results
/// of its earlier steps, and returns the next ``Action``; it never touches the network, so every decision is
/// unit-tested without a host. The rules, in order, for each location:
/// - six steps taken (a handful is all a migration can need), or nothing left to recover: finish;
/// - the source still has a migration job (the tool lost its call, not libvirt its migration): wait for libvirt to
///   end it, for as long as data moves and the reconnect timeout after it stops;
/// - post-copy broke (either side says "post-copy failed"): the guest's memory is split between the hosts, so
///   nothing may be destroyed; resume the post-copy migration (`VIR_MIGRATE_POSTCOPY_RESUME`) until the deadline,
///   or give up and report the command that resumes it;
/// - a host does not answer: wait for it until the deadline;
/// - the source runs and the destination holds an unfinished incoming copy: destroy that copy;
/// - the destination runs the migrated guest and the source still holds its paused copy: destroy the source's copy;
/// - the source's copy is paused for a switch-over that never happened and the destination has none: resume it;
/// - anything else (two running copies, states it must not guess about): finish, and the operator decides.
///
/// The deadline is the reconnect timeout from the start, pushed back to the reconnect timeout from now each time
/// the source's job has sent more data.
///
/// Use: while ``needsSourceJob(in:)``, read the source's job; ask ``next(location:sourceJobProcessed:now:)``;
/// carry the action out; hand its result to ``record(_:)``, which says whether to locate the domain again before
/// the next question.
public struct RecoveryPlanner: Sendable {
    /// What to do next.
    public enum Action: Sendable, Hashable {
        /// The source's libvirt still runs the migration: wait ``RecoveryPlanner/sourceJobPollInterval``, then
        /// look again. `notice` is said once, the first time.
        case waitForSourceJob(notice: String?)
        /// A host does not answer: wait ``RecoveryPlanner/hostPollInterval``, then look again. `notice` is said
        /// once, the first time.
        case waitForHost(notice: String?)
        /// Resume the broken post-copy migration, retrying until `deadline`; record a
        /// ``ActionResult/postCopyResume(_:)``.
        case resumePostCopy(until: ContinuousClock.Instant)
        /// Destroy the unfinished incoming copy on the destination; the guest runs on the source.
        case destroyDestinationCopy
        /// Destroy the stale paused copy on the source; the guest runs on the destination.
        case destroySourceCopy
        /// Resume the source's copy, paused for a switch-over that did not happen.
        case resumeSourceCopy
        /// Done: the outcome to report, with the lines that say what was done.
        case finish(MigrationRecovery.Outcome)
        /// Post-copy is still broken and the link did not come back in time: the outcome carries the command
        /// that resumes it.
        case giveUp(MigrationRecovery.Outcome)
    }

    /// How an action went.
    public enum ActionResult: Sendable, Hashable {
        /// A wait ended, or a copy was destroyed or resumed.
        case done
        /// libvirt refused to destroy or resume a copy, in its words.
        case failed(String)
        /// What resuming the broken post-copy migration came to.
        case postCopyResume(PostCopyResume)
    }

    /// What resuming a broken post-copy migration came to.
    public enum PostCopyResume: Sendable, Hashable {
        /// The post-copy migration was resumed and finished.
        case resumed
        /// There was nothing to resume: libvirt ended the migration by itself.
        case nothingToResume
        /// The link did not come back before the deadline.
        case gaveUp
    }

    /// What comes after an action.
    public enum FollowUp: Sendable, Hashable {
        /// Wait this long (maybe zero), locate the domain again, and ask ``RecoveryPlanner/next(location:sourceJobProcessed:now:)``.
        case locate(after: Duration)
        /// Ask ``RecoveryPlanner/next(location:sourceJobProcessed:now:)`` again with the same location: it finishes.
        case finish
    }

    /// How long to wait between looks at a migration job the source still runs.
    public static let sourceJobPollInterval: Duration = .seconds(1)
    /// How long to wait between looks at a host that does not answer.
    public static let hostPollInterval: Duration = .seconds(2)
    /// After libvirt ended a broken post-copy migration by itself, how long to let it settle before looking again.
    public static let settleAfterLibvirtEndedInterval: Duration = .seconds(1)
    /// The most steps recovery takes.
    public static let maximumSteps = 6

    /// How long to wait for a host that does not answer, and for a broken post-copy link to come back.
    public let reconnectTimeout: Duration
    /// The command that resumes a broken post-copy migration, for ``Action/giveUp(_:)``.
    public let resumeCommand: String
    /// Until when recovery waits.
    public private(set) var deadline: ContinuousClock.Instant

    /// What was done, one line each, in order.
    private var lines: [String] = []
    private var pending: Action?
    private var lastProcessed: UInt64?
    private var resumedPostCopy = false
    private var waitingSaid = false
    private var jobSaid = false
    /// Set when libvirt ended the migration by itself while recovery waited (the tool's call had failed).
    private var libvirtEnded = false
    private var postCopyBroken = false
    /// Set when an action failed or gave up: no more actions.
    private var stopped = false

    /// - Parameters:
    ///   - reconnectTimeout: How long to wait for a host that does not answer, for a broken post-copy link to come
    ///     back, and for a migration job the source still runs after its data stopped moving.
    ///   - resumeCommand: The command an operator runs to resume a broken post-copy migration.
    ///   - now: When recovery starts.
    public init(reconnectTimeout: Duration, resumeCommand: String, now: ContinuousClock.Instant) {
        self.reconnectTimeout = reconnectTimeout
        self.resumeCommand = resumeCommand
        self.deadline = now + reconnectTimeout
    }

    /// Whether the next decision needs the source's migration job, which the runner then reads first: the source
    /// answers and is not in a broken post-copy, and there is still something to decide.
    public func needsSourceJob(in location: DomainLocation) -> Bool {
        guard self.mayAct(in: location), let source = location.sourceState else { return false }
        return !source.isPostCopyFailed
    }

    /// Decides the next action.
    ///
    /// - Parameters:
    ///   - location: Where the domain is, as both hosts said just now.
    ///   - sourceJobProcessed: When the source still has an outgoing migration job for the domain, the bytes it
    ///     has sent so far; `nil` when it has none, or when ``needsSourceJob(in:)`` said it was not needed.
    ///   - now: The time now.
    public mutating func next(
        location: DomainLocation,
        sourceJobProcessed: UInt64?,
        now: ContinuousClock.Instant
    ) -> Action {
        self.pending = nil
        guard self.mayAct(in: location) else { return self.conclusion(location) }
        let source = location.sourceState
        let destination = location.destinationState
        if let source, !source.isPostCopyFailed, let processed = sourceJobProcessed {
            // The tool lost its call, not the source its migration: let libvirt finish it first, for as long as
            // data moves (and the reconnect timeout after it stops).
            if processed != self.lastProcessed {
                self.lastProcessed = processed
                self.deadline = max(self.deadline, now + self.reconnectTimeout)
            }
            guard now < self.deadline else { return self.conclusion(location) }
            let notice = self.jobSaid ? nil : "the migration still runs on the source; waiting for libvirt to end it"
            self.jobSaid = true
            return self.pend(.waitForSourceJob(notice: notice))
        }
        if source?.isPostCopyFailed == true || destination?.isPostCopyFailed == true {
            self.postCopyBroken = true
            return self.pend(.resumePostCopy(until: self.deadline))
        }
        if let problem = location.problem {
            guard now < self.deadline else { return self.conclusion(location) }
            let notice =
                self.waitingSaid
                ? nil
                : "\(problem); waiting up to \(self.reconnectTimeout.wholeMilliseconds / 1000) s for the host to answer"
            self.waitingSaid = true
            return self.pend(.waitForHost(notice: notice))
        }
        if let source, let destination, source.isActive, destination.isActive {
            if source.state == .running, destination.state == .paused {
                return self.pend(.destroyDestinationCopy)
            }
            if source.state == .paused, source.isPausedForMigration, destination.state == .running,
                !destination.isPostCopy
            {
                return self.pend(.destroySourceCopy)
            }
            // Two running copies, or states this tool must not guess about: the operator decides.
            return self.conclusion(location)
        }
        if let source, source.isPausedForMigration, destination == nil {
            return self.pend(.resumeSourceCopy)
        }
        return self.conclusion(location)
    }

    /// Records how the last action went, and says what comes next.
    public mutating func record(_ result: ActionResult) -> FollowUp {
        guard let action = self.pending else { return .finish }
        self.pending = nil
        switch (action, result) {
        case (.waitForSourceJob, _):
            return .locate(after: Self.sourceJobPollInterval)
        case (.waitForHost, _):
            return .locate(after: Self.hostPollInterval)
        case (.resumePostCopy, .postCopyResume(.resumed)):
            self.lines.append("resumed the broken post-copy migration once the link was back (POSTCOPY_RESUME)")
            self.resumedPostCopy = true
            self.postCopyBroken = false
            return .locate(after: .zero)
        case (.resumePostCopy, .postCopyResume(.nothingToResume)):
            self.postCopyBroken = false
            self.libvirtEnded = true
            return .locate(after: Self.settleAfterLibvirtEndedInterval)
        case (.resumePostCopy, _):
            self.stopped = true
            return .finish
        case (.destroyDestinationCopy, .failed(let message)):
            return self.stop("could not remove the unfinished copy on the destination: \(message)")
        case (.destroyDestinationCopy, _):
            self.lines.append("removed the unfinished incoming copy on the destination; the guest runs on the source")
            return .locate(after: .zero)
        case (.destroySourceCopy, .failed(let message)):
            return self.stop("could not remove the stale copy on the source: \(message)")
        case (.destroySourceCopy, _):
            self.lines.append("removed the stale paused copy on the source; the guest runs on the destination")
            return .locate(after: .zero)
        case (.resumeSourceCopy, .failed(let message)):
            return self.stop("could not resume the guest on the source: \(message)")
        case (.resumeSourceCopy, _):
            self.lines.append("resumed the guest on the source, paused for a switch-over that did not happen")
            return .locate(after: .zero)
        case (.finish, _), (.giveUp, _):
            return .finish
        }
    }

    // MARK: - Private

    /// Whether recovery may still act on this location: no action failed or gave up, fewer than
    /// ``maximumSteps`` lines, and the location needs recovery.
    private func mayAct(in location: DomainLocation) -> Bool {
        !self.stopped && self.lines.count < Self.maximumSteps && MigrationRecovery.needsRecovery(location)
    }

    private mutating func pend(_ action: Action) -> Action {
        self.pending = action
        return action
    }

    private mutating func stop(_ line: String) -> FollowUp {
        self.lines.append(line)
        self.stopped = true
        return .finish
    }

    /// The outcome at `location`: when libvirt ended the migration by itself, a line says how.
    private mutating func conclusion(_ location: DomainLocation) -> Action {
        self.stopped = true
        var lines = self.lines
        let libvirtActed = self.jobSaid || self.libvirtEnded
        if libvirtActed {
            switch location.summary {
            case .destination: lines.append("libvirt finished the migration after the link came back")
            case .source: lines.append("libvirt ended the migration; the guest runs on the source")
            default: break
            }
        }
        let outcome = MigrationRecovery.Outcome(
            location: location,
            actions: lines,
            resumedPostCopy: self.resumedPostCopy,
            finishedBySource: libvirtActed && location.summary == .destination,
            resumeCommand: self.postCopyBroken ? self.resumeCommand : nil
        )
        return self.postCopyBroken ? .giveUp(outcome) : .finish(outcome)
    }
}
