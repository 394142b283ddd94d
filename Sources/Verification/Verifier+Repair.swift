import Cluster
import Foundation
import Journal
import Libvirt

extension Verifier {
    /// Verifies, repairs what the checks say `--fix` can repair, and verifies again.
    ///
    /// The repairs are the restore's own code: ``ClusterSteps/pointAgents(on:guest:host:)`` on every node for a
    /// guest whose agents name the wrong host, `cfset -r` where CF uses another timeout than `cluster.config`
    /// says, ``ClusterSteps/startShutdownFacility(on:)`` (`sdtool -r`, or `-b`) where SF is stopped or tested
    /// before the change, and the guest agent's clock sync (`virDomainSetTime`). Nothing is repaired while the
    /// journal holds an unfinished operation on the cluster: `kvmmigrate recover` knows what each node had.
    /// After repairs that restart SF's tests, verification repeats until SF has tested (or the configuration's
    /// verify timeout passes).
    public func verifyAndRepair(_ scope: Scope) async -> VerificationReport {
        let clock = ContinuousClock()
        let start = clock.now
        let first = await self.read(scope)
        let repairs = Self.repairs(in: first.checks)
        guard !repairs.isEmpty else {
            return VerificationReport(checks: first.checks, elapsed: clock.now - start)
        }
        var done: [String] = []
        if let refusal = self.unfinishedOperation(first.topology) {
            done.append("nothing repaired: \(refusal)")
            return VerificationReport(checks: first.checks, repairs: done, before: nil, elapsed: clock.now - start)
        }
        var retested = false
        for repair in repairs {
            let (line, restartsTests) = await self.apply(repair, reading: first)
            done.append(line)
            retested = retested || restartsTests
        }
        var after = await self.read(scope)
        let deadline = clock.now + (self.cluster?.verifyTimeout ?? .seconds(60))
        // SF's tests take a few seconds after `sdtool -r`: verify again until they are done.
        while retested, clock.now < deadline,
            after.checks.contains(where: { ($0.name == "SF" || $0.name == "SF tested") && $0.outcome != .pass })
        {
            try? await Task.sleep(for: .seconds(1))
            after = await self.read(scope)
        }
        return VerificationReport(checks: after.checks, repairs: done, before: first.checks, elapsed: clock.now - start)
    }

    /// The distinct repairs the checks ask for, agents first (their SF re-read covers a node's re-test).
    static func repairs(in checks: [VerificationCheck]) -> [Repair] {
        // The after-step's order holds: SF is started only where the CF timeout is (or will be) restored, so a
        // node whose timeout --fix cannot restore is left as it is.
        let timeoutStuck = Set(
            checks.compactMap { check -> String? in
                guard check.name == "CF timeout", check.outcome == .fail, check.repair == nil,
                    case .node(let node) = check.subject
                else { return nil }
                return node
            }
        )
        var repairs: [Repair] = []
        for check in checks where check.outcome != .pass {
            guard let repair = check.repair, !repairs.contains(repair) else { continue }
            if case .retestShutdownFacility(let node) = repair, timeoutStuck.contains(node) { continue }
            repairs.append(repair)
        }
        func isPointing(_ repair: Repair) -> Bool { if case .pointAgents = repair { true } else { false } }
        func isRetest(_ repair: Repair) -> Bool { if case .retestShutdownFacility = repair { true } else { false } }
        let pointing = repairs.filter(isPointing)
        return pointing + repairs.filter { !isPointing($0) && !(isRetest($0) && !pointing.isEmpty) }
    }

    /// Why nothing may be repaired now: an unfinished operation on this cluster in the journal.
    private func unfinishedOperation(_ topology: ClusterTopology?) -> String? {
        guard let configuration = self.cluster, let topology else { return nil }
        let entries: [JournalEntry<ClusterOperationRecord>]
        do throws(JournalError) {
            entries = try JournalStore<ClusterOperationRecord>(
                directory: URL(filePath: configuration.journalDirectory)
            ).unfinished()
        } catch {
            return "the journal cannot be read: \(error.message)"
        }
        guard let entry = entries.first(where: { $0.key == topology.key }) else { return nil }
        return entry.processRunning
            ? "the \(entry.record.command) of \(entry.record.domain) is running (pid \(entry.pid))"
            : "the \(entry.record.command) of \(entry.record.domain) was left unfinished: run kvmmigrate recover"
    }

    /// Applies one repair: a line saying what was done (or why not), and whether SF's tests restarted.
    private func apply(_ repair: Repair, reading: Reading) async -> (String, Bool) {
        switch repair {
        case .pointAgents(let guest, let hostName):
            guard let configuration = self.cluster, let topology = reading.topology,
                let host = configuration.hosts.first(where: { $0.name == hostName })
            else { return ("\(repair): not possible without the cluster's configuration", false) }
            let steps = ClusterSteps(configuration: configuration, topology: topology, logger: self.logger)
            let nodes = topology.nodes.filter { node in
                reading.snapshots.contains { $0.node == node.name && $0.unreachable == nil }
            }
            let failures = ConcurrentResults<ClusterError>()
            await concurrently(nodes) { node in
                do throws(ClusterError) {
                    try await steps.pointAgents(on: node, guest: guest, host: host)
                    try await steps.startShutdownFacility(on: node)
                } catch {
                    failures.record(error, for: node)
                }
            }
            let failed = failures.inOrder(of: nodes).map { "\($0.node.name): \($0.value.message)" }
            return (
                "pointed \(guest)'s SF agents at \(host.name) (\(host.address)) and made SF re-read on "
                    + nodes.map(\.name).joined(separator: ", ")
                    + (failed.isEmpty ? "" : " — FAILED on " + failed.joined(separator: "; ")),
                true
            )
        case .reloadClusterTimeout(let name):
            guard let node = reading.topology?.nodes.first(where: { $0.name == name }) else {
                return ("\(repair): \(name) is not a node of the cluster", false)
            }
            do throws(ClusterError) {
                try await node.runChecked([ClusterCommands.clusterSet, "-r"], logger: self.logger)
                return ("loaded cluster.config into CF on \(name) (cfset -r)", false)
            } catch {
                return ("cfset -r on \(name) FAILED: \(error.message)", false)
            }
        case .setClusterTimeout(let name, let seconds):
            guard let node = reading.topology?.nodes.first(where: { $0.name == name }) else {
                return ("\(repair): \(name) is not a node of the cluster", false)
            }
            do throws(ClusterError) {
                // The prepare's own edit (CLUSTER_TIMEOUT set, every other line kept), then the restore's load.
                try await node.edit(ClusterFormat.clusterConfigPath, logger: self.logger) { text throws(ClusterError) in
                    try ClusterEdits.prepared(clusterConfig: text, timeout: seconds)
                }
                try await node.runChecked([ClusterCommands.clusterSet, "-r"], logger: self.logger)
                return (
                    "wrote CLUSTER_TIMEOUT \(seconds) into cluster.config on \(name) and loaded it (cfset -r)", false
                )
            } catch {
                return ("setting the CF timeout on \(name) FAILED: \(error.message)", false)
            }
        case .retestShutdownFacility(let name):
            guard let configuration = self.cluster, let topology = reading.topology,
                let node = topology.nodes.first(where: { $0.name == name })
            else { return ("\(repair): \(name) is not a node of the cluster", false) }
            let steps = ClusterSteps(configuration: configuration, topology: topology, logger: self.logger)
            do throws(ClusterError) {
                try await steps.startShutdownFacility(on: node)
                return ("made SF re-read and test again on \(name) (sdtool -r, or -b when stopped)", true)
            } catch {
                return ("sdtool -r on \(name) FAILED: \(error.message)", false)
            }
        case .synchronizeGuestClock(let domain, let hostName):
            guard let host = self.hosts.first(where: { $0.name == hostName }) else {
                return ("\(repair): \(hostName) is not a configured host", false)
            }
            let answer = await runBlocking(named: "guest time", timeout: self.readTimeout) {
                Result { () throws(LibvirtError) in
                    try Connection(uri: host.uri).domain(named: domain).setGuestTime(nil)
                }
            }
            switch answer {
            case .success(.success):
                return ("set \(domain)'s clock from its hardware clock through the guest agent", false)
            case .success(.failure(let error)):
                return ("setting \(domain)'s clock FAILED: \(error.message)", false)
            case .failure(let timeout):
                return ("setting \(domain)'s clock FAILED: \(timeout)", false)
            }
        }
    }
}
