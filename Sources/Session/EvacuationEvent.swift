import Foundation
import Migration

/// Something an ``Evacuation`` tells while it runs, in order, for progress output.
public enum EvacuationEvent: Sendable {
    /// The plan the evacuation follows (after the survey; on `--resume`, of the guests still on the source).
    case planned(EvacuationPlan)
    /// One line worth telling: a destination that did not answer, a guest moved already, a cluster recovered.
    case notice(String)
    /// A guest's operation starts, with its share of the link (MiB/s) when `--bandwidth` was given.
    case started(EvacuationPlan.Placement, bandwidthMiBPerSecond: UInt64?)
    /// Something the guest's ``MigrationSession`` tells.
    case session(guest: String, SessionEvent)
    /// A guest's operation ended.
    case finished(EvacuationResult)
    /// A dry run checked one guest's migration (``MigrationSession/check()``).
    case checked(guest: String, [CheckResult])
    /// The evacuation stops starting guests (a signal, or `--stop-on-error`); `cancelled` were never started.
    case stopping(reason: String, cancelled: [String])
}

/// How one guest's part of an evacuation ended.
public struct EvacuationResult: Sendable {
    public var guest: EvacuationGuest
    /// The host chosen for it, when it had one.
    public var destination: String?
    /// Its session's outcome, when it was started.
    public var outcome: SessionOutcome?
    /// Why it was not started, when it was not; or where it ran already (`--resume`).
    public var note: String?
    /// How long its whole operation took (checks, cluster steps, migration, verify), when it ran.
    public var elapsed: Duration?

    public init(
        guest: EvacuationGuest,
        destination: String?,
        outcome: SessionOutcome? = nil,
        note: String? = nil,
        elapsed: Duration? = nil
    ) {
        self.guest = guest
        self.destination = destination
        self.outcome = outcome
        self.note = note
        self.elapsed = elapsed
    }

    /// The guest runs elsewhere now (moved by this evacuation or found moved on `--resume`).
    public var moved: Bool {
        guard let outcome else { return self.alreadyMoved }
        return outcome.report?.location.summary == .destination
    }

    /// `--resume` found it running elsewhere already.
    public var alreadyMoved = false

    /// The status this guest contributes to the evacuation's: its session's; not started: refused (or aborted when
    /// the evacuation was stopped).
    public var status: SessionOutcome.Status? { self.outcome?.status }
}

/// How an ``Evacuation`` ended: the plan, each guest's result, and one ``SessionOutcome/Status`` for the exit code.
public struct EvacuationOutcome: Sendable {
    /// The evacuation's status: migrated when every guest moved (or there was none); refused when the plan was
    /// refused before anything moved; otherwise the most serious of the guests' (``EvacuationOutcome/rank(_:)``).
    public var status: SessionOutcome.Status
    /// Why the evacuation was refused, or stopped; nil when it ran to its end.
    public var message: String?
    /// The source host's name, once known.
    public var source: String?
    public var plan: EvacuationPlan?
    /// One per guest of the plan (and, on `--resume`, per guest found moved already), in plan order.
    public var results: [EvacuationResult]
    /// Lines the survey or the recovery added.
    public var notes: [String]
    /// A dry run's checks of each guest's migration, in plan order.
    public var checks: [(guest: String, checks: [CheckResult])] = []
    /// The whole evacuation's time.
    public var elapsed: Duration

    public init(
        status: SessionOutcome.Status,
        message: String? = nil,
        source: String? = nil,
        plan: EvacuationPlan? = nil,
        results: [EvacuationResult] = [],
        notes: [String] = [],
        elapsed: Duration = .zero
    ) {
        self.status = status
        self.message = message
        self.source = source
        self.plan = plan
        self.results = results
        self.notes = notes
        self.elapsed = elapsed
    }

    /// How serious a guest's status is, for the evacuation's own: the larger, the more an operator must do.
    public static func rank(_ status: SessionOutcome.Status) -> Int {
        switch status {
        case .migrated: 0
        case .aborted: 1
        case .refused: 2
        case .migrationFailed: 3
        case .unreachable: 4
        case .internalFailure: 5
        case .clusterNotHealthy: 6
        case .needsAttention: 7
        }
    }

    /// The evacuation's status from its guests': every one moved: migrated; otherwise the most serious.
    public static func status(of results: [EvacuationResult], stopped: Bool) -> SessionOutcome.Status {
        var worst: SessionOutcome.Status = .migrated
        for result in results {
            let status: SessionOutcome.Status =
                result.alreadyMoved ? .migrated : (result.status ?? (stopped ? .aborted : .refused))
            if Self.rank(status) > Self.rank(worst) { worst = status }
        }
        return worst
    }
}
