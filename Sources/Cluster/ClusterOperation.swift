import Foundation
import Journal
import Libvirt
import Logging

/// A whole cluster-aware operation: the checks, the prepare, a body (the migration, or nothing for a prepare
/// run by hand), and a restore that always runs once anything was prepared — on success, failure, abort,
/// signal or timeout; after a crash, ``recover(configuration:configurationPath:logger:onEvent:)`` runs it.
public struct ClusterOperation: Sendable {
    public var configuration: ClusterConfiguration
    public var configurationPath: String
    public var logger: Logger
    public var onEvent: @Sendable (ClusterEvent) -> Void

    public init(
        configuration: ClusterConfiguration,
        configurationPath: String,
        logger: Logger,
        onEvent: @escaping @Sendable (ClusterEvent) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.configurationPath = configurationPath
        self.logger = logger
        self.onEvent = onEvent
    }

    /// The journal store of this configuration.
    public func journalStore() throws(ClusterError) -> JournalStore<ClusterOperationRecord> {
        do throws(JournalError) {
            return try JournalStore(directory: URL(filePath: self.configuration.journalDirectory))
        } catch {
            throw ClusterError(.journal, error.message)
        }
    }

    /// What the cluster part of an operation did, for the report.
    public struct Report: Sendable {
        public var guestNode: String
        public var nodes: [String]
        public var prepared: Bool
        /// The host the agents were pointed at.
        public var host: ClusterConfiguration.Host?
        public var restore: ClusterSteps.RestoreResult?
        public var verification: ClusterSteps.Verification?
        public var events: [ClusterEvent]
        /// Why the restore could not run or finish, if it could not.
        public var restoreProblem: String?
        /// Why the prepare failed; then nothing migrated and the restore undid the prepare.
        public var prepareFailure: String?

        public init(
            guestNode: String,
            nodes: [String],
            prepared: Bool,
            host: ClusterConfiguration.Host? = nil,
            restore: ClusterSteps.RestoreResult? = nil,
            verification: ClusterSteps.Verification? = nil,
            events: [ClusterEvent] = [],
            restoreProblem: String? = nil,
            prepareFailure: String? = nil
        ) {
            self.guestNode = guestNode
            self.nodes = nodes
            self.prepared = prepared
            self.host = host
            self.restore = restore
            self.verification = verification
            self.events = events
            self.restoreProblem = restoreProblem
            self.prepareFailure = prepareFailure
        }

        /// Restored everywhere and every agent works.
        public var healthy: Bool {
            self.restore?.succeeded == true && self.verification?.healthy == true && self.restoreProblem == nil
        }
    }

    /// What the checks before an operation found: the cluster as its files describe it, and the guest node that
    /// moves.
    public struct Checked: Sendable {
        public var topology: ClusterTopology
        public var steps: ClusterSteps
        public var guest: ClusterTopology.Guest
        public var status: ClusterStatus
        /// One line when the migration would put the guest's node beside another node of its cluster
        /// (``colocation(of:in:destinationURI:)``): a warning, not a refusal.
        public var colocation: String?
        /// The journal the operation records itself in (no unfinished operation on this cluster in it).
        public var store: JournalStore<ClusterOperationRecord>
    }

    /// The checks before an operation, the same for `check`, `migrate --dry-run` and `migrate`: the destination is
    /// a configured host; the domain runs on exactly one configured host now; no unfinished operation on this cluster; the domain is a node of it; every node answers,
    /// sees every node UP and runs a healthy shutdown facility. Changes nothing.
    ///
    /// - Parameters:
    ///   - domain: The libvirt domain that would move.
    ///   - destinationURI: The migration's destination, or `nil` for an operation without one (`cluster prepare`).
    ///   - destinationHostname: The name the destination's libvirt gives itself, when it answered.
    /// - Throws: ``ClusterError`` saying what refuses the operation.
    public func check(
        domain: String,
        destinationURI: String?,
        destinationHostname: String? = nil
    )
        async throws(ClusterError) -> Checked
    {
        if let destinationURI,
            self.configuration.destinationHost(uri: destinationURI, hostname: destinationHostname) == nil
        {
            throw ClusterError(
                .invalidValue,
                "the destination \(destinationURI) is not a host of the cluster configuration "
                    + "\(self.configurationPath) (hosts: \(self.configuration.hosts.map(\.name).joined(separator: ", ")))"
            )
        }
        // The restore points the agents at the host where the domain runs afterwards, found among the configured
        // hosts: a domain that runs on none of them now (its host missing from `hosts:`) could not be found then.
        switch try await DomainLocator.locate(domain, among: self.configuration.hosts) {
        case .host: break
        case .nowhere:
            throw ClusterError(
                .invalidValue,
                "'\(domain)' runs on none of the hosts of \(self.configurationPath) "
                    + "(\(self.configuration.hosts.map(\.name).joined(separator: ", "))): add its host to hosts:, or the "
                    + "restore afterwards could not find it"
            )
        case .several(let hosts):
            throw ClusterError(
                .domainLocation,
                "'\(domain)' runs on several hosts (\(hosts.map(\.name).joined(separator: ", "))): stop one copy first"
            )
        }
        let topology = try await ClusterTopology.discover(self.configuration, logger: self.logger)
        let disagreements = topology.disagreements(with: self.configuration)
        guard disagreements.isEmpty else {
            throw ClusterError(
                .configurationMismatch,
                disagreements.joined(separator: "; ") + " (\(self.configurationPath))"
            )
        }
        let steps = ClusterSteps(configuration: self.configuration, topology: topology, logger: self.logger)
        // An unfinished operation explains an unhealthy cluster better than the health check would.
        let store = try self.journalStore()
        try self.refuseOverUnfinished(store, key: topology.key)
        let (guest, status) = try await steps.check(domain: domain)
        var colocation: String?
        if let destinationURI {
            colocation = await self.colocation(of: guest, in: topology, destinationURI: destinationURI)
        }
        return Checked(
            topology: topology,
            steps: steps,
            guest: guest,
            status: status,
            colocation: colocation,
            store: store
        )
    }

    /// Checks, prepares, runs `body`, and restores with the host where the domain runs afterwards.
    ///
    /// - Parameters:
    ///   - domain: The libvirt domain that moves.
    ///   - command: `migrate` or `prepare`, for the journal.
    ///   - destinationHostname: The name the destination's libvirt gives itself, for ``check(domain:destinationURI:destinationHostname:)``.
    ///   - restoreAfterwards: `false` for `cluster prepare`, which leaves the cluster prepared (and the journal
    ///     open) for a later `cluster restore`.
    ///   - body: The migration; runs only when the prepare succeeded. Its result is returned.
    /// - Returns: The body's result (`nil` when it did not run: the prepare failed, or `restoreAfterwards` is
    ///   false) and what the cluster part did.
    /// - Throws: ``ClusterError`` when the checks or the journal refuse the operation (nothing changed).
    public func run<Result: Sendable>(
        domain: String,
        command: String,
        sourceHost: String?,
        destinationURI: String?,
        destinationHostname: String? = nil,
        delegate: Bool = false,
        restoreAfterwards: Bool = true,
        body: @Sendable () async -> Result
    ) async throws(ClusterError) -> (Result?, Report) {
        let checked = try await self.check(
            domain: domain,
            destinationURI: destinationURI,
            destinationHostname: destinationHostname
        )
        let (topology, steps, guest, status, store) = (
            checked.topology, checked.steps, checked.guest, checked.status, checked.store
        )
        let record = ClusterOperationRecord(
            command: command,
            domain: domain,
            guestNode: guest.nodeName,
            mode: topology.mode(of: guest.nodeName),
            configurationPath: self.configurationPath,
            sourceHost: sourceHost,
            destinationURI: destinationURI,
            delegated: delegate
        )
        let handle: JournalHandle<ClusterOperationRecord>
        do throws(JournalError) {
            handle = try store.begin(key: topology.key, record: record)
        } catch {
            throw ClusterError(.journal, error.message)
        }
        let journal = ClusterJournal(handle: handle, record: record, onEvent: self.onEvent)
        var report = Report(
            guestNode: guest.nodeName,
            nodes: topology.nodes.map(\.name),
            prepared: false,
            events: []
        )

        if let warning = checked.colocation {
            journal.report(ClusterEvent(node: guest.nodeName, step: "colocation", message: warning, warning: true))
        }
        // Another admin host's (or configuration's) operation on these nodes refuses this one before any change.
        if let id = journal.operationID {
            do throws(ClusterError) {
                try await NodeLock.take(on: topology.nodes, id: id, logger: self.logger)
            } catch {
                try? journal.finish()
                throw error
            }
        }
        var result: Result?
        do throws(ClusterError) {
            if delegate {
                try await self.delegatePrepare(steps: steps, journal: journal, domain: domain)
            } else {
                try await steps.prepare(journal: journal, status: status)
            }
            report.prepared = true
            if !restoreAfterwards {
                report.events = journal.history
                return (nil, report)
            }
            try journal.update { $0.phase = .migrating }
            result = await body()
            try journal.update { $0.phase = .migrated }
        } catch {
            // The body did not run (or the journal failed around it): undo the prepare, on the domain's host.
            report.prepareFailure = error.description
            journal.report(
                ClusterEvent(node: error.node, step: "prepare-failed", message: error.description, failed: true)
            )
        }
        await self.restore(steps: steps, journal: journal, domain: domain, delegate: delegate, into: &report)
        report.events = journal.history
        return (result, report)
    }

    /// Throws when the journal holds an unfinished operation for this cluster: a crashed one (to be finished by
    /// `kvmmigrate recover`) or one still running in another process.
    func refuseOverUnfinished(_ store: JournalStore<ClusterOperationRecord>, key: String) throws(ClusterError) {
        let entries: [JournalEntry<ClusterOperationRecord>]
        do throws(JournalError) { entries = try store.unfinished() } catch {
            throw ClusterError(.journal, error.message)
        }
        guard let entry = entries.first(where: { $0.key == key }) else { return }
        let what =
            "the \(entry.record.command) of \(entry.record.domain) started \(entry.startedAt.formatted(.iso8601))"
        if entry.processRunning {
            throw ClusterError(.journal, "\(what) is still running (pid \(entry.pid)) on this cluster")
        }
        throw ClusterError(
            .journal,
            "\(what) was left unfinished at '\(entry.record.phase.rawValue)': run `kvmmigrate recover` first"
        )
    }

    /// Restores with the host libvirt names for `domain`, verifies, and closes the journal when all is well.
    func restore(
        steps: ClusterSteps,
        journal: ClusterJournal,
        domain: String,
        delegate: Bool,
        into report: inout Report
    ) async {
        // Where the domain runs; when that cannot be told, `located` says why and the restore still runs, leaving the
        // agents as they were (``ClusterSteps/restore(journal:host:)``).
        var located: ClusterConfiguration.Host?
        var whyNotLocated: String?
        do throws(ClusterError) {
            switch try await DomainLocator.locate(domain, among: self.configuration.hosts) {
            case .host(let found):
                located = found
            case .nowhere:
                whyNotLocated = "'\(domain)' runs on none of the configured hosts"
            case .several(let hosts):
                whyNotLocated =
                    "'\(domain)' runs on several hosts (\(hosts.map(\.name).joined(separator: ", "))): stop one copy"
            }
        } catch {
            whyNotLocated = error.description
        }
        guard let host = located else {
            let why = whyNotLocated ?? "'\(domain)' could not be located"
            journal.report(ClusterEvent(node: nil, step: "located", message: why, failed: true))
            let restore =
                delegate
                ? await self.delegateRestore(steps: steps, journal: journal, domain: domain)
                : await steps.restore(journal: journal, host: nil)
            report.restore = restore
            let done =
                restore.succeeded
                ? "CF timeout restored and SF started; the agents still point where they did before the migration"
                : "not restored: "
                    + restore.failures.sorted { $0.key < $1.key }.map { $0.value.description }.joined(separator: "; ")
            report.restoreProblem = "\(why). \(done); run kvmmigrate recover once the domain runs on one host"
            return
        }
        report.host = host
        journal.report(ClusterEvent(node: nil, step: "located", message: "\(domain) runs on \(host.name)"))
        let restore: ClusterSteps.RestoreResult
        if delegate {
            restore = await self.delegateRestore(steps: steps, journal: journal, domain: domain)
        } else {
            restore = await steps.restore(journal: journal, host: host)
        }
        report.restore = restore
        guard restore.succeeded else {
            report.restoreProblem =
                "not restored: "
                + restore.failures.sorted { $0.key < $1.key }.map { "\($0.value.description)" }.joined(separator: "; ")
                + " — still prepared; run kvmmigrate recover when it answers"
            return
        }
        let verification = await steps.verify(journal: journal, host: host)
        report.verification = verification
        journal.updateIfPossible { $0.phase = .restored }
        // Restored: the journal's job is done even when an agent still fails (that is for the operator, and
        // `kvmmigrate cluster verify` shows it); the report says so.
        journal.finishOrWarn()
        if let id = journal.operationID {
            await NodeLock.release(on: steps.topology.nodes, id: id, logger: self.logger)
        }
    }

    // MARK: - Recover

    /// Finishes every unfinished operation of this configuration's journal on the cluster the configuration
    /// reaches: restores with the host where each domain runs now, verifies, closes the journal.
    ///
    /// An unfinished operation of another guest cluster (a journal shared by several configurations) is left as
    /// it is, with a warning: restoring it from this cluster's files would write this cluster's values there.
    ///
    /// - Throws: ``ClusterError`` with ``ClusterError/Code/journal`` when every unfinished operation is another
    ///   cluster's, or one still runs.
    public func recover() async throws(ClusterError) -> [Report] {
        let store = try self.journalStore()
        let unfinished: [JournalEntry<ClusterOperationRecord>]
        do throws(JournalError) { unfinished = try store.unfinished() } catch {
            throw ClusterError(.journal, error.message)
        }
        guard !unfinished.isEmpty else { return [] }
        let cluster = try await ClusterTopology.discover(self.configuration, logger: self.logger)
        let entries = unfinished.filter { $0.key == cluster.key }
        for entry in unfinished where entry.key != cluster.key {
            self.onEvent(
                ClusterEvent(
                    node: nil,
                    step: "recover",
                    message: "left the \(entry.record.command) of \(entry.record.domain): it is of the guest cluster "
                        + "\(entry.key), not of \(cluster.key) that \(self.configurationPath) reaches; "
                        + "run recover with that cluster's configuration",
                    warning: true
                )
            )
        }
        if entries.isEmpty, let foreign = unfinished.first {
            throw ClusterError(
                .journal,
                "the unfinished \(foreign.record.command) of \(foreign.record.domain) is of the guest cluster "
                    + "\(foreign.key), not of \(cluster.key) that \(self.configurationPath) reaches: "
                    + "run recover with that cluster's configuration (--cluster-config)"
            )
        }
        var reports: [Report] = []
        for entry in entries {
            guard !entry.processRunning else {
                throw ClusterError(
                    .journal,
                    "the operation on \(entry.record.domain) is still running (pid \(entry.pid)): let it finish or stop it first"
                )
            }
            let handle: JournalHandle<ClusterOperationRecord>
            do throws(JournalError) { handle = try store.resume(entry) } catch {
                throw ClusterError(.journal, error.message)
            }
            let journal = ClusterJournal(handle: handle, record: entry.record, onEvent: self.onEvent)
            journal.report(
                ClusterEvent(
                    node: nil,
                    step: "recover",
                    message:
                        "finishing the \(entry.record.command) of \(entry.record.domain) left at \(entry.record.phase.rawValue)"
                )
            )
            let topology = try await ClusterTopology.discover(self.configuration, logger: self.logger)
            let steps = ClusterSteps(configuration: self.configuration, topology: topology, logger: self.logger)
            var report = Report(
                guestNode: entry.record.guestNode,
                nodes: topology.nodes.map(\.name),
                prepared: true,
                events: []
            )
            await self.restore(
                steps: steps,
                journal: journal,
                domain: entry.record.domain,
                delegate: entry.record.delegated,
                into: &report
            )
            report.events = journal.history
            reports.append(report)
        }
        return reports
    }

    // MARK: - Delegation to sfkvmmigrate

    /// `sfkvmmigrate -p DOMAIN -g` on the first node that answers.
    func delegatePrepare(steps: ClusterSteps, journal: ClusterJournal, domain: String) async throws(ClusterError) {
        try journal.update {
            $0.phase = .preparing
            $0.nodes = steps.topology.nodes.map {
                ClusterOperationRecord.NodeRecord(
                    name: $0.name,
                    clusterTimeoutBefore: nil,
                    shutdownFacilityWasRunning: true
                )
            }
        }
        let node = steps.topology.nodes[0]
        try await node.runChecked(
            [ClusterCommands.kvmMigrationHelper, "-p", domain, "-g"],
            timeout: .seconds(300),
            logger: self.logger
        )
        try journal.done("sfkvmmigrate-p", on: node.name, "sfkvmmigrate -p \(domain) -g")
        try journal.update { $0.phase = .prepared }
    }

    /// `sfkvmmigrate -u DOMAIN -g` on the first node that answers.
    func delegateRestore(
        steps: ClusterSteps,
        journal: ClusterJournal,
        domain: String
    ) async -> ClusterSteps.RestoreResult {
        var failures: [String: ClusterError] = [:]
        for node in steps.topology.nodes {
            do throws(ClusterError) {
                try await node.runChecked(
                    [ClusterCommands.kvmMigrationHelper, "-u", domain, "-g"],
                    timeout: .seconds(300),
                    logger: self.logger
                )
                journal.doneRestoring("sfkvmmigrate-u", on: node.name, "sfkvmmigrate -u \(domain) -g")
                return ClusterSteps.RestoreResult(failures: [:])
            } catch {
                failures[node.name] = error
            }
        }
        return ClusterSteps.RestoreResult(failures: failures)
    }
}
