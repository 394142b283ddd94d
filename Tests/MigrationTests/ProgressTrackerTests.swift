import Libvirt
import Migration
import Testing

/// One update, outside the test macros (which cannot take a mutating call).
private func step(_ tracker: inout ProgressTracker, _ statistics: JobStats, elapsed: Duration) -> MigrationProgress? {
    tracker.update(statistics, elapsed: elapsed)
}

@Suite struct ProgressTrackerTests {
    private func running(
        processed: UInt64,
        remaining: UInt64,
        total: UInt64? = nil,
        iteration: UInt64? = nil,
        bps: UInt64? = nil,
        dirtyPages: UInt64? = nil
    ) -> JobStats {
        var stats = JobStats(type: .unbounded)
        stats.dataProcessed = processed
        stats.dataRemaining = remaining
        stats.dataTotal = total ?? processed + remaining
        stats.memoryIteration = iteration
        stats.memoryBytesPerSecond = bps
        stats.memoryDirtyRate = dirtyPages
        stats.memoryPageSize = 4096
        return stats
    }

    @Test func shareDoneNeverRunsBackwardsWhenDirtyPagesGrowTheRemainder() throws {
        var tracker = ProgressTracker()
        let first = try #require(step(&tracker, self.running(processed: 600, remaining: 400), elapsed: .seconds(1)))
        #expect(first.fractionDone == 0.6)
        // The guest dirtied memory: more remains than before although more was sent.
        let second = try #require(step(&tracker, self.running(processed: 700, remaining: 900), elapsed: .seconds(2)))
        #expect(second.fractionDone == 0.6)
        #expect(second.dataRemainingBytes == 900)
        let third = try #require(step(&tracker, self.running(processed: 1900, remaining: 100), elapsed: .seconds(3)))
        #expect(third.fractionDone == 0.95)
    }

    @Test func neverShowsAHundredPercentBeforeTheEnd() throws {
        var tracker = ProgressTracker()
        let progress = try #require(step(&tracker, self.running(processed: 1000, remaining: 0), elapsed: .seconds(1)))
        #expect(progress.fractionDone == 0.99)
    }

    @Test func memoryPassesComeFromStatisticsAndIterationEvents() throws {
        var tracker = ProgressTracker()
        let setup = try #require(step(&tracker, self.running(processed: 0, remaining: 10), elapsed: .zero))
        #expect(setup.phase == .setup)
        #expect(setup.memoryPass == nil)
        let pass1 = try #require(
            step(&tracker, self.running(processed: 5, remaining: 5, iteration: 1), elapsed: .seconds(1))
        )
        #expect(pass1.phase == .preCopy(pass: 1))
        tracker.note(iteration: 3)
        let pass3 = try #require(
            step(&tracker, self.running(processed: 6, remaining: 4, iteration: 2), elapsed: .seconds(2))
        )
        #expect(pass3.phase == .preCopy(pass: 3))
        #expect(tracker.memoryPasses == 3)
    }

    @Test func throughputIsQEMUsRateOrMeasuredFromTheDataSent() throws {
        var tracker = ProgressTracker()
        _ = tracker.update(self.running(processed: 0, remaining: 100 << 20), elapsed: .zero)
        let measured = try #require(
            step(&tracker, self.running(processed: 50 << 20, remaining: 50 << 20), elapsed: .milliseconds(500))
        )
        #expect(measured.throughputBytesPerSecond == 100 << 20)
        let reported = try #require(
            step(
                &tracker,
                self.running(processed: 60 << 20, remaining: 40 << 20, bps: 123_456),
                elapsed: .seconds(1)
            )
        )
        #expect(reported.throughputBytesPerSecond == 123_456)
    }

    @Test func dirtyRateIsShownInBytesPerSecond() throws {
        var tracker = ProgressTracker()
        let progress = try #require(
            step(&tracker, self.running(processed: 1, remaining: 1, dirtyPages: 2560), elapsed: .seconds(1))
        )
        #expect(progress.dirtyRateBytesPerSecond == 10 << 20)
    }

    @Test func noJobMeansNoObservation() {
        var tracker = ProgressTracker()
        #expect(step(&tracker, JobStats(type: .none), elapsed: .seconds(1)) == nil)
        #expect(step(&tracker, JobStats(type: .completed), elapsed: .seconds(1)) == nil)
    }

    @Test func lifecycleEventsMoveThePhase() throws {
        var tracker = ProgressTracker()
        tracker.note(iteration: 2)
        tracker.note(LifecycleEvent(domainName: "d", kind: .suspended, detail: 1))  // SUSPENDED_MIGRATED
        #expect(step(&tracker, self.running(processed: 9, remaining: 1), elapsed: .seconds(1))?.phase == .switchOver)
        tracker.note(LifecycleEvent(domainName: "d", kind: .resumed, detail: 0))  // cancelled: back to pre-copy
        #expect(
            step(&tracker, self.running(processed: 9, remaining: 1), elapsed: .seconds(2))?.phase
                == .preCopy(pass: 2)
        )
        tracker.note(LifecycleEvent(domainName: "d", kind: .suspended, detail: 7))  // SUSPENDED_POSTCOPY
        #expect(step(&tracker, self.running(processed: 9, remaining: 1), elapsed: .seconds(3))?.phase == .postCopy)
        tracker.note(LifecycleEvent(domainName: "d", kind: .stopped, detail: 3))  // STOPPED_MIGRATED
        #expect(step(&tracker, self.running(processed: 10, remaining: 0), elapsed: .seconds(4))?.phase == .finishing)
    }

    @Test func noReadsWhileTheGuestIsPausedForTheSwitchOver() {
        var tracker = ProgressTracker()
        tracker.note(iteration: 3)
        #expect(!tracker.isSwitchingOver)
        tracker.note(LifecycleEvent(domainName: "d", kind: .suspended, detail: 1))  // SUSPENDED_MIGRATED
        #expect(tracker.isSwitchingOver)
        tracker.note(LifecycleEvent(domainName: "d", kind: .resumed, detail: 0))  // the switch-over failed
        #expect(!tracker.isSwitchingOver)
        tracker.note(LifecycleEvent(domainName: "d", kind: .suspended, detail: 7))  // SUSPENDED_POSTCOPY
        #expect(!tracker.isSwitchingOver)  // post-copy runs for long: its progress is read
        tracker.note(LifecycleEvent(domainName: "d", kind: .stopped, detail: 3))  // STOPPED_MIGRATED
        #expect(tracker.isSwitchingOver)
    }
}
