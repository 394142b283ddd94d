internal import CLibvirt
import Foundation

/// A connection to a libvirt daemon, such as `qemu:///system`, `qemu+tcp://host-b/system` or
/// `qemu+ssh://root@host-b/system`.
///
/// `@unchecked Sendable` is sound because libvirt's public API may be used from several threads on one
/// `virConnectPtr` (libvirt takes its own locks per object; libvirt's Go binding shares a connection across
/// goroutines the same way), and the pointer is immutable for the object's lifetime.
public final class Connection: @unchecked Sendable {
    internal let pointer: virConnectPtr
    /// The URI the connection was opened with; for libvirt's default, the URI libvirt chose (`virConnectGetURI`).
    public let uri: String

    /// Opens a connection to the hypervisor at `uri`, or at libvirt's default when `uri` is `nil` (libvirt applies
    /// `LIBVIRT_DEFAULT_URI`, then `uri_default` in libvirt.conf, then probes). A URI without a scheme may be an
    /// alias from libvirt.conf's `uri_aliases`: libvirt resolves it here.
    ///
    /// The call blocks while the connection is made (for a remote URI, a TCP or ssh handshake). When standard input
    /// is a terminal, libvirt's default authentication callback asks there for what SASL or polkit needs; otherwise
    /// no callback is given, so a daemon that needs credentials fails the call at once instead of waiting for input.
    /// The corresponding C function is `virConnectOpenAuth` (with `virConnectAuthPtrDefault`, and `VIR_CONNECT_RO`
    /// when `readOnly`).
    ///
    /// - Throws: ``LibvirtError`` if libvirt cannot use the URI, the daemon cannot be reached, or authentication
    ///   fails (`VIR_ERR_AUTH_FAILED`, among others).
    public init(uri: String?, readOnly: Bool = false) throws(LibvirtError) {
        LibvirtRuntime.initialized
        let auth = isatty(STDIN_FILENO) == 1 ? clibvirt_default_auth() : nil
        let flags = readOnly ? UInt32(VIR_CONNECT_RO.rawValue) : 0
        do {
            self.pointer = try check(virConnectOpenAuth(uri, auth, flags), "virConnectOpenAuth")
        } catch  where error.code == .authenticationFailed && auth == nil {
            // Say why nobody was asked: the message stays one line.
            var error = error
            error.message +=
                " (no terminal to ask for credentials: run from a terminal, or put them in libvirt's "
                + "auth.conf)"
            throw error
        }
        if let uri {
            self.uri = uri
        } else {
            let chosen = virConnectGetURI(self.pointer)
            defer { free(chosen) }
            self.uri = chosen.map { String(cString: $0) } ?? "libvirt's default URI"
        }
    }

    /// Opens a connection as ``init(uri:readOnly:)`` does, off the cooperative pool, giving up after `timeout`: a
    /// daemon that takes the TCP connection and then answers nothing (stopped, hung) would hold the caller forever.
    /// The blocked call's thread finishes on its own; a connection it makes late is closed.
    ///
    /// - Returns: The connection, or libvirt's error; a timeout is `VIR_ERR_OPERATION_TIMEOUT`.
    public static func open(
        uri: String?,
        readOnly: Bool = false,
        timeout: Duration
    ) async -> Result<Connection, LibvirtError> {
        let opened = await runBlocking(named: "connect", timeout: timeout) {
            Result { () throws(LibvirtError) in try Connection(uri: uri, readOnly: readOnly) }
        }
        switch opened {
        case .success(let result): return result
        case .failure:
            return .failure(
                LibvirtError(
                    code: .operationTimeout,
                    message: "no answer from \(uri ?? "libvirt's default URI") within \(timeout.components.seconds) s",
                    function: "virConnectOpenAuth"
                )
            )
        }
    }

    /// What libvirt makes of `uri`: the URI it opens for libvirt's default (`nil`) or for an alias from
    /// libvirt.conf's `uri_aliases`, as `virConnectGetURI` names it. Opens a read-only connection, bounded by
    /// `timeout` (``open(uri:readOnly:timeout:)``), and closes it.
    ///
    /// - Returns: The URI, or libvirt's error (a timeout is reported as `VIR_ERR_OPERATION_TIMEOUT`).
    public static func resolve(_ uri: String?, timeout: Duration) async -> Result<String, LibvirtError> {
        switch await Self.open(uri: uri, readOnly: true, timeout: timeout) {
        case .success(let connection):
            return await runBlocking(named: "resolve uri") {
                Result { () throws(LibvirtError) in try connection.canonicalURI() }
            }
        case .failure(let error):
            return .failure(error)
        }
    }

    deinit {
        virConnectClose(self.pointer)
    }

    /// Whether the connection is still alive.
    ///
    /// The corresponding C function is `virConnectIsAlive`.
    public var isAlive: Bool {
        virConnectIsAlive(self.pointer) == 1
    }

    /// Starts libvirt's keep-alive protocol: the connection is closed when the peer has not answered
    /// `count` pings sent every `interval`.
    ///
    /// Needs the event loop, which this module always runs. The corresponding C function is
    /// `virConnectSetKeepAlive`.
    public func setKeepAlive(interval: Duration, count: Int) throws(LibvirtError) {
        try check(
            virConnectSetKeepAlive(self.pointer, Int32(interval.components.seconds), UInt32(count)),
            "virConnectSetKeepAlive"
        )
    }

    /// The host name of the machine the daemon runs on.
    ///
    /// The corresponding C function is `virConnectGetHostname`.
    public func hostname() throws(LibvirtError) -> String {
        let name = try check(virConnectGetHostname(self.pointer), "virConnectGetHostname")
        defer { free(name) }
        return String(cString: name)
    }

    /// The canonical URI of the connection, as the daemon reports it.
    ///
    /// The corresponding C function is `virConnectGetURI`.
    public func canonicalURI() throws(LibvirtError) -> String {
        let uri = try check(virConnectGetURI(self.pointer), "virConnectGetURI")
        defer { free(uri) }
        return String(cString: uri)
    }

    /// The version of libvirt the daemon runs.
    ///
    /// The corresponding C function is `virConnectGetLibVersion`.
    public func libvirtVersion() throws(LibvirtError) -> LibvirtVersion {
        var version: UInt = 0
        try check(virConnectGetLibVersion(self.pointer, &version), "virConnectGetLibVersion")
        return LibvirtVersion(encoded: UInt64(version))
    }

    /// The capabilities XML of the host: its UUID, CPU model, NUMA cells and guest types.
    ///
    /// The corresponding C function is `virConnectGetCapabilities`.
    public func capabilities() throws(LibvirtError) -> String {
        let xml = try check(virConnectGetCapabilities(self.pointer), "virConnectGetCapabilities")
        defer { free(xml) }
        return String(cString: xml)
    }

    // MARK: - Domains

    /// Looks up a domain by name.
    ///
    /// The corresponding C function is `virDomainLookupByName`.
    ///
    /// - Throws: ``LibvirtError`` with code ``LibvirtError/Code/noDomain`` when no domain has that name.
    public func domain(named name: String) throws(LibvirtError) -> Domain {
        let pointer = try check(virDomainLookupByName(self.pointer, name), "virDomainLookupByName")
        return Domain(pointer: pointer, connection: self)
    }

    /// Looks up a domain by its UUID in the usual 36-character form.
    ///
    /// The corresponding C function is `virDomainLookupByUUIDString`.
    ///
    /// - Throws: ``LibvirtError`` with code ``LibvirtError/Code/noDomain`` when no domain has that UUID.
    public func domain(uuid: String) throws(LibvirtError) -> Domain {
        let pointer = try check(virDomainLookupByUUIDString(self.pointer, uuid), "virDomainLookupByUUIDString")
        return Domain(pointer: pointer, connection: self)
    }

    /// Looks up a domain by name, or by UUID when `nameOrUUID` has the form of one.
    ///
    /// - Throws: ``LibvirtError`` with code ``LibvirtError/Code/noDomain`` when neither matches.
    public func domain(nameOrUUID: String) throws(LibvirtError) -> Domain {
        if UUID(uuidString: nameOrUUID) != nil, let domain = try? self.domain(uuid: nameOrUUID) {
            return domain
        }
        return try self.domain(named: nameOrUUID)
    }

    /// All domains of the daemon, running and defined.
    ///
    /// The corresponding C function is `virConnectListAllDomains`.
    public func allDomains(activeOnly: Bool = false) throws(LibvirtError) -> [Domain] {
        var list: UnsafeMutablePointer<virDomainPtr?>? = nil
        let flags = activeOnly ? UInt32(VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue) : 0
        let count = try check(virConnectListAllDomains(self.pointer, &list, flags), "virConnectListAllDomains")
        defer { free(list) }
        guard let list else { return [] }
        return (0..<Int(count)).compactMap { index in
            list[index].map { Domain(pointer: $0, connection: self) }
        }
    }

    /// Starts a transient domain from its XML description.
    ///
    /// The corresponding C function is `virDomainCreateXML`.
    public func createDomain(xml: String, startPaused: Bool = false) throws(LibvirtError) -> Domain {
        let flags = startPaused ? UInt32(VIR_DOMAIN_START_PAUSED.rawValue) : 0
        let pointer = try check(virDomainCreateXML(self.pointer, xml, flags), "virDomainCreateXML")
        return Domain(pointer: pointer, connection: self)
    }

    /// Defines a persistent domain from its XML description, without starting it.
    ///
    /// The corresponding C function is `virDomainDefineXML`.
    public func defineDomain(xml: String) throws(LibvirtError) -> Domain {
        let pointer = try check(virDomainDefineXML(self.pointer, xml), "virDomainDefineXML")
        return Domain(pointer: pointer, connection: self)
    }
}
