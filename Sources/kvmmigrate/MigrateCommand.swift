import ArgumentParser
import Foundation
import Libvirt
import Migration

extension KVMMigrate {
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Live-migrate a running domain to another host and watch it to the end.",
            discussion: """
                The source daemon connects to DEST_URI itself (peer to peer), so DEST_URI is the destination as \
                the source host reaches it. Ctrl-C or SIGTERM aborts the migration: the guest keeps running on \
                the source. See `kvmmigrate --help` for exit codes.
                """)

        @OptionGroup(title: "Connection") var connection: ConnectionOptions

        @Argument(help: "The domain's name or UUID on the source.")
        var domain: String

        @Argument(help: ArgumentHelp("The destination host's libvirt URI, e.g. qemu+tcp://host-b/system.",
            valueName: "dest-uri"))
        var destinationURI: String

        @Flag(help: "Move the definition of a stopped domain (implies --persistent).")
        var offline = false

        @Flag(help: "Define the domain persistently on the destination.")
        var persistent = false

        @Flag(help: "Remove the domain's definition from the source after success.")
        var undefineSource = false

        @Option(help: ArgumentHelp("Give the domain a new name on the destination.", valueName: "name"))
        var dname: String?

        @Option(help: ArgumentHelp("Where the migration data goes, e.g. tcp://10.0.0.2.", valueName: "uri"))
        var migrateURI: String?

        @Option(help: ArgumentHelp("Cap the migration bandwidth, in MiB/s.", valueName: "MiB/s"))
        var bandwidth: UInt64?

        @Option(help: ArgumentHelp("The longest pause the guest may see at the switch-over, in ms.", valueName: "ms"))
        var maxDowntime: UInt64?

        @Option(help: ArgumentHelp("Send memory over N parallel connections.", valueName: "N"))
        var parallel: Int32?

        @Flag(help: "Compress the migration data (XBZRLE).")
        var compressed = false

        @Flag(help: "Throttle the guest's CPUs when the migration does not converge.")
        var autoConverge = false

        @OptionGroup(title: "Output") var output: OutputOptions

        func validate() throws {
            if self.domain.isEmpty { throw ValidationError("Name the domain to migrate.") }
            if let bandwidth = self.bandwidth, bandwidth == 0 {
                throw ValidationError("--bandwidth must be at least 1 MiB/s.")
            }
            if let parallel = self.parallel, parallel < 1 || parallel > 255 {
                throw ValidationError("--parallel takes 1 to 255 connections.")
            }
            if let downtime = self.maxDowntime, downtime == 0 {
                throw ValidationError("--max-downtime must be at least 1 ms.")
            }
            if self.offline && (self.compressed || self.autoConverge || self.maxDowntime != nil) {
                throw ValidationError("--offline moves only the definition: drop the live-migration options.")
            }
            if let dname = self.dname, dname.isEmpty { throw ValidationError("--dname must not be empty.") }
        }

        var request: MigrationRequest {
            MigrationRequest(
                domain: self.domain, sourceURI: self.connection.sourceURI, destinationURI: self.destinationURI,
                offline: self.offline, persistent: self.persistent || self.offline,
                undefineSource: self.undefineSource, compressed: self.compressed, autoConverge: self.autoConverge,
                maximumDowntime: self.maxDowntime.map { .milliseconds(Int64(clamping: $0)) },
                parameters: MigrationParameters(
                    migrationURI: self.migrateURI, destinationName: self.dname,
                    bandwidthMiBPerSecond: self.bandwidth, parallelConnections: self.parallel))
        }

        func run() async throws {
            let request = self.request
            let logger = self.output.makeLogger()
            let display = ProgressDisplay(domain: request.domain, quiet: self.output.quiet)

            // Signals before the migration starts end the command with nothing changed; during it they abort it.
            let interrupts = InterruptState()
            let watcher = SignalWatcher { number in display.message(interrupts.receive(number)) }
            defer { watcher.stop() }

            let prepared: PreparedMigration
            do {
                prepared = try await MigrationPreflight.prepare(request)
            } catch {
                self.fail(error, request: request)
            }
            if let number = interrupts.signal {
                self.fail(
                    MigrationError(.aborted, "\(SignalWatcher.name(number)) before the migration started: nothing changed"),
                    request: request)
            }

            let migration = LiveMigration(prepared)
            interrupts.attach(migration)
            display.message(
                "Migrating \(prepared.domainName) from \(prepared.sourceHostname) to \(prepared.destinationHostname)…")
            let report = await migration.run(logger: logger) { progress in display.show(progress) }
            display.clear()

            let exitCode = report.exitCode
            if self.output.json {
                print(MigrateDocument(report: report, exitCode: exitCode).json())
            }
            ProgressDisplay.write(report.text + "\n")
            if exitCode != .success { throw exitCode }
        }

        /// Reports a refusal or connection failure (one line, or the JSON document) and exits.
        private func fail(_ error: MigrationError, request: MigrationRequest) -> Never {
            let exitCode = error.exitCode
            if self.output.json {
                print(MigrateDocument(error: error, request: request, exitCode: exitCode).json())
            }
            ProgressDisplay.write("Error: \(error.message)\n")
            Self.exit(withError: exitCode)
        }
    }
}
