internal import CLibvirt

/// Statistics of a domain's job, such as a migration: every field libvirt 9.0 reports, each `nil` when the
/// hypervisor did not report it.
///
/// Read with ``Domain/jobStats(completed:keepCompleted:)`` while the job runs or after it ended, or delivered by
/// ``Connection/jobCompletedEvents(for:bufferSize:)``. While a migration runs ``downtime`` is QEMU's estimate;
/// in the completed job it is the real downtime the guest saw.
public struct JobStats: Sendable, Hashable {
    /// What kind of job this is, or whether it ended and how (`virDomainJobType`).
    public var type: JobType
    /// The operation the job belongs to, as a raw `virDomainJobOperation` (`operation`).
    public var operation: Int64?
    /// Time since the job started (`time_elapsed`).
    public var timeElapsed: Duration?
    /// Time since the job started, without the time to transfer data between hosts' clocks (`time_elapsed_net`).
    public var timeElapsedNet: Duration?
    /// QEMU's estimate of the time left (`time_remaining`).
    public var timeRemaining: Duration?
    /// Downtime: the estimate while running, the real value in a completed job (`downtime`).
    public var downtime: Duration?
    /// Downtime not counting the clock difference between hosts (`downtime_net`).
    public var downtimeNet: Duration?
    /// Time spent preparing the migration before any data was sent (`setup_time`).
    public var setupTime: Duration?

    /// Bytes to transfer in all, memory and disks (`data_total`). Grows while dirty pages are sent again.
    public var dataTotal: UInt64?
    /// Bytes transferred so far (`data_processed`).
    public var dataProcessed: UInt64?
    /// Bytes still to transfer (`data_remaining`).
    public var dataRemaining: UInt64?

    /// Guest memory bytes to transfer in all (`memory_total`).
    public var memoryTotal: UInt64?
    /// Guest memory bytes transferred (`memory_processed`).
    public var memoryProcessed: UInt64?
    /// Guest memory bytes still to transfer (`memory_remaining`).
    public var memoryRemaining: UInt64?
    /// Pages sent as a constant value, such as zero pages (`memory_constant`).
    public var memoryConstantPages: UInt64?
    /// Pages sent in full (`memory_normal`).
    public var memoryNormalPages: UInt64?
    /// Bytes of the pages sent in full (`memory_normal_bytes`).
    public var memoryNormalBytes: UInt64?
    /// Memory transfer rate, bytes per second (`memory_bps`).
    public var memoryBytesPerSecond: UInt64?
    /// How fast the guest dirties memory, pages per second (`memory_dirty_rate`).
    public var memoryDirtyRate: UInt64?
    /// The size of a page in bytes (`memory_page_size`).
    public var memoryPageSize: UInt64?
    /// The number of memory passes so far (`memory_iteration`).
    public var memoryIteration: UInt64?
    /// Page requests from the destination during post-copy (`memory_postcopy_requests`).
    public var memoryPostCopyRequests: UInt64?

    /// Disk bytes to transfer in all (`disk_total`).
    public var diskTotal: UInt64?
    /// Disk bytes transferred (`disk_processed`).
    public var diskProcessed: UInt64?
    /// Disk bytes still to transfer (`disk_remaining`).
    public var diskRemaining: UInt64?
    /// Disk transfer rate, bytes per second (`disk_bps`).
    public var diskBytesPerSecond: UInt64?
    /// Temporary disk space used by the job (`disk_temp_used`).
    public var diskTemporaryUsed: UInt64?
    /// Temporary disk space the job may use (`disk_temp_total`).
    public var diskTemporaryTotal: UInt64?

    /// XBZRLE cache size in bytes (`compression_cache`).
    public var compressionCache: UInt64?
    /// Bytes sent compressed (`compression_bytes`).
    public var compressionBytes: UInt64?
    /// Pages sent compressed (`compression_pages`).
    public var compressionPages: UInt64?
    /// Compression cache misses (`compression_cache_misses`).
    public var compressionCacheMisses: UInt64?
    /// Compression overflows (`compression_overflow`).
    public var compressionOverflow: UInt64?

    /// The percentage auto-converge throttles the guest's CPUs by (`auto_converge_throttle`).
    public var autoConvergeThrottle: UInt64?
    /// Whether the completed job succeeded; only in JOB_COMPLETED events (`success`).
    public var success: Bool?
    /// Why the job failed, when it did (`errmsg`).
    public var errorMessage: String?

    public init(type: JobType = .none) {
        self.type = type
    }
}

/// The type of a domain job (`virDomainJobType`): an open set.
public struct JobType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    private init(_ type: virDomainJobType) { self.rawValue = Int32(type.rawValue) }

    /// No job is active. The corresponding C value is `VIR_DOMAIN_JOB_NONE`.
    public static var none: Self { Self(VIR_DOMAIN_JOB_NONE) }
    /// A job with a known end. The corresponding C value is `VIR_DOMAIN_JOB_BOUNDED`.
    public static var bounded: Self { Self(VIR_DOMAIN_JOB_BOUNDED) }
    /// A job without a known end, such as a migration. The corresponding C value is `VIR_DOMAIN_JOB_UNBOUNDED`.
    public static var unbounded: Self { Self(VIR_DOMAIN_JOB_UNBOUNDED) }
    /// The job finished successfully. The corresponding C value is `VIR_DOMAIN_JOB_COMPLETED`.
    public static var completed: Self { Self(VIR_DOMAIN_JOB_COMPLETED) }
    /// The job failed. The corresponding C value is `VIR_DOMAIN_JOB_FAILED`.
    public static var failed: Self { Self(VIR_DOMAIN_JOB_FAILED) }
    /// The job was cancelled. The corresponding C value is `VIR_DOMAIN_JOB_CANCELLED`.
    public static var cancelled: Self { Self(VIR_DOMAIN_JOB_CANCELLED) }

    /// Whether a job is running.
    public var isActive: Bool { self == .bounded || self == .unbounded }

    public var description: String {
        switch self {
        case .none: "none"
        case .bounded: "bounded"
        case .unbounded: "unbounded"
        case .completed: "completed"
        case .failed: "failed"
        case .cancelled: "cancelled"
        default: "type \(self.rawValue)"
        }
    }
}

extension JobStats {
    /// The job sends the domain to another host (`VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT`).
    public var isOutgoingMigration: Bool {
        self.operation == Int64(VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT.rawValue)
    }

    /// The job receives the domain from another host (`VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN`).
    public var isIncomingMigration: Bool {
        self.operation == Self.incomingMigrationOperation
    }

    /// The ``operation`` of an incoming migration: the corresponding C value is
    /// `VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN`.
    public static var incomingMigrationOperation: Int64 {
        Int64(VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN.rawValue)
    }
}

extension JobStats {
    /// Decodes the fields libvirt reports; fields it did not report stay `nil`.
    internal init(type: JobType, _ parameters: TypedParameters) {
        func milliseconds(_ name: String) -> Duration? {
            parameters.uint64(name).map { .milliseconds(Int64(clamping: $0)) }
        }
        self.init(type: type)
        self.operation = parameters.int64(VIR_DOMAIN_JOB_OPERATION)
        self.timeElapsed = milliseconds(VIR_DOMAIN_JOB_TIME_ELAPSED)
        self.timeElapsedNet = milliseconds(VIR_DOMAIN_JOB_TIME_ELAPSED_NET)
        self.timeRemaining = milliseconds(VIR_DOMAIN_JOB_TIME_REMAINING)
        self.downtime = milliseconds(VIR_DOMAIN_JOB_DOWNTIME)
        self.downtimeNet = milliseconds(VIR_DOMAIN_JOB_DOWNTIME_NET)
        self.setupTime = milliseconds(VIR_DOMAIN_JOB_SETUP_TIME)
        self.dataTotal = parameters.uint64(VIR_DOMAIN_JOB_DATA_TOTAL)
        self.dataProcessed = parameters.uint64(VIR_DOMAIN_JOB_DATA_PROCESSED)
        self.dataRemaining = parameters.uint64(VIR_DOMAIN_JOB_DATA_REMAINING)
        self.memoryTotal = parameters.uint64(VIR_DOMAIN_JOB_MEMORY_TOTAL)
        self.memoryProcessed = parameters.uint64(VIR_DOMAIN_JOB_MEMORY_PROCESSED)
        self.memoryRemaining = parameters.uint64(VIR_DOMAIN_JOB_MEMORY_REMAINING)
        self.memoryConstantPages = parameters.uint64(VIR_DOMAIN_JOB_MEMORY_CONSTANT)
        self.memoryNormalPages = parameters.uint64(VIR_DOMAIN_JOB_MEMORY_NORMAL)
        self.memoryNormalBytes = parameters.uint64(VIR_DOMAIN_JOB_MEMORY_NORMAL_BYTES)
        self.memoryBytesPerSecond = parameters.uint64(VIR_DOMAIN_JOB_MEMORY_BPS)
        self.memoryDirtyRate = parameters.uint64(VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE)
        self.memoryPageSize = parameters.uint64(VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE)
        self.memoryIteration = parameters.uint64(VIR_DOMAIN_JOB_MEMORY_ITERATION)
        self.memoryPostCopyRequests = parameters.uint64(VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS)
        self.diskTotal = parameters.uint64(VIR_DOMAIN_JOB_DISK_TOTAL)
        self.diskProcessed = parameters.uint64(VIR_DOMAIN_JOB_DISK_PROCESSED)
        self.diskRemaining = parameters.uint64(VIR_DOMAIN_JOB_DISK_REMAINING)
        self.diskBytesPerSecond = parameters.uint64(VIR_DOMAIN_JOB_DISK_BPS)
        self.diskTemporaryUsed = parameters.uint64(VIR_DOMAIN_JOB_DISK_TEMP_USED)
        self.diskTemporaryTotal = parameters.uint64(VIR_DOMAIN_JOB_DISK_TEMP_TOTAL)
        self.compressionCache = parameters.uint64(VIR_DOMAIN_JOB_COMPRESSION_CACHE)
        self.compressionBytes = parameters.uint64(VIR_DOMAIN_JOB_COMPRESSION_BYTES)
        self.compressionPages = parameters.uint64(VIR_DOMAIN_JOB_COMPRESSION_PAGES)
        self.compressionCacheMisses = parameters.uint64(VIR_DOMAIN_JOB_COMPRESSION_CACHE_MISSES)
        self.compressionOverflow = parameters.uint64(VIR_DOMAIN_JOB_COMPRESSION_OVERFLOW)
        self.autoConvergeThrottle = parameters.uint64(VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE)
        self.success = parameters.bool(VIR_DOMAIN_JOB_SUCCESS)
        self.errorMessage = parameters.string(VIR_DOMAIN_JOB_ERRMSG)
    }
}

extension Domain {
    /// Statistics of the domain's current job, or of the last completed one.
    ///
    /// Cheap: one RPC on an open connection. The corresponding C function is `virDomainGetJobStats`.
    ///
    /// - Parameters:
    ///   - completed: Read the statistics of the job that completed last (`VIR_DOMAIN_JOB_STATS_COMPLETED`),
    ///     which libvirt keeps on the migration's source; the real downtime is only here.
    ///   - keepCompleted: Leave the completed statistics for later readers
    ///     (`VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED`); otherwise reading them consumes them.
    public func jobStats(completed: Bool = false, keepCompleted: Bool = false) throws(LibvirtError) -> JobStats {
        var type: Int32 = 0
        var parameters: virTypedParameterPtr? = nil
        var count: Int32 = 0
        var flags: UInt32 = 0
        if completed { flags |= UInt32(VIR_DOMAIN_JOB_STATS_COMPLETED.rawValue) }
        if keepCompleted { flags |= UInt32(VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED.rawValue) }
        try check(virDomainGetJobStats(self.pointer, &type, &parameters, &count, flags), "virDomainGetJobStats")
        defer { virTypedParamsFree(parameters, count) }
        return JobStats(type: JobType(rawValue: type), TypedParameters(parameters, count: count))
    }
}
