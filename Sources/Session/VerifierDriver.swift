import Cluster
import Foundation
import Logging
import Migration
import Verification

/// The verification that ends every migration: ``Verifier`` on the domain just moved.
///
/// With the cluster's configuration (`migrate --cluster`), the whole guest cluster is verified against its
/// configured hosts; without it, the domain's placement on the two hosts of the migration (and its clock, where it
/// has a guest agent).
public struct VerifierDriver: VerificationDriver {
    public var cluster: ClusterConfiguration?
    public var logger: Logger

    public init(cluster: ClusterConfiguration?, logger: Logger) {
        self.cluster = cluster
        self.logger = logger
    }

    public func verify(
        domain: String,
        request: MigrationRequest,
        target: MigrationTarget,
        movedAt: Date
    ) async -> VerificationReport {
        let hosts =
            self.cluster?.hosts ?? [
                ClusterConfiguration.Host(name: target.sourceHostname, uri: request.sourceURI, address: ""),
                ClusterConfiguration.Host(name: target.destinationHostname, uri: request.destinationURI, address: ""),
            ]
        let verifier = Verifier(
            cluster: self.cluster,
            hosts: hosts,
            logger: self.logger,
            clockTolerance: self.cluster?.clockTolerance ?? Verifier.defaultClockTolerance,
            movedAt: [domain: movedAt.timeIntervalSince1970]
        )
        return await verifier.verify(.domains([domain]))
    }
}
