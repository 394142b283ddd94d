internal import CLibvirt

/// How a migration runs (`virDomainMigrateFlags`).
public struct MigrationFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    private init(_ flag: virDomainMigrateFlags) { self.rawValue = UInt32(flag.rawValue) }

    /// Keep the guest running while its memory is copied. The corresponding C flag is `VIR_MIGRATE_LIVE`.
    public static var live: Self { Self(VIR_MIGRATE_LIVE) }
    /// The source daemon talks to the destination daemon itself. The corresponding C flag is
    /// `VIR_MIGRATE_PEER2PEER`.
    public static var peerToPeer: Self { Self(VIR_MIGRATE_PEER2PEER) }
    /// Carry the migration data over the daemons' connection. The corresponding C flag is `VIR_MIGRATE_TUNNELLED`.
    public static var tunnelled: Self { Self(VIR_MIGRATE_TUNNELLED) }
    /// Define the domain persistently on the destination. The corresponding C flag is `VIR_MIGRATE_PERSIST_DEST`.
    public static var persistOnDestination: Self { Self(VIR_MIGRATE_PERSIST_DEST) }
    /// Remove the definition from the source after success. The corresponding C flag is
    /// `VIR_MIGRATE_UNDEFINE_SOURCE`.
    public static var undefineSource: Self { Self(VIR_MIGRATE_UNDEFINE_SOURCE) }
    /// Leave the guest paused on the destination. The corresponding C flag is `VIR_MIGRATE_PAUSED`.
    public static var paused: Self { Self(VIR_MIGRATE_PAUSED) }
    /// Copy all disks. The corresponding C flag is `VIR_MIGRATE_NON_SHARED_DISK`.
    public static var copyStorageAll: Self { Self(VIR_MIGRATE_NON_SHARED_DISK) }
    /// Copy disks incrementally. The corresponding C flag is `VIR_MIGRATE_NON_SHARED_INC`.
    public static var copyStorageIncremental: Self { Self(VIR_MIGRATE_NON_SHARED_INC) }
    /// Keep the domain from being changed during the migration. The corresponding C flag is
    /// `VIR_MIGRATE_CHANGE_PROTECTION`.
    public static var changeProtection: Self { Self(VIR_MIGRATE_CHANGE_PROTECTION) }
    /// Migrate even when libvirt thinks it unsafe. The corresponding C flag is `VIR_MIGRATE_UNSAFE`.
    public static var unsafe: Self { Self(VIR_MIGRATE_UNSAFE) }
    /// Move only the definition of a stopped domain. The corresponding C flag is `VIR_MIGRATE_OFFLINE`.
    public static var offline: Self { Self(VIR_MIGRATE_OFFLINE) }
    /// Compress the data. The corresponding C flag is `VIR_MIGRATE_COMPRESSED`.
    public static var compressed: Self { Self(VIR_MIGRATE_COMPRESSED) }
    /// Abort on I/O errors during the migration. The corresponding C flag is `VIR_MIGRATE_ABORT_ON_ERROR`.
    public static var abortOnError: Self { Self(VIR_MIGRATE_ABORT_ON_ERROR) }
    /// Throttle the guest's CPUs when the migration does not converge. The corresponding C flag is
    /// `VIR_MIGRATE_AUTO_CONVERGE`.
    public static var autoConverge: Self { Self(VIR_MIGRATE_AUTO_CONVERGE) }
    /// Allow switching to post-copy (the switch is ``Domain/startPostCopy()``). The corresponding C flag is
    /// `VIR_MIGRATE_POSTCOPY`.
    public static var postCopy: Self { Self(VIR_MIGRATE_POSTCOPY) }
    /// Encrypt the migration data with TLS. The corresponding C flag is `VIR_MIGRATE_TLS`.
    public static var tls: Self { Self(VIR_MIGRATE_TLS) }
    /// Send memory over several connections. The corresponding C flag is `VIR_MIGRATE_PARALLEL`.
    public static var parallel: Self { Self(VIR_MIGRATE_PARALLEL) }
    /// Resume a post-copy migration that failed. The corresponding C flag is `VIR_MIGRATE_POSTCOPY_RESUME`.
    public static var postCopyResume: Self { Self(VIR_MIGRATE_POSTCOPY_RESUME) }
}
