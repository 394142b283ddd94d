import Libvirt
import Testing

@testable import Migration

/// One observation, outside the test macros (which cannot take a mutating call).
private func observe(
    _ controller: inout ConvergenceController,
    _ statistics: JobStats,
    at seconds: Double
) -> [ConvergenceAction] {
    controller.observe(statistics, elapsed: .milliseconds(Int64(seconds * 1000)))
}

@Suite struct ConvergenceControllerTests {
    static let memory: UInt64 = 256 << 20

    /// The statistics at the start of memory pass `pass`, with `remaining` MiB left to send.
    private func pass(
        _ pass: UInt64,
        remaining: UInt64,
        dirtyMiBPerSecond: UInt64? = nil,
        carriedMiBPerSecond: UInt64 = 120,
        throttle: UInt64? = nil
    ) -> JobStats {
        var stats = JobStats(type: .unbounded)
        stats.memoryIteration = pass
        stats.memoryRemaining = remaining << 20
        stats.memoryBytesPerSecond = carriedMiBPerSecond << 20
        stats.memoryDirtyRate = dirtyMiBPerSecond.map { ($0 << 20) / 4096 }
        stats.memoryPageSize = 4096
        stats.autoConvergeThrottle = throttle
        return stats
    }

    @Test func aConvergingMigrationTakesNoStep() {
        var controller = ConvergenceController(policy: .balanced, memoryBytes: Self.memory)
        for (index, remaining) in [96, 60, 30, 12, 5].enumerated() {
            let actions = observe(
                &controller,
                self.pass(UInt64(index + 1), remaining: UInt64(remaining), dirtyMiBPerSecond: 40),
                at: Double(index)
            )
            #expect(actions.isEmpty)
        }
        #expect(controller.steps.isEmpty)
    }

    @Test func balancedRaisesTheDowntimeThenSwitchesToPostCopy() {
        var controller = ConvergenceController(policy: .balanced, memoryBytes: Self.memory)
        var actions: [[ConvergenceAction]] = []
        for pass in 1...9 {
            actions.append(
                observe(&controller, self.pass(UInt64(pass), remaining: 64, dirtyMiBPerSecond: 200), at: Double(pass))
            )
        }
        // Pass 1 has nothing to compare; passes 2 and 3 stall: a step; 4 and 5: the next; 6 and 7: post-copy.
        #expect(actions[0].isEmpty && actions[1].isEmpty)
        #expect(actions[2] == [.setMaximumDowntime(.milliseconds(400))])
        #expect(actions[4] == [.setMaximumDowntime(.milliseconds(500))])
        #expect(actions[6] == [.startPostCopy])
        #expect(actions[7].isEmpty && actions[8].isEmpty)
        #expect(controller.steps.map(\.kind) == [.downtime, .downtime, .postCopy])
        #expect(controller.steps[0].pass == 3)
        #expect(controller.steps[0].detail.contains("64 MiB"))
        #expect(controller.currentDowntime == .milliseconds(500))
    }

    @Test func aPassThatDoesNotShrinkWhatIsLeftCountsAsStalledWithoutADirtyRate() {
        var controller = ConvergenceController(policy: .balanced, memoryBytes: Self.memory)
        _ = observe(&controller, self.pass(1, remaining: 200), at: 0)
        _ = observe(&controller, self.pass(2, remaining: 64), at: 1)
        // 60 MiB is less than 10 % below 64 MiB: stalled, twice.
        #expect(observe(&controller, self.pass(3, remaining: 60), at: 2).isEmpty)
        #expect(observe(&controller, self.pass(4, remaining: 62), at: 3) == [.setMaximumDowntime(.milliseconds(400))])
    }

    @Test func observationsWithinOnePassDoNotCountAgain() {
        var controller = ConvergenceController(policy: .balanced, memoryBytes: Self.memory)
        for second in 0..<20 {
            _ = observe(&controller, self.pass(2, remaining: 64, dirtyMiBPerSecond: 500), at: Double(second) / 4)
        }
        #expect(controller.steps.isEmpty)
    }

    @Test func lowDowntimeLetsTheThrottleRiseAndNeverUsesPostCopy() {
        var policy = ConvergencePolicy(.lowDowntime)
        policy.downtimeSteps = [.milliseconds(150)]
        var controller = ConvergenceController(policy: policy, memoryBytes: Self.memory)
        var all: [ConvergenceAction] = []
        var throttle: UInt64? = nil
        for pass in 1...16 {
            if pass >= 4 { throttle = min(20 + UInt64(pass - 4) * 10, 50) }
            all += observe(
                &controller,
                self.pass(UInt64(pass), remaining: 64, dirtyMiBPerSecond: 300, throttle: throttle),
                at: Double(pass)
            )
        }
        #expect(all == [.setMaximumDowntime(.milliseconds(150))])
        #expect(!controller.steps.contains { $0.kind == .postCopy })
        #expect(controller.steps.filter { $0.kind == .autoConverge }.map(\.throttlePercent) == [20, 30, 40, 50])
        // Nothing is left but the time limit: 240 s per GiB of a 256 MiB guest.
        #expect(controller.completionTimeout == .seconds(60))
        #expect(observe(&controller, self.pass(16, remaining: 64), at: 60) == [.abort])
        #expect(controller.steps.last?.kind == .timeout)
        #expect(controller.steps.last?.detail.contains("keeps running on the source") == true)
        #expect(observe(&controller, self.pass(17, remaining: 64), at: 61).isEmpty)
    }

    @Test(arguments: [
        (ConvergencePolicy.TimeoutAction.abort, ConvergenceAction.abort),
        (.suspend, .suspend),
        (.postcopy, .startPostCopy),
    ])
    func theTimeoutActionComesWhenTheTimeRunsOut(action: ConvergencePolicy.TimeoutAction, expected: ConvergenceAction) {
        var policy = ConvergencePolicy(.lowDowntime)
        policy.completionTimeoutPerGiB = .seconds(40)
        policy.timeoutAction = action
        var controller = ConvergenceController(policy: policy, memoryBytes: 1 << 30)
        #expect(observe(&controller, self.pass(1, remaining: 900), at: 39.9).isEmpty)
        #expect(observe(&controller, self.pass(1, remaining: 800), at: 40) == [expected])
        #expect(controller.steps.map(\.timeoutAction) == [action])
    }

    @Test func nothingIsDoneOncePostCopyRuns() {
        var policy = ConvergencePolicy(.fastest)
        policy.completionTimeoutPerGiB = .seconds(10)
        var controller = ConvergenceController(policy: policy, memoryBytes: 1 << 30)
        _ = observe(&controller, self.pass(1, remaining: 900), at: 1)
        controller.notePostCopyStarted()
        #expect(observe(&controller, self.pass(2, remaining: 900, dirtyMiBPerSecond: 900), at: 20).isEmpty)
        #expect(controller.steps.isEmpty)
    }

    @Test func fastestSwitchesAtTheFirstStalledPass() {
        var controller = ConvergenceController(policy: ConvergencePolicy(.fastest), memoryBytes: Self.memory)
        #expect(observe(&controller, self.pass(1, remaining: 200), at: 0).isEmpty)
        #expect(observe(&controller, self.pass(2, remaining: 64, dirtyMiBPerSecond: 300), at: 1) == [.startPostCopy])
    }

    @Test func aRefusedPostCopyEndsTheLadder() {
        var controller = ConvergenceController(policy: ConvergencePolicy(.fastest), memoryBytes: Self.memory)
        _ = observe(&controller, self.pass(1, remaining: 200), at: 0)
        _ = observe(&controller, self.pass(2, remaining: 64, dirtyMiBPerSecond: 300), at: 1)
        controller.noteFailure(of: .startPostCopy, elapsed: .seconds(1), message: "post-copy is not supported")
        #expect(controller.steps.last?.kind == .failed)
        #expect(controller.steps.last?.detail == "switching to post-copy failed: post-copy is not supported")
    }
}

@Suite struct ConvergencePolicyTests {
    @Test func presetsAreValidAndSayWhatTheyDo() throws {
        for preset in ConvergencePolicy.Preset.allCases {
            try ConvergencePolicy(preset).validate()
        }
        #expect(
            ConvergencePolicy.balanced.summary
                == "balanced: downtime 300 → 400 → 500 ms, then post-copy; abort after 240 s/GiB"
        )
        #expect(!ConvergencePolicy(.lowDowntime).needsPostCopy)
        #expect(ConvergencePolicy(.lowDowntime).summary.contains("auto-converge"))
        #expect(ConvergencePolicy(.fastest).needsPostCopy)
    }

    @Test func stepsMustRise() {
        var policy = ConvergencePolicy.balanced
        policy.downtimeSteps = [.milliseconds(400), .milliseconds(350)]
        let error = #expect(throws: MigrationError.self) { try policy.validate() }
        #expect(error?.code == .invalidRequest)
        #expect(error?.message.contains("350 ms") == true)
    }

    @Test func theTimeoutScalesWithMemory() {
        let policy = ConvergencePolicy.balanced
        #expect(policy.completionTimeout(memoryBytes: 4 << 30) == .seconds(960))
        #expect(policy.completionTimeout(memoryBytes: 512 << 20) == .seconds(120))
        var unlimited = policy
        unlimited.completionTimeoutPerGiB = nil
        #expect(unlimited.completionTimeout(memoryBytes: 4 << 30) == nil)
    }
}
