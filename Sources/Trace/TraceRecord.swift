/// One line of a trace: something that happened during one operation, `t` seconds after it started.
///
/// A trace is JSON Lines: one object per line, written and flushed as it happens (``TraceWriter``), read back by
/// ``TraceFile``. Every line has `t` (seconds since the operation started) and `type` (``Kind``); the other keys
/// depend on the type and are left out when unknown. Keys are snake_case with their units in their names, as in
/// `--json`:
///
/// ```
/// {"t":0,"type":"start","command":"migrate","domain":"domain1","trace_version":1}
/// {"t":0.912,"type":"phase","name":"migrating","source_host":"hostA","destination_host":"hostB","policy":"balanced …"}
/// {"t":1.168,"type":"sample","phase":"pre_copy","pass":1,"data_processed_bytes":57251840,"data_remaining_bytes":…}
/// {"t":1.54,"type":"pass","pass":2,"data_remaining_bytes":10485760}
/// {"t":7.3,"type":"policy","name":"downtime","detail":"pass 4 stalled: allowed downtime 300 → 400 ms","pass":4,…}
/// {"t":2.1,"type":"cluster","node":"guest1","name":"sf-stopped","message":"shutdown facility stopped"}
/// ```
///
/// A trace holds what the operator's screen shows and no secret: names of domains, hosts and steps, amounts and
/// rates, and the notices and refusals in the report's words (which may name a libvirt URI), never a password.
public struct TraceRecord: Codable, Sendable, Hashable {
    /// What a line tells; an open set, so that a reader skips a type it does not know.
    public struct Kind: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public init(from decoder: any Decoder) throws {
            self.rawValue = try decoder.singleValueContainer().decode(String.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(self.rawValue)
        }

        public var description: String {
            self.rawValue
        }

        /// The first line: the command, the domain and ``TraceRecord/currentVersion``.
        public static let start = Kind(rawValue: "start")
        /// A phase of the operation begins (``Phase``); it lasts until the next phase or the outcome.
        public static let phase = Kind(rawValue: "phase")
        /// One job-statistics sample of the running migration.
        public static let sample = Kind(rawValue: "sample")
        /// A memory pass (pre-copy iteration) begins.
        public static let pass = Kind(rawValue: "pass")
        /// A step the convergence policy took.
        public static let policy = Kind(rawValue: "policy")
        /// One step of the guest cluster's checks, prepare, restore or verify.
        public static let cluster = Kind(rawValue: "cluster")
        /// A line for the operator: the link looks down, what recovery did.
        public static let notice = Kind(rawValue: "notice")
        /// The migration call returned; no sample follows.
        public static let migrationEnd = Kind(rawValue: "migration_end")
        /// The real downtime and the completed job's figures.
        public static let downtime = Kind(rawValue: "downtime")
        /// The last line: how the operation ended.
        public static let outcome = Kind(rawValue: "outcome")
    }

    /// The names of ``Kind/phase`` lines.
    public enum Phase {
        public static let checks = "checks"
        public static let prepare = "prepare"
        public static let migrating = "migrating"
        public static let switchOver = "switch-over"
        public static let postCopy = "post-copy"
        public static let restore = "restore"
        public static let verify = "verify"
    }

    /// The version of the trace format this package writes, in the ``Kind/start`` line.
    public static let currentVersion = 1

    /// Seconds since the operation started.
    public var time: Double
    /// What the line tells.
    public var kind: Kind

    // MARK: - start

    /// The command that ran (`migrate`).
    public var command: String?
    /// The domain, as asked for (``Kind/start``) or as found (``Kind/outcome``).
    public var domain: String?
    /// The trace format's version (``Kind/start``).
    public var traceVersion: Int?

    // MARK: - phase, policy, cluster

    /// The phase (``Phase``), the policy step's kind (`downtime`, `auto_converge`, `post_copy`, `timeout`,
    /// `failed`) or the cluster step (`sf-stopped`, `timeout-written`, …).
    public var name: String?
    public var sourceHost: String?
    public var destinationHost: String?
    /// The convergence policy, in the report's words.
    public var policy: String?

    // MARK: - sample, pass

    /// The migration's phase as libvirt's statistics and events show it: `setup`, `pre_copy`, `switch_over`,
    /// `post_copy`, `finishing`.
    public var migrationPhase: String?
    /// The memory pass (iteration), from 1.
    public var pass: Int?
    public var dataProcessedBytes: UInt64?
    /// What is left to send now; it grows when the guest dirties memory faster than it is sent.
    public var dataRemainingBytes: UInt64?
    /// libvirt's `data_total`: grows as dirty pages are sent again.
    public var dataTotalBytes: UInt64?
    public var dirtyRateBytesPerSecond: UInt64?
    public var transferRateBytesPerSecond: UInt64?
    /// QEMU's estimate of the downtime if it switched over now.
    public var expectedDowntimeMilliseconds: Int64?

    // MARK: - policy, cluster, notice

    /// One line: what the policy step did and why.
    public var detail: String?
    /// The allowed downtime a policy step set, or the real downtime (``Kind/downtime``).
    public var downtimeMilliseconds: Int64?
    public var throttlePercent: Int?
    /// The cluster node, or none for the whole cluster.
    public var node: String?
    /// The cluster step's or notice's line, or why the operation was refused.
    public var message: String?
    public var failed: Bool?
    public var warning: Bool?

    // MARK: - downtime, outcome

    public var setupTimeMilliseconds: Int64?
    public var totalTimeMilliseconds: Int64?
    public var dataTransferredBytes: UInt64?
    public var memoryPasses: Int?
    /// The operation's status: `migrated`, `refused`, `aborted`, `migration_failed`, …
    public var status: String?
    /// libvirt's word: `completed`, `aborted`, `failed`.
    public var outcome: String?
    /// Where the guest runs now: `destination`, `source`, `both`, …
    public var runningOn: String?

    /// A line of `kind` at `time`; set the other fields the kind needs.
    public init(_ kind: Kind, at time: Double) {
        self.time = time
        self.kind = kind
    }

    enum CodingKeys: String, CodingKey {
        case time = "t"
        case kind = "type"
        case command, domain
        case traceVersion = "trace_version"
        case name
        case sourceHost = "source_host"
        case destinationHost = "destination_host"
        case policy
        case migrationPhase = "phase"
        case pass
        case dataProcessedBytes = "data_processed_bytes"
        case dataRemainingBytes = "data_remaining_bytes"
        case dataTotalBytes = "data_total_bytes"
        case dirtyRateBytesPerSecond = "dirty_rate_bytes_per_second"
        case transferRateBytesPerSecond = "transfer_rate_bytes_per_second"
        case expectedDowntimeMilliseconds = "expected_downtime_milliseconds"
        case detail
        case downtimeMilliseconds = "downtime_milliseconds"
        case throttlePercent = "throttle_percent"
        case node, message, failed, warning
        case setupTimeMilliseconds = "setup_time_milliseconds"
        case totalTimeMilliseconds = "total_time_milliseconds"
        case dataTransferredBytes = "data_transferred_bytes"
        case memoryPasses = "memory_passes"
        case status, outcome
        case runningOn = "running_on"
    }
}
