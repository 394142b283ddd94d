import Foundation

/// What `kvmmigrate status` shows about a migration this tool runs, beside libvirt's job statistics.
public struct MigrationRecord: Codable, Sendable, Hashable {
    public var domain: String
    public var domainUUID: String
    public var sourceURI: String
    public var destinationURI: String
    /// The cluster step under way (`preparing`, `migrating`, `restoring`, …), with `--cluster`.
    public var clusterStep: String?
    /// The convergence policy, in one line.
    public var policy: String?
    /// The last step the policy took.
    public var policyStep: String?

    public init(domain: String, domainUUID: String, sourceURI: String, destinationURI: String, policy: String? = nil) {
        self.policy = policy
        self.domain = domain
        self.domainUUID = domainUUID
        self.sourceURI = sourceURI
        self.destinationURI = destinationURI
    }
}
