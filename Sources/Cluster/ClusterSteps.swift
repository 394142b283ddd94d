import Foundation
import Logging

/// The PRIMECLUSTER steps around a migration, as `sfkvmmigrate -p` and `-u` do them, on every node of the
/// guest cluster: checks, prepare (SF stopped, CF timeout raised), restore (CF timeout back, SF agents pointed
/// at the guest's host, SF started) and verify (`sdtool -s` until every agent works).
///
/// Each remote step is recorded in the ``ClusterJournal`` before the next one starts. Steps that the
/// documentation orders across nodes (`cfset -r` on all nodes at about the same time) run on all nodes at once.
public struct ClusterSteps: Sendable {
    public var configuration: ClusterConfiguration
    public var topology: ClusterTopology
    public var logger: Logger

    public init(configuration: ClusterConfiguration, topology: ClusterTopology, logger: Logger) {
        self.configuration = configuration
        self.topology = topology
        self.logger = logger
    }

    // MARK: - Checks

    /// Checks that the cluster may be prepared for moving `domain`: the domain is a node of this cluster,
    /// every node answers, sees every node UP, and runs a healthy shutdown facility.
    ///
    /// - Throws: ``ClusterError`` with ``ClusterError/Code/unknownNode`` or ``ClusterError/Code/notHealthy``
    ///   listing what is wrong, per node.
    public func check(domain: String) async throws(ClusterError) -> (ClusterTopology.Guest, ClusterStatus) {
        guard let guest = self.topology.guest(forDomain: domain) else {
            throw ClusterError(
                .unknownNode,
                "domain '\(domain)' is not a node of this cluster (not in \(ClusterFormat.libvirtPanicAgentConfigPath))"
            )
        }
        let status = await ClusterStatus.read(self.topology, logger: self.logger)
        let problems = status.nodes.flatMap { node in node.problems.map { "\(node.node): \($0)" } }
        guard problems.isEmpty else {
            throw ClusterError(.notHealthy, "the cluster is not healthy: " + problems.joined(separator: "; "))
        }
        let unusable = await self.rehearse(guest: guest.nodeName, status: status)
        guard unusable.isEmpty else {
            throw ClusterError(
                .malformedFile,
                "a file the migration would edit cannot be edited, so nothing was changed: "
                    + unusable.map(\.description).joined(separator: "; ")
            )
        }
        return (guest, status)
    }

    /// Tries, on every node, every edit the prepare and the restore will make, and writes nothing: `cluster.config`
    /// (as the checks just read it) raised and put back, and the agent files and `rcsd.cfg` pointed at a
    /// configured host (the one with a weight, when one has). Returns what fails, per node, in the nodes' order.
    ///
    /// A node whose files the restore could not edit would be left with SF stopped; another node whose prepare
    /// already ran would then need its own value back. Refusing before the first change avoids both.
    func rehearse(guest: String, status: ClusterStatus) async -> [ClusterError] {
        guard let host = self.configuration.hosts.first(where: { $0.weight != nil }) ?? self.configuration.hosts.first
        else { return [] }
        let timeout = self.configuration.migrationClusterTimeout
        let failures = ConcurrentResults<ClusterError>()
        await concurrently(self.topology.nodes) { node in
            do throws(ClusterError) {
                if let text = status.nodes.first(where: { $0.node == node.name })?.clusterConfigText {
                    do throws(ClusterError) {
                        let before = try ClusterConfigFile(parsing: text).value(for: ClusterFormat.clusterTimeoutKey)
                            .flatMap { Int($0) }
                        let prepared = try ClusterEdits.prepared(clusterConfig: text, timeout: timeout)
                        _ = try ClusterEdits.restored(clusterConfig: prepared, before: before)
                    } catch {
                        throw error.located(node: node.name, path: ClusterFormat.clusterConfigPath)
                    }
                }
                try await self.pointAgents(on: node, guest: guest, host: host, rehearsing: true)
            } catch {
                failures.record(error.node == nil ? error.located(node: node.name) : error, for: node)
            }
        }
        return failures.inOrder(of: self.topology.nodes).map(\.value)
    }

    // MARK: - Prepare

    /// Prepares every node: SF stopped (`sdtool -e`), `CLUSTER_TIMEOUT` raised in `cluster.config` and
    /// loaded (`cfset -r`), checked with `cfset -a`.
    ///
    /// On failure nothing is undone here: the caller runs ``restore(journal:host:)``, which puts back what the
    /// journal says was changed (and is harmless on nodes that were not).
    ///
    /// - Throws: ``ClusterError`` naming the node that failed.
    public func prepare(journal: ClusterJournal, status: ClusterStatus) async throws(ClusterError) {
        // What each node had before, so the restore puts back exactly that (read by the checks just now).
        var before: [Result<ClusterOperationRecord.NodeRecord, ClusterError>] = []
        for node in self.topology.nodes {
            guard let nodeStatus = status.nodes.first(where: { $0.node == node.name }),
                let text = nodeStatus.clusterConfigText
            else {
                before.append(.failure(ClusterError(.notHealthy, "no cluster.config read", node: node.name)))
                continue
            }
            do throws(ClusterError) {
                let file = try ClusterConfigFile(parsing: text)
                before.append(
                    .success(
                        ClusterOperationRecord.NodeRecord(
                            name: node.name,
                            clusterTimeoutBefore: file.value(for: ClusterFormat.clusterTimeoutKey).flatMap { Int($0) },
                            shutdownFacilityWasRunning: nodeStatus.isShutdownFacilityRunning
                        )
                    )
                )
            } catch {
                before.append(.failure(error.located(node: node.name, path: ClusterFormat.clusterConfigPath)))
            }
        }
        var records: [ClusterOperationRecord.NodeRecord] = []
        for result in before { records.append(try result.get()) }
        try journal.update {
            $0.nodes = records
            $0.phase = .preparing
        }

        let timeout = self.configuration.migrationClusterTimeout
        try await self.onEveryNode(journal, step: "sf-stopped", "shutdown facility stopped") {
            node throws(ClusterError) in
            try await node.runChecked([ClusterCommands.shutdownTool, "-e"], logger: self.logger)
        }
        try await self.onEveryNode(journal, step: "timeout-written", "CF timeout \(timeout) s written") {
            node throws(ClusterError) in
            try await node.edit(ClusterFormat.clusterConfigPath, logger: self.logger) { text throws(ClusterError) in
                try ClusterEdits.prepared(clusterConfig: text, timeout: timeout)
            }
        }
        try await self.onEveryNode(journal, step: "timeout-loaded", "CF timeout \(timeout) s loaded") {
            node throws(ClusterError) in
            // Load, then show what CF uses: one round trip.
            let loaded = try CFSetOutput(
                parsing: try await node.runChecked(
                    ["sh", "-c", "\(ClusterCommands.clusterSet) -r && exec \(ClusterCommands.clusterSet) -a"],
                    logger: self.logger
                )
            )
            guard loaded.clusterTimeout == timeout else {
                throw ClusterError(
                    .notHealthy,
                    "cfset -a shows a CF timeout of \(loaded.clusterTimeout) s after loading \(timeout) s",
                    node: node.name
                )
            }
        }
        try journal.update { $0.phase = .prepared }
    }

    /// Runs one step on every node at once; records it per node as it completes; throws the first failure
    /// after every node has finished (so the journal knows exactly which nodes did the step).
    private func onEveryNode(
        _ journal: ClusterJournal,
        step: String,
        _ message: String,
        _ body: @escaping @Sendable (ClusterNode) async throws(ClusterError) -> Void
    ) async throws(ClusterError) {
        let failures = ConcurrentResults<ClusterError>()
        await concurrently(self.topology.nodes) { node in
            do throws(ClusterError) {
                try await body(node)
                try journal.done(step, on: node.name, message)
            } catch {
                journal.report(ClusterEvent(node: node.name, step: step, message: error.description, failed: true))
                failures.record(error.node == nil ? error.located(node: node.name) : error, for: node)
            }
        }
        if let failure = failures.inOrder(of: self.topology.nodes).first { throw failure.value }
    }

    // MARK: - Restore

    /// The outcome of a restore, per node.
    public struct RestoreResult: Sendable {
        /// Nodes that could not be restored, with why. They stay prepared until `kvmmigrate recover` runs.
        public var failures: [String: ClusterError]
        public var succeeded: Bool { self.failures.isEmpty }

        public init(failures: [String: ClusterError]) {
            self.failures = failures
        }
    }

    /// Restores every node: `CLUSTER_TIMEOUT` back to what the journal recorded and loaded, the migrated
    /// guest's SF agent lines pointed at `host` (host address; host CF node name in host OS failover mode; SF
    /// weight when configured), SF started. Idempotent: running it twice is harmless.
    ///
    /// A node that does not answer is retried with backoff; the others are restored regardless.
    ///
    /// With no `host` (the domain runs nowhere, on several hosts, or a host does not answer so where it runs is a
    /// guess), the agents are left as they were before the prepare, which did not change them, and everything else
    /// is restored: a cluster left with SF stopped and CF at 600 s could not fence the guest that needs it most.
    public func restore(journal: ClusterJournal, host: ClusterConfiguration.Host?) async -> RestoreResult {
        journal.updateIfPossible {
            $0.phase = .restoring
            $0.restoredToHost = host?.name
        }
        let record = journal.record
        var failures: [String: ClusterError] = [:]
        func run(
            _ step: String,
            _ message: String,
            _ body: @escaping @Sendable (ClusterNode) async throws(ClusterError) -> Void
        ) async {
            // Only nodes the prepare recorded (before changing anything on them): a node without a record was never
            // changed, and its CF timeout is not known to the operation, so nothing is written there.
            let pending = self.topology.nodes.filter { failures[$0.name] == nil && record.node($0.name) != nil }
            let results = ConcurrentResults<ClusterError>()
            await concurrently(pending) { node in
                do throws(ClusterError) {
                    try await self.retrying(node) { () throws(ClusterError) in try await body(node) }
                    journal.doneRestoring(step, on: node.name, message)
                } catch {
                    let located = error.node == nil ? error.located(node: node.name) : error
                    journal.report(
                        ClusterEvent(node: node.name, step: step, message: located.description, failed: true)
                    )
                    results.record(located, for: node)
                }
            }
            for (node, failure) in results.inOrder(of: pending) { failures[node.name] = failure }
        }

        await run("timeout-restored", "CF timeout restored in cluster.config") { node throws(ClusterError) in
            let before = record.node(node.name)?.clusterTimeoutBefore
            try await node.edit(ClusterFormat.clusterConfigPath, logger: self.logger) { text throws(ClusterError) in
                try ClusterEdits.restored(clusterConfig: text, before: before)
            }
        }
        await run("timeout-reloaded", "CF timeout loaded") { node throws(ClusterError) in
            try await node.runChecked([ClusterCommands.clusterSet, "-r"], logger: self.logger)
        }
        if let host {
            await run("agents-pointed", "SF agents point at \(host.name) (\(host.address))") {
                node throws(ClusterError) in
                try await self.pointAgents(on: node, guest: record.guestNode, host: host)
            }
        }
        await run("sf-started", "shutdown facility started") { node throws(ClusterError) in
            try await self.startShutdownFacility(on: node)
        }
        return RestoreResult(failures: failures)
    }

    /// Rewrites the migrated guest's lines in the agent files (and its weight in `rcsd.cfg`) on one node.
    ///
    /// What is rewritten follows the cluster's files, not a mode in the configuration: every agent `rcsd.cfg` lists
    /// for the guest that names its host (``ClusterTopology/hostAgents(of:)``) — the libvirt agents' host address,
    /// and in `SA_vmchkhost.cfg` the host's CF node name and address. A libvirt agent file that `rcsd.cfg` does
    /// not list for the guest is still kept in step when it exists, since its line names the host too.
    ///
    /// - Parameter rehearsing: Read the files and make the edits without writing them (``ClusterNode/rehearseEdit(_:ifExists:logger:_:)``).
    public func pointAgents(
        on node: ClusterNode,
        guest: String,
        host: ClusterConfiguration.Host,
        rehearsing: Bool = false
    ) async throws(ClusterError) {
        let logger = self.logger
        func edit(
            _ path: String,
            ifExists: Bool = false,
            _ change: (String) throws(ClusterError) -> String
        ) async throws(ClusterError) {
            if rehearsing {
                try await node.rehearseEdit(path, ifExists: ifExists, logger: logger, change)
            } else {
                try await node.edit(path, ifExists: ifExists, logger: logger, change)
            }
        }
        let listed = self.topology.hostAgents(of: guest)
        for (agent, path) in [
            ("SA_libvirtgp", ClusterFormat.libvirtPanicAgentConfigPath),
            ("SA_libvirtgr", ClusterFormat.libvirtResetAgentConfigPath),
        ] {
            try await edit(path, ifExists: !listed.contains(agent)) {
                text throws(ClusterError) in
                try ClusterEdits.pointed(
                    libvirtAgentConfig: text,
                    fileName: (path as NSString).lastPathComponent,
                    guest: guest,
                    address: host.address
                )
            }
        }
        if listed.contains("SA_vmchkhost") {
            try await edit(ClusterFormat.hostCheckAgentConfigPath) {
                text throws(ClusterError) in
                try ClusterEdits.pointed(
                    hostCheckConfig: text,
                    guest: guest,
                    hostName: host.name,
                    address: host.address
                )
            }
        }
        if let weight = host.weight {
            try await edit(ClusterFormat.shutdownDaemonConfigPath) {
                text throws(ClusterError) in
                try ClusterEdits.weighted(daemonConfig: text, guest: guest, weight: weight)
            }
        }
    }

    /// Starts SF (`sdtool -b`), or makes a running one re-read its files and test again (`sdtool -r`): one
    /// round trip.
    public func startShutdownFacility(on node: ClusterNode) async throws(ClusterError) {
        let tool = ClusterCommands.shutdownTool
        try await node.runChecked(
            ["sh", "-c", "if \(tool) -s >/dev/null 2>&1; then exec \(tool) -r; else exec \(tool) -b; fi"],
            logger: self.logger
        )
    }

    /// Runs `body`, retrying on an unreachable node after 1, 2 and 4 seconds.
    private func retrying(_ node: ClusterNode, _ body: () async throws(ClusterError) -> Void) async throws(ClusterError)
    {
        var delay = Duration.seconds(1)
        for attempt in 1...4 {
            do throws(ClusterError) {
                return try await body()
            } catch  where error.code == .nodeUnreachable && attempt < 4 {
                self.logger.debug("Retrying", metadata: ["node": "\(node.name)", "error": "\(error.message)"])
                try? await Task.sleep(for: delay)
                delay *= 2
            }
        }
    }

    // MARK: - Verify

    /// What `verify` found.
    public struct Verification: Sendable {
        public var healthy: Bool
        /// Per node, what is still wrong (empty when healthy).
        public var problems: [String: [String]]
        /// How often the after-step was run again.
        public var retries: Int
        public var elapsed: Duration

        public init(healthy: Bool, problems: [String: [String]], retries: Int, elapsed: Duration) {
            self.healthy = healthy
            self.problems = problems
            self.retries = retries
            self.elapsed = elapsed
        }
    }

    /// Polls `sdtool -s` on every node until every row shows TestWorked and InitWorked in two polls a second
    /// apart, or the deadline passes.
    /// When rows show TestFailed or InitFailed, the after-step (agent files, SF re-read) runs again, at most
    /// `configuration.verifyRetries` times.
    public func verify(journal: ClusterJournal, host: ClusterConfiguration.Host?) async -> Verification {
        let clock = ContinuousClock()
        let start = clock.now
        var retries = 0
        var failingSince: ContinuousClock.Instant?
        // Healthy must be seen twice in a row: right after `sdtool -b` or `-r`, a node may still show the table
        // of before the restart for a moment.
        var healthyPolls = 0
        while true {
            let tables = ConcurrentResults<Result<ShutdownFacilityStatus?, ClusterError>>()
            await concurrently(self.topology.nodes) { node in
                do throws(ClusterError) {
                    tables.record(
                        .success(try await NodeStatus.shutdownFacility(on: node, logger: self.logger)),
                        for: node
                    )
                } catch {
                    tables.record(.failure(error), for: node)
                }
            }
            var problems: [String: [String]] = [:]
            var failures = false
            for (node, result) in tables.inOrder(of: self.topology.nodes).map({ ($0.node.name, $0.value) }) {
                switch result {
                case .success(let table?):
                    if !table.isHealthy { problems[node] = table.problems }
                    failures = failures || table.hasFailures
                case .success(nil):
                    problems[node] = ["shutdown facility not running"]
                    failures = true
                case .failure(let error):
                    problems[node] = [error.message]
                }
            }
            let elapsed = clock.now - start
            healthyPolls = problems.isEmpty ? healthyPolls + 1 : 0
            if healthyPolls >= 2 {
                journal.report(
                    ClusterEvent(node: nil, step: "verified", message: "every agent TestWorked and InitWorked")
                )
                return Verification(healthy: true, problems: [:], retries: retries, elapsed: elapsed)
            }
            if elapsed >= self.configuration.verifyTimeout {
                return Verification(healthy: false, problems: problems, retries: retries, elapsed: elapsed)
            }
            // A failure that lasts a few seconds is a result, not a row still settling: run the after-step again.
            if failures {
                failingSince = failingSince ?? clock.now
                if let since = failingSince, clock.now - since >= .seconds(3),
                    retries < self.configuration.verifyRetries,
                    let host
                {
                    retries += 1
                    failingSince = nil
                    journal.report(
                        ClusterEvent(
                            node: nil,
                            step: "after-step-again",
                            message: "TestFailed/InitFailed: running the after-step again (\(retries) of "
                                + "\(self.configuration.verifyRetries))"
                        )
                    )
                    let guest = journal.record.guestNode
                    await concurrently(self.topology.nodes) { node in
                        try? await self.pointAgents(on: node, guest: guest, host: host)
                        try? await self.startShutdownFacility(on: node)
                    }
                }
            } else {
                failingSince = nil
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
