import Libvirt

/// One step the convergence policy took, for the live display, the report and `--json`.
public struct ConvergenceStep: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The allowed downtime was raised.
        case downtime
        /// QEMU's auto-converge throttled the guest's vCPUs further.
        case autoConverge = "auto_converge"
        /// The migration was switched to post-copy.
        case postCopy = "post_copy"
        /// The completion time ran out and the timeout action was taken.
        case timeout
        /// A step could not be taken (libvirt refused it).
        case failed
    }

    public var kind: Kind
    /// Time since the migration started.
    public var elapsed: Duration
    /// The memory pass under way.
    public var pass: Int?
    /// The new allowed downtime (``Kind/downtime``).
    public var downtime: Duration?
    /// The new vCPU throttle in percent (``Kind/autoConverge``).
    public var throttlePercent: Int?
    /// The timeout action taken (``Kind/timeout``).
    public var timeoutAction: ConvergencePolicy.TimeoutAction?
    /// One line: what was done and why.
    public var detail: String

    public init(
        kind: Kind,
        elapsed: Duration,
        pass: Int?,
        downtime: Duration? = nil,
        throttlePercent: Int? = nil,
        timeoutAction: ConvergencePolicy.TimeoutAction? = nil,
        detail: String
    ) {
        self.kind = kind
        self.elapsed = elapsed
        self.pass = pass
        self.downtime = downtime
        self.throttlePercent = throttlePercent
        self.timeoutAction = timeoutAction
        self.detail = detail
    }
}

/// What the controller asks the running migration to do.
public enum ConvergenceAction: Sendable, Hashable {
    case setMaximumDowntime(Duration)
    case startPostCopy
    case abort
    case suspend
}

/// Watches the memory passes of a running migration and decides, pass by pass, when the policy's next step is due.
///
/// Pure: it takes job statistics and returns actions, so every decision is unit-tested without a host.
///
/// A pass is *stalled* when what it has left to send at its start is not at least 10 % below the best start of an
/// earlier pass, or when the guest dirties memory at 90 % or more of the rate the link carries (QEMU reports the
/// dirty rate after about a second). ``ConvergencePolicy/stalledPassesPerStep`` stalled passes in a row make the
/// next step due.
public struct ConvergenceController: Sendable {
    public let policy: ConvergencePolicy
    /// The completion time for this guest, or `nil` for none.
    public let completionTimeout: Duration?
    /// The steps taken so far.
    public private(set) var steps: [ConvergenceStep] = []
    /// The allowed downtime now.
    public private(set) var currentDowntime: Duration

    private var pass = 0
    private var bestRemaining: UInt64?
    private var stalledPasses = 0
    private var nextDowntimeStep = 0
    private var throttle = 0
    private var throttleRoseSinceLastStep = false
    private var waitedForThrottleStart = false
    private var postCopyStarted = false
    private var timedOut = false
    private var ladderDone = false

    public init(policy: ConvergencePolicy, memoryBytes: UInt64) {
        self.policy = policy
        self.completionTimeout = policy.completionTimeout(memoryBytes: memoryBytes)
        self.currentDowntime = policy.maximumDowntime
    }

    /// Whether the migration is in post-copy.
    public var inPostCopy: Bool { self.postCopyStarted }

    /// Tells the controller that post-copy started (a lifecycle event said so): no more steps are taken.
    public mutating func notePostCopyStarted() {
        self.postCopyStarted = true
    }

    /// Records a step that libvirt refused.
    public mutating func noteFailure(of action: ConvergenceAction, elapsed: Duration, message: String) {
        self.steps.append(
            ConvergenceStep(
                kind: .failed,
                elapsed: elapsed,
                pass: self.pass == 0 ? nil : self.pass,
                detail: "\(Self.describe(action)) failed: \(message)"
            )
        )
        if action == .startPostCopy { self.ladderDone = true }
    }

    /// Takes one observation of the running job and returns what to do now (usually nothing).
    public mutating func observe(_ statistics: JobStats, elapsed: Duration) -> [ConvergenceAction] {
        guard statistics.type.isActive, !self.postCopyStarted else { return [] }
        var actions: [ConvergenceAction] = []

        if let level = statistics.autoConvergeThrottle.map({ Int(clamping: $0) }), level > self.throttle {
            self.throttle = level
            self.throttleRoseSinceLastStep = true
            self.steps.append(
                ConvergenceStep(
                    kind: .autoConverge,
                    elapsed: elapsed,
                    pass: self.pass == 0 ? nil : self.pass,
                    throttlePercent: level,
                    detail: "QEMU throttles the guest's vCPUs by \(level) %"
                )
            )
        }

        if let timeout = self.completionTimeout, elapsed >= timeout, !self.timedOut {
            self.timedOut = true
            let action = self.policy.timeoutAction
            let seconds = Double(timeout / .milliseconds(1)) / 1000
            let why = "not finished after \(Self.seconds(seconds))"
            let detail: String
            switch action {
            case .abort:
                actions.append(.abort)
                detail = "\(why): aborting; the guest keeps running on the source"
            case .suspend:
                actions.append(.suspend)
                detail = "\(why): pausing the guest so the copy can finish; it resumes on the destination"
            case .postcopy:
                actions.append(.startPostCopy)
                self.postCopyStarted = true
                detail = "\(why): switching to post-copy"
            }
            self.steps.append(
                ConvergenceStep(
                    kind: .timeout,
                    elapsed: elapsed,
                    pass: self.pass == 0 ? nil : self.pass,
                    timeoutAction: action,
                    detail: detail
                )
            )
            return actions
        }
        guard !self.timedOut else { return actions }

        guard let iteration = statistics.memoryIteration.map({ Int(clamping: $0) }), iteration > self.pass else {
            return actions
        }
        self.pass = iteration
        // A new pass begins: what is left now is what the guest dirtied during the pass before.
        guard iteration >= 2, let remaining = statistics.memoryRemaining ?? statistics.dataRemaining else {
            return actions
        }
        var dirtyingTooFast = false
        if let pages = statistics.memoryDirtyRate, let carried = statistics.memoryBytesPerSecond, carried > 0 {
            let dirty = pages * (statistics.memoryPageSize ?? 4096)
            dirtyingTooFast = Double(dirty) >= 0.9 * Double(carried)
        }
        let notShrinking = self.bestRemaining.map { Double(remaining) > 0.9 * Double($0) } ?? false
        self.bestRemaining = min(self.bestRemaining ?? remaining, remaining)
        guard notShrinking || dirtyingTooFast else {
            self.stalledPasses = 0
            return actions
        }
        self.stalledPasses += 1
        guard self.stalledPasses >= self.policy.stalledPassesPerStep, !self.ladderDone else { return actions }
        self.stalledPasses = 0
        let why =
            "pass \(iteration) still has \(Self.mebibytes(remaining)) to send"
            + (dirtyingTooFast ? ", the guest dirties memory as fast as the link carries it" : "")
        if let step = self.nextStep(why: why, elapsed: elapsed) { actions.append(step) }
        return actions
    }

    /// The next rung of the ladder, recorded as a step.
    private mutating func nextStep(why: String, elapsed: Duration) -> ConvergenceAction? {
        if self.nextDowntimeStep < self.policy.downtimeSteps.count {
            let downtime = self.policy.downtimeSteps[self.nextDowntimeStep]
            self.nextDowntimeStep += 1
            self.currentDowntime = downtime
            self.steps.append(
                ConvergenceStep(
                    kind: .downtime,
                    elapsed: elapsed,
                    pass: self.pass,
                    downtime: downtime,
                    detail: "\(why): allowing \(downtime.wholeMilliseconds) ms of downtime"
                )
            )
            self.throttleRoseSinceLastStep = false
            return .setMaximumDowntime(downtime)
        }
        if self.policy.autoConverge, self.throttle < 99 {
            // QEMU throttles by itself and raises the throttle every pass that dirties too much: while it still
            // rises (or, once, before it has begun), give it the next stretch of passes. When it stops rising
            // without the migration finishing, the ladder moves on.
            let waitForThrottle = self.throttle == 0 ? !self.waitedForThrottleStart : self.throttleRoseSinceLastStep
            self.waitedForThrottleStart = true
            self.throttleRoseSinceLastStep = false
            if waitForThrottle { return nil }
        }
        if self.policy.allowPostCopy {
            self.postCopyStarted = true
            self.ladderDone = true
            self.steps.append(
                ConvergenceStep(
                    kind: .postCopy,
                    elapsed: elapsed,
                    pass: self.pass,
                    detail: "\(why): switching to post-copy"
                )
            )
            return .startPostCopy
        }
        self.ladderDone = true
        return nil
    }

    static func describe(_ action: ConvergenceAction) -> String {
        switch action {
        case .setMaximumDowntime(let downtime): "raising the allowed downtime to \(downtime.wholeMilliseconds) ms"
        case .startPostCopy: "switching to post-copy"
        case .abort: "aborting"
        case .suspend: "pausing the guest"
        }
    }

    static func mebibytes(_ bytes: UInt64) -> String {
        bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : "\(bytes >> 10) KiB"
    }

    static func seconds(_ seconds: Double) -> String {
        seconds >= 10 ? "\(Int(seconds.rounded())) s" : String(format: "%.1f s", seconds)
    }
}
