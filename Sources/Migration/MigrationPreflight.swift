import Foundation
import Libvirt

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The checks made before a migration starts: each failure means "refused, nothing changed".
public enum MigrationPreflight {
    /// Opens both connections and checks the request against them.
    ///
    /// Blocking libvirt calls run on their own threads (``runBlocking(named:_:)``).
    ///
    /// - Throws: ``MigrationError`` with a refusal code: ``MigrationError/Code/invalidURI``,
    ///   ``MigrationError/Code/hostUnreachable``, ``MigrationError/Code/domainNotFound``,
    ///   ``MigrationError/Code/domainNotRunning``, ``MigrationError/Code/destinationHasDomain`` or
    ///   ``MigrationError/Code/sameHost``.
    ///
    /// With `resumingPostCopy`, the domain must be in a broken post-copy migration instead (its job and its copy on
    /// the destination are then expected).
    public static func prepare(
        _ request: MigrationRequest,
        resumingPostCopy: Bool = false
    ) async throws(MigrationError)
        -> PreparedMigration
    {
        try request.validate()
        // Both at once; `async let` loses a typed error, so each connection comes back as a `Result`.
        async let sourceResult = Self.open(request.sourceURI, role: "source", readOnly: false)
        async let destinationResult = Self.open(request.destinationURI, role: "destination", readOnly: true)
        let source = try await sourceResult.get()
        let destination = try await destinationResult.get()
        return try await runBlocking(named: "preflight") { () throws(MigrationError) -> PreparedMigration in
            try? source.setKeepAlive(interval: .seconds(5), count: 6)
            try? destination.setKeepAlive(interval: .seconds(5), count: 6)
            return try Self.check(request, source: source, destination: destination, resumingPostCopy: resumingPostCopy)
        }
    }

    /// How long opening a connection may take: a daemon that accepts the TCP connection and then answers nothing
    /// (stopped with SIGSTOP, or hung) would otherwise hold the migration forever before anything changed.
    public static let connectTimeout: Duration = .seconds(30)

    private static func open(_ uri: String, role: String, readOnly: Bool) async -> Result<Connection, MigrationError> {
        await Connection.open(uri: uri, readOnly: readOnly, timeout: Self.connectTimeout).mapError { error in
            if error.code == .operationTimeout {
                return MigrationError(
                    .hostUnreachable,
                    "the \(role) \(uri) did not answer within \(Self.connectTimeout.components.seconds) s",
                    underlying: error
                )
            }
            let code: MigrationError.Code =
                error.code == .invalidArgument || error.message.contains("parse") ? .invalidURI : .hostUnreachable
            return MigrationError(code, "cannot connect to the \(role) \(uri): \(error.message)", underlying: error)
        }
    }

    /// The checks that need both connections. Synchronous: each call is one short RPC.
    static func check(
        _ request: MigrationRequest,
        source: Connection,
        destination: Connection,
        resumingPostCopy: Bool = false
    ) throws(MigrationError) -> PreparedMigration {
        func wrap<T>(_ what: String, _ body: () throws(LibvirtError) -> T) throws(MigrationError) -> T {
            do throws(LibvirtError) { return try body() } catch {
                throw MigrationError(.hostUnreachable, "\(what): \(error.message)", underlying: error)
            }
        }
        let sourceHost = try wrap("cannot read the source host's capabilities") { () throws(LibvirtError) in
            HostIdentity(capabilities: try source.capabilities(), hostname: try source.hostname())
        }
        let destinationHost = try wrap("cannot read the destination host's capabilities") {
            () throws(LibvirtError) in
            HostIdentity(capabilities: try destination.capabilities(), hostname: try destination.hostname())
        }
        if sourceHost.isSameHost(as: destinationHost) {
            throw MigrationError(
                .sameHost,
                "the destination \(request.destinationURI) is the source host itself (\(sourceHost.hostname), "
                    + "host UUID \(sourceHost.uuid ?? "?"))"
            )
        }

        let domain: Domain
        do throws(LibvirtError) {
            domain = try source.domain(nameOrUUID: request.domain)
        } catch  where error.code == .noDomain {
            throw MigrationError(
                .domainNotFound,
                "no domain '\(request.domain)' on the source \(request.sourceURI)",
                underlying: error
            )
        } catch {
            throw MigrationError(.hostUnreachable, "cannot look up '\(request.domain)': \(error.message)")
        }
        let name = domain.name
        let (uuid, state, info) = try wrap("cannot read the state of '\(name)'") { () throws(LibvirtError) in
            (try domain.uuid(), try domain.state(), try domain.info())
        }
        if resumingPostCopy {
            guard state.isPostCopyFailed || state.isPostCopy else {
                throw MigrationError(
                    .invalidRequest,
                    "\(name) is \(state) on the source: there is no broken post-copy migration to resume"
                )
            }
            return PreparedMigration(
                request: request,
                source: source,
                destination: destination,
                domain: domain,
                domainName: name,
                domainUUID: uuid,
                initialState: state,
                memoryKiB: info.maximumMemoryKiB,
                sourceHostname: sourceHost.hostname,
                destinationHostname: destinationHost.hostname
            )
        }
        // A job on the domain (a migration by another kvmmigrate, by virsh, a save…) comes first: the destination
        // would otherwise show the incoming copy as a name clash.
        if let job = try? domain.jobStats(), job.type.isActive {
            let owner = MigrationLock.running().first { $0.record.domainUUID == uuid }
            throw MigrationError(
                .operationInProgress,
                "\(name) is being migrated already"
                    + (owner.map { " by kvmmigrate (pid \($0.pid), to \($0.record.destinationURI))" }
                        ?? (job.isOutgoingMigration
                            ? " (libvirt has a migration job on the source)" : ": it has a \(job.type) job running"))
            )
        }
        if request.offline {
            if state.isActive {
                throw MigrationError(
                    .domainNotRunning,
                    "domain '\(name)' is \(state.state): --offline needs it shut off"
                )
            }
        } else if state.state != .running && state.state != .paused && state.state != .blocked {
            throw MigrationError(
                .domainNotRunning,
                "domain '\(name)' is \(state.state) on the source: a live migration needs it running "
                    + "(use --offline to move a stopped domain's definition)"
            )
        }

        // The destination must not have an active domain of the same name or UUID. A shut-off definition of
        // the same UUID is what libvirt overwrites on a persistent migration back, so only active ones block.
        let destinationName = request.destinationName
        let clash = try wrap("cannot list the destination's domains") { () throws(LibvirtError) in
            try destination.allDomains().first { other in
                (other.name == destinationName || (try? other.uuid()) == uuid) && ((try? other.isActive()) ?? false)
            }
        }
        if let clash {
            throw MigrationError(
                .destinationHasDomain,
                "the destination \(request.destinationURI) already runs a domain '\(clash.name)' "
                    + (clash.name == destinationName ? "of that name" : "with the same UUID \(uuid)")
            )
        }
        return PreparedMigration(
            request: request,
            source: source,
            destination: destination,
            domain: domain,
            domainName: name,
            domainUUID: uuid,
            initialState: state,
            memoryKiB: info.maximumMemoryKiB,
            sourceHostname: sourceHost.hostname,
            destinationHostname: destinationHost.hostname
        )
    }
}

/// Who a libvirt daemon's host is: its host UUID (from the capabilities XML) and host name.
public struct HostIdentity: Sendable, Hashable {
    public var uuid: String?
    public var hostname: String

    public init(capabilities: String, hostname: String) {
        self.uuid = Self.hostUUID(inCapabilities: capabilities)
        self.hostname = hostname
    }

    /// Two daemons are the same host when their host UUIDs match (libvirt refuses to migrate between them).
    public func isSameHost(as other: HostIdentity) -> Bool {
        if let uuid = self.uuid, let otherUUID = other.uuid { return uuid == otherUUID }
        return self.hostname == other.hostname
    }

    /// The text of `<host><uuid>…</uuid>` in a capabilities document.
    static func hostUUID(inCapabilities xml: String) -> String? {
        guard let document = try? XMLDocument(xmlString: xml, options: []),
            let uuid = document.rootElement()?.elements(forName: "host").first?.elements(forName: "uuid").first?
                .stringValue
        else { return nil }
        return uuid.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
