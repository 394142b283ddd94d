import Libvirt

/// Where a migration is, from setup to the end.
public enum MigrationPhase: Sendable, Hashable, CustomStringConvertible {
    /// The daemons set up the migration; no memory sent yet.
    case setup
    /// Pre-copy: the guest runs while its memory is copied, pass after pass.
    case preCopy(pass: Int)
    /// The guest is paused for the final copy (the downtime).
    case switchOver
    /// Post-copy: the guest runs on the destination and pulls the rest of its memory.
    case postCopy
    /// The data is across; the daemons finish and confirm the migration.
    case finishing

    public var description: String {
        switch self {
        case .setup: "setup"
        case .preCopy(let pass): "memory pass \(pass)"
        case .switchOver: "switch-over"
        case .postCopy: "post-copy"
        case .finishing: "finishing"
        }
    }

    /// A stable key for JSON and logs.
    public var key: String {
        switch self {
        case .setup: "setup"
        case .preCopy: "pre_copy"
        case .switchOver: "switch_over"
        case .postCopy: "post_copy"
        case .finishing: "finishing"
        }
    }
}

/// One observation of a running migration, ready to show.
public struct MigrationProgress: Sendable, Hashable {
    public var phase: MigrationPhase
    /// Time since the migration was started by this tool.
    public var elapsed: Duration
    /// Bytes sent so far.
    public var dataProcessedBytes: UInt64
    /// Bytes still to send, as QEMU sees it now (can grow while the guest dirties memory).
    public var dataRemainingBytes: UInt64?
    /// Transfer rate, bytes per second.
    public var throughputBytesPerSecond: UInt64?
    /// The memory pass under way, counting from 1.
    public var memoryPass: Int?
    /// How fast the guest dirties memory, bytes per second.
    public var dirtyRateBytesPerSecond: UInt64?
    /// The share done, 0...1, never lower than in an earlier observation.
    public var fractionDone: Double
    /// QEMU's estimate of the downtime if it switched over now.
    public var expectedDowntime: Duration?
    /// libvirt's `data_total`: what the migration has to send in all, as it stands now (it grows as dirty pages
    /// are sent again).
    public var dataTotalBytes: UInt64?

    public init(
        phase: MigrationPhase,
        elapsed: Duration,
        dataProcessedBytes: UInt64,
        dataRemainingBytes: UInt64?,
        throughputBytesPerSecond: UInt64?,
        memoryPass: Int?,
        dirtyRateBytesPerSecond: UInt64?,
        fractionDone: Double,
        expectedDowntime: Duration?,
        dataTotalBytes: UInt64? = nil
    ) {
        self.phase = phase
        self.elapsed = elapsed
        self.dataProcessedBytes = dataProcessedBytes
        self.dataRemainingBytes = dataRemainingBytes
        self.throughputBytesPerSecond = throughputBytesPerSecond
        self.memoryPass = memoryPass
        self.dirtyRateBytesPerSecond = dirtyRateBytesPerSecond
        self.fractionDone = fractionDone
        self.expectedDowntime = expectedDowntime
        self.dataTotalBytes = dataTotalBytes
    }
}
