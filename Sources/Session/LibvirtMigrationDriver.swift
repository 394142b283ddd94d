import Libvirt
import Logging
import Migration
import Synchronization

/// The real ``MigrationDriver``: libvirt's pre-flight, checks and live migration.
public struct LibvirtMigrationDriver: MigrationDriver {
    public var logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func connect(
        _ request: MigrationRequest,
        resumingPostCopy: Bool
    ) async throws(MigrationError)
        -> any MigrationConnection
    {
        LibvirtMigrationConnection(
            prepared: try await MigrationPreflight.prepare(request, resumingPostCopy: resumingPostCopy),
            logger: self.logger
        )
    }
}

/// A prepared migration and, once it runs, its ``LiveMigration``.
final class LibvirtMigrationConnection: MigrationConnection {
    let prepared: PreparedMigration
    let migration: LiveMigration
    let logger: Logger

    init(prepared: PreparedMigration, logger: Logger) {
        self.prepared = prepared
        self.migration = LiveMigration(prepared)
        self.logger = logger
    }

    var target: MigrationTarget {
        MigrationTarget(
            domainName: self.prepared.domainName,
            domainUUID: self.prepared.domainUUID,
            sourceHostname: self.prepared.sourceHostname,
            destinationHostname: self.prepared.destinationHostname
        )
    }

    func checks(copyStorage: Bool) async -> [CheckResult] {
        await MigrationCheck.afterPreflight(self.prepared, copyStorage: copyStorage)
    }

    func migrate(
        reconnectTimeout: Duration,
        onProgress: @escaping @Sendable (MigrationProgress) -> Void,
        onStep: @escaping @Sendable (ConvergenceStep) -> Void,
        onNotice: @escaping @Sendable (String) -> Void
    ) async -> MigrationReport {
        await self.migration.run(
            logger: self.logger,
            onProgress: onProgress,
            onStep: onStep,
            reconnectTimeout: reconnectTimeout,
            onNotice: onNotice
        )
    }

    func requestAbort(reason: String) {
        self.migration.requestAbort(reason: reason)
    }

    func resumePostCopy(
        reconnectTimeout: Duration,
        onNotice: @escaping @Sendable (String) -> Void
    ) async
        -> MigrationReport
    {
        await MigrationRecovery(self.prepared, reconnectTimeout: reconnectTimeout, onNotice: onNotice).resume()
    }
}
