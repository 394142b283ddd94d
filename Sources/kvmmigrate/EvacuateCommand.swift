import ArgumentParser
import Audit
import Cluster
import Foundation
import Libvirt
import Logging
import MetricsExport
import Migration
import Session

extension KVMMigrate {
    struct Evacuate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Empty a host: live-migrate every guest on it elsewhere, guest-cluster aware, a few at a time.",
            discussion: """
                Plans first: each running guest, its destination and why (free memory, libvirt's CPU comparison, \
                never two nodes of one guest cluster on one host when another host can take one). Then migrates at \
                most --max-parallel guests at once, never two nodes of one guest cluster at the same time, each \
                cluster node inside its full cluster operation (prepare, migrate, restore, verify). Persistent \
                guests are defined on their new host and undefined on the source. Ctrl-C or SIGTERM starts nothing \
                new and aborts the migrations in flight (their guests stay on the source, their clusters are \
                restored). After a crash, `evacuate SOURCE_URI --resume` finishes the evacuation (and the cluster \
                steps) without moving any guest twice. Exit status: 0 when every guest moved, else the most serious \
                of the guests' (see `kvmmigrate --help`).
                """
        )

        @Argument(
            help: ArgumentHelp("The libvirt URI of the host to empty, e.g. qemu+tcp://host-a/system.", valueName: "uri")
        )
        var sourceURI: String

        @Option(
            name: .customLong("to"),
            help: ArgumentHelp(
                "A host that may take guests (repeatable; default: every host of the cluster configuration).",
                valueName: "uri"
            )
        )
        var destinationURIs: [String] = []

        @Option(help: ArgumentHelp("At most N migrations at once (1 to 16).", valueName: "N"))
        var maxParallel = 2

        @Option(help: ArgumentHelp("At most M migrations into one host at once (1 to 16).", valueName: "M"))
        var maxIncoming = 2

        @Option(
            help: ArgumentHelp(
                "The link's total bandwidth in MiB/s, divided among the migrations in flight.",
                valueName: "MiB/s"
            )
        )
        var bandwidth: UInt64?

        @Flag(help: "Accept a plan that puts two nodes of one guest cluster on one host when no other host can.")
        var allowColocation = false

        @Flag(help: "Start nothing new once a guest was not moved (default: go on with the others).")
        var stopOnError = false

        @Flag(help: "Show the plan and its checks; change nothing.")
        var dryRun = false

        @Flag(help: "Finish the evacuation of this host that a crash cut short (its own options are used).")
        var resume = false

        @Flag(help: "Skip each migration's checks beyond the basic ones.")
        var skipChecks = false

        @OptionGroup(title: "Convergence policy") var policyOptions: PolicyOptions

        @Option(
            help: ArgumentHelp(
                "After a failure, how long to wait for a host that stopped answering, in seconds.",
                valueName: "s"
            )
        )
        var reconnectTimeout: UInt64 = 120

        @OptionGroup(title: "Cluster") var clusterOptions: ClusterOptions

        @OptionGroup(title: "Output") var output: OutputOptions

        @Option(
            help: ArgumentHelp(
                "Write Prometheus metrics to this file for node_exporter's textfile collector, each guest's "
                    + "migration labelled with its domain (default: metrics-file in the cluster configuration).",
                valueName: "file"
            )
        )
        var metricsFile: String?

        var request: EvacuationRequest {
            EvacuationRequest(
                sourceURI: self.sourceURI,
                destinationURIs: self.destinationURIs,
                maxParallel: self.maxParallel,
                maxIncomingPerDestination: self.maxIncoming,
                bandwidthMiBPerSecond: self.bandwidth,
                allowColocation: self.allowColocation,
                stopOnError: self.stopOnError
            )
        }

        func validate() throws {
            _ = try self.policyOptions.resolved()
            do throws(MigrationError) {
                try self.request.validate()
            } catch {
                throw ValidationError(error.message.prefix(1).uppercased() + error.message.dropFirst() + ".")
            }
            if !(1...86_400).contains(self.reconnectTimeout) {
                throw ValidationError("--reconnect-timeout must be 1 to 86400 seconds.")
            }
            if self.resume && self.dryRun {
                throw ValidationError("--resume cannot be combined with --dry-run.")
            }
            if self.metricsFile != nil && self.dryRun {
                throw ValidationError("--metrics-file counts migrations, and --dry-run runs none: give one of them.")
            }
        }

        func run() async throws {
            let logger = self.output.makeLogger()
            let configuration = try self.loadConfiguration()
            defer { configuration?.ssh.closeSharedConnections() }
            if configuration == nil && self.destinationURIs.isEmpty && !self.resume {
                throw Self.usage(
                    "Name the destinations with --to: there is no cluster configuration at "
                        + "\(self.clusterOptions.resolvedPath) to take the hosts from.",
                    json: self.output.json
                )
            }
            // A metrics file that cannot be written is a usage error, found before anything changes.
            let metricsPath = self.dryRun ? nil : self.metricsFile ?? configuration?.metricsFile
            let recorder: MetricsRecorder?
            do {
                recorder = try metricsPath.map { MetricsOptions.recorder(try MetricsOptions.file($0)) }
            } catch {
                throw Self.usage("\(error)", json: self.output.json)
            }
            let policy = try self.policyOptions.resolved()
            // libvirt.conf's aliases, resolved by libvirt: the source daemons open the destinations themselves.
            var request = self.request
            do throws(MigrationError) {
                request.sourceURI = try await URIResolution.resolve(request.sourceURI, role: "source")
                for index in request.destinationURIs.indices {
                    request.destinationURIs[index] = try await URIResolution.resolve(
                        request.destinationURIs[index],
                        role: "destination"
                    )
                }
            } catch {
                if self.output.json {
                    print(
                        JSONOutput.encode(
                            EvacuateDocument(failure: error.message, status: "unreachable", exitCode: .unreachable)
                        )
                    )
                }
                ProgressDisplay.write("Error: \(error.message)\n")
                throw ExitCode.unreachable
            }
            let evacuation = Evacuation(
                Evacuation.Options(
                    request: request,
                    migration: MigrationRequest(
                        domain: "",
                        sourceURI: request.sourceURI,
                        destinationURI: "",
                        policy: policy
                    ),
                    dryRun: self.dryRun,
                    resume: self.resume,
                    skipChecks: self.skipChecks,
                    reconnectTimeout: .seconds(Int64(self.reconnectTimeout))
                ),
                environment: self.environment(configuration: configuration, logger: logger)
            )
            let display = EvacuationDisplay(quiet: self.output.quiet, verbose: self.output.verbose, dryRun: self.dryRun)
            let watcher = SignalWatcher { number in
                let name = SignalWatcher.name(number)
                display.message(
                    "\(name): starting nothing new; aborting the migrations in flight (their guests stay on the "
                        + "source; cluster restores finish first)…"
                )
                evacuation.requestAbort(reason: name)
            }
            defer { watcher.stop() }
            let ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    display.refresh()
                }
            }
            async let running = evacuation.run()
            let auditor = EvacuationAuditor(AuditLog.trail)
            var guestMetrics: [String: SessionMetrics] = [:]
            for await event in evacuation.events {
                display.render(event)
                auditor.record(event)
                guard let recorder else { continue }
                switch event {
                case .started(let placement, _):
                    guestMetrics[placement.guest.name] = SessionMetrics(recorder, domain: placement.guest.name)
                case .session(let guest, let event):
                    guestMetrics[guest]?.record(event)
                case .finished(let result):
                    if let outcome = result.outcome { guestMetrics[result.guest.name]?.finish(outcome) }
                default:
                    break
                }
            }
            let outcome = await running
            auditor.finish(outcome)
            ticker.cancel()
            display.finish()
            let document = EvacuateDocument(outcome, dryRun: self.dryRun)
            if self.output.json { print(JSONOutput.encode(document)) }
            ProgressDisplay.write(EvacuateText.report(outcome, dryRun: self.dryRun))
            let code = ExitCode(outcome.status)
            if code != .success { throw code }
        }

        /// The cluster configuration: the one named (which must be there), or the default one when it exists.
        private func loadConfiguration() throws -> ClusterConfiguration? {
            let named =
                self.clusterOptions.path != nil
                || ProcessInfo.processInfo.environment["KVMMIGRATE_CLUSTER_CONFIG"] != nil
            guard named || FileManager.default.fileExists(atPath: self.clusterOptions.resolvedPath) else {
                return nil
            }
            return try self.clusterOptions.load(json: self.output.json, command: "evacuate")
        }

        /// libvirt, ssh and real sessions.
        private func environment(configuration: ClusterConfiguration?, logger: Logger) -> Evacuation.Environment {
            let configurationPath = self.clusterOptions.resolvedPath
            let output = self.output
            let skipChecks = self.skipChecks
            let reconnectTimeout = Duration.seconds(Int64(self.reconnectTimeout))
            return Evacuation.Environment(
                survey: { (request: EvacuationRequest) async throws(MigrationError) -> EvacuationSurvey in
                    let topology = try await Self.topology(configuration, logger: logger)
                    let hosts = configuration?.hosts ?? []
                    let destinations =
                        request.destinationURIs.isEmpty
                        ? hosts.filter { $0.uri != request.sourceURI }.map {
                            EvacuationSurvey.Destination(name: $0.name, uri: $0.uri)
                        }
                        : request.destinationURIs.map { uri in
                            EvacuationSurvey.Destination(name: hosts.first { $0.uri == uri }?.name, uri: uri)
                        }
                    return try await EvacuationSurvey.read(
                        sourceURI: request.sourceURI,
                        sourceName: hosts.first { $0.uri == request.sourceURI }?.name,
                        destinations: destinations,
                        topology: topology
                    )
                },
                session: { placement, request in
                    let cluster =
                        placement.guest.cluster == nil
                        ? nil
                        : configuration.map {
                            // Its own ssh control directory: the session closes its shared connections (and
                            // removes the directory) when it ends, while other sessions go on.
                            var configuration = $0
                            configuration.ssh.controlDirectory = ClusterOptions.privateControlDirectory()
                            return ClusterOperation(
                                configuration: configuration,
                                configurationPath: configurationPath,
                                logger: output.makeLogger(),
                                onEvent: { _ in }
                            )
                        }
                    return MigrationSession(
                        MigrationSession.Options(
                            request: request,
                            skipChecks: skipChecks,
                            reconnectTimeout: reconnectTimeout
                        ),
                        migrationDriver: LibvirtMigrationDriver(logger: logger),
                        cluster: cluster,
                        verification: VerifierDriver(cluster: cluster?.configuration, logger: logger)
                    )
                },
                recoverClusters: {
                    guard let configuration else { return [] }
                    let operation = ClusterOperation(
                        configuration: configuration,
                        configurationPath: configurationPath,
                        logger: logger,
                        onEvent: { _ in }
                    )
                    do {
                        return try await operation.recover().map { report in
                            "recovered the cluster operation a crash left unfinished: " + ClusterPart(report).text
                        }
                    } catch {
                        return ["the unfinished cluster operations could not be recovered: \(error)"]
                    }
                },
                waitForJobs: { sourceURI, guests in
                    await EvacuationSurvey.waitForMigrationJobs(sourceURI: sourceURI, guests: guests)
                }
            )
        }

        /// The guest cluster's nodes, when there is a cluster configuration.
        static func topology(
            _ configuration: ClusterConfiguration?,
            logger: Logger
        ) async throws(MigrationError) -> ClusterTopology? {
            guard let configuration else { return nil }
            do throws(ClusterError) {
                return try await ClusterTopology.discover(configuration, logger: logger)
            } catch {
                throw MigrationError(
                    .hostUnreachable,
                    "the guest cluster cannot be read, so its nodes cannot be told from other guests: "
                        + error.description
                )
            }
        }

        /// A usage error found in `run()`: exit 64, and the `--json` document.
        static func usage(_ message: String, json: Bool) -> ExitCode {
            if json {
                print(JSONOutput.encode(EvacuateDocument(usageError: message)))
            }
            ProgressDisplay.write("Error: \(message)\n")
            return ExitCode.validationFailure
        }
    }
}
