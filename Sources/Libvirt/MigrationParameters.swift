internal import CLibvirt

/// The typed parameters of a migration, as Swift values. Each `nil` field is left out, so libvirt's default
/// applies.
public struct MigrationParameters: Sendable, Hashable {
    /// Where QEMU sends the migration data, for example `tcp://10.0.0.2` (`VIR_MIGRATE_PARAM_URI`).
    public var migrationURI: String?
    /// A new name for the domain on the destination (`VIR_MIGRATE_PARAM_DEST_NAME`).
    public var destinationName: String?
    /// The domain XML to use on the destination (`VIR_MIGRATE_PARAM_DEST_XML`).
    public var destinationXML: String?
    /// The persistent XML to define on the destination (`VIR_MIGRATE_PARAM_PERSIST_XML`).
    public var persistentXML: String?
    /// The bandwidth cap in MiB/s (`VIR_MIGRATE_PARAM_BANDWIDTH`).
    public var bandwidthMiBPerSecond: UInt64?
    /// The bandwidth cap in MiB/s during post-copy (`VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY`).
    public var postCopyBandwidthMiBPerSecond: UInt64?
    /// The number of connections with ``MigrationFlags/parallel`` (`VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS`).
    public var parallelConnections: Int32?
    /// Compression methods, such as `xbzrle` (`VIR_MIGRATE_PARAM_COMPRESSION`, repeatable).
    public var compressionMethods: [String]
    /// The XBZRLE cache size in bytes (`VIR_MIGRATE_PARAM_COMPRESSION_XBZRLE_CACHE`).
    public var xbzrleCacheBytes: UInt64?
    /// The initial auto-converge throttle in percent (`VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL`).
    public var autoConvergeInitial: Int32?
    /// The auto-converge throttle step in percent (`VIR_MIGRATE_PARAM_AUTO_CONVERGE_INCREMENT`).
    public var autoConvergeIncrement: Int32?
    /// The address the destination listens on for the data (`VIR_MIGRATE_PARAM_LISTEN_ADDRESS`).
    public var listenAddress: String?
    /// The disks to copy, by target name (`VIR_MIGRATE_PARAM_MIGRATE_DISKS`, repeatable).
    public var disksToCopy: [String]
    /// The port for copying disks (`VIR_MIGRATE_PARAM_DISKS_PORT`).
    public var disksPort: Int32?
    /// The host name to check in the destination's TLS certificate (`VIR_MIGRATE_PARAM_TLS_DESTINATION`).
    public var tlsDestination: String?
    /// Where graphical clients should reconnect (`VIR_MIGRATE_PARAM_GRAPHICS_URI`).
    public var graphicsURI: String?

    public init(
        migrationURI: String? = nil,
        destinationName: String? = nil,
        destinationXML: String? = nil,
        persistentXML: String? = nil,
        bandwidthMiBPerSecond: UInt64? = nil,
        postCopyBandwidthMiBPerSecond: UInt64? = nil,
        parallelConnections: Int32? = nil,
        compressionMethods: [String] = [],
        xbzrleCacheBytes: UInt64? = nil,
        autoConvergeInitial: Int32? = nil,
        autoConvergeIncrement: Int32? = nil,
        listenAddress: String? = nil,
        disksToCopy: [String] = [],
        disksPort: Int32? = nil,
        tlsDestination: String? = nil,
        graphicsURI: String? = nil
    ) {
        self.migrationURI = migrationURI
        self.destinationName = destinationName
        self.destinationXML = destinationXML
        self.persistentXML = persistentXML
        self.bandwidthMiBPerSecond = bandwidthMiBPerSecond
        self.postCopyBandwidthMiBPerSecond = postCopyBandwidthMiBPerSecond
        self.parallelConnections = parallelConnections
        self.compressionMethods = compressionMethods
        self.xbzrleCacheBytes = xbzrleCacheBytes
        self.autoConvergeInitial = autoConvergeInitial
        self.autoConvergeIncrement = autoConvergeIncrement
        self.listenAddress = listenAddress
        self.disksToCopy = disksToCopy
        self.disksPort = disksPort
        self.tlsDestination = tlsDestination
        self.graphicsURI = graphicsURI
    }

    /// The libvirt typed-parameter list for these values.
    internal func typedParameters() throws(LibvirtError) -> TypedParameterBuilder {
        var builder = TypedParameterBuilder()
        if let value = self.migrationURI { try builder.add(VIR_MIGRATE_PARAM_URI, value) }
        if let value = self.destinationName { try builder.add(VIR_MIGRATE_PARAM_DEST_NAME, value) }
        if let value = self.destinationXML { try builder.add(VIR_MIGRATE_PARAM_DEST_XML, value) }
        if let value = self.persistentXML { try builder.add(VIR_MIGRATE_PARAM_PERSIST_XML, value) }
        if let value = self.bandwidthMiBPerSecond { try builder.add(VIR_MIGRATE_PARAM_BANDWIDTH, value) }
        if let value = self.postCopyBandwidthMiBPerSecond {
            try builder.add(VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY, value)
        }
        if let value = self.parallelConnections { try builder.add(VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS, value) }
        for method in self.compressionMethods { try builder.add(VIR_MIGRATE_PARAM_COMPRESSION, method) }
        if let value = self.xbzrleCacheBytes { try builder.add(VIR_MIGRATE_PARAM_COMPRESSION_XBZRLE_CACHE, value) }
        if let value = self.autoConvergeInitial { try builder.add(VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL, value) }
        if let value = self.autoConvergeIncrement {
            try builder.add(VIR_MIGRATE_PARAM_AUTO_CONVERGE_INCREMENT, value)
        }
        if let value = self.listenAddress { try builder.add(VIR_MIGRATE_PARAM_LISTEN_ADDRESS, value) }
        for disk in self.disksToCopy { try builder.add(VIR_MIGRATE_PARAM_MIGRATE_DISKS, disk) }
        if let value = self.disksPort { try builder.add(VIR_MIGRATE_PARAM_DISKS_PORT, value) }
        if let value = self.tlsDestination { try builder.add(VIR_MIGRATE_PARAM_TLS_DESTINATION, value) }
        if let value = self.graphicsURI { try builder.add(VIR_MIGRATE_PARAM_GRAPHICS_URI, value) }
        return builder
    }

    /// Decodes parameters from a typed-parameter list (used by tests and to show what will be sent).
    internal init(_ parameters: TypedParameters) {
        self.init(
            migrationURI: parameters.string(VIR_MIGRATE_PARAM_URI),
            destinationName: parameters.string(VIR_MIGRATE_PARAM_DEST_NAME),
            destinationXML: parameters.string(VIR_MIGRATE_PARAM_DEST_XML),
            persistentXML: parameters.string(VIR_MIGRATE_PARAM_PERSIST_XML),
            bandwidthMiBPerSecond: parameters.uint64(VIR_MIGRATE_PARAM_BANDWIDTH),
            postCopyBandwidthMiBPerSecond: parameters.uint64(VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY),
            parallelConnections: parameters.int64(VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS).map { Int32($0) },
            compressionMethods: parameters.strings(VIR_MIGRATE_PARAM_COMPRESSION),
            xbzrleCacheBytes: parameters.uint64(VIR_MIGRATE_PARAM_COMPRESSION_XBZRLE_CACHE),
            autoConvergeInitial: parameters.int64(VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL).map { Int32($0) },
            autoConvergeIncrement: parameters.int64(VIR_MIGRATE_PARAM_AUTO_CONVERGE_INCREMENT).map { Int32($0) },
            listenAddress: parameters.string(VIR_MIGRATE_PARAM_LISTEN_ADDRESS),
            disksToCopy: parameters.strings(VIR_MIGRATE_PARAM_MIGRATE_DISKS),
            disksPort: parameters.int64(VIR_MIGRATE_PARAM_DISKS_PORT).map { Int32($0) },
            tlsDestination: parameters.string(VIR_MIGRATE_PARAM_TLS_DESTINATION),
            graphicsURI: parameters.string(VIR_MIGRATE_PARAM_GRAPHICS_URI)
        )
    }
}
