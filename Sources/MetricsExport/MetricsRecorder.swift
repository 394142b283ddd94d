import Synchronization

/// The figures of one command run (one `migrate`, or one `evacuate` and all its guests) and the ``MetricsFile``
/// they go to: the totals read back when it is made, each guest's gauges, and the throttled writes.
///
/// The file is rewritten at most once per ``interval`` with progress, and at once when a counter changes. A write
/// that fails is passed to `warn` once; it never stops a migration. Any thread; the writes happen under the lock, so
/// an older figure never replaces a newer one.
///
/// Several kvmmigrate processes may share one file (a `metrics-file` in the configuration, two migrations at once):
/// each write re-reads the totals under ``MetricsFile/withExclusiveAccess(_:)`` and adds only what this process
/// counted since its last write, so no process's counts are lost. The gauges written are this process's.
public final class MetricsRecorder: Sendable {
    private let file: MetricsFile
    private let interval: Duration
    private let clock: @Sendable () -> ContinuousClock.Instant
    private let warn: @Sendable (String) -> Void
    private let state: Mutex<State>

    private struct State {
        var metrics: MigrationMetrics
        /// What this process counted and has not written yet.
        var unwritten: [MigrationMetrics.Series: Double] = [:]
        var lastWrite: ContinuousClock.Instant?
        var warned = false
    }

    /// The least time between two writes of progress.
    public static let defaultInterval: Duration = .seconds(1)

    /// Reads the previous totals (the last run's gauges are dropped: they described another run).
    public init(
        _ file: MetricsFile,
        interval: Duration = MetricsRecorder.defaultInterval,
        clock: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        warn: @escaping @Sendable (String) -> Void
    ) {
        self.file = file
        self.interval = interval
        self.clock = clock
        self.warn = warn
        let (totals, warning) = file.previousTotals()
        if let warning { warn("--metrics-file: \(warning)") }
        self.state = Mutex(State(metrics: MigrationMetrics(totals: totals)))
    }

    /// The figures as they stand.
    public var metrics: MigrationMetrics { self.state.withLock { $0.metrics } }

    /// Changes the figures, then writes the file when `force` is set or ``interval`` has passed since the last
    /// write.
    func update(force: Bool, _ change: (inout MigrationMetrics) -> Void) {
        let now = self.clock()
        let warning: String? = self.state.withLock { state in
            let before = state.metrics.totals
            change(&state.metrics)
            for (series, value) in state.metrics.totals where value != before[series] {
                state.unwritten[series, default: 0] += value - (before[series] ?? 0)
            }
            if !force, let last = state.lastWrite, now - last < self.interval { return nil }
            state.lastWrite = now
            let failure: String? = self.file.withExclusiveAccess {
                // Another process may have written since: its totals, plus what this one counted since.
                if let totals = self.file.trustedTotals() {
                    state.metrics.totals = totals.merging(state.unwritten, uniquingKeysWith: +)
                }
                let failure = self.file.write(state.metrics)
                if failure == nil { state.unwritten = [:] }
                return failure
            }
            guard let failure, !state.warned else { return nil }
            state.warned = true
            return failure
        }
        if let warning {
            self.warn("--metrics-file: \(warning) (the migration goes on; further failures are not shown)")
        }
    }
}
