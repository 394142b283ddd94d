import Trace

/// What a picture of one run shows, digested from its trace: the phases and cluster steps as a timeline, the
/// samples as curves, the memory passes as bands, the policy steps as marks, the downtime and the title.
///
/// Pure: made from records, drawn by ``svg(width:)``; it never reads a file.
public struct TraceChart: Sendable {
    /// One row of the timeline: a phase (one bar) or a cluster step (a tick where each node did it).
    public struct Row: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case phase, clusterStep
        }

        public var kind: Kind
        public var label: String
        /// The bars, as `start..<end` seconds.
        public var spans: [Range<Double>]
        /// The instants a cluster step happened (one per node).
        public var ticks: [Double]
        /// A step failed, or the phase ended the run badly.
        public var failed: Bool
        public var warning: Bool
    }

    /// One sample of the running migration, in MiB and MiB/s.
    public struct Point: Sendable, Hashable {
        public var time: Double
        public var remainingMiB: Double?
        public var dirtyRateMiBPerSecond: Double?
        public var transferRateMiBPerSecond: Double?
    }

    /// A memory pass, from its start to the next pass or the end of the migration.
    public struct PassBand: Sendable, Hashable {
        public var pass: Int
        public var span: Range<Double>
    }

    /// A step of the convergence policy.
    public struct PolicyMark: Sendable, Hashable {
        public var time: Double
        /// The step's kind: `downtime`, `auto_converge`, `post_copy`, `timeout`, `failed`.
        public var name: String
        public var detail: String
    }

    public var title: String
    public var subtitle: String
    /// The end of the time axis, in seconds.
    public var duration: Double
    public var rows: [Row]
    /// The samples, in time order; at most ``maximumPoints`` (thinned evenly beyond).
    public var points: [Point]
    public var passes: [PassBand]
    public var policyMarks: [PolicyMark]
    /// The migration's real downtime in milliseconds and where the switch-over is drawn (the migration's end).
    public var downtime: (milliseconds: Int64, time: Double)?
    /// Whether the operation ended badly (drawn red in the title).
    public var failed: Bool

    /// The most samples drawn: beyond it every k-th is kept (and the last), so a picture of a long run stays small.
    public static let maximumPoints = 1500

    /// Digests a trace.
    ///
    /// - Throws: ``ChartError/Code/nothingToDraw`` when no record is a phase, a sample or an outcome.
    public init(_ records: [TraceRecord]) throws(ChartError) {
        let records = records.filter { $0.time.isFinite && $0.time >= 0 }.sorted { $0.time < $1.time }
        let drawable: Set<TraceRecord.Kind> = [.phase, .sample, .outcome, .cluster]
        guard records.contains(where: { drawable.contains($0.kind) }) else {
            throw ChartError(.nothingToDraw, "the trace has no phase, sample, cluster step or outcome to draw")
        }
        let end = max(records.last?.time ?? 0, 0.001)
        self.duration = end
        let start = records.first { $0.kind == .start }
        let outcome = records.last { $0.kind == .outcome }
        let migrating = records.first { $0.kind == .phase && $0.sourceHost != nil }
        let migrationEnd = records.last { $0.kind == .migrationEnd }?.time

        // Phases: each lasts until the next phase, or the outcome (the end).
        let phases = records.filter { $0.kind == .phase }
        var rows: [Row] = []
        for (index, phase) in phases.enumerated() {
            let name = phase.name ?? "?"
            var stop = index + 1 < phases.count ? phases[index + 1].time : end
            if name == TraceRecord.Phase.migrating || name == TraceRecord.Phase.postCopy
                || name == TraceRecord.Phase.switchOver, let migrationEnd, migrationEnd >= phase.time
            {
                stop = min(stop, migrationEnd)
            }
            let span = phase.time..<max(stop, phase.time)
            if let existing = rows.firstIndex(where: { $0.kind == .phase && $0.label == name }) {
                rows[existing].spans.append(span)
            } else {
                rows.append(
                    Row(kind: .phase, label: name, spans: [span], ticks: [], failed: false, warning: false)
                )
            }
        }
        // Cluster steps: one row per step name, in the order they first happened.
        for record in records where record.kind == .cluster {
            let name = record.name ?? "?"
            if let existing = rows.firstIndex(where: { $0.kind == .clusterStep && $0.label == name }) {
                rows[existing].ticks.append(record.time)
                rows[existing].failed = rows[existing].failed || record.failed == true
                rows[existing].warning = rows[existing].warning || record.warning == true
            } else {
                rows.append(
                    Row(
                        kind: .clusterStep,
                        label: name,
                        spans: [],
                        ticks: [record.time],
                        failed: record.failed == true,
                        warning: record.warning == true
                    )
                )
            }
        }
        self.rows = rows

        let mebibyte = 1_048_576.0
        var points = records.filter { $0.kind == .sample }.map { sample in
            Point(
                time: sample.time,
                // Before the first pass libvirt reports 0 of 0: nothing is known yet.
                remainingMiB: sample.dataTotalBytes == 0
                    ? nil : sample.dataRemainingBytes.map { Double($0) / mebibyte },
                dirtyRateMiBPerSecond: sample.dirtyRateBytesPerSecond.map { Double($0) / mebibyte },
                transferRateMiBPerSecond: sample.transferRateBytesPerSecond.map { Double($0) / mebibyte }
            )
        }
        if points.count > Self.maximumPoints {
            let stride = (points.count + Self.maximumPoints - 1) / Self.maximumPoints
            let last = points.last!
            points = points.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
            if points.last != last { points.append(last) }
        }
        self.points = points

        // Passes: from each pass's start to the next one's, or the switch-over, or the end of the migration.
        let switchOver = records.first {
            $0.kind == .phase && ($0.name == TraceRecord.Phase.switchOver || $0.name == TraceRecord.Phase.postCopy)
        }
        let passStarts = records.filter { $0.kind == .pass && $0.pass != nil }
        let passEnd = switchOver?.time ?? migrationEnd ?? points.last?.time ?? end
        self.passes = passStarts.enumerated().map { index, record in
            let stop = index + 1 < passStarts.count ? passStarts[index + 1].time : max(passEnd, record.time)
            return PassBand(pass: record.pass!, span: record.time..<max(stop, record.time))
        }
        self.policyMarks = records.filter { $0.kind == .policy }.map {
            PolicyMark(time: $0.time, name: $0.name ?? "step", detail: $0.detail ?? "")
        }
        let downtimeRecord = records.last { $0.kind == .downtime }
        // The guest paused at the switch-over (or moved at the start of post-copy); without that line, by the end
        // of the migration.
        self.downtime = downtimeRecord?.downtimeMilliseconds.map {
            ($0, switchOver?.time ?? migrationEnd ?? points.last?.time ?? downtimeRecord!.time)
        }

        // Title: domain, hosts, outcome; subtitle: policy and the completed job's figures.
        let domain = outcome?.domain ?? start?.domain ?? "?"
        let source = outcome?.sourceHost ?? migrating?.sourceHost
        let destination = outcome?.destinationHost ?? migrating?.destinationHost
        var title = domain
        if let source, let destination { title += ": \(source) → \(destination)" }
        let status = outcome?.status ?? "unfinished (the trace ends before the outcome)"
        title += ", " + status.replacingOccurrences(of: "_", with: " ")
        self.title = title
        self.failed = outcome?.status != "migrated"
        var facts: [String] = []
        if let downtime = downtimeRecord?.downtimeMilliseconds { facts.append("downtime \(downtime) ms") }
        if let passes = downtimeRecord?.memoryPasses { facts.append("\(passes) memory passes") }
        if let bytes = downtimeRecord?.dataTransferredBytes {
            facts.append(Self.number(Double(bytes) / mebibyte) + " MiB sent")
        }
        if let total = outcome?.totalTimeMilliseconds {
            facts.append("migration " + Self.number(Double(total) / 1000) + " s")
        }
        facts.append("operation " + Self.number(end) + " s")
        if let running = outcome?.runningOn { facts.append("running on the \(running)") }
        if let policy = migrating?.policy { facts.append("policy \(policy)") }
        self.subtitle = facts.joined(separator: " · ")
    }

    /// A number with at most one decimal: `117`, `2.9`.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "?" }
        if value >= 100 || value == value.rounded() { return String(Int64(value.rounded())) }
        return String((value * 10).rounded() / 10)
    }
}
