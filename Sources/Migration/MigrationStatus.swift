import Foundation
import Libvirt

/// A migration seen from outside the process that runs it: libvirt's job on the host, and what that process
/// recorded (destination, pid, cluster step) when it is a kvmmigrate on this machine.
public struct MigrationStatus: Sendable {
    public var domain: String
    public var domainUUID: String
    /// The job's statistics on the host asked.
    public var statistics: JobStats
    /// The observation a progress line shows.
    public var progress: MigrationProgress?
    /// Whether the host asked is the migration's destination (the job receives the domain).
    public var incoming: Bool
    /// What the kvmmigrate process running it recorded, if one on this machine does.
    public var record: MigrationRecord?
    public var pid: Int32?
    public var startedAt: Date?

    /// Every domain with a migration job on the host of `connection` (or just `domain`).
    ///
    /// Blocking: one RPC per domain; call it off the cooperative pool for a remote host.
    public static func list(
        on connection: Connection,
        domain: String? = nil,
        lockDirectory: URL = MigrationLock.defaultDirectory
    )
        throws(MigrationError) -> [MigrationStatus]
    {
        let domains: [Domain]
        do throws(LibvirtError) {
            if let domain {
                domains = [try connection.domain(nameOrUUID: domain)]
            } else {
                domains = try connection.allDomains(activeOnly: true)
            }
        } catch  where error.code == .noDomain {
            throw MigrationError(.domainNotFound, "no domain '\(domain ?? "")' on \(connection.uri)", underlying: error)
        } catch {
            throw MigrationError(.hostUnreachable, "cannot list the domains of \(connection.uri): \(error.message)")
        }
        let records = MigrationLock.running(in: lockDirectory)
        var statuses: [MigrationStatus] = []
        for domain in domains {
            guard let uuid = try? domain.uuid() else { continue }
            var statistics: JobStats
            var measured = true
            do throws(LibvirtError) {
                statistics = try domain.jobStats()
            } catch {
                measured = false
                // libvirt 9.0 keeps migration statistics on the source only; an incoming domain is paused for
                // the migration here.
                guard (try? domain.state())?.isPausedForMigration == true else { continue }
                statistics = JobStats(type: .unbounded)
                statistics.operation = JobStats.incomingMigrationOperation
            }
            guard statistics.type.isActive, statistics.isOutgoingMigration || statistics.isIncomingMigration else {
                continue
            }
            var tracker = ProgressTracker()
            let progress = measured ? tracker.update(statistics, elapsed: statistics.timeElapsed ?? .zero) : nil
            let entry = records.first { $0.record.domainUUID == uuid }
            statuses.append(
                MigrationStatus(
                    domain: domain.name,
                    domainUUID: uuid,
                    statistics: statistics,
                    progress: progress,
                    incoming: statistics.isIncomingMigration,
                    record: entry?.record,
                    pid: entry?.pid,
                    startedAt: entry?.startedAt
                )
            )
        }
        return statuses
    }

    /// Aborts the outgoing migration of `domain` on the host of `connection`; the guest keeps running there.
    /// The process that runs the migration sees it end as aborted, reports it, and restores the cluster.
    ///
    /// - Throws: ``MigrationError`` when no migration of the domain runs there, or the host is its destination.
    public static func cancel(_ domain: String, on connection: Connection) throws(MigrationError) {
        let found: Domain
        do throws(LibvirtError) {
            found = try connection.domain(nameOrUUID: domain)
        } catch  where error.code == .noDomain {
            throw MigrationError(.domainNotFound, "no domain '\(domain)' on \(connection.uri)", underlying: error)
        } catch {
            throw MigrationError(.hostUnreachable, "cannot reach \(connection.uri): \(error.message)")
        }
        guard let statistics = try? found.jobStats(), statistics.type.isActive, statistics.isOutgoingMigration
        else {
            let incoming = (try? found.jobStats())?.isIncomingMigration ?? false
            throw MigrationError(
                .invalidRequest,
                incoming
                    ? "\(connection.uri) is the destination of \(domain)'s migration: cancel it on the source (-c)"
                    : "no migration of \(domain) is running on \(connection.uri)"
            )
        }
        do throws(LibvirtError) {
            try found.abortJob()
        } catch {
            throw MigrationError(
                .migrationFailed,
                "libvirt refused to abort the migration: \(error.message)",
                underlying: error
            )
        }
    }
}
