import Foundation
import Journal

extension ClusterOperation {
    /// `kvmmigrate cluster restore DOMAIN [--host NAME]`: finishes a prepare run by hand (or left by a crash)
    /// for `domain`, pointing the agents at `hostName` or, without it, at the host libvirt says runs the domain.
    ///
    /// Uses the open journal of the cluster when there is one (so the CF timeout goes back to exactly what it
    /// was); without one, every node gets the default CF timeout of 10 s.
    public func restoreByHand(domain: String, hostName: String?) async throws(ClusterError) -> Report {
        let topology = try await ClusterTopology.discover(self.configuration, logger: self.logger)
        let steps = ClusterSteps(configuration: self.configuration, topology: topology, logger: self.logger)
        guard let guest = topology.guest(forDomain: domain) else {
            throw ClusterError(.unknownNode, "domain '\(domain)' is not a node of this cluster")
        }
        var host: ClusterConfiguration.Host?
        if let hostName {
            guard let found = self.configuration.host(matching: hostName) else {
                throw ClusterError(
                    .invalidValue,
                    "no host '\(hostName)' in the cluster configuration (hosts: "
                        + self.configuration.hosts.map(\.name).joined(separator: ", ") + ")"
                )
            }
            host = found
        }
        let store = try self.journalStore()
        let handle: JournalHandle<ClusterOperationRecord>
        do throws(JournalError) {
            if let entry = try store.unfinished().first(where: { $0.key == topology.key }) {
                guard entry.record.domain == domain else {
                    throw JournalError(
                        .operationInProgress,
                        "the open operation is for '\(entry.record.domain)', not '\(domain)': restore that one"
                    )
                }
                handle = try store.resume(entry)
            } else {
                var record = ClusterOperationRecord(
                    command: "restore",
                    domain: domain,
                    guestNode: guest.nodeName,
                    mode: topology.mode(of: guest.nodeName),
                    configurationPath: self.configurationPath,
                    sourceHost: nil,
                    destinationURI: nil
                )
                record.nodes = topology.nodes.map {
                    ClusterOperationRecord.NodeRecord(
                        name: $0.name,
                        clusterTimeoutBefore: ClusterFormat.defaultClusterTimeout,
                        shutdownFacilityWasRunning: true
                    )
                }
                handle = try store.begin(key: topology.key, record: record)
            }
        } catch {
            throw ClusterError(.journal, error.message)
        }
        let journal = ClusterJournal(handle: handle, record: handle.record, onEvent: self.onEvent)
        var report = Report(guestNode: guest.nodeName, nodes: topology.nodes.map(\.name), prepared: true, events: [])
        if let host {
            report.host = host
            let restore = await steps.restore(journal: journal, host: host)
            report.restore = restore
            if restore.succeeded {
                report.verification = await steps.verify(journal: journal, host: host)
                journal.updateIfPossible { $0.phase = .restored }
                journal.finishOrWarn()
                if let id = journal.operationID {
                    await NodeLock.release(on: topology.nodes, id: id, logger: self.logger)
                }
            } else {
                report.restoreProblem =
                    "not restored on "
                    + restore.failures.keys.sorted().joined(separator: ", ") + ": run the restore again when it answers"
            }
        } else {
            await self.restore(steps: steps, journal: journal, domain: domain, delegate: false, into: &report)
        }
        report.events = journal.history
        return report
    }

    /// `kvmmigrate cluster verify`: polls `sdtool -s` on every node until healthy or the deadline; changes nothing.
    public func verifyByHand() async throws(ClusterError) -> ClusterSteps.Verification {
        let topology = try await ClusterTopology.discover(self.configuration, logger: self.logger)
        let steps = ClusterSteps(configuration: self.configuration, topology: topology, logger: self.logger)
        let record = ClusterOperationRecord(
            command: "verify",
            domain: "",
            guestNode: "",
            mode: self.configuration.mode ?? .guest,
            configurationPath: self.configurationPath,
            sourceHost: nil,
            destinationURI: nil
        )
        return await steps.verify(
            journal: ClusterJournal(handle: nil, record: record, onEvent: self.onEvent),
            host: nil
        )
    }

    /// `kvmmigrate cluster status`: every node's state, read at once.
    public func status() async throws(ClusterError) -> ClusterStatus {
        let topology = try await ClusterTopology.discover(self.configuration, logger: self.logger)
        return await ClusterStatus.read(topology, logger: self.logger)
    }
}
