import Cluster
import Libvirt

/// Where libvirt has a domain: on every configured host, whether it is there, in what state, and whether it is
/// defined there. Read-only connections; what a host did not answer in time is said, never guessed.
public struct DomainPlacement: Sendable {
    /// The domain as one host has it.
    public struct Copy: Sendable {
        public var host: ClusterConfiguration.Host
        public var state: DomainStateInfo
        /// Whether the host keeps a persistent definition of it.
        public var persistent: Bool
        public var guestAgent: GuestAgentChannel

        public init(
            host: ClusterConfiguration.Host,
            state: DomainStateInfo,
            persistent: Bool,
            guestAgent: GuestAgentChannel = .none
        ) {
            self.host = host
            self.state = state
            self.persistent = persistent
            self.guestAgent = guestAgent
        }

        public var isActive: Bool { self.state.isActive }
    }

    public var domain: String
    /// The hosts that have the domain (running, paused or only defined), in the order of the hosts asked.
    public var copies: [Copy]
    /// Hosts that did not answer, with why.
    public var unanswered: [(host: ClusterConfiguration.Host, reason: String)]

    public init(
        domain: String,
        copies: [Copy],
        unanswered: [(host: ClusterConfiguration.Host, reason: String)] = []
    ) {
        self.domain = domain
        self.copies = copies
        self.unanswered = unanswered
    }

    /// The copies that run (or are paused): where the guest is.
    public var active: [Copy] { self.copies.filter(\.isActive) }

    /// The one host the domain runs on, when there is exactly one active copy and every host answered.
    public var host: ClusterConfiguration.Host? {
        let active = self.active
        guard active.count == 1, self.unanswered.isEmpty else { return nil }
        return active[0].host
    }

    /// Reads `domains` on every host at once: one read-only connection per host, each call bounded by `timeout`.
    public static func read(
        _ domains: [String],
        on hosts: [ClusterConfiguration.Host],
        timeout: Duration
    ) async -> [String: DomainPlacement] {
        guard !domains.isEmpty else { return [:] }
        let answers = ConcurrentResults<Result<[String: Copy], HostFailure>>()
        await concurrently(hosts) { host in
            let answer = await runBlocking(named: "placement", timeout: timeout) {
                Result { () throws(HostFailure) -> [String: Copy] in
                    try Self.copies(of: domains, on: host)
                }
            }
            switch answer {
            case .success(let result): answers.record(result, for: host.uri)
            case .failure(let timeout):
                answers.record(.failure(HostFailure(reason: timeout.description)), for: host.uri)
            }
        }
        var placements: [String: DomainPlacement] = [:]
        for domain in domains {
            var placement = DomainPlacement(domain: domain, copies: [])
            for host in hosts {
                switch answers[host.uri] {
                case .success(let copies):
                    if let copy = copies[domain] { placement.copies.append(copy) }
                case .failure(let failure):
                    placement.unanswered.append((host, failure.reason))
                case nil:
                    placement.unanswered.append((host, "no answer"))
                }
            }
            placements[domain] = placement
        }
        return placements
    }

    struct HostFailure: Error {
        var reason: String
    }

    /// One host's copies of `domains` (blocking).
    private static func copies(
        of domains: [String],
        on host: ClusterConfiguration.Host
    ) throws(HostFailure) -> [String: Copy] {
        do throws(LibvirtError) {
            let connection = try Connection(uri: host.uri, readOnly: true)
            var copies: [String: Copy] = [:]
            for name in domains {
                let domain: Domain
                do throws(LibvirtError) {
                    domain = try connection.domain(named: name)
                } catch  where error.code == .noDomain {
                    continue
                }
                copies[name] = Copy(
                    host: host,
                    state: try domain.state(),
                    persistent: try domain.isPersistent(),
                    guestAgent: (try? domain.guestAgentChannel()) ?? .none
                )
            }
            return copies
        } catch {
            throw HostFailure(reason: error.message)
        }
    }

    // MARK: - Checks

    /// The placement and definition checks of this domain (pure).
    ///
    /// - Placement: active on exactly one configured host (fail on none or several: a guest on two hosts, or a
    ///   paused copy a failed migration left beside the running one); paused: warn; a host that did not answer:
    ///   fail when that leaves nowhere to run, warn otherwise (a second copy there cannot be ruled out).
    /// - Definition: persistent on the host that runs it; defined on no other host (a definition left on the
    ///   source lets a later `virsh start` there run a second copy: warn).
    public func checks(node: String?) -> [VerificationCheck] {
        let subject = VerificationCheck.Subject.domain(self.domain, node: node)
        var checks: [VerificationCheck] = []
        let silent = self.unanswered.map { "\($0.host.name) did not answer (\($0.reason))" }
        let active = self.active
        switch active.count {
        case 0:
            let defined = self.copies.map { "\($0.host.name) (\($0.state.state))" }
            checks.append(
                VerificationCheck(
                    subject,
                    VerificationReport.placement,
                    .fail,
                    (silent.isEmpty ? "runs on none of the configured hosts" : "cannot tell where it runs: ")
                        + silent.joined(separator: "; ")
                        + (defined.isEmpty ? "" : "; defined on \(defined.joined(separator: ", "))")
                )
            )
        case 1:
            let copy = active[0]
            var detail = "runs on \(copy.host.name) only"
            var outcome = VerificationCheck.Outcome.pass
            if copy.state.state != .running {
                outcome = .warn
                detail = "is \(copy.state) on \(copy.host.name), its only copy"
            }
            if !silent.isEmpty {
                outcome = max(outcome, .warn)
                detail += "; " + silent.joined(separator: "; ") + ": a second copy there cannot be ruled out"
            }
            checks.append(VerificationCheck(subject, VerificationReport.placement, outcome, detail))
        default:
            let described = active.map { "\($0.host.name) (\($0.state))" }.joined(separator: ", ")
            let paused = active.filter { $0.state.state == .paused }
            var detail = "active on \(active.count) hosts: \(described)"
            if paused.count == active.count - 1 {
                detail +=
                    "; the paused copy on \(paused.map(\.host.name).joined(separator: ", ")) is a leftover of a "
                    + "migration: destroy it once the running copy is confirmed"
            } else {
                detail += ": the guest runs twice; stop one copy"
            }
            checks.append(VerificationCheck(subject, VerificationReport.placement, .fail, detail))
        }
        if let running = active.first, active.count == 1 {
            let elsewhere = self.copies.filter { !$0.isActive }
            if !running.persistent {
                checks.append(
                    VerificationCheck(
                        subject,
                        "definition",
                        .warn,
                        "transient on \(running.host.name): no definition there, so it is gone once it stops "
                            + "(virsh migrate --persistent, or virsh define on \(running.host.name))"
                    )
                )
            } else if !elsewhere.isEmpty {
                let hosts = elsewhere.map(\.host.name).joined(separator: ", ")
                checks.append(
                    VerificationCheck(
                        subject,
                        "definition",
                        .warn,
                        "also defined on \(hosts): a virsh start there runs a second copy "
                            + "(virsh undefine \(self.domain) on \(hosts) once sure)"
                    )
                )
            } else {
                checks.append(
                    VerificationCheck(subject, "definition", .pass, "defined on \(running.host.name) only")
                )
            }
        }
        return checks
    }
}
