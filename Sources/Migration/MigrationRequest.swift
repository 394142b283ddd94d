import Foundation
import Libvirt

/// Everything the user asked for: which domain moves where, and how.
public struct MigrationRequest: Sendable, Hashable {
    /// The domain's name or UUID on the source.
    public var domain: String
    /// The source daemon's URI, as this tool reaches it.
    public var sourceURI: String
    /// The destination daemon's URI, as the source daemon (and this tool) reach it.
    public var destinationURI: String
    /// Move a stopped domain's definition only (`--offline`).
    public var offline: Bool
    /// Define the domain persistently on the destination (`--persistent`).
    public var persistent: Bool
    /// Remove the source's definition after success (`--undefine-source`).
    public var undefineSource: Bool
    /// Compress the migration data (`--compressed`; libvirt's default method, XBZRLE).
    public var compressed: Bool
    /// How the migration is made to finish when plain pre-copy does not (`--policy` and its knobs).
    public var policy: ConvergencePolicy
    /// Carry the data through the daemons' connection (`--tunnelled`).
    public var tunnelled: Bool
    /// Encrypt the migration data with TLS between the two QEMUs (`--tls`, `VIR_MIGRATE_TLS`).
    public var tls: Bool
    /// Copy every non-shared disk to the destination (`--copy-storage-all`).
    public var copyStorage: Bool
    /// Typed parameters: new name, migration URI, bandwidth, parallel connections.
    public var parameters: MigrationParameters

    public init(
        domain: String,
        sourceURI: String,
        destinationURI: String,
        offline: Bool = false,
        persistent: Bool = false,
        undefineSource: Bool = false,
        compressed: Bool = false,
        policy: ConvergencePolicy = .balanced,
        tunnelled: Bool = false,
        tls: Bool = false,
        parameters: MigrationParameters = .init(),
        copyStorage: Bool = false
    ) {
        self.copyStorage = copyStorage
        self.domain = domain
        self.sourceURI = sourceURI
        self.destinationURI = destinationURI
        self.offline = offline
        self.persistent = persistent
        self.undefineSource = undefineSource
        self.compressed = compressed
        self.policy = policy
        self.tunnelled = tunnelled
        self.tls = tls
        self.parameters = parameters
    }

    /// The libvirt flags for this request. Peer-to-peer is always used (``Domain/migrate(to:parameters:flags:)``).
    public var flags: MigrationFlags {
        var flags: MigrationFlags = self.offline ? [.offline, .persistOnDestination] : [.live]
        if self.persistent { flags.insert(.persistOnDestination) }
        if self.undefineSource { flags.insert(.undefineSource) }
        if self.compressed { flags.insert(.compressed) }
        if !self.offline {
            if self.policy.autoConverge { flags.insert(.autoConverge) }
            if self.policy.needsPostCopy { flags.insert(.postCopy) }
        }
        if self.tunnelled { flags.insert(.tunnelled) }
        if self.tls { flags.insert(.tls) }
        if self.copyStorage { flags.insert(.copyStorageAll) }
        if (self.parameters.parallelConnections ?? 0) > 0 { flags.insert(.parallel) }
        return flags
    }

    /// The name the domain will have on the destination.
    public var destinationName: String {
        self.parameters.destinationName ?? self.domain
    }

    /// Checks what can be checked without any host: options compatible, source and destination not spelt the same,
    /// the migration address well-formed. Whether a libvirt URI is valid is libvirt's to say (it also knows the
    /// aliases of libvirt.conf), when the connection is opened.
    ///
    /// - Throws: ``MigrationError`` with ``MigrationError/Code/invalidURI`` or ``MigrationError/Code/invalidRequest``.
    public func validate() throws(MigrationError) {
        // The options first: on a command line they are usage errors, whatever the URIs say.
        try self.validateOptions()
        if self.sourceURI == self.destinationURI {
            throw MigrationError(.sameHost, "the destination \(self.destinationURI) is the source itself")
        }
        if let uri = self.parameters.migrationURI {
            guard let url = URL(string: uri), url.scheme != nil, url.host != nil else {
                throw MigrationError(.invalidURI, "malformed migration URI '\(uri)': expected e.g. tcp://10.0.0.2")
            }
        }
    }

    /// The checks of the options alone, each an ``MigrationError/Code/invalidRequest``.
    public func validateOptions() throws(MigrationError) {
        guard !self.domain.isEmpty else { throw MigrationError(.invalidRequest, "name the domain to migrate") }
        if let bandwidth = self.parameters.bandwidthMiBPerSecond, !(1...1_048_576).contains(bandwidth) {
            throw MigrationError(.invalidRequest, "--bandwidth must be 1 to 1048576 MiB/s, not \(bandwidth)")
        }
        if let parallel = self.parameters.parallelConnections, !(1...255).contains(parallel) {
            throw MigrationError(.invalidRequest, "--parallel takes 1 to 255 connections")
        }
        try self.policy.validate()
        if self.tunnelled && self.policy.needsPostCopy {
            throw MigrationError(
                .invalidRequest,
                "post-copy cannot be used with --tunnelled: drop --allow-postcopy and --timeout-action postcopy"
            )
        }
        if self.tunnelled && (self.parameters.parallelConnections ?? 0) > 0 {
            throw MigrationError(.invalidRequest, "--tunnelled and --parallel cannot be combined")
        }
        if self.tls && self.tunnelled {
            throw MigrationError(
                .invalidRequest,
                "--tls and --tunnelled cannot be combined: a tunnelled migration goes through libvirtd's own "
                    + "connection (give a qemu+tls:// destination URI to encrypt that)"
            )
        }
        if self.offline && (self.compressed || self.tls || self.tunnelled) {
            throw MigrationError(
                .invalidRequest,
                "--offline moves only the definition: drop the live-migration options"
            )
        }
        if let name = self.parameters.destinationName, name.isEmpty {
            throw MigrationError(.invalidRequest, "--dname must not be empty")
        }
    }
}
