import ArgumentParser
import Cluster
import Migration
import Session

/// Every exit status of kvmmigrate, in one table: `--help` prints it, and every command's code comes from it.
enum ExitCodes {
    /// Code and meaning, as `--help` shows them.
    static let table: [(code: Int32, meaning: String)] = [
        (0, "success (evacuate: every guest moved; otherwise the most serious of its guests' codes)"),
        (1, "unexpected internal error"),
        (
            2,
            "refused before anything changed: unknown domain, domain not running, destination already runs a "
                + "domain of that name or UUID, destination is the source, contradictory options, the domain is being "
                + "migrated already, the state directory cannot be written (read-only, full); with --cluster: "
                + "cluster not healthy, domain not a node, an unfinished operation (run kvmmigrate recover)"
        ),
        (3, "aborted on request (Ctrl-C, SIGTERM): the guest keeps running on the source"),
        (4, "the migration failed: the guest keeps running on the source"),
        (5, "a host or node could not be reached, or a libvirt URI is malformed: nothing changed"),
        (
            6,
            "the guest cluster is not healthy afterwards: a node not restored (run kvmmigrate recover), an SF "
                + "agent not TestWorked/InitWorked, or a verification check failed"
        ),
        (
            7,
            "the guest's location needs attention: running on both hosts, on none, unknown, not where libvirt's "
                + "answer says, or split by a broken post-copy migration (resume it with migrate --postcopy-resume); "
                + "verify: a placement check failed"
        ),
        (64, "invalid command line (plot: a PNG asked for without rsvg-convert, Debian package librsvg2-bin)"),
        (
            65,
            "plot: the trace cannot be used (unreadable, empty, cut short, not a trace, absurd values), or the "
                + "picture cannot be written"
        ),
    ]

    /// The table as `--help` shows it: `EXIT STATUS`, then one entry per code, wrapped by the parser.
    static var help: String {
        "EXIT STATUS\n"
            + Self.table.map { "  \(String($0.code).padding(toLength: 3, withPad: " ", startingAt: 0)) \($0.meaning)" }
            .joined(separator: "\n")
    }
}

extension ExitCode {
    /// A pre-check refused the request; nothing was changed.
    static let refused = ExitCode(2)
    /// The migration was aborted on request; the guest keeps running on the source.
    static let aborted = ExitCode(3)
    /// The migration failed; the guest keeps running on the source.
    static let migrationFailed = ExitCode(4)
    /// A host could not be reached or a URI is malformed; nothing was changed.
    static let unreachable = ExitCode(5)
    /// The cluster is not healthy after the operation: not restored on some node, or an agent still fails.
    static let clusterNotHealthy = ExitCode(6)
    /// The guest's location needs an operator: both, none or unknown.
    static let needsAttention = ExitCode(7)
    /// `plot`: the trace cannot be read or used, or the picture cannot be written (sysexits' `EX_DATAERR`).
    static let unusableTrace = ExitCode(65)

    /// The exit code of an operation's outcome: the one mapping from the library's statuses.
    init(_ status: SessionOutcome.Status) {
        switch status {
        case .migrated: self = .success
        case .refused: self = .refused
        case .aborted: self = .aborted
        case .migrationFailed: self = .migrationFailed
        case .unreachable: self = .unreachable
        case .clusterNotHealthy: self = .clusterNotHealthy
        case .needsAttention: self = .needsAttention
        case .internalFailure: self = .failure
        }
    }
}

extension MigrationReport {
    /// The exit code that tells a script how the migration ended.
    var exitCode: ExitCode { ExitCode(SessionOutcome.Status(self)) }
}

extension MigrationError {
    /// The exit code of an operation this error stopped.
    var exitCode: ExitCode { ExitCode(SessionOutcome.Status(self)) }
}

extension ClusterError {
    /// The exit code of an operation refused because of this error.
    var exitCode: ExitCode { ExitCode(SessionOutcome.Status(self)) }
}
