/// How a migration is made to finish when plain pre-copy does not: the steps kvmmigrate may take, in order, while
/// the memory passes stop shrinking what is left to send.
///
/// The ladder is fixed; a policy says which rungs it has:
/// 1. raise the allowed downtime, one value of ``downtimeSteps`` per stalled stretch (`virDomainMigrateSetMaxDowntime`);
/// 2. auto-converge: QEMU throttles the guest's vCPUs (`VIR_MIGRATE_AUTO_CONVERGE`). QEMU accepts this only before
///    the migration starts and then throttles by itself once two passes dirty more than they send, so it is armed
///    at the start and kvmmigrate reports each throttle level QEMU applies; while the throttle still rises the
///    ladder waits for it;
/// 3. switch to post-copy, when allowed (`virDomainMigrateStartPostCopy`);
/// 4. when the completion time runs out: the ``TimeoutAction``.
///
/// The presets follow oVirt's migration policies and Nova's knobs. Multithreaded compression is never a step: it
/// corrupted guest memory on TCG guests and is slower than the link it is meant to spare.
public struct ConvergencePolicy: Sendable, Hashable {
    /// The named presets.
    public enum Preset: String, CaseIterable, Sendable, Codable {
        /// Never post-copy; the allowed downtime rises slowly from 100 ms to 500 ms, then auto-converge
        /// throttles the guest; if that is not enough, the migration is aborted (oVirt's "minimal downtime").
        case lowDowntime = "low-downtime"
        /// The default: libvirt's own 300 ms to start with (a guest that converges moves as fast as with virsh),
        /// two downtime steps to 500 ms, then post-copy. No throttling: post-copy finishes a busy guest without
        /// slowing it for long. Aborted if it still has not finished in time.
        case balanced
        /// Switch to post-copy as soon as a memory pass stalls, and at the time limit.
        case fastest
    }

    /// What happens when the completion time runs out.
    public enum TimeoutAction: String, CaseIterable, Sendable, Codable {
        /// Abort the migration: the guest keeps running on the source.
        case abort
        /// Pause the guest so the rest of its memory stops changing; it resumes on the destination.
        case suspend
        /// Switch to post-copy: the guest runs on the destination at once and pulls the rest of its memory.
        case postcopy
    }

    /// The preset the policy came from, or `nil` when knobs changed it.
    public var preset: Preset?
    /// The allowed downtime at the start.
    public var maximumDowntime: Duration
    /// Later allowed downtimes, ascending, one per stalled stretch.
    public var downtimeSteps: [Duration]
    /// Arm QEMU's auto-converge throttling.
    public var autoConverge: Bool
    /// Switch to post-copy when the earlier steps did not help.
    public var allowPostCopy: Bool
    /// The time allowed per GiB of guest memory before the ``timeoutAction``; `nil` for no limit.
    public var completionTimeoutPerGiB: Duration?
    /// The time allowed before the ``timeoutAction`` whatever the guest's size (virsh's `--timeout`); it takes the
    /// place of ``completionTimeoutPerGiB`` when set.
    public var completionTimeoutTotal: Duration? = nil
    public var timeoutAction: TimeoutAction
    /// How many stalled memory passes in a row make one step.
    public var stalledPassesPerStep: Int

    public init(
        maximumDowntime: Duration,
        downtimeSteps: [Duration] = [],
        autoConverge: Bool = false,
        allowPostCopy: Bool = false,
        completionTimeoutPerGiB: Duration? = nil,
        timeoutAction: TimeoutAction = .abort,
        stalledPassesPerStep: Int = 2,
        preset: Preset? = nil
    ) {
        self.preset = preset
        self.maximumDowntime = maximumDowntime
        self.downtimeSteps = downtimeSteps
        self.autoConverge = autoConverge
        self.allowPostCopy = allowPostCopy
        self.completionTimeoutPerGiB = completionTimeoutPerGiB
        self.timeoutAction = timeoutAction
        self.stalledPassesPerStep = stalledPassesPerStep
    }

    /// A named preset.
    public init(_ preset: Preset) {
        switch preset {
        case .lowDowntime:
            self.init(
                maximumDowntime: .milliseconds(100),
                downtimeSteps: [150, 200, 300, 400, 500].map { .milliseconds($0) },
                autoConverge: true,
                allowPostCopy: false,
                completionTimeoutPerGiB: .seconds(240),
                timeoutAction: .abort,
                stalledPassesPerStep: 2,
                preset: preset
            )
        case .balanced:
            self.init(
                maximumDowntime: .milliseconds(300),
                downtimeSteps: [400, 500].map { .milliseconds($0) },
                autoConverge: false,
                allowPostCopy: true,
                completionTimeoutPerGiB: .seconds(240),
                timeoutAction: .abort,
                stalledPassesPerStep: 2,
                preset: preset
            )
        case .fastest:
            self.init(
                maximumDowntime: .milliseconds(300),
                downtimeSteps: [],
                autoConverge: false,
                allowPostCopy: true,
                completionTimeoutPerGiB: .seconds(120),
                timeoutAction: .postcopy,
                stalledPassesPerStep: 1,
                preset: preset
            )
        }
    }

    /// The default policy.
    public static let balanced = ConvergencePolicy(.balanced)

    /// This policy for a tunnelled migration, which cannot switch to post-copy: the ladder without its post-copy
    /// rung. A post-copy time-out action stays, so that the request refuses what was asked for explicitly.
    public var withoutPostCopyRung: ConvergencePolicy {
        var policy = self
        policy.allowPostCopy = false
        return policy
    }

    /// The migration must be started with post-copy enabled (`VIR_MIGRATE_POSTCOPY`) for the ladder or the
    /// timeout action to switch to it.
    public var needsPostCopy: Bool { self.allowPostCopy || self.timeoutAction == .postcopy }

    /// The completion time for a guest of `memoryBytes`, or `nil` for no limit.
    public func completionTimeout(memoryBytes: UInt64) -> Duration? {
        if let total = self.completionTimeoutTotal { return total }
        guard let perGiB = self.completionTimeoutPerGiB else { return nil }
        let gibibytes = Double(memoryBytes) / Double(1 << 30)
        let milliseconds = Double(perGiB / .milliseconds(1)) * gibibytes
        return .milliseconds(Int64(milliseconds.rounded(.up)))
    }

    /// The rules a policy must follow, each broken one a ``MigrationError/Code/invalidRequest``.
    public func validate() throws(MigrationError) {
        if self.maximumDowntime < .milliseconds(1) {
            throw MigrationError(.invalidRequest, "--max-downtime must be at least 1 ms")
        }
        var previous = self.maximumDowntime
        for step in self.downtimeSteps {
            guard step > previous else {
                throw MigrationError(
                    .invalidRequest,
                    "--downtime-steps must rise above --max-downtime (\(Self.milliseconds(self.maximumDowntime))) "
                        + "and each earlier step; \(Self.milliseconds(step)) does not"
                )
            }
            previous = step
        }
        if let perGiB = self.completionTimeoutPerGiB, perGiB < .seconds(1) {
            throw MigrationError(.invalidRequest, "--completion-timeout must be at least 1 s per GiB")
        }
        if self.stalledPassesPerStep < 1 {
            throw MigrationError(.invalidRequest, "a step needs at least one stalled memory pass")
        }
    }

    /// One line for the report: `balanced: downtime 300 → 400 → 500 ms, then post-copy; abort after 240 s/GiB`.
    public var summary: String {
        var rungs = [
            "downtime "
                + ([self.maximumDowntime] + self.downtimeSteps).map { "\($0.wholeMilliseconds)" }
                .joined(separator: " → ") + " ms"
        ]
        if self.autoConverge { rungs.append("auto-converge") }
        if self.allowPostCopy { rungs.append("post-copy") }
        let timeout =
            self.completionTimeoutTotal.map { "\(self.timeoutAction.rawValue) after \($0.wholeMilliseconds / 1000) s" }
            ?? self.completionTimeoutPerGiB.map {
                "\(self.timeoutAction.rawValue) after \($0.wholeMilliseconds / 1000) s/GiB"
            } ?? "no time limit"
        return "\(self.preset?.rawValue ?? "custom"): " + rungs.joined(separator: ", then ") + "; " + timeout
    }

    static func milliseconds(_ duration: Duration) -> String { "\(duration.wholeMilliseconds) ms" }
}

extension Duration {
    /// The duration in whole milliseconds, rounded to the nearest.
    public var wholeMilliseconds: Int64 { Int64((self / .milliseconds(1)).rounded()) }
}
