import ArgumentParser
import Cluster
import Foundation
import Libvirt
import Logging
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

        @Option(help: ArgumentHelp("Send memory over N parallel connections.", valueName: "N"))
        var parallel: Int32?

        @Flag(help: "Compress the migration data (XBZRLE).")
        var compressed = false

        @OptionGroup(title: "Convergence policy") var policyOptions: PolicyOptions

        @Flag(help: "Copy every disk the destination does not see to it (non-shared storage).")
        var copyStorageAll = false

        @Flag(help: "Check whether the migration can work (as kvmmigrate check), change nothing, and exit.")
        var dryRun = false

        @Flag(help: "Skip the checks beyond the basic ones (CPU, memory, storage, migration address).")
        var skipChecks = false

        @Flag(
            help: """
                Resume a post-copy migration whose link broke (POSTCOPY_RESUME): the guest runs on the destination \
                with part of its memory still on the source.
                """)
        var postcopyResume = false

        @Option(
            help: ArgumentHelp(
                "After a failure, how long to wait for a host that stopped answering, in seconds.", valueName: "s"))
        var reconnectTimeout: UInt64 = 120

        @Flag(help: "Run the PRIMECLUSTER steps around the migration: prepare every node, migrate, restore, verify.")
        var cluster = false

        @OptionGroup(title: "Cluster") var clusterOptions: ClusterOptions

        @Flag(help: "With --cluster: let the nodes' own sfkvmmigrate -p/-u do the cluster steps (still verifies).")
        var delegate = false

        @OptionGroup(title: "Output") var output: OutputOptions

        /// Cluster mode: `--cluster`, or a cluster configuration named on the command line.
        var clusterMode: Bool { self.cluster || self.clusterOptions.path != nil || self.delegate }

        func validate() throws {
            // The request states its own rules; here they become usage errors (exit 64). Malformed URIs are
            // left to the run, which reports them as unreachable hosts (exit 5).
            if self.offline && self.policyOptions.changesPreset {
                throw ValidationError("--offline moves only the definition: drop the convergence options.")
            }
            let policy = try self.policyOptions.resolved()
            do throws(MigrationError) {
                try self.request(policy: policy).validateOptions()
            } catch {
                throw ValidationError(error.message.prefix(1).uppercased() + error.message.dropFirst() + ".")
            }
            if self.postcopyResume && (self.clusterMode || self.dryRun || self.offline) {
                throw ValidationError("--postcopy-resume cannot be combined with --cluster, --dry-run or --offline.")
            }
            if self.clusterMode && self.dname != nil {
                throw ValidationError("--dname cannot be used with --cluster: the SF agents name the domain.")
            }
        }

        func request(policy: ConvergencePolicy) -> MigrationRequest {
            MigrationRequest(
                domain: self.domain, sourceURI: self.connection.sourceURI, destinationURI: self.destinationURI,
                offline: self.offline, persistent: self.persistent || self.offline,
                undefineSource: self.undefineSource, compressed: self.compressed, policy: policy,
                parameters: MigrationParameters(
                    migrationURI: self.migrateURI, destinationName: self.dname,
                    // The cap stands for the link: it holds in post-copy too.
                    bandwidthMiBPerSecond: self.bandwidth,
                    postCopyBandwidthMiBPerSecond: policy.needsPostCopy ? self.bandwidth : nil,
                    parallelConnections: self.parallel),
                copyStorage: self.copyStorageAll)
        }

        func run() async throws {
            let request = self.request(policy: try self.policyOptions.resolved())
            if self.dryRun {
                try await CheckReport.run(request, json: self.output.json)
                return
            }
            let logger = self.output.makeLogger()
            let display = ProgressDisplay(domain: request.domain, quiet: self.output.quiet)

            // Signals before the migration starts end the command with nothing changed; during it they abort it.
            let interrupts = InterruptState()
            let watcher = SignalWatcher { number in display.message(interrupts.receive(number)) }
            defer { watcher.stop() }

            let prepared: PreparedMigration
            do {
                prepared = try await MigrationPreflight.prepare(request, resumingPostCopy: self.postcopyResume)
            } catch {
                self.fail(error, request: request)
            }
            if let number = interrupts.signal {
                self.fail(
                    MigrationError(.aborted, "\(SignalWatcher.name(number)) before the migration started: nothing changed"),
                    request: request)
            }

            if self.postcopyResume {
                let report = await Self.resumePostCopy(
                    prepared, display: display, reconnectTimeout: .seconds(Int64(clamping: self.reconnectTimeout)))
                let exitCode = report.exitCode
                if self.output.json { print(MigrateDocument(report: report, exitCode: exitCode).json()) }
                ProgressDisplay.write(report.text + "\n")
                if exitCode != .success { throw exitCode }
                return
            }
            if !self.skipChecks {
                let failed = await MigrationCheck.checks(for: prepared, copyStorage: request.copyStorage)
                    .filter { $0.status == .fail }
                if !failed.isEmpty {
                    self.fail(
                        MigrationError(
                            .invalidRequest,
                            failed.map { "\($0.name): \($0.detail)" }.joined(separator: "; ")
                                + " (kvmmigrate check shows every check; --skip-checks skips these)"),
                        request: request)
                }
            }
            // One migration of a domain at a time; `kvmmigrate status` reads what this lock records.
            let lock: MigrationLock
            do {
                lock = try MigrationLock(
                    record: MigrationRecord(
                        domain: prepared.domainName, domainUUID: prepared.domainUUID, sourceURI: request.sourceURI,
                        destinationURI: request.destinationURI, policy: request.policy.summary))
            } catch {
                self.fail(error, request: request)
            }
            defer { lock.release() }
            if self.clusterMode {
                try await self.runWithCluster(
                    prepared, display: display, interrupts: interrupts, logger: logger, lock: lock)
                return
            }
            let report = await Self.migrate(
                prepared, display: display, interrupts: interrupts, logger: logger, lock: lock,
                reconnectTimeout: .seconds(Int64(clamping: self.reconnectTimeout)))
            let exitCode = report.exitCode
            if self.output.json {
                print(MigrateDocument(report: report, exitCode: exitCode).json())
            }
            ProgressDisplay.write(report.text + "\n")
            if exitCode != .success { throw exitCode }
        }

        /// Runs the migration with its progress line; a signal aborts it from now on.
        private static func migrate(
            _ prepared: PreparedMigration, display: ProgressDisplay, interrupts: InterruptState, logger: Logger,
            lock: MigrationLock, reconnectTimeout: Duration
        ) async -> MigrationReport {
            let migration = LiveMigration(prepared)
            interrupts.attach(migration)
            display.message(
                "Migrating \(prepared.domainName) from \(prepared.sourceHostname) to \(prepared.destinationHostname)…")
            display.message("  policy \(prepared.request.policy.summary)")
            let report = await migration.run(
                logger: logger, onProgress: { progress in display.show(progress) },
                onStep: { step in
                    display.message("  ↳ \(Format.clock(step.elapsed)) \(step.detail)")
                    lock.note(policyStep: step.detail)
                },
                reconnectTimeout: reconnectTimeout, onNotice: { line in display.message("  ! \(line)") })
            display.clear()
            return report
        }

        /// Resumes a broken post-copy migration and reports where the guest runs.
        private static func resumePostCopy(
            _ prepared: PreparedMigration, display: ProgressDisplay, reconnectTimeout: Duration
        ) async -> MigrationReport {
            display.message("Resuming the post-copy migration of \(prepared.domainName) to \(prepared.destinationHostname)…")
            return await MigrationRecovery(prepared, reconnectTimeout: reconnectTimeout) { line in
                display.message("  ! \(line)")
            }.resume()
        }

        /// The migration inside the cluster steps: checks, prepare, migrate, restore (always), verify.
        private func runWithCluster(
            _ prepared: PreparedMigration, display: ProgressDisplay, interrupts: InterruptState, logger: Logger,
            lock: MigrationLock
        ) async throws {
            let configuration = self.clusterOptions.load(json: self.output.json, command: "migrate")
            defer { configuration.ssh.closeSharedConnections() }
            let request = prepared.request
            guard
                configuration.host(matching: request.destinationURI)
                    ?? configuration.host(matching: prepared.destinationHostname) != nil
            else {
                self.fail(
                    MigrationError(
                        .invalidRequest,
                        "the destination \(request.destinationURI) is not a host of the cluster configuration "
                            + "\(self.clusterOptions.resolvedPath) (hosts: \(configuration.hosts.map(\.name).joined(separator: ", ")))"),
                    request: request)
            }
            let operation = ClusterOperation(
                configuration: configuration, configurationPath: self.clusterOptions.resolvedPath, logger: logger,
                onEvent: { event in
                    display.event(event)
                    lock.note(clusterStep: event.step)
                })
            display.message("Checking and preparing the guest cluster for \(prepared.domainName)…")
            let result: (MigrationReport?, ClusterOperation.Report)
            do {
                result = try await operation.run(
                    domain: prepared.domainName, command: "migrate", sourceHost: prepared.sourceHostname,
                    destinationURI: request.destinationURI, delegate: self.delegate
                ) { () -> MigrationReport in
                    lock.note(clusterStep: "migrating")
                    let report = await Self.migrate(
                prepared, display: display, interrupts: interrupts, logger: logger, lock: lock,
                reconnectTimeout: .seconds(Int64(clamping: self.reconnectTimeout)))
                    interrupts.restoring()
                    lock.note(clusterStep: "restoring")
                    display.message("Restoring the guest cluster…")
                    return report
                }
            } catch {
                ClusterOutput.fail(error, command: "migrate", json: self.output.json)
            }
            let (report, cluster) = result
            let part = ClusterPart(cluster)
            guard let report else {
                // The prepare failed: nothing migrated; the restore undid the prepare.
                let exitCode: ExitCode = cluster.healthy ? .refused : .clusterNotHealthy
                if self.output.json {
                    print(
                        MigrateDocument(
                            error: MigrationError(.invalidRequest, "preparing the cluster failed: \(cluster.prepareFailure ?? "")"),
                            request: request, exitCode: exitCode, cluster: part
                        ).json())
                }
                ProgressDisplay.write("Error: the migration did not start: \(cluster.prepareFailure ?? "the prepare failed")\n")
                ProgressDisplay.write(part.text + "\n")
                throw exitCode
            }
            var exitCode = report.exitCode
            if exitCode != .needsAttention && !cluster.healthy { exitCode = .clusterNotHealthy }
            if self.output.json {
                var document = MigrateDocument(report: report, exitCode: exitCode)
                document.cluster = part
                print(document.json())
            }
            ProgressDisplay.write(report.text + "\n" + part.text + "\n")
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
