import ArgumentParser
import Audit
import Cluster
import Logging
import Session

/// The process's audit trail: one operation per process, so one trail, written to the system log (syslog(3))
/// whatever `--json`, `--quiet` or `--log-level` say.
///
/// `main()` writes the `start` record once the command line parsed, for the commands that change something
/// (``auditedWhat(_:)``), and the `outcome` record with the exit code; the commands write their steps and note
/// their outcome's figures in between.
enum AuditLog {
    static let trail = AuditTrail(logger: Logger(label: "kvmmigrate.audit") { label in SyslogLogHandler(label: label) })

    /// What the `start` record tells of a command that changes something; `nil` for the read-only ones (status,
    /// check, verify without --fix, cluster status and verify, plot, migrate --dry-run, evacuate --dry-run).
    static func auditedWhat(_ command: any ParsableCommand) -> (name: String, what: Logger.Metadata)? {
        switch command {
        case let migrate as KVMMigrate.Migrate where !migrate.dryRun:
            var what: Logger.Metadata = [
                "domain": "\(migrate.domain)",
                "source": "\(migrate.connection.requestSourceURI)",
                "destination": "\(migrate.destinationURI ?? "")",
            ]
            if migrate.clusterMode { what["cluster"] = "\(migrate.clusterOptions.resolvedPath)" }
            return ("migrate", what)
        case let evacuate as KVMMigrate.Evacuate where !evacuate.dryRun:
            return (
                "evacuate",
                [
                    "source": "\(evacuate.sourceURI)",
                    "destinations": "\(evacuate.destinationURIs.joined(separator: ","))",
                ]
            )
        case let recover as KVMMigrate.Recover:
            return ("recover", ["cluster": "\(recover.cluster.resolvedPath)"])
        case let prepare as KVMMigrate.ClusterGroup.Prepare:
            return ("cluster prepare", ["domain": "\(prepare.domain)", "cluster": "\(prepare.cluster.resolvedPath)"])
        case let restore as KVMMigrate.ClusterGroup.Restore:
            var what: Logger.Metadata = ["domain": "\(restore.domain)", "cluster": "\(restore.cluster.resolvedPath)"]
            if let host = restore.host { what["host"] = "\(host)" }
            return ("cluster restore", what)
        case let verify as KVMMigrate.Verify where verify.fix:
            return ("verify --fix", ["domains": "\(verify.all ? "all" : verify.domains.joined(separator: ","))"])
        case let cancel as KVMMigrate.Cancel:
            return ("cancel", ["domain": "\(cancel.domain)", "source": "\(cancel.sourceURI ?? "")"])
        default:
            return nil
        }
    }

    /// A cluster step as an audit `step` record.
    static func record(_ event: ClusterEvent) {
        SessionAuditor(Self.trail).record(.cluster(event))
    }
}
