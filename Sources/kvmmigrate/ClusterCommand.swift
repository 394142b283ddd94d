import ArgumentParser
import Cluster
import Foundation
import Verification

extension KVMMigrate {
    struct ClusterGroup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cluster",
            abstract: "The PRIMECLUSTER steps on their own, for operators who run them by hand.",
            discussion: """
                prepare and restore do what `sfkvmmigrate -p` and `-u` do; `kvmmigrate migrate --cluster` runs \
                them around the migration itself. The cluster's nodes, domains and agents are read from the \
                nodes; how to reach them and the hosts come from the cluster configuration (see \
                Fixtures/cluster.yaml).
                """,
            subcommands: [Status.self, Prepare.self, Restore.self, Verify.self]
        )
    }
}

extension KVMMigrate.ClusterGroup {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per node: CF state, the CF timeout in use, the shutdown facility's agents; healthy or why not."
        )

        @OptionGroup var cluster: ClusterOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let configuration = try self.cluster.load(json: self.output.json, command: "cluster status")
            defer { configuration.ssh.closeSharedConnections() }
            let operation = self.cluster.operation(configuration, output: self.output, display: nil)
            let status: ClusterStatus
            do { status = try await operation.status() } catch {
                throw ClusterOutput.refusal(error, command: "cluster status", json: self.output.json)
            }
            // SF's rows alone may be stale (it re-tests every 10 minutes): also where libvirt runs each guest
            // against what the agents say, at once.
            let failing = await Self.failingVerification(configuration, output: self.output)
            var document = StatusDocument(status)
            document.add(verificationFailures: failing)
            if self.output.json { print(JSONOutput.encode(document)) }
            ProgressDisplay.write(document.text + "\n")
            if !document.healthy { throw ExitCode.clusterNotHealthy }
        }

        /// The failing checks of `kvmmigrate verify --all`, one line each.
        static func failingVerification(_ configuration: ClusterConfiguration, output: OutputOptions) async -> [String]
        {
            let verifier = Verifier(
                cluster: configuration,
                hosts: configuration.hosts,
                logger: output.makeLogger(),
                clockTolerance: configuration.clockTolerance ?? Verifier.defaultClockTolerance
            )
            return await verifier.verify(.cluster).checks.filter { $0.outcome == .fail }.map {
                "\($0.subject): \($0.name): \($0.detail)"
            }
        }
    }

    struct Prepare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the cluster tolerant of DOMAIN's migration: SF stopped, CF timeout raised, on every node.",
            discussion: "Leaves an open journal; `kvmmigrate cluster restore DOMAIN` (or `recover`) finishes it."
        )

        @OptionGroup var cluster: ClusterOptions
        @Argument(help: "The libvirt domain that will move.") var domain: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let configuration = try self.cluster.load(json: self.output.json, command: "cluster prepare")
            defer { configuration.ssh.closeSharedConnections() }
            let display = ProgressDisplay(domain: self.domain, quiet: self.output.quiet, verbose: self.output.verbose)
            let operation = self.cluster.operation(
                configuration,
                output: self.output,
                display: display,
                audited: true
            )
            let report: ClusterOperation.Report
            do {
                (_, report) = try await operation.run(
                    domain: self.domain,
                    command: "prepare",
                    sourceHost: nil,
                    destinationURI: nil,
                    restoreAfterwards: false
                ) { () }
            } catch {
                throw ClusterOutput.refusal(error, command: "cluster prepare", json: self.output.json)
            }
            try finish(
                ClusterPart(report),
                command: "cluster prepare",
                json: self.output.json,
                success: report.prepared
            )
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Make the cluster strict again after DOMAIN moved: CF timeout back, agents pointed at its host, SF started, verified."
        )

        @OptionGroup var cluster: ClusterOptions
        @Argument(help: "The libvirt domain that moved.") var domain: String
        @Option(
            help: ArgumentHelp(
                "The host it runs on now (default: ask libvirt on every configured host).",
                valueName: "name"
            )
        )
        var host: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let configuration = try self.cluster.load(json: self.output.json, command: "cluster restore")
            defer { configuration.ssh.closeSharedConnections() }
            let display = ProgressDisplay(domain: self.domain, quiet: self.output.quiet, verbose: self.output.verbose)
            let operation = self.cluster.operation(
                configuration,
                output: self.output,
                display: display,
                audited: true
            )
            let report: ClusterOperation.Report
            do { report = try await operation.restoreByHand(domain: self.domain, hostName: self.host) } catch {
                throw ClusterOutput.refusal(error, command: "cluster restore", json: self.output.json)
            }
            try finish(ClusterPart(report), command: "cluster restore", json: self.output.json, success: report.healthy)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Poll sdtool -s on every node until every agent shows TestWorked and InitWorked, or the deadline."
        )

        @OptionGroup var cluster: ClusterOptions
        @Option(help: ArgumentHelp("Give up after this many seconds (default: the configuration's).", valueName: "s"))
        var timeout: Int?
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let seconds = self.timeout, !(1...3600).contains(seconds) {
                throw ValidationError("--timeout must be 1 to 3600 seconds, not \(seconds).")
            }
        }

        func run() async throws {
            var configuration = try self.cluster.load(json: self.output.json, command: "cluster verify")
            defer { configuration.ssh.closeSharedConnections() }
            if let timeout = self.timeout { configuration.verifyTimeout = .seconds(timeout) }
            let operation = self.cluster.operation(configuration, output: self.output, display: nil)
            let verification: ClusterSteps.Verification
            do { verification = try await operation.verifyByHand() } catch {
                throw ClusterOutput.refusal(error, command: "cluster verify", json: self.output.json)
            }
            // TestWorked may be about the old host: check the agents against where libvirt runs each guest too.
            let failing = await Status.failingVerification(configuration, output: self.output)
            let healthy = verification.healthy && failing.isEmpty
            let document = VerifyDocument(
                healthy: healthy,
                elapsedSeconds: Double(verification.elapsed / .milliseconds(1)) / 1000,
                problems: verification.problems,
                verificationFailures: failing
            )
            if self.output.json { print(JSONOutput.encode(document)) }
            var lines = [
                healthy
                    ? "Every agent on every node: TestWorked, InitWorked, pointing where libvirt runs its guest."
                    : "NOT healthy:"
            ]
            for node in verification.problems.keys.sorted() {
                for problem in verification.problems[node]! { lines.append("  \(node): \(problem)") }
            }
            for line in failing { lines.append("  \(line)") }
            if !failing.isEmpty { lines.append("  (kvmmigrate verify --all --fix repairs what is stale)") }
            ProgressDisplay.write(lines.joined(separator: "\n") + "\n")
            if !healthy { throw ExitCode.clusterNotHealthy }
        }
    }
}

/// Prints a cluster step's report and exits with 0 or ``ExitCode/clusterNotHealthy``.
func finish(_ part: ClusterPart, command: String, json: Bool, success: Bool) throws {
    if json {
        print(JSONOutput.encode(ClusterStepDocument(command: command, exitCode: success ? 0 : 6, cluster: part)))
    }
    ProgressDisplay.write(part.text + "\n")
    if !success { throw ExitCode.clusterNotHealthy }
}

struct ClusterStepDocument: Encodable {
    var schemaVersion = 1
    var command: String
    var exitCode: Int32
    var cluster: ClusterPart
}

struct VerifyDocument: Encodable {
    var schemaVersion = 1
    var command = "cluster verify"
    var healthy: Bool
    var elapsedSeconds: Double
    var problems: [String: [String]]
    /// The failing checks of `kvmmigrate verify --all`.
    var verificationFailures: [String]
}

/// `kvmmigrate cluster status --json`.
struct StatusDocument: Encodable {
    var schemaVersion = 1
    var command = "cluster status"
    var healthy: Bool
    var nodes: [Node]
    /// The failing checks of `kvmmigrate verify --all` (agents against where libvirt runs each guest, …).
    var verificationFailures: [String] = []

    mutating func add(verificationFailures failures: [String]) {
        self.verificationFailures = failures
        self.healthy = self.healthy && failures.isEmpty
    }

    struct Node: Encodable {
        var name: String
        var reachable: Bool
        var cfNodeStates: [String: String]?
        var clusterTimeoutSeconds: Int?
        var clusterTimeoutConfiguredSeconds: Int?
        var shutdownFacilityRunning: Bool
        var agents: [Agent]
        var healthy: Bool
        var problems: [String]
    }

    struct Agent: Encodable {
        var node: String
        var agent: String
        var saState: String
        var shutState: String
        var testState: String
        var initState: String
    }

    init(_ status: ClusterStatus) {
        self.healthy = status.isHealthy
        self.nodes = status.nodes.map { node in
            Node(
                name: node.node,
                reachable: node.unreachable == nil,
                cfNodeStates: node.nodeTable.map {
                    Dictionary(uniqueKeysWithValues: $0.nodes.map { ($0.name, $0.state.rawValue) })
                },
                clusterTimeoutSeconds: node.clusterTimeoutInUse,
                clusterTimeoutConfiguredSeconds: node.clusterTimeoutConfigured,
                shutdownFacilityRunning: node.isShutdownFacilityRunning,
                agents: node.shutdownFacility?.rows.map {
                    Agent(
                        node: $0.nodeName,
                        agent: $0.agentName,
                        saState: $0.agentState.rawValue,
                        shutState: $0.shutdownState.rawValue,
                        testState: $0.testState.rawValue,
                        initState: $0.initializationState.rawValue
                    )
                } ?? [],
                healthy: node.isHealthy,
                problems: node.problems
            )
        }
    }

    var text: String {
        var lines: [String] = []
        for node in self.nodes {
            guard node.reachable else {
                lines.append("\(node.name): UNREACHABLE — \(node.problems.joined(separator: "; "))")
                continue
            }
            let states = (node.cfNodeStates ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            let working = node.agents.filter { $0.testState == "TestWorked" && $0.initState == "InitWorked" }.count
            lines.append(
                "\(node.name): \(node.healthy ? "healthy" : "NOT healthy")  CF [\(states.joined(separator: ", "))]  "
                    + "CF timeout \(node.clusterTimeoutSeconds.map { "\($0) s" } ?? "?")  "
                    + (node.shutdownFacilityRunning
                        ? "SF running, \(working)/\(node.agents.count) agents working" : "SF not running")
            )
            for problem in node.problems { lines.append("  \(problem)") }
        }
        for failure in self.verificationFailures { lines.append("  \(failure)") }
        if !self.verificationFailures.isEmpty {
            lines.append("  (kvmmigrate verify --all --fix repairs what is stale)")
        }
        lines.append(self.healthy ? "The cluster is healthy." : "The cluster is NOT healthy.")
        return lines.joined(separator: "\n")
    }
}
