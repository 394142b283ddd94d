/// What the pre-flight established about a migration, as the session and its output need it.
public struct MigrationTarget: Sendable, Hashable {
    /// The domain's name on the source (the request may have named it by UUID).
    public var domainName: String
    public var domainUUID: String
    /// The names the source's and the destination's libvirt give themselves.
    public var sourceHostname: String
    public var destinationHostname: String

    public init(domainName: String, domainUUID: String, sourceHostname: String, destinationHostname: String) {
        self.domainName = domainName
        self.domainUUID = domainUUID
        self.sourceHostname = sourceHostname
        self.destinationHostname = destinationHostname
    }
}
