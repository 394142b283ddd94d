import Logging
import Migration
import Session
import Synchronization

/// Writes a ``MigrationSession``'s events of note to an ``AuditTrail``: each cluster step (checks, prepare,
/// restore, verify, per node), the migration's start with its policy, each convergence-policy step, the
/// switch-over or post-copy phase, the migration's end, the restore and the verification; not the progress samples.
///
/// ```swift
/// let auditor = SessionAuditor(trail)
/// for await event in session.events { display.render(event); auditor.record(event) }
/// auditor.finish(await outcome)
/// ```
///
/// `guest`, when given, is added to every record (an evacuation's sessions run side by side). Any thread.
public final class SessionAuditor: Sendable {
    private let trail: AuditTrail
    private let guest: String?
    /// The migration phases already told, so a phase is one record however many samples show it.
    private let phases = Mutex<Set<String>>([])

    public init(_ trail: AuditTrail, guest: String? = nil) {
        self.trail = trail
        self.guest = guest
    }

    /// Writes the step one event tells, if it tells one.
    public func record(_ event: SessionEvent) {
        guard let (name, failed, metadata) = self.step(for: event) else { return }
        var all = metadata
        if let guest { all["guest"] = "\(guest)" }
        self.trail.step(name, failed: failed, all)
    }

    /// Notes the session's outcome for the trail's `outcome` record: the status, the domain and hosts, libvirt's
    /// word, where the guest runs, the downtime, why it was refused, whether the cluster is healthy.
    public func finish(_ outcome: SessionOutcome) {
        self.trail.note(Self.metadata(for: outcome))
    }

    /// The step record one event makes: its name, whether it failed, and what it tells.
    func step(for event: SessionEvent) -> (String, Bool, Logger.Metadata)? {
        switch event {
        case .preparingCluster(let domain):
            return ("cluster_prepare", false, ["domain": "\(domain)"])
        case .cluster(let event):
            var metadata: Logger.Metadata = ["name": "\(event.step)", "message": "\(event.message)"]
            if let node = event.node { metadata["node"] = "\(node)" }
            if event.warning { metadata["warning"] = "true" }
            return ("cluster", event.failed, metadata)
        case .migrationStarted(let target, let policy):
            return ("migration_started", false, Self.metadata(for: target).merging(["policy": "\(policy)"]) { $1 })
        case .resumingPostCopy(let target):
            return ("post_copy_resume", false, Self.metadata(for: target))
        case .progress(let progress):
            let phase: String
            switch progress.phase {
            case .switchOver, .finishing: phase = "switch_over"
            case .postCopy: phase = "post_copy"
            case .setup, .preCopy: return nil
            }
            guard self.phases.withLock({ $0.insert(phase).inserted }) else { return nil }
            return (phase, false, [:])
        case .policyStep(let step):
            var metadata: Logger.Metadata = ["name": "\(step.kind.rawValue)", "detail": "\(step.detail)"]
            if let pass = step.pass { metadata["pass"] = "\(pass)" }
            if let downtime = step.downtime { metadata["downtime_ms"] = "\(AuditTrail.milliseconds(downtime))" }
            if let throttle = step.throttlePercent { metadata["throttle_percent"] = "\(throttle)" }
            return ("policy", false, metadata)
        case .notice(let line):
            return ("notice", false, ["message": "\(line)"])
        case .migrationEnded:
            return ("migration_ended", false, [:])
        case .restoringCluster:
            return ("cluster_restore", false, [:])
        case .verifying(let domain):
            return ("verify", false, ["domain": "\(domain)"])
        }
    }

    static func metadata(for target: MigrationTarget) -> Logger.Metadata {
        [
            "domain": "\(target.domainName)", "uuid": "\(target.domainUUID)",
            "source_host": "\(target.sourceHostname)", "destination_host": "\(target.destinationHostname)",
        ]
    }

    static func metadata(for outcome: SessionOutcome) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["status": "\(SessionTracer.key(outcome.status))"]
        if let target = outcome.target { metadata.merge(Self.metadata(for: target)) { $1 } }
        if let refusal = outcome.refusal { metadata["refusal"] = "\(refusal.description)" }
        if let report = outcome.report {
            metadata["migration"] = "\(report.outcome.rawValue)"
            metadata["running_on"] = "\(report.location.summary.rawValue)"
            metadata["migration_ms"] = "\(AuditTrail.milliseconds(report.totalTime))"
            if let downtime = report.downtime { metadata["downtime_ms"] = "\(AuditTrail.milliseconds(downtime))" }
            if let error = report.errorMessage { metadata["error"] = "\(error)" }
            if let reason = report.abortReason { metadata["abort_reason"] = "\(reason)" }
        }
        if let cluster = outcome.cluster { metadata["cluster_healthy"] = "\(cluster.healthy)" }
        if let verification = outcome.verification { metadata["verification"] = "\(verification.outcome.rawValue)" }
        return metadata
    }
}
