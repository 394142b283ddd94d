import Cluster
import Foundation

/// The guest cluster's checks, as pure functions of what was read: every node's snapshot, where libvirt runs each
/// guest's domain, and the configuration's hosts.
public struct ClusterChecks: Sendable {
    public var configuration: ClusterConfiguration
    /// The cluster's SF configuration, as the node read first has it.
    public var daemonConfig: ShutdownDaemonConfig
    /// Guest node → its libvirt domain (from `SA_libvirtgp.cfg`).
    public var domains: [(node: String, domain: String)]
    public var snapshots: [NodeSnapshot]
    public var placements: [String: DomainPlacement]
    /// When each domain last moved, by this host's clock, when known (a migration of this process).
    public var movedAt: [String: Double]
    /// The largest clock difference that passes, in seconds.
    public var clockTolerance: Double
    /// The CF timeout `--fix` writes where `cluster.config` still holds a migration's (`--cf-timeout`).
    public var restoredClusterTimeout: Int?

    public init(
        configuration: ClusterConfiguration,
        daemonConfig: ShutdownDaemonConfig,
        domains: [(node: String, domain: String)],
        snapshots: [NodeSnapshot],
        placements: [String: DomainPlacement],
        movedAt: [String: Double] = [:],
        clockTolerance: Double,
        restoredClusterTimeout: Int? = nil
    ) {
        self.configuration = configuration
        self.daemonConfig = daemonConfig
        self.domains = domains
        self.snapshots = snapshots
        self.placements = placements
        self.movedAt = movedAt
        self.clockTolerance = clockTolerance
        self.restoredClusterTimeout = restoredClusterTimeout
    }

    /// The nodes that answered the whole snapshot: what their files say is known.
    private var reachable: [NodeSnapshot] { self.snapshots.filter(\.answered) }

    // MARK: - Agreement

    /// Per guest: each agent that names its host names, on every node, the host where libvirt runs its domain; its
    /// weight is the host's when the configuration gives one.
    public func agentChecks(guest: String, domain: String) -> [VerificationCheck] {
        let subject = VerificationCheck.Subject.domain(domain, node: guest)
        guard let placement = self.placements[domain], let running = placement.host else {
            return [
                VerificationCheck(
                    subject,
                    "SF agents",
                    .fail,
                    "not checked: where \(domain) runs is not known (see placement)"
                )
            ]
        }
        // The host as the configuration describes it: its address is what the agents must name.
        guard let host = self.configuration.hosts.first(where: { $0.uri == running.uri }) else {
            return [
                VerificationCheck(
                    subject,
                    "SF agents",
                    .fail,
                    "not checked: \(domain) runs on \(running.name) (\(running.uri)), which is not a host of the "
                        + "cluster configuration"
                )
            ]
        }
        let listed =
            self.daemonConfig.entry(for: guest).map { entry in
                ClusterTopology.hostAgents.filter { entry.agent(named: $0) != nil }
            } ?? []
        guard !self.reachable.isEmpty else {
            return [VerificationCheck(subject, "SF agents", .fail, "not checked: no node of the cluster answered")]
        }
        var checks: [VerificationCheck] = []
        for agent in listed {
            var wrong: [(node: String, says: String)] = []
            var missing: [String] = []
            for snapshot in self.reachable {
                switch self.hostNamed(by: agent, for: guest, in: snapshot) {
                case .some(let says):
                    let expected = agent == "SA_vmchkhost" ? "\(host.name) \(host.address)" : host.address
                    if says != expected { wrong.append((snapshot.node, says)) }
                case nil:
                    missing.append(snapshot.node)
                }
            }
            let shown = agent == "SA_vmchkhost" ? "\(host.name) \(host.address)" : "\(host.address) (\(host.name))"
            if wrong.isEmpty && missing.isEmpty {
                checks.append(
                    VerificationCheck(
                        subject,
                        agent,
                        .pass,
                        "names \(shown) on \(self.nodeList(self.reachable.map(\.node))), where \(domain) runs"
                    )
                )
                continue
            }
            var parts: [String] = []
            for says in Set(wrong.map(\.says)).sorted() {
                let nodes = wrong.filter { $0.says == says }.map(\.node)
                parts.append("names \(self.describe(says, agent: agent)) on \(self.nodeList(nodes))")
            }
            if !missing.isEmpty {
                parts.append("has no line for \(guest) on \(self.nodeList(missing))")
            }
            checks.append(
                VerificationCheck(
                    subject,
                    agent,
                    .fail,
                    parts.joined(separator: "; ") + ", but \(domain) runs on \(host.name) (\(host.address)): "
                        + "a fence of \(guest) would go to the wrong host",
                    repair: missing.isEmpty ? .pointAgents(guest: guest, host: host.name) : nil
                )
            )
        }
        if let weight = host.weight {
            let wrong = self.reachable.compactMap { snapshot -> String? in
                guard let text = snapshot.files[ClusterFormat.shutdownDaemonConfigPath],
                    let config = try? ShutdownDaemonConfig(parsing: text),
                    let entry = config.entry(for: guest)
                else { return "\(snapshot.node) (no entry)" }
                return entry.weight == weight ? nil : "\(snapshot.node) (\(entry.weight))"
            }
            checks.append(
                wrong.isEmpty
                    ? VerificationCheck(
                        subject,
                        "SF weight",
                        .pass,
                        "\(weight), as the configuration gives guests on \(host.name)"
                    )
                    : VerificationCheck(
                        subject,
                        "SF weight",
                        .fail,
                        "rcsd.cfg gives \(guest) another weight on \(wrong.joined(separator: ", ")); guests on "
                            + "\(host.name) get \(weight)",
                        repair: .pointAgents(guest: guest, host: host.name)
                    )
            )
        }
        return checks
    }

    /// What `agent`'s file on a node says of `guest`'s host: the address (libvirt agents) or `NAME ADDRESS`
    /// (SA_vmchkhost); `nil` when the file or its line is missing or unreadable.
    private func hostNamed(by agent: String, for guest: String, in snapshot: NodeSnapshot) -> String? {
        switch agent {
        case "SA_vmchkhost":
            guard let text = snapshot.files[ClusterFormat.hostCheckAgentConfigPath],
                let entry = (try? VMCheckHostConfig(parsing: text))?.entry(for: guest)
            else { return nil }
            return "\(entry.hostNodeName) \(entry.hostAddress)"
        default:
            let path =
                agent == "SA_libvirtgr"
                ? ClusterFormat.libvirtResetAgentConfigPath : ClusterFormat.libvirtPanicAgentConfigPath
            guard let text = snapshot.files[path],
                let entry = (try? LibvirtAgentConfig(parsing: text, fileName: agent + ".cfg"))?.entry(for: guest)
            else { return nil }
            return entry.hostAddress
        }
    }

    private func describe(_ says: String, agent: String) -> String {
        let address = agent == "SA_vmchkhost" ? String(says.split(separator: " ").last ?? "") : says
        let known = self.configuration.hosts.first { $0.address == address }
        return known.map { "\(says) (\($0.name))" } ?? "\(says) (no configured host)"
    }

    /// Every node holds the same SF configuration files, byte for byte (the manuals ask for an identical
    /// `rcsd.cfg` on every node; the agent files name every guest's host and must agree as well).
    public func fileAgreement() -> [VerificationCheck] {
        var checks: [VerificationCheck] = []
        let nodes = self.reachable
        guard nodes.count > 1 else { return [] }
        for path in NodeSnapshot.sharedFiles {
            let name = (path as NSString).lastPathComponent
            var versions: [String?] = []
            var holders: [[String]] = []
            for snapshot in nodes {
                let text = snapshot.files[path]
                if let index = versions.firstIndex(where: { $0 == text }) {
                    holders[index].append(snapshot.node)
                } else {
                    versions.append(text)
                    holders.append([snapshot.node])
                }
            }
            if versions.count == 1 {
                if versions[0] != nil {
                    checks.append(
                        VerificationCheck(.cluster, name, .pass, "identical on \(self.nodeList(nodes.map(\.node)))")
                    )
                }
                continue
            }
            let described = zip(versions, holders).map { version, nodes in
                (version == nil ? "missing on " : "one version on ") + self.nodeList(nodes)
            }
            checks.append(
                VerificationCheck(
                    .cluster,
                    name,
                    .fail,
                    "the nodes disagree: " + described.joined(separator: "; ")
                )
            )
        }
        return checks
    }

    // MARK: - Per node

    /// What one node says: CF timeout, CF's node table, SF's table, when SF last tested, its clock.
    public func nodeChecks(_ snapshot: NodeSnapshot) -> [VerificationCheck] {
        let subject = VerificationCheck.Subject.node(snapshot.node)
        if let unreachable = snapshot.unreachable {
            return [VerificationCheck(subject, "reachable", .fail, unreachable)]
        }
        var checks = snapshot.errors.map { VerificationCheck(subject, "read", .fail, $0) }
        checks += self.clusterTimeoutCheck(snapshot)
        if let table = snapshot.nodeTable {
            let expected = self.daemonConfig.entries.map(\.nodeName)
            let absent = expected.filter { table.node(named: $0) == nil }
            let notUp = table.nodesNotUp.map { "\($0.name) \($0.state)" }
            checks.append(
                absent.isEmpty && notUp.isEmpty
                    ? VerificationCheck(
                        subject,
                        "CF nodes",
                        .pass,
                        table.nodes.map { "\($0.name) \($0.state)" }.joined(separator: ", ")
                    )
                    : VerificationCheck(
                        subject,
                        "CF nodes",
                        .fail,
                        (notUp + absent.map { "\($0) not in cftool -n" }).joined(separator: ", ")
                    )
            )
        }
        checks += self.shutdownFacilityChecks(snapshot)
        if let clock = snapshot.clock {
            let off = clock.isOff(by: self.clockTolerance)
            checks.append(
                VerificationCheck(
                    subject,
                    "clock",
                    off ? .fail : .pass,
                    "\(Self.seconds(clock.offset, signed: true)) from this host (measured to \(Self.seconds(clock.uncertainty)))"
                        + (off
                            ? ": beyond the tolerance of \(Self.seconds(self.clockTolerance)); RMS may log WRP 34/35 "
                                + "(no longer in time sync) until NTP steps it"
                            : "")
                )
            )
        }
        return checks
    }

    private func clusterTimeoutCheck(_ snapshot: NodeSnapshot) -> [VerificationCheck] {
        let subject = VerificationCheck.Subject.node(snapshot.node)
        guard let loaded = snapshot.clusterTimeoutInUse else { return [] }
        let configured = snapshot.clusterTimeoutConfigured
        let prepared = NodeStatus.preparedClusterTimeout
        // What --fix can do: load the file when it holds a normal timeout; when the file itself holds a
        // migration's, write the value the operator gives (the one before is recorded nowhere to be read).
        var repair: Repair?
        var hint = ""
        if let configured {
            if configured < prepared {
                repair = .reloadClusterTimeout(node: snapshot.node)
            } else if let restored = self.restoredClusterTimeout {
                repair = .setClusterTimeout(node: snapshot.node, seconds: restored)
            } else {
                hint =
                    "; --fix needs --cf-timeout SECONDS, the timeout before (PRIMECLUSTER's default is "
                    + "\(ClusterFormat.defaultClusterTimeout))"
            }
        }
        if loaded >= prepared || (configured ?? 0) >= prepared {
            let file = configured.map { $0 == loaded ? ", as cluster.config says" : ", cluster.config says \($0) s" }
            return [
                VerificationCheck(
                    subject,
                    "CF timeout",
                    .fail,
                    "\(loaded) s loaded (cfset -a)\(file ?? ""): still prepared for a migration, a forgotten "
                        + "after-step (sfkvmmigrate -u, or kvmmigrate recover)\(hint)",
                    repair: repair
                )
            ]
        }
        if let configured, configured != loaded {
            return [
                VerificationCheck(
                    subject,
                    "CF timeout",
                    .fail,
                    "\(loaded) s loaded (cfset -a), but cluster.config says \(configured) s",
                    repair: repair
                )
            ]
        }
        return [VerificationCheck(subject, "CF timeout", .pass, "\(loaded) s loaded, as cluster.config says")]
    }

    private func shutdownFacilityChecks(_ snapshot: NodeSnapshot) -> [VerificationCheck] {
        let subject = VerificationCheck.Subject.node(snapshot.node)
        guard let table = snapshot.shutdownFacility else {
            // Not read (its error is reported already), or read as not running.
            guard snapshot.shutdownFacilityRead else { return [] }
            return [
                VerificationCheck(
                    subject,
                    "SF",
                    .fail,
                    "not running",
                    repair: .retestShutdownFacility(node: snapshot.node)
                )
            ]
        }
        var checks: [VerificationCheck] = []
        var expected: [(node: String, agent: String)] = []
        for entry in self.daemonConfig.entries {
            for agent in entry.agents { expected.append((entry.nodeName, ClusterFormat.baseAgentName(agent.name))) }
        }
        let missing = expected.filter { table.row(for: $0.node, agent: $0.agent) == nil }
        var problems = table.problems
        problems += missing.map { "no row for \($0.node) \($0.agent): SF has not read the current rcsd.cfg" }
        if problems.isEmpty {
            checks.append(
                VerificationCheck(subject, "SF", .pass, "running; \(table.rows.count) agents TestWorked, InitWorked")
            )
        } else {
            checks.append(
                VerificationCheck(
                    subject,
                    "SF",
                    table.isSettling && missing.isEmpty && !table.hasFailures ? .warn : .fail,
                    problems.joined(separator: "; "),
                    repair: .retestShutdownFacility(node: snapshot.node)
                )
            )
        }
        checks.append(self.testedCheck(snapshot, table: table))
        return checks
    }

    /// Whether SF tested each host-naming agent after its configuration last changed and after its guest last
    /// moved: a TestWorked row older than either says nothing about the host the agent must reach now.
    private func testedCheck(_ snapshot: NodeSnapshot, table: ShutdownFacilityStatus) -> VerificationCheck {
        let subject = VerificationCheck.Subject.node(snapshot.node)
        var stale: [String] = []
        var untested: [String] = []
        var latest: Double?
        let clock = snapshot.clock
        for row in table.rows where ClusterTopology.hostAgents.contains(row.agentName) {
            guard let test = snapshot.testLog.latest(node: row.nodeName, agent: row.agentName) else {
                untested.append("\(row.nodeName) \(row.agentName)")
                continue
            }
            latest = max(latest ?? test.time, test.time)
            // The later change of the agent's file and rcsd.cfg, and which file it was.
            let changes = [Self.configurationPath(of: row.agentName), ClusterFormat.shutdownDaemonConfigPath]
                .compactMap { path in snapshot.modified[path].map { (path, $0) } }
            if let (file, changed) = changes.max(by: { $0.1 < $1.1 }), changed > test.time {
                stale.append(
                    "\(row.nodeName) \(row.agentName) last tested \(Self.clockTime(test.time)), before "
                        + "\((file as NSString).lastPathComponent) changed (\(Self.clockTime(changed)))"
                )
                continue
            }
            if let domain = self.domains.first(where: { $0.node == row.nodeName })?.domain,
                let moved = self.movedAt[domain], let clock
            {
                let movedOnNode = moved + clock.offset
                if test.time < movedOnNode {
                    stale.append(
                        "\(row.nodeName) \(row.agentName) last tested \(Self.clockTime(test.time)), before \(domain) "
                            + "moved (\(Self.clockTime(movedOnNode)))"
                    )
                }
            }
        }
        if !stale.isEmpty {
            return VerificationCheck(
                subject,
                "SF tested",
                .warn,
                stale.joined(separator: "; ") + ": its TestWorked may be about the old host",
                repair: .retestShutdownFacility(node: snapshot.node)
            )
        }
        if !untested.isEmpty {
            return VerificationCheck(
                subject,
                "SF tested",
                .warn,
                "no test in \(ShutdownFacilityLog.path) for \(untested.joined(separator: ", "))",
                repair: .retestShutdownFacility(node: snapshot.node)
            )
        }
        return VerificationCheck(
            subject,
            "SF tested",
            .pass,
            "every agent tested after its configuration changed"
                + (self.movedAt.isEmpty ? "" : " and its guest moved")
                + (latest.map { " (latest \(Self.clockTime($0)))" } ?? "")
        )
    }

    /// The clocks of the nodes against each other: the spread of their offsets.
    public func clockAgreement() -> [VerificationCheck] {
        let clocks = self.reachable.compactMap { snapshot in snapshot.clock.map { (snapshot.node, $0) } }
        guard clocks.count > 1,
            let low = clocks.min(by: { $0.1.offset < $1.1.offset }),
            let high = clocks.max(by: { $0.1.offset < $1.1.offset })
        else { return [] }
        let spread = high.1.offset - low.1.offset
        let uncertainty = high.1.uncertainty + low.1.uncertainty
        // The difference lies between `spread - low.uncertainty` and `spread + high.uncertainty`.
        let off = spread - low.1.uncertainty > self.clockTolerance
        return [
            VerificationCheck(
                .cluster,
                "clocks",
                off ? .fail : .pass,
                "the nodes' clocks \(off ? "differ by" : "agree within") \(Self.seconds(spread)) "
                    + "(\(high.0) against \(low.0), measured to \(Self.seconds(uncertainty)))"
                    + (off ? "; tolerance \(Self.seconds(self.clockTolerance))" : "")
            )
        ]
    }

    // MARK: - Formatting

    static func configurationPath(of agent: String) -> String {
        switch agent {
        case "SA_libvirtgr": ClusterFormat.libvirtResetAgentConfigPath
        case "SA_vmchkhost": ClusterFormat.hostCheckAgentConfigPath
        default: ClusterFormat.libvirtPanicAgentConfigPath
        }
    }

    func nodeList(_ nodes: [String]) -> String {
        nodes.count == self.reachable.count && nodes.count > 1 ? "every node" : nodes.joined(separator: ", ")
    }

    static func seconds(_ value: Double, signed: Bool = false) -> String {
        let text = String(format: abs(value) < 10 ? "%.3f s" : "%.1f s", abs(value))
        guard signed else { return text }
        return (value < 0 ? "-" : "+") + text
    }

    /// `HH:MM:SS` UTC of a time in seconds since the epoch.
    static func clockTime(_ time: Double) -> String {
        let seconds = Int(time.rounded(.down)) % 86_400
        return String(format: "%02d:%02d:%02d UTC", seconds / 3600, seconds % 3600 / 60, seconds % 60)
    }
}
