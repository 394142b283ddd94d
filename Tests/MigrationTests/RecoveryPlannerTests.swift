import Libvirt
import Testing

@testable import Migration

/// One decision, outside the test macros (which cannot take a mutating call).
private func decide(
    _ planner: inout RecoveryPlanner,
    _ location: DomainLocation,
    job: UInt64? = nil,
    at now: ContinuousClock.Instant
) -> RecoveryPlanner.Action {
    planner.next(location: location, sourceJobProcessed: job, now: now)
}

/// One recorded result, outside the test macros.
private func record(
    _ planner: inout RecoveryPlanner,
    _ result: RecoveryPlanner.ActionResult
) -> RecoveryPlanner.FollowUp {
    planner.record(result)
}

/// The outcome a finishing action carries.
private func outcome(_ action: RecoveryPlanner.Action) -> MigrationRecovery.Outcome? {
    switch action {
    case .finish(let outcome), .giveUp(let outcome): outcome
    default: nil
    }
}

@Suite struct RecoveryPlannerTests {
    typealias States = MigrationRecoveryTests

    static let timeout: Duration = .seconds(120)
    static let command = "kvmmigrate migrate vm1 qemu+tcp://b/system -c qemu+tcp://a/system --postcopy-resume"
    let start = ContinuousClock.now

    // Locations, as libvirt reports them.
    static let onSource = DomainLocation(sourceState: States.running, destinationState: nil)
    static let onDestination = DomainLocation(sourceState: nil, destinationState: States.runningMigrated)
    static let incomingCopyLeft = DomainLocation(sourceState: States.running, destinationState: States.pausedMigrating)
    static let staleSourceCopy = DomainLocation(
        sourceState: States.pausedMigrating,
        destinationState: States.runningMigrated
    )
    static let pausedForSwitchOver = DomainLocation(sourceState: States.pausedMigrating, destinationState: nil)
    static let postCopyBroken = DomainLocation(
        sourceState: States.pausedPostCopyFailed,
        destinationState: States.runningPostCopy
    )
    static let destinationDown = DomainLocation(
        sourceState: States.running,
        destinationState: nil,
        problem: "the destination b does not answer: timeout"
    )

    func planner() -> RecoveryPlanner {
        RecoveryPlanner(reconnectTimeout: Self.timeout, resumeCommand: Self.command, now: self.start)
    }

    func at(_ seconds: Int64) -> ContinuousClock.Instant { self.start + .seconds(seconds) }

    // MARK: - Nothing to do

    @Test func aCleanEndFinishesAtOnceWithNothingDone() {
        var planner = self.planner()
        let action = decide(&planner, Self.onDestination, at: self.at(0))
        #expect(
            action
                == .finish(
                    MigrationRecovery.Outcome(
                        location: Self.onDestination,
                        actions: [],
                        resumedPostCopy: false,
                        finishedBySource: false,
                        resumeCommand: nil
                    )
                )
        )
        #expect(!planner.needsSourceJob(in: Self.onDestination))
    }

    @Test(arguments: [
        // Two running copies: the operator decides.
        DomainLocation(sourceState: States.running, destinationState: States.runningMigrated),
        // The destination runs in post-copy next to a paused source: not a stale copy to destroy.
        DomainLocation(sourceState: States.pausedMigrating, destinationState: States.runningPostCopy),
        // Gone from both hosts.
        DomainLocation(sourceState: nil, destinationState: nil),
        // Paused on the destination only.
        DomainLocation(sourceState: nil, destinationState: States.pausedMigrating),
    ])
    func statesItMustNotGuessAboutFinishWithoutActing(location: DomainLocation) {
        var planner = self.planner()
        let action = decide(&planner, location, at: self.at(0))
        #expect(outcome(action)?.actions == [])
        #expect(outcome(action)?.location == location)
        if case .finish = action {} else { Issue.record("expected .finish, got \(action)") }
    }

    // MARK: - The source's job

    @Test func theSourceJobIsAskedForOnlyWhenTheSourceAnswersAndPostCopyIsNotBroken() {
        let planner = self.planner()
        #expect(planner.needsSourceJob(in: Self.incomingCopyLeft))
        #expect(planner.needsSourceJob(in: Self.destinationDown))
        #expect(!planner.needsSourceJob(in: Self.postCopyBroken))
        #expect(!planner.needsSourceJob(in: DomainLocation(sourceState: nil, destinationState: States.pausedMigrating)))
        #expect(!planner.needsSourceJob(in: Self.onSource))
    }

    @Test func aJobStillRunningOnTheSourceIsWaitedForAndSaidOnce() {
        var planner = self.planner()
        #expect(
            decide(&planner, Self.incomingCopyLeft, job: 100, at: self.at(0))
                == .waitForSourceJob(notice: "the migration still runs on the source; waiting for libvirt to end it")
        )
        #expect(record(&planner, .done) == .locate(after: .seconds(1)))
        #expect(decide(&planner, Self.incomingCopyLeft, job: 200, at: self.at(1)) == .waitForSourceJob(notice: nil))
    }

    @Test func theSourceJobIsWaitedForEvenWhenOnlyTheDestinationSaysPostCopyFailed() {
        var planner = self.planner()
        let location = DomainLocation(
            sourceState: States.pausedPostCopy,
            destinationState: States.runningPostCopyFailed
        )
        #expect(planner.needsSourceJob(in: location))
        if case .waitForSourceJob = decide(&planner, location, job: 1, at: self.at(0)) {
        } else {
            Issue.record("expected to wait for the source's job")
        }
    }

    @Test func aJobWhoseDataStoppedIsWaitedForOnlyUntilTheDeadline() {
        var planner = self.planner()
        _ = decide(&planner, Self.incomingCopyLeft, job: 100, at: self.at(0))
        _ = record(&planner, .done)
        #expect(decide(&planner, Self.incomingCopyLeft, job: 100, at: self.at(119)) == .waitForSourceJob(notice: nil))
        _ = record(&planner, .done)
        let action = decide(&planner, Self.incomingCopyLeft, job: 100, at: self.at(120))
        // The job was still running: libvirt ended nothing, and the copies stay as the operator finds them.
        #expect(
            action
                == .finish(
                    MigrationRecovery.Outcome(
                        location: Self.incomingCopyLeft,
                        actions: [],
                        resumedPostCopy: false,
                        finishedBySource: false,
                        resumeCommand: nil
                    )
                )
        )
    }

    @Test func dataThatMovesPushesTheDeadlineBack() {
        var planner = self.planner()
        _ = decide(&planner, Self.incomingCopyLeft, job: 100, at: self.at(0))
        _ = record(&planner, .done)
        #expect(planner.deadline == self.at(120))
        // More data at 100 s: the reconnect timeout runs from there.
        _ = decide(&planner, Self.incomingCopyLeft, job: 500, at: self.at(100))
        _ = record(&planner, .done)
        #expect(planner.deadline == self.at(220))
        #expect(decide(&planner, Self.incomingCopyLeft, job: 500, at: self.at(219)) == .waitForSourceJob(notice: nil))
        _ = record(&planner, .done)
        #expect(outcome(decide(&planner, Self.incomingCopyLeft, job: 500, at: self.at(220))) != nil)
    }

    @Test func aDeadlineIsNeverPulledIn() {
        var planner = self.planner()
        _ = decide(&planner, Self.incomingCopyLeft, job: 100, at: self.at(-50))
        #expect(planner.deadline == self.at(120))
    }

    @Test func libvirtFinishingTheMigrationItselfIsReported() {
        var planner = self.planner()
        _ = decide(&planner, Self.incomingCopyLeft, job: 100, at: self.at(0))
        _ = record(&planner, .done)
        let action = decide(&planner, Self.onDestination, at: self.at(5))
        #expect(
            action
                == .finish(
                    MigrationRecovery.Outcome(
                        location: Self.onDestination,
                        actions: ["libvirt finished the migration after the link came back"],
                        resumedPostCopy: false,
                        finishedBySource: true,
                        resumeCommand: nil
                    )
                )
        )
    }

    @Test func libvirtEndingTheMigrationOnTheSourceIsReported() {
        var planner = self.planner()
        _ = decide(&planner, Self.incomingCopyLeft, job: 100, at: self.at(0))
        _ = record(&planner, .done)
        let result = outcome(decide(&planner, Self.onSource, at: self.at(5)))
        #expect(result?.actions == ["libvirt ended the migration; the guest runs on the source"])
        #expect(result?.finishedBySource == false)
    }

    @Test func withoutAJobTheLocationDecides() {
        var planner = self.planner()
        #expect(decide(&planner, Self.incomingCopyLeft, job: nil, at: self.at(0)) == .destroyDestinationCopy)
    }

    // MARK: - Broken post-copy

    @Test func aBrokenPostCopyIsResumedUntilTheDeadline() {
        var planner = self.planner()
        // A job on a source in broken post-copy is not waited for: the migration must be resumed.
        #expect(decide(&planner, Self.postCopyBroken, job: 100, at: self.at(3)) == .resumePostCopy(until: self.at(120)))
        #expect(record(&planner, .postCopyResume(.resumed)) == .locate(after: .zero))
        let action = decide(&planner, Self.onDestination, at: self.at(30))
        #expect(
            action
                == .finish(
                    MigrationRecovery.Outcome(
                        location: Self.onDestination,
                        actions: ["resumed the broken post-copy migration once the link was back (POSTCOPY_RESUME)"],
                        resumedPostCopy: true,
                        finishedBySource: false,
                        resumeCommand: nil
                    )
                )
        )
    }

    @Test func theResumeDeadlineIncludesTimeGivenToAMovingJob() {
        var planner = self.planner()
        _ = decide(&planner, Self.incomingCopyLeft, job: 100, at: self.at(60))
        _ = record(&planner, .done)
        #expect(decide(&planner, Self.postCopyBroken, at: self.at(61)) == .resumePostCopy(until: self.at(180)))
    }

    @Test func aPostCopyLibvirtEndedByItselfIsReportedAsLibvirtsDoing() {
        var planner = self.planner()
        _ = decide(&planner, Self.postCopyBroken, at: self.at(0))
        #expect(record(&planner, .postCopyResume(.nothingToResume)) == .locate(after: .seconds(1)))
        let result = outcome(decide(&planner, Self.onDestination, at: self.at(2)))
        #expect(result?.actions == ["libvirt finished the migration after the link came back"])
        #expect(result?.finishedBySource == true)
        #expect(result?.resumedPostCopy == false)
        #expect(result?.resumeCommand == nil)
    }

    @Test func aPostCopyThatCannotBeResumedGivesUpWithTheResumeCommand() {
        var planner = self.planner()
        _ = decide(&planner, Self.postCopyBroken, at: self.at(0))
        #expect(record(&planner, .postCopyResume(.gaveUp)) == .finish)
        // No more actions, and no second look: the location is the one the resume started from.
        #expect(!planner.needsSourceJob(in: Self.incomingCopyLeft))
        let action = decide(&planner, Self.postCopyBroken, at: self.at(121))
        #expect(
            action
                == .giveUp(
                    MigrationRecovery.Outcome(
                        location: Self.postCopyBroken,
                        actions: [],
                        resumedPostCopy: false,
                        finishedBySource: false,
                        resumeCommand: Self.command
                    )
                )
        )
    }

    // MARK: - A host that does not answer

    @Test func aHostThatDoesNotAnswerIsWaitedForAndSaidOnce() {
        var planner = self.planner()
        #expect(
            decide(&planner, Self.destinationDown, at: self.at(0))
                == .waitForHost(
                    notice: "the destination b does not answer: timeout; waiting up to 120 s for the host to answer"
                )
        )
        #expect(record(&planner, .done) == .locate(after: .seconds(2)))
        #expect(decide(&planner, Self.destinationDown, at: self.at(2)) == .waitForHost(notice: nil))
    }

    @Test func aHostThatNeverAnswersEndsRecoveryAtTheDeadline() {
        var planner = self.planner()
        _ = decide(&planner, Self.destinationDown, at: self.at(0))
        _ = record(&planner, .done)
        let action = decide(&planner, Self.destinationDown, at: self.at(120))
        #expect(
            action
                == .finish(
                    MigrationRecovery.Outcome(
                        location: Self.destinationDown,
                        actions: [],
                        resumedPostCopy: false,
                        finishedBySource: false,
                        resumeCommand: nil
                    )
                )
        )
    }

    @Test func aHostThatComesBackLetsTheLocationDecide() {
        var planner = self.planner()
        _ = decide(&planner, Self.destinationDown, at: self.at(0))
        _ = record(&planner, .done)
        #expect(decide(&planner, Self.incomingCopyLeft, at: self.at(10)) == .destroyDestinationCopy)
    }

    // MARK: - Copies

    @Test func theUnfinishedIncomingCopyIsDestroyed() {
        var planner = self.planner()
        #expect(decide(&planner, Self.incomingCopyLeft, at: self.at(0)) == .destroyDestinationCopy)
        #expect(record(&planner, .done) == .locate(after: .zero))
        #expect(
            outcome(decide(&planner, Self.onSource, at: self.at(1)))?.actions == [
                "removed the unfinished incoming copy on the destination; the guest runs on the source"
            ]
        )
    }

    @Test func theStalePausedSourceCopyIsDestroyed() {
        var planner = self.planner()
        #expect(decide(&planner, Self.staleSourceCopy, at: self.at(0)) == .destroySourceCopy)
        #expect(record(&planner, .done) == .locate(after: .zero))
        #expect(
            outcome(decide(&planner, Self.onDestination, at: self.at(1)))?.actions == [
                "removed the stale paused copy on the source; the guest runs on the destination"
            ]
        )
    }

    @Test func aSourcePausedForASwitchOverIsResumed() {
        var planner = self.planner()
        #expect(decide(&planner, Self.pausedForSwitchOver, at: self.at(0)) == .resumeSourceCopy)
        #expect(record(&planner, .done) == .locate(after: .zero))
        #expect(
            outcome(decide(&planner, Self.onSource, at: self.at(1)))?.actions == [
                "resumed the guest on the source, paused for a switch-over that did not happen"
            ]
        )
    }

    @Test(arguments: [
        (
            RecoveryPlannerTests.incomingCopyLeft, RecoveryPlanner.Action.destroyDestinationCopy,
            "could not remove the unfinished copy on the destination: denied"
        ),
        (
            RecoveryPlannerTests.staleSourceCopy, RecoveryPlanner.Action.destroySourceCopy,
            "could not remove the stale copy on the source: denied"
        ),
        (
            RecoveryPlannerTests.pausedForSwitchOver, RecoveryPlanner.Action.resumeSourceCopy,
            "could not resume the guest on the source: denied"
        ),
    ])
    func aRefusedActionEndsRecoveryWithLibvirtsWords(
        location: DomainLocation,
        expected: RecoveryPlanner.Action,
        line: String
    ) {
        var planner = self.planner()
        #expect(decide(&planner, location, at: self.at(0)) == expected)
        #expect(record(&planner, .failed("denied")) == .finish)
        #expect(!planner.needsSourceJob(in: location))
        // The runner does not look again: the outcome is at the location the action started from.
        #expect(
            decide(&planner, location, at: self.at(1))
                == .finish(
                    MigrationRecovery.Outcome(
                        location: location,
                        actions: [line],
                        resumedPostCopy: false,
                        finishedBySource: false,
                        resumeCommand: nil
                    )
                )
        )
    }

    // MARK: - Limits

    @Test func recoveryTakesAtMostSixSteps() {
        var planner = self.planner()
        for step in 0..<6 {
            #expect(decide(&planner, Self.incomingCopyLeft, at: self.at(Int64(step))) == .destroyDestinationCopy)
            #expect(record(&planner, .done) == .locate(after: .zero))
        }
        #expect(!planner.needsSourceJob(in: Self.incomingCopyLeft))
        let result = outcome(decide(&planner, Self.incomingCopyLeft, at: self.at(6)))
        #expect(result?.actions.count == 6)
        #expect(result?.location == Self.incomingCopyLeft)
    }

    @Test func waitsAreNotCountedAsSteps() {
        var planner = self.planner()
        for second in 0..<10 {
            _ = decide(&planner, Self.destinationDown, at: self.at(Int64(second)))
            _ = record(&planner, .done)
        }
        #expect(decide(&planner, Self.incomingCopyLeft, at: self.at(10)) == .destroyDestinationCopy)
    }

    @Test func aResultWithNoActionPendingFinishes() {
        var planner = self.planner()
        #expect(record(&planner, .done) == .finish)
    }
}
