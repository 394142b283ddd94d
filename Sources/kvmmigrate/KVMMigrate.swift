import ArgumentParser
import Audit
import Foundation
import Libvirt
import Logging

@main
struct KVMMigrate: AsyncParsableCommand {
    /// kvmmigrate's version: the one place it is written (`Fixtures/package` reads it from here).
    static let version = "0.1.0"

    /// What `--version` prints: kvmmigrate's version and that of the libvirt library it runs with, for example
    /// `kvmmigrate 0.1.0 (libvirt 9.0.0)`.
    ///
    /// ArgumentParser prints `configuration.version` as it is, so the libvirt part is read into it when the
    /// configuration is first asked for (once per process: `virGetVersion` needs no connection). ArgumentParser
    /// keeps handling `--version` itself: anywhere on the command line, exit status 0.
    static let versionLine = "kvmmigrate \(version) (libvirt \(libvirtLibraryVersion))"

    /// The entry point: SIGHUP and SIGPIPE never end an operation (``Hangup``); a usage error with `--json` gives a
    /// JSON document too (``UsageErrorDocument``); otherwise as ArgumentParser's own `main()`.
    static func main() async {
        Hangup.ignore()
        let arguments = Array(CommandLine.arguments.dropFirst())
        var audited = false
        do {
            var command = try Self.parseAsRoot(arguments)
            if let (name, what) = AuditLog.auditedWhat(command) {
                AuditLog.trail.start(command: name, what: what, arguments: arguments)
                audited = true
            }
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            if audited { AuditLog.trail.finish(exitCode: 0) }
        } catch {
            if audited {
                AuditLog.trail.finish(exitCode: Self.exitCode(for: error).rawValue, reason: Self.auditReason(error))
            }
            if let document = UsageErrorDocument(error, arguments: arguments) { print(JSONOutput.encode(document)) }
            if let line = Self.usageErrorLine(for: error, arguments: arguments) {
                ProgressDisplay.write(line + "\n")
                Self.exit(withError: ExitCode.validationFailure)
            }
            Self.exit(withError: error)
        }
    }

    /// A usage error on one line, as virsh gives it, with where to read more: `Error: Unknown option '--bogus'
    /// (see 'kvmmigrate migrate --help')`. ArgumentParser's own message adds the option's help and the usage on
    /// three more lines. `nil` for everything that is no usage error (help, `--version`, a command's own exit).
    static func usageErrorLine(for error: any Error, arguments: [String]) -> String? {
        guard !(error is ExitCode), Self.exitCode(for: error) == .validationFailure else { return nil }
        let first = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? ""
        let message = first.hasPrefix("Error: ") ? String(first.dropFirst(7)) : first
        let help = ["kvmmigrate", UsageErrorDocument.command(in: arguments), "--help"].compactMap { $0 }
        return "Error: \(message) (see '\(help.joined(separator: " "))')"
    }

    /// Why a command stopped, for the audit's `outcome` record: its error's first line, or nothing for an exit code
    /// (the command said why on its own output; what it noted is in the record).
    static func auditReason(_ error: any Error) -> String? {
        guard !(error is ExitCode) else { return nil }
        return Self.message(for: error).split(separator: "\n").first.map(String.init)
    }

    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "kvmmigrate",
            abstract: "Live-migrate KVM guests between libvirt hosts, watched to the end, safely for guest clusters.",
            discussion: ExitCodes.help,
            version: Self.versionLine,
            subcommands: [
                Migrate.self, Evacuate.self, Check.self, Verify.self, Status.self, Cancel.self, ClusterGroup.self,
                Recover.self, Plot.self,
            ]
        )
    }
}

/// Options shared by every subcommand that talks to a source libvirt daemon.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: [.customShort("c"), .customLong("connect")],
        help: ArgumentHelp(
            "The source host's libvirt URI, as with virsh -c (default: libvirt's, from LIBVIRT_DEFAULT_URI or "
                + "uri_default in libvirt.conf).",
            valueName: "uri"
        )
    )
    var sourceURI: String?

    /// The source URI a request carries before ``URIResolution`` resolves it: `-c`'s, or empty for libvirt's
    /// default.
    var requestSourceURI: String { self.sourceURI ?? "" }
}

/// Options shared by every subcommand that prints results.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON document on standard output; all other text goes to standard error.")
    var json = false

    @Flag(name: .shortAndLong, help: "Show no progress.")
    var quiet = false

    /// As virsh's `--verbose`: progress. On a terminal progress is shown anyway; elsewhere only with this flag.
    @Flag(
        name: .shortAndLong,
        help: "Show progress, as virsh --verbose does: also when standard error is not a terminal (timestamped lines)."
    )
    var verbose = false

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp(
            "Log messages of this level and above on standard error: trace, debug, info, notice, warning, error "
                + "or critical.",
            valueName: "level"
        ),
        transform: Self.logLevel(named:)
    )
    var logLevel: Logger.Level = .warning

    /// A logging level by swift-log's name; any other name is refused on one line that lists them.
    static func logLevel(named name: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: name.lowercased()) else {
            let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("use one of \(names)")
        }
        return level
    }

    func validate() throws {
        if self.quiet && self.verbose {
            throw ValidationError("--quiet shows no progress and --verbose shows it: give one of them.")
        }
    }

    func makeLogger() -> Logger {
        var logger = Logger(label: "kvmmigrate") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = self.logLevel
        return logger
    }
}
