import Logging
import Session
import Synchronization

/// Writes an ``Evacuation``'s events of note to an ``AuditTrail``: the plan, each guest's start (with its
/// destination) and end, its session's steps (``SessionAuditor``, with `guest=`), and a stop; then notes the
/// evacuation's outcome. Any thread.
public final class EvacuationAuditor: Sendable {
    private let trail: AuditTrail
    /// One session auditor per guest: each guest's switch-over is its own.
    private let sessions = Mutex<[String: SessionAuditor]>([:])

    public init(_ trail: AuditTrail) {
        self.trail = trail
    }

    public func record(_ event: EvacuationEvent) {
        switch event {
        case .planned(let plan):
            let guests = plan.placements.map { "\($0.guest.name)>\($0.destination)" }
            self.trail.step("planned", ["placements": "\(guests.joined(separator: ","))"])
        case .notice(let line):
            self.trail.step("notice", ["message": "\(line)"])
        case .started(let placement, _):
            self.trail.step(
                "guest_started",
                [
                    "guest": "\(placement.guest.name)", "destination_host": "\(placement.destination)",
                    "destination": "\(placement.destinationURI)",
                ]
            )
        case .session(let guest, let event):
            let auditor = self.sessions.withLock { sessions in
                if let auditor = sessions[guest] { return auditor }
                let auditor = SessionAuditor(self.trail, guest: guest)
                sessions[guest] = auditor
                return auditor
            }
            auditor.record(event)
        case .finished(let result):
            var metadata: Logger.Metadata = ["guest": "\(result.guest.name)", "moved": "\(result.moved)"]
            if let status = result.status { metadata["status"] = "\(SessionTracer.key(status))" }
            if let destination = result.destination { metadata["destination_host"] = "\(destination)" }
            if let note = result.note { metadata["note"] = "\(note)" }
            if let elapsed = result.elapsed { metadata["total_ms"] = "\(AuditTrail.milliseconds(elapsed))" }
            if let downtime = result.outcome?.report?.downtime {
                metadata["downtime_ms"] = "\(AuditTrail.milliseconds(downtime))"
            }
            self.trail.step("guest_finished", failed: !result.moved, metadata)
        case .checked:
            break
        case .stopping(let reason, let cancelled):
            self.trail.step("stopping", ["reason": "\(reason)", "cancelled": "\(cancelled.joined(separator: ","))"])
        }
    }

    /// Notes the evacuation's status, why it stopped, and how many guests moved.
    public func finish(_ outcome: EvacuationOutcome) {
        var metadata: Logger.Metadata = [
            "status": "\(SessionTracer.key(outcome.status))",
            "guests": "\(outcome.results.count)",
            "moved": "\(outcome.results.filter(\.moved).count)",
        ]
        if let message = outcome.message { metadata["message"] = "\(message)" }
        if let source = outcome.source { metadata["source_host"] = "\(source)" }
        self.trail.note(metadata)
    }
}
