import Libvirt
import Migration

/// libvirt's rules for the URIs a command is given, applied before a request is used: no `-c` means libvirt's
/// default URI (`LIBVIRT_DEFAULT_URI`, then `uri_default` in libvirt.conf), and a URI without a scheme may be an
/// alias from libvirt.conf's `uri_aliases`. libvirt resolves both when it opens them on this machine, but the
/// destination URI of a peer-to-peer migration is opened by the source daemon, which knows nothing of this
/// machine's aliases; and the journal and the report need the URI itself. So both are resolved here, by libvirt
/// (`virConnectGetURI`), and any other URI is left exactly as given.
enum URIResolution {
    /// How long libvirt may take to open a URI that must be resolved.
    static let timeout: Duration = .seconds(30)

    /// Whether libvirt must be asked what `uri` stands for: libvirt's default (empty), or an alias (no `:`).
    static func needsResolving(_ uri: String) -> Bool {
        !uri.contains(":")
    }

    /// `request` with its source and destination URIs as libvirt resolves them.
    ///
    /// - Throws: `MigrationError.hostUnreachable` when libvirt cannot open one that must be resolved.
    static func resolve(_ request: MigrationRequest) async throws(MigrationError) -> MigrationRequest {
        var request = request
        request.sourceURI = try await Self.resolve(request.sourceURI, role: "source")
        request.destinationURI = try await Self.resolve(request.destinationURI, role: "destination")
        return request
    }

    /// `uri` as libvirt resolves it; empty is libvirt's default.
    static func resolve(_ uri: String, role: String) async throws(MigrationError) -> String {
        guard Self.needsResolving(uri) else { return uri }
        switch await Connection.resolve(uri.isEmpty ? nil : uri, timeout: Self.timeout) {
        case .success(let resolved): return resolved
        case .failure(let error):
            let name = uri.isEmpty ? "libvirt's default URI" : uri
            throw MigrationError(
                error.code == .invalidArgument ? .invalidURI : .hostUnreachable,
                "cannot connect to the \(role) \(name): \(error.message)",
                underlying: error
            )
        }
    }
}
