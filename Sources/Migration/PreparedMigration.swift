import Libvirt

/// A migration that passed its pre-flight checks: both daemons answered, the domain exists and is in the right
/// state, and the destination has no domain in the way. Nothing has been changed on any host.
public struct PreparedMigration: Sendable {
    public var request: MigrationRequest
    /// The connection to the source daemon, kept open for the migration and its monitoring.
    public var source: Connection
    /// A read-only connection to the destination daemon, to check where the guest runs afterwards.
    public var destination: Connection
    /// The domain on the source.
    public var domain: Domain
    /// The domain's name on the source (the request may have named it by UUID).
    public var domainName: String
    public var domainUUID: String
    /// The domain's state on the source before the migration.
    public var initialState: DomainStateInfo
    /// The domain's memory, in KiB.
    public var memoryKiB: UInt64
    public var sourceHostname: String
    public var destinationHostname: String
}
