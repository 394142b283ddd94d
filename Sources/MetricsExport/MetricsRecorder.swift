import Synchronization

/// The figures of one command run (one `migrate`, or one `evacuate` and all its guests) and the ``MetricsFile``
/// they go to: the totals read back when it is made, each guest's gauges, and the throttled writes.
///
/// The file is rewritten at most once per ``interval`` with progress, and at once when a counter changes. A write
/// that fails is passed to `warn` once; it never stops a migration. Any thread; the writes happen under the lock, so
/// an older figure never replaces a newer one.
public final class MetricsRecorder: Sendable {
    private let file: MetricsFile
    private let interval: Duration
    private let clock: @Sendable () -> ContinuousClock.Instant
    private let warn: @Sendable (String) -> Void
    private let state: Mutex<State>

    private struct State {
        var metrics: MigrationMetrics
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
            change(&state.metrics)
            if !force, let last = state.lastWrite, now - last < self.interval { return nil }
            state.lastWrite = now
            guard let warning = self.file.write(state.metrics), !state.warned else { return nil }
            state.warned = true
            return warning
        }
        if let warning {
            self.warn("--metrics-file: \(warning) (the migration goes on; further failures are not shown)")
        }
    }
}
