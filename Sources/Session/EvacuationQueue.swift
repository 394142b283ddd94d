/// The order in which an evacuation starts its migrations: the plan's order, within its limits.
///
/// Pure: the runner asks ``startable()`` for what may start now, starts it, and reports each end with
/// ``finished(_:)``; the queue never touches a host, so its order is unit-tested without one. A pending placement may
/// start when:
/// - fewer than ``maxParallel`` migrations run;
/// - fewer than ``maxIncomingPerDestination`` run to its destination (by host name), so that no host takes more
///   incoming memory streams than it was asked to;
/// - no other node of its guest cluster runs: two nodes of one cluster never migrate at once, so that the cluster
///   goes through its prepare, switch-over and restore for one node at a time;
/// - when another migration runs, at least ``startSpacing`` has passed since the last start. Migrations started
///   together of guests alike (same size, same share of the link) reach their switch-over together, and two guests
///   paused at the same moment on one host wait for the same CPUs: their downtime grows. Starts spaced apart keep
///   their switch-overs apart, at the cost of one spacing per migration that starts beside another.
///
/// A placement that may not start yet is skipped, not waited for: a plain guest behind a blocked cluster node starts.
public struct EvacuationQueue: Sendable {
    /// At most this many migrations at once (at least 1).
    public let maxParallel: Int
    /// At most this many migrations into one destination at once (at least 1).
    public let maxIncomingPerDestination: Int
    /// The placements not started yet, in plan order.
    public private(set) var pending: [EvacuationPlan.Placement]
    /// The placements started and not finished, in the order they started.
    public private(set) var running: [EvacuationPlan.Placement] = []
    /// The least time between two starts while a migration runs (zero: none).
    public let startSpacing: Duration
    /// When the last placement started.
    private var lastStart: ContinuousClock.Instant?

    /// A queue of `placements`, none started.
    ///
    /// - Parameters:
    ///   - placements: The plan's placements, in plan order.
    ///   - maxParallel: At most this many at once; raised to 1 when lower.
    ///   - maxIncomingPerDestination: At most this many into one destination at once; raised to 1 when lower.
    ///   - startSpacing: The least time between two starts while a migration runs; zero when negative.
    public init(
        _ placements: [EvacuationPlan.Placement],
        maxParallel: Int,
        maxIncomingPerDestination: Int,
        startSpacing: Duration = .zero
    ) {
        self.pending = placements
        self.maxParallel = max(1, maxParallel)
        self.maxIncomingPerDestination = max(1, maxIncomingPerDestination)
        self.startSpacing = max(.zero, startSpacing)
    }

    /// Nothing pending and nothing running.
    public var isDone: Bool { self.pending.isEmpty && self.running.isEmpty }

    /// Every pending placement that may start at `now`, in plan order; they count as running from now on.
    public mutating func startable(at now: ContinuousClock.Instant = .now) -> [EvacuationPlan.Placement] {
        var started: [EvacuationPlan.Placement] = []
        var waiting: [EvacuationPlan.Placement] = []
        for placement in self.pending {
            if self.mayStart(placement) && self.isSpaced(at: now) {
                self.running.append(placement)
                started.append(placement)
                self.lastStart = now
            } else {
                waiting.append(placement)
            }
        }
        self.pending = waiting
        return started
    }

    /// A running placement ended, whatever its result; its guest's name is `guest`. Does nothing when no running
    /// placement has that guest.
    public mutating func finished(_ guest: String) {
        guard let index = self.running.firstIndex(where: { $0.guest.name == guest }) else { return }
        self.running.remove(at: index)
    }

    /// Drops every pending placement (on an interrupt, or `--stop-on-error`) and returns them, in plan order; the
    /// running ones run on.
    public mutating func cancelPending() -> [EvacuationPlan.Placement] {
        defer { self.pending = [] }
        return self.pending
    }

    /// When a pending placement that only the spacing holds back may start; `nil` when none waits for the spacing
    /// (nothing pending, or what is pending waits for a migration to end).
    public var nextSpacedStart: ContinuousClock.Instant? {
        guard self.startSpacing > .zero, !self.running.isEmpty, let lastStart = self.lastStart,
            self.pending.contains(where: self.mayStart)
        else { return nil }
        return lastStart + self.startSpacing
    }

    /// Whether a start at `now` keeps the spacing: nothing runs, or the last start is ``startSpacing`` ago.
    private func isSpaced(at now: ContinuousClock.Instant) -> Bool {
        guard !self.running.isEmpty, let lastStart = self.lastStart else { return true }
        return now >= lastStart + self.startSpacing
    }

    /// Whether `placement` may start beside the running ones.
    private func mayStart(_ placement: EvacuationPlan.Placement) -> Bool {
        guard self.running.count < self.maxParallel else { return false }
        let incoming = self.running.count(where: { $0.destination == placement.destination })
        guard incoming < self.maxIncomingPerDestination else { return false }
        if let cluster = placement.guest.cluster?.cluster {
            return !self.running.contains { $0.guest.cluster?.cluster == cluster }
        }
        return true
    }

    /// Each migration's share of a link's bandwidth: the total divided among as many as run at once.
    ///
    /// - Parameters:
    ///   - totalMiBPerSecond: The link's total (`--bandwidth`).
    ///   - maxParallel: At most this many run at once (taken as 1 when lower).
    ///   - placements: How many migrations there are; fewer than `maxParallel` share the link among fewer.
    /// - Returns: `totalMiBPerSecond` divided by the smaller of `maxParallel` and `placements`, at least 1 MiB/s;
    ///   the whole total when there are no placements.
    public static func bandwidthShare(totalMiBPerSecond: UInt64, maxParallel: Int, placements: Int) -> UInt64 {
        guard placements > 0 else { return totalMiBPerSecond }
        let sharing = UInt64(min(max(1, maxParallel), placements))
        return max(1, totalMiBPerSecond / sharing)
    }
}
