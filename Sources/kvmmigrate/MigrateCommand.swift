import ArgumentParser
import Audit
import Cluster
import Foundation
import Libvirt
import Logging
import MetricsExport
import Migration
import Session
import Trace
import Verification

extension KVMMigrate {
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Live-migrate a running domain to another host and watch it to the end.",
            discussion: """
                The source daemon connects to DEST_URI itself (peer to peer), so DEST_URI is the destination as \
                the source host reaches it. Ctrl-C or SIGTERM aborts the migration: the guest keeps running on \
                the source. See `kvmmigrate --help` for exit codes.

                virsh's spellings are accepted too, so that scripts written for `virsh migrate` carry over: \
                --desturi URI for DEST_URI (one or the other), --undefinesource for --undefine-source, --migrateuri \
                for --migrate-uri; --live and --p2p change nothing (kvmmigrate always migrates live and peer to \
                peer unless --offline); --comp-methods xbzrle for --compressed (kvmmigrate offers no other method). \
                --dname, --auto-converge and --listen-address are spelt as in virsh.
                """ + "\n\n" + VirshPolicyAliases.discussion
        )

        @OptionGroup(title: "Connection") var connection: ConnectionOptions

        @Argument(help: "The domain's name or UUID on the source.")
        var domain: String

        @Argument(
            help: ArgumentHelp(
                "The destination host's libvirt URI, e.g. qemu+tcp://host-b/system.",
                valueName: "dest-uri"
            )
        )
        var destinationURI: String?

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

        @Flag(help: "Encrypt the migration data with TLS between the two QEMUs (VIR_MIGRATE_TLS).")
        var tls = false

        @Flag(help: "Carry the migration data through the libvirtd connection (VIR_MIGRATE_TUNNELLED).")
        var tunnelled = false

        /// virsh's `--comp-methods`: only `xbzrle`, which is `--compressed`.
        @Option(name: .customLong("comp-methods"), help: ArgumentHelp(visibility: .hidden))
        var compressionMethods: String?

        @Option(
            help: ArgumentHelp(
                "The address the destination listens on for the migration data (an IP address of the destination).",
                valueName: "address"
            )
        )
        var listenAddress: String?

        @OptionGroup(title: "Convergence policy") var policyOptions: PolicyOptions

        // virsh's spellings (see the discussion), hidden from --help and merged in validate().
        @Flag(name: .customLong("undefinesource"), help: ArgumentHelp(visibility: .hidden))
        var undefineSourceAlias = false

        @OptionGroup(visibility: .hidden) var virsh: VirshAliases

        @OptionGroup(visibility: .hidden) var virshPolicy: VirshPolicyAliases

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
                """
        )
        var postcopyResume = false

        @Option(
            help: ArgumentHelp(
                "After a failure, how long to wait for a host that stopped answering, in seconds.",
                valueName: "s"
            )
        )
        var reconnectTimeout: UInt64 = 120

        @Flag(help: "Run the PRIMECLUSTER steps around the migration: prepare every node, migrate, restore, verify.")
        var cluster = false

        @OptionGroup(title: "Cluster") var clusterOptions: ClusterOptions

        @Flag(help: "With --cluster: let the nodes' own sfkvmmigrate -p/-u do the cluster steps (still verifies).")
        var delegate = false

        @OptionGroup(title: "Output") var output: OutputOptions

        @Option(
            help: ArgumentHelp(
                "Record the run as JSON Lines in this file (samples, passes, policy and cluster steps, phases, "
                    + "downtime, outcome), for kvmmigrate plot.",
                valueName: "file"
            )
        )
        var trace: String?

        @Option(
            help: ArgumentHelp(
                "Write Prometheus metrics to this file for node_exporter's textfile collector (replaced atomically, "
                    + "during the run and at its end; counters total over runs). Default: metrics-file in the "
                    + "cluster configuration, with --cluster.",
                valueName: "file"
            )
        )
        var metricsFile: String?

        /// Cluster mode: `--cluster`, or a cluster configuration named on the command line.
        var clusterMode: Bool { self.cluster || self.clusterOptions.path != nil || self.delegate }

        mutating func validate() throws {
            (self.destinationURI, self.migrateURI) = try self.virsh.merged(
                destinationURI: self.destinationURI,
                migrateURI: self.migrateURI,
                offline: self.offline
            )
            self.undefineSource = self.undefineSource || self.undefineSourceAlias
            if let methods = self.compressionMethods {
                try Self.checkCompressionMethods(methods)
                self.compressed = true
            }
            if let address = self.listenAddress, address.isEmpty || address.contains(where: \.isWhitespace) {
                throw ValidationError("--listen-address takes an IP address of the destination, not '\(address)'.")
            }
            if self.offline && self.virshPolicy.given {
                throw ValidationError("--offline moves only the definition: drop the convergence options.")
            }
            try self.virshPolicy.merge(into: &self.policyOptions)
            // The request states its own rules; here they become usage errors (exit 64). Malformed URIs are
            // left to the run, which reports them as unreachable hosts (exit 5).
            if self.offline && self.policyOptions.changesPreset {
                throw ValidationError("--offline moves only the definition: drop the convergence options.")
            }
            let policy = try self.policyOptions.resolved(tunnelled: self.tunnelled)
            do throws(MigrationError) {
                try self.request(policy: policy).validateOptions()
            } catch {
                throw ValidationError(error.message.prefix(1).uppercased() + error.message.dropFirst() + ".")
            }
            if !(1...86_400).contains(self.reconnectTimeout) {
                throw ValidationError("--reconnect-timeout must be 1 to 86400 seconds, not \(self.reconnectTimeout).")
            }
            if self.postcopyResume && (self.clusterMode || self.dryRun || self.offline) {
                throw ValidationError("--postcopy-resume cannot be combined with --cluster, --dry-run or --offline.")
            }
            if self.trace != nil && self.dryRun {
                throw ValidationError("--trace records a migration, and --dry-run runs none: give one of them.")
            }
            if let trace = self.trace, trace.isEmpty {
                throw ValidationError("--trace needs a file name.")
            }
            if self.metricsFile != nil && self.dryRun {
                throw ValidationError("--metrics-file counts migrations, and --dry-run runs none: give one of them.")
            }
            if self.clusterMode && self.dname != nil {
                throw ValidationError("--dname cannot be used with --cluster: the SF agents name the domain.")
            }
        }

        /// virsh's `--comp-methods` list: kvmmigrate offers XBZRLE (`--compressed`) and no other method.
        static func checkCompressionMethods(_ text: String) throws(ValidationError) {
            let methods = text.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            }
            guard methods.allSatisfy({ $0 == "xbzrle" }) else {
                throw ValidationError(
                    "--comp-methods '\(text)': kvmmigrate compresses with xbzrle only (--compressed); mt is not offered."
                )
            }
        }

        func request(policy: ConvergencePolicy) -> MigrationRequest {
            MigrationRequest(
                domain: self.domain,
                sourceURI: self.connection.requestSourceURI,
                destinationURI: self.destinationURI ?? "",
                offline: self.offline,
                persistent: self.persistent || self.offline,
                undefineSource: self.undefineSource,
                compressed: self.compressed,
                policy: policy,
                tunnelled: self.tunnelled,
                tls: self.tls,
                parameters: MigrationParameters(
                    migrationURI: self.migrateURI,
                    destinationName: self.dname,
                    // The cap stands for the link: it holds in post-copy too.
                    bandwidthMiBPerSecond: self.bandwidth,
                    postCopyBandwidthMiBPerSecond: policy.needsPostCopy ? self.bandwidth : nil,
                    parallelConnections: self.parallel,
                    listenAddress: self.listenAddress
                ),
                copyStorage: self.copyStorageAll
            )
        }

        func run() async throws {
            let given = self.request(policy: try self.policyOptions.resolved(tunnelled: self.tunnelled))
            // The operation starts here: the trace's times count from now.
            let tracer = try self.trace.map { path in
                SessionTracer(try Self.traceWriter(path), command: "migrate", domain: given.domain)
            }
            var metricsFile = try self.metricsFile.map(MetricsOptions.file)
            let request: MigrationRequest
            do throws(MigrationError) { request = try await URIResolution.resolve(given) } catch {
                if self.dryRun {
                    return try CheckReport.show(MigrationCheck.failedPreflight(error), json: self.output.json)
                }
                let outcome = SessionOutcome(status: .init(error), refusal: .migration(error))
                tracer?.finish(outcome)
                metricsFile.map { MetricsOptions.metrics($0, domain: given.domain) }?.finish(outcome)
                AuditLog.trail.note(["status": "unreachable", "refusal": "\(error.message)"])
                if self.output.json {
                    print(MigrateDocument(error: error, request: given, exitCode: .unreachable, cluster: nil).json())
                }
                ProgressDisplay.write("Error: \(error.message)\n")
                throw ExitCode.unreachable
            }
            let logger = self.output.makeLogger()
            let configuration =
                self.clusterMode ? try self.clusterOptions.load(json: self.output.json, command: "migrate") : nil
            let cluster = configuration.map { self.clusterOptions.operation($0, output: self.output, display: nil) }
            if metricsFile == nil, !self.dryRun, let path = configuration?.metricsFile {
                metricsFile = try MetricsOptions.file(path)
            }
            let session = MigrationSession(
                MigrationSession.Options(
                    request: request,
                    skipChecks: self.skipChecks,
                    resumePostCopy: self.postcopyResume,
                    reconnectTimeout: .seconds(Int64(clamping: self.reconnectTimeout)),
                    delegate: self.delegate
                ),
                migrationDriver: LibvirtMigrationDriver(logger: logger),
                cluster: cluster,
                verification: VerifierDriver(cluster: cluster?.configuration, logger: logger)
            )
            if self.dryRun {
                try await CheckReport.run(session, json: self.output.json)
                return
            }
            let display = ProgressDisplay(
                domain: request.domain,
                quiet: self.output.quiet,
                verbose: self.output.verbose
            )
            let watcher = SignalWatcher { number in
                display.message(Self.message(for: session.requestAbort(reason: SignalWatcher.name(number)), number))
            }
            defer { watcher.stop() }
            let metrics = metricsFile.map { MetricsOptions.metrics($0, domain: request.domain) }
            async let running = session.run()
            let auditor = SessionAuditor(AuditLog.trail)
            for await event in session.events {
                display.render(event)
                tracer?.record(event)
                auditor.record(event)
                metrics?.record(event)
            }
            let outcome = await running
            tracer?.finish(outcome)
            auditor.finish(outcome)
            metrics?.finish(outcome)
            try self.report(outcome, request: request)
        }

        /// Creates the `--trace` file; a file that cannot be created is a usage error (exit 64), found before
        /// anything changes. A write that fails later only warns: tracing never stops a migration.
        static func traceWriter(_ path: String) throws -> TraceWriter {
            do throws(TraceError) {
                return try TraceWriter(path: path) { warning in ProgressDisplay.write("Warning: \(warning)\n") }
            } catch {
                throw ValidationError("--trace: \(error.message).")
            }
        }

        /// What the operator reads when a signal arrives.
        static func message(for response: MigrationSession.AbortResponse, _ number: Int32) -> String {
            let name = SignalWatcher.name(number)
            switch response {
            case .stoppingBeforeStart: return "\(name): stopping before the migration starts."
            case .aborting(first: true):
                return "\(name): aborting the migration; the guest keeps running on the source…"
            case .aborting(first: false): return "\(name): still aborting, waiting for libvirt to finish…"
            case .restoring:
                return
                    "\(name): the guest cluster is being restored; that finishes first (it must, or it cannot fail over)."
            }
        }

        /// Prints the outcome (the report, or one line; the `--json` document) and throws its exit code.
        private func report(_ outcome: SessionOutcome, request: MigrationRequest) throws {
            let exitCode = ExitCode(outcome.status)
            let part = outcome.cluster.map(ClusterPart.init)
            switch (outcome.refusal, outcome.report) {
            case (.cluster(let error), _):
                throw ClusterOutput.refusal(error, command: "migrate", json: self.output.json)
            case (.migration(let error), _):
                if self.output.json {
                    print(MigrateDocument(error: error, request: request, exitCode: exitCode, cluster: part).json())
                }
                if let part {
                    // The prepare failed: nothing migrated; the restore undid the prepare.
                    ProgressDisplay.write(
                        "Error: the migration did not start: \(outcome.cluster?.prepareFailure ?? "the prepare failed")\n"
                    )
                    ProgressDisplay.write(part.text + "\n")
                } else {
                    ProgressDisplay.write("Error: \(error.message)\n")
                }
            case (nil, let report?):
                let verification = outcome.verification.map { VerificationDocument($0, command: "verify") }
                if self.output.json {
                    var document = MigrateDocument(report: report, exitCode: exitCode)
                    document.cluster = part
                    document.verification = verification
                    print(document.json())
                }
                ProgressDisplay.write(
                    report.text + "\n" + (part.map { $0.text + "\n" } ?? "")
                        + (verification.map { $0.briefText + "\n" } ?? "")
                )
            case (nil, nil):
                ProgressDisplay.write("Error: the operation ended without a report\n")
            }
            if exitCode != .success { throw exitCode }
        }
    }
}
