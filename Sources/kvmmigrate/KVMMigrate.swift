import ArgumentParser
import Foundation
import Logging

@main
struct KVMMigrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvmmigrate",
        abstract: "Live-migrate KVM guests between libvirt hosts, watched to the end, safely for guest clusters.",
        discussion: ExitCodes.help,
        version: "0.1.0",
        subcommands: [
            Migrate.self, Evacuate.self, Check.self, Verify.self, Status.self, Cancel.self, ClusterGroup.self,
            Recover.self,
        ]
    )
}

/// Options shared by every subcommand that talks to a source libvirt daemon.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: [.customShort("c"), .customLong("connect")],
        help: ArgumentHelp("The source host's libvirt URI, as with virsh -c.", valueName: "uri")
    )
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
