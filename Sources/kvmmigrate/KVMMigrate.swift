import ArgumentParser
import Foundation
import Logging

@main
struct KVMMigrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvmmigrate",
        abstract: "Live-migrate KVM guests between libvirt hosts, watched to the end, safely for guest clusters.",
        discussion: """
            EXIT STATUS
              0   success
              1   unexpected internal error
              2   refused before anything changed: unknown domain, domain not running, destination already \
            runs a domain of that name or UUID, destination is the source, contradictory options, the domain \
            is being migrated already; with --cluster: cluster not healthy, domain not a node, an unfinished \
            operation (run kvmmigrate recover)
              3   aborted on request (Ctrl-C, SIGTERM): the guest keeps running on the source
              4   the migration failed: the guest keeps running on the source
              5   a host or node could not be reached, or a libvirt URI is malformed: nothing changed
              6   the guest cluster is not healthy afterwards: a node not restored (run kvmmigrate recover) \
            or an SF agent not TestWorked/InitWorked
              7   the guest's location needs attention: running on both hosts, on none, unknown, not \
            where libvirt's answer says, or split by a broken post-copy migration (resume it with \
            migrate --postcopy-resume)
              64  invalid command line
            """,
        version: "0.1.0",
        subcommands: [Migrate.self, Check.self, Status.self, Cancel.self, ClusterGroup.self, Recover.self]
    )
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
    /// The guest's location needs an operator: both, none or unknown.
    static let needsAttention = ExitCode(7)
}

/// Options shared by every subcommand that talks to a source libvirt daemon.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: [.customShort("c"), .customLong("connect")],
        help: ArgumentHelp("The source host's libvirt URI, as with virsh -c.", valueName: "uri"))
    var sourceURI = ProcessInfo.processInfo.environment["LIBVIRT_DEFAULT_URI"] ?? "qemu:///system"
}

/// Options shared by every subcommand that prints results.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON document on standard output; all other text goes to standard error.")
    var json = false

    @Flag(name: .shortAndLong, help: "Show no progress.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Log what is done, for debugging.")
    var verbose = false

    func makeLogger() -> Logger {
        var logger = Logger(label: "kvmmigrate") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = self.verbose ? .debug : .warning
        return logger
    }
}
