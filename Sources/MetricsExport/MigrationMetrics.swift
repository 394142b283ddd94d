import Prometheus

/// What `--metrics-file` holds: the running totals of every run so far, and the figures of the last (or current)
/// run, rendered as Prometheus text for node_exporter's textfile collector.
///
/// Names follow Prometheus' conventions (the unit in the name, `_total` on counters) and, where KubeVirt measures the
/// same thing, the shape of its `kubevirt_vmi_migration_*` names. Every series has a `domain` label; failures also
/// have a `reason` (one of ``failureReasons``), policy steps a `step` (one of ``policySteps``): fixed sets, never
/// free text. The text itself is written by swift-prometheus.
public struct MigrationMetrics: Sendable, Hashable {
    /// A counter, totalled over every run.
    public enum Counter: String, Sendable, Hashable, CaseIterable {
        case started = "kvmmigrate_migrations_started_total"
        case succeeded = "kvmmigrate_migrations_succeeded_total"
        case failed = "kvmmigrate_migrations_failed_total"
        case policySteps = "kvmmigrate_migration_policy_steps_total"
        case clusterOperations = "kvmmigrate_cluster_operations_total"
        case verifyFailures = "kvmmigrate_verify_failures_total"

        var help: String {
            switch self {
            case .started: "Migrations started (each run of migrate, each guest of evacuate)."
            case .succeeded: "Migrations that ended with the guest on the destination and its cluster healthy."
            case .failed: "Migrations that did not succeed, by reason (the exit status' category)."
            case .policySteps: "Convergence-policy steps taken, by step."
            case .clusterOperations: "Migrations that prepared and restored a guest cluster."
            case .verifyFailures: "Verifications after a migration that failed."
            }
        }

        /// The label besides `domain`, when the counter has one.
        var extraLabel: String? {
            switch self {
            case .failed: "reason"
            case .policySteps: "step"
            default: nil
            }
        }

        /// The values the extra label may take.
        var extraValues: Set<String> {
            switch self {
            case .failed: MigrationMetrics.failureReasons
            case .policySteps: MigrationMetrics.policySteps
            default: []
            }
        }
    }

    /// A gauge of the last (or current) run.
    public enum Gauge: String, Sendable, Hashable, CaseIterable {
        case inProgress = "kvmmigrate_migration_in_progress"
        case downtime = "kvmmigrate_migration_downtime_seconds"
        case totalTime = "kvmmigrate_migration_total_time_seconds"
        case dataProcessed = "kvmmigrate_migration_data_processed_bytes"
        case dataRemaining = "kvmmigrate_migration_data_remaining_bytes"
        case memoryTransferRate = "kvmmigrate_migration_memory_transfer_rate_bytes"
        case dirtyMemoryRate = "kvmmigrate_migration_dirty_memory_rate_bytes"
        case memoryPasses = "kvmmigrate_migration_memory_passes"
        case endTime = "kvmmigrate_migration_end_timestamp_seconds"

        var help: String {
            switch self {
            case .inProgress: "1 while the migration runs, 0 once it has ended."
            case .downtime: "The last migration's downtime (the guest paused), as libvirt measured it."
            case .totalTime: "The last migration's time from its start to its end."
            case .dataProcessed: "Bytes sent by the last (or current) migration."
            case .dataRemaining: "Bytes the current migration still has to send (as QEMU sees it now)."
            case .memoryTransferRate: "The current migration's transfer rate, bytes per second."
            case .dirtyMemoryRate: "How fast the guest dirties memory, bytes per second."
            case .memoryPasses: "Memory passes (iterations) of the last (or current) migration."
            case .endTime: "When the last migration ended, seconds since the Unix epoch."
            }
        }
    }

    /// One series of a counter: its labels, `domain` first.
    public struct Series: Sendable, Hashable, Comparable {
        public var counter: Counter
        public var domain: String
        /// The `reason` or `step` label's value, for the counters that have one.
        public var extra: String?

        public init(_ counter: Counter, domain: String, _ extra: String? = nil) {
            self.counter = counter
            self.domain = domain
            self.extra = extra
        }

        var labels: [(String, String)] {
            var labels = [("domain", self.domain)]
            if let name = self.counter.extraLabel { labels.append((name, self.extra ?? "")) }
            return labels
        }

        public static func < (lhs: Series, rhs: Series) -> Bool {
            (lhs.counter.rawValue, lhs.domain, lhs.extra ?? "") < (rhs.counter.rawValue, rhs.domain, rhs.extra ?? "")
        }
    }

    /// The `reason` of a failed migration: the exit status' category, as `--json` spells the status.
    public static let failureReasons: Set<String> = [
        "refused", "aborted", "migration_failed", "unreachable", "cluster_not_healthy", "needs_attention",
        "internal_failure",
    ]

    /// The `step` of a policy step: the convergence controller's step kinds.
    public static let policySteps: Set<String> = ["downtime", "auto_converge", "post_copy", "timeout", "failed"]

    /// The running totals, over every run recorded in the file.
    public var totals: [Series: Double] = [:]
    /// The gauges of the last (or current) run, by domain (evacuate runs several); a gauge not known is left out of
    /// the file.
    public var gauges: [String: [Gauge: Double]] = [:]

    public init(totals: [Series: Double] = [:]) {
        self.totals = totals
    }

    /// Adds `amount` to a counter.
    public mutating func increment(_ series: Series, by amount: Double = 1) {
        self.totals[series, default: 0] += amount
    }

    /// The Prometheus text, written by swift-prometheus.
    public func text() -> String {
        let registry = PrometheusCollectorRegistry()
        for series in self.totals.keys.sorted() {
            let counter = registry.makeCounter(
                descriptor: Self.descriptor(series.counter.rawValue, series.counter.help),
                labels: series.labels
            )
            counter.increment(by: self.totals[series] ?? 0)
        }
        for gauge in Gauge.allCases {
            for domain in self.gauges.keys.sorted() {
                guard let value = self.gauges[domain]?[gauge] else { continue }
                registry.makeGauge(
                    descriptor: Self.descriptor(gauge.rawValue, gauge.help),
                    labels: [("domain", domain)]
                )
                .set(value)
            }
        }
        return registry.emitToString()
    }

    /// The whole name is ours (unit included), so it goes in `metricName` with no unit to append.
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
