import Foundation
import Libvirt

/// Turns job statistics and events into ``MigrationProgress`` observations that never run backwards.
///
/// libvirt's `data_total` grows as dirty pages are sent again, so `processed / total` can fall. This
/// tracker computes `processed / (processed + remaining)` and never reports less than it did before, and
/// never 100 % before the migration has really ended.
public struct ProgressTracker: Sendable {
    private var fraction: Double = 0
    private var phase: MigrationPhase = .setup
    private var lastProcessed: (bytes: UInt64, at: Duration)?
    private var lastPass: Int?
    private var lastStatistics: JobStats?
    private var lastProgress: MigrationProgress?

    public init() {}

    /// The largest memory pass seen.
    public var memoryPasses: Int? { self.lastPass }

    /// Whether the guest is paused on the source for the switch-over, or has left it: the migration's last
    /// milliseconds. Job statistics are not read then: each read is a monitor command that the source's libvirtd
    /// and QEMU serve on the path the switch-over itself takes, and the guest's downtime grows by its wait.
    public var isSwitchingOver: Bool { self.phase == .switchOver || self.phase == .finishing }

    /// The last statistics seen while the job ran.
    public var lastRunningStatistics: JobStats? { self.lastStatistics }

    /// Takes a lifecycle event of the migrating domain on the source.
    public mutating func note(_ event: LifecycleEvent) {
        if event.isPostCopyStarted {
            self.phase = .postCopy
        } else if event.isPausedForSwitchOver, self.phase != .postCopy {
            self.phase = .switchOver
        } else if event.isMigratedAway {
            self.phase = .finishing
        } else if event.isResumed, self.phase == .switchOver {
            // Resumed on the source: the switch-over did not happen (cancelled or failed).
            self.phase = .preCopy(pass: self.lastPass ?? 1)
        }
    }

    /// Takes a lifecycle event and returns, when it changed the phase, the last observation again in the new phase
    /// at `elapsed`: a switch-over shown when it begins, without a read of the statistics (none is made then).
    public mutating func phaseChange(_ event: LifecycleEvent, elapsed: Duration) -> MigrationProgress? {
        let before = self.phase
        self.note(event)
        guard self.phase != before, var progress = self.lastProgress else { return nil }
        progress.phase = self.phase
        progress.elapsed = elapsed
        return progress
    }

    /// Takes a migration-iteration event: a new memory pass began.
    public mutating func note(iteration: Int) {
        self.lastPass = max(self.lastPass ?? 0, iteration)
        if case .preCopy = self.phase { self.phase = .preCopy(pass: self.lastPass!) }
        if self.phase == .setup { self.phase = .preCopy(pass: self.lastPass!) }
    }

    /// Takes job statistics polled at `elapsed` and returns the observation to show, or `nil` when the
    /// statistics say no job runs (the migration is over or not begun).
    public mutating func update(_ statistics: JobStats, elapsed: Duration) -> MigrationProgress? {
        guard statistics.type.isActive else {
            return nil
        }
        self.lastStatistics = statistics
        let processed = statistics.dataProcessed ?? statistics.memoryProcessed ?? 0
        let remaining = statistics.dataRemaining ?? statistics.memoryRemaining
        if let iteration = statistics.memoryIteration, iteration > 0 {
            self.note(iteration: Int(clamping: iteration))
        }
        if let remaining, processed + remaining > 0 {
            let fraction = Double(processed) / Double(processed + remaining)
            self.fraction = min(max(self.fraction, fraction), 0.99)
        }
        var throughput = statistics.memoryBytesPerSecond.flatMap { $0 > 0 ? $0 : nil }
        if throughput == nil, let last = self.lastProcessed, elapsed > last.at, processed >= last.bytes {
            let seconds = Double((elapsed - last.at) / .milliseconds(1)) / 1000
            throughput = UInt64(Double(processed - last.bytes) / seconds)
        }
        self.lastProcessed = (processed, elapsed)
        let pageSize = statistics.memoryPageSize ?? 4096
        let progress = MigrationProgress(
            phase: self.phase,
            elapsed: elapsed,
            dataProcessedBytes: processed,
            dataRemainingBytes: remaining,
            throughputBytesPerSecond: throughput,
            memoryPass: self.lastPass,
            dirtyRateBytesPerSecond: statistics.memoryDirtyRate.map { $0 * pageSize },
            fractionDone: self.fraction,
            expectedDowntime: statistics.downtime,
            dataTotalBytes: statistics.dataTotal ?? statistics.memoryTotal
        )
        self.lastProgress = progress
        return progress
    }
}
