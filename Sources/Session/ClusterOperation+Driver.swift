import Cluster
import Migration

extension ClusterOperation: ClusterDriver {
    public func checkBeforeMigrating(
        domain: String,
        destinationURI: String,
        destinationHostname: String?
    ) async throws(ClusterError)
        -> ClusterReadiness
    {
        let checked = try await self.check(
            domain: domain,
            destinationURI: destinationURI,
            destinationHostname: destinationHostname
        )
        return ClusterReadiness(
            summary:
                "\(checked.guest.nodeName) and its peers (\(checked.topology.nodes.map(\.name).joined(separator: ", "))) "
                + "are UP with SF healthy",
            colocation: checked.colocation
        )
    }

    public func migrate(
        domain: String,
        sourceHost: String,
        destinationURI: String,
        destinationHostname: String,
        delegate: Bool,
        onEvent: @escaping @Sendable (ClusterEvent) -> Void,
        body: @Sendable () async -> MigrationReport
    ) async throws(ClusterError) -> (MigrationReport?, ClusterOperation.Report) {
        var operation = self
        let own = self.onEvent
        operation.onEvent = { event in
            own(event)
            onEvent(event)
        }
        return try await operation.run(
            domain: domain,
            command: "migrate",
            sourceHost: sourceHost,
            destinationURI: destinationURI,
            destinationHostname: destinationHostname,
            delegate: delegate,
            body: body
        )
    }

    public func close() {
        self.configuration.ssh.closeSharedConnections()
    }
}
