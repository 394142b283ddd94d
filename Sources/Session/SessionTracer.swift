import Cluster
import Migration
import Synchronization
import Trace

/// Writes a ``MigrationSession``'s events to a trace (``TraceWriter``): the phases, every job-statistics sample,
/// every memory pass, every convergence-policy step, the cluster steps, the downtime and the outcome.
///
/// Feed it the session's events in order, then the outcome:
///
/// ```swift
/// let tracer = SessionTracer(writer, command: "migrate", domain: request.domain)
/// for await event in session.events { display.render(event); tracer.record(event) }
/// tracer.finish(await outcome)
/// ```
///
/// The first phase, `checks`, begins when the tracer is made: make it when the operation starts. A memory pass is
/// written when a sample first shows it (the monitor reads the statistics as each pass begins). Any thread.
public final class SessionTracer: Sendable {
    private let writer: TraceWriter
    private let state = Mutex(State())

    private struct State {
        var pass: Int?
        var migrationPhase: String?
        /// The figures of the last sample written, to tell a phase change shown from the last reading.
        var lastFigures: [UInt64?]?
    }

    /// Writes the `start` line and begins the `checks` phase.
    public init(_ writer: TraceWriter, command: String, domain: String) {
        self.writer = writer
        var start = TraceRecord(.start, at: writer.now)
        start.command = command
        start.domain = domain
        start.traceVersion = TraceRecord.currentVersion
        writer.write(start)
        writer.write(Self.phase(TraceRecord.Phase.checks, at: writer.now))
    }

    /// Writes what one event tells.
    public func record(_ event: SessionEvent) {
        let now = self.writer.now
        for record in self.records(for: event, at: now) { self.writer.write(record) }
    }

    /// Writes the downtime (when the migration completed with one) and the outcome, and closes the trace.
    public func finish(_ outcome: SessionOutcome) {
        for record in Self.records(for: outcome, at: self.writer.now) { self.writer.write(record) }
        self.writer.close()
    }

    /// The lines one event makes, at `time`.
    func records(for event: SessionEvent, at time: Double) -> [TraceRecord] {
        switch event {
        case .preparingCluster:
            return [Self.phase(TraceRecord.Phase.prepare, at: time)]
        case .cluster(let event):
            var record = TraceRecord(.cluster, at: time)
            record.node = event.node
            record.name = event.step
            record.message = event.message
            record.failed = event.failed ? true : nil
            record.warning = event.warning ? true : nil
            return [record]
        case .migrationStarted(let target, let policy):
            var record = Self.phase(TraceRecord.Phase.migrating, at: time, target)
            record.policy = policy
            return [record]
        case .resumingPostCopy(let target):
            return [Self.phase(TraceRecord.Phase.postCopy, at: time, target)]
        case .progress(let progress):
            return self.records(for: progress, at: time)
        case .policyStep(let step):
            var record = TraceRecord(.policy, at: time)
            record.name = step.kind.rawValue
            record.detail = step.detail
            record.pass = step.pass
            record.downtimeMilliseconds = step.downtime.map(Self.milliseconds)
            record.throttlePercent = step.throttlePercent
            return [record]
        case .notice(let line):
            var record = TraceRecord(.notice, at: time)
            record.message = line
            return [record]
        case .migrationEnded:
            return [TraceRecord(.migrationEnd, at: time)]
        case .restoringCluster:
            return [Self.phase(TraceRecord.Phase.restore, at: time)]
        case .verifying:
            return [Self.phase(TraceRecord.Phase.verify, at: time)]
        }
    }

    /// A sample, after the pass it begins and the switch-over or post-copy phase it enters, when it does.
    private func records(for progress: MigrationProgress, at time: Double) -> [TraceRecord] {
        var records: [TraceRecord] = []
        let figures = [progress.dataProcessedBytes, progress.dataRemainingBytes, progress.throughputBytesPerSecond]
        let (newPass, previousPhase, repeated): (Bool, String?, Bool) = self.state.withLock { state in
            let newPass = progress.memoryPass != nil && progress.memoryPass != state.pass
            let previousPhase = state.migrationPhase
            let repeated = progress.phase.key != previousPhase && state.lastFigures == figures
            state.pass = progress.memoryPass ?? state.pass
            state.migrationPhase = progress.phase.key
            state.lastFigures = figures
            return (newPass, previousPhase, repeated)
        }
        if progress.phase.key != previousPhase {
            // The guest pauses for the switch-over (or is seen gone from the source, the pause unseen), or runs on
            // the destination in post-copy: the downtime is there.
            let stillCopying = previousPhase == nil || previousPhase == "setup" || previousPhase == "pre_copy"
            switch progress.phase {
            case .switchOver:
                records.append(Self.phase(TraceRecord.Phase.switchOver, at: time))
            case .finishing where stillCopying:
                records.append(Self.phase(TraceRecord.Phase.switchOver, at: time))
            case .postCopy:
                records.append(Self.phase(TraceRecord.Phase.postCopy, at: time))
            default:
                break
            }
        }
        if newPass {
            var pass = TraceRecord(.pass, at: time)
            pass.pass = progress.memoryPass
            pass.dataRemainingBytes = progress.dataRemainingBytes
            records.append(pass)
        }
        // A phase change is shown with the last reading's figures (no statistics are read while the guest is
        // paused): it is a phase line, not a sample.
        guard !repeated else { return records }
        var sample = TraceRecord(.sample, at: time)
        sample.migrationPhase = progress.phase.key
        sample.pass = progress.memoryPass
        sample.dataProcessedBytes = progress.dataProcessedBytes
        sample.dataRemainingBytes = progress.dataRemainingBytes
        sample.dataTotalBytes = progress.dataTotalBytes
        sample.dirtyRateBytesPerSecond = progress.dirtyRateBytesPerSecond
        sample.transferRateBytesPerSecond = progress.throughputBytesPerSecond
        sample.expectedDowntimeMilliseconds = progress.expectedDowntime.map(Self.milliseconds)
        records.append(sample)
        return records
    }

    /// The `downtime` line (a completed migration with libvirt's figures) and the `outcome` line.
    static func records(for outcome: SessionOutcome, at time: Double) -> [TraceRecord] {
        var records: [TraceRecord] = []
        let report = outcome.report
        if let report, let downtime = report.downtime {
            var record = TraceRecord(.downtime, at: time)
            record.downtimeMilliseconds = Self.milliseconds(downtime)
            record.setupTimeMilliseconds = report.setupTime.map(Self.milliseconds)
            record.totalTimeMilliseconds = Self.milliseconds(report.totalTime)
            record.dataTransferredBytes = report.dataTransferredBytes
            record.memoryPasses = report.memoryPasses
            records.append(record)
        }
        var record = TraceRecord(.outcome, at: time)
        record.status = Self.key(outcome.status)
        record.domain = outcome.target?.domainName
        record.sourceHost = outcome.target?.sourceHostname
        record.destinationHost = outcome.target?.destinationHostname
        record.outcome = report?.outcome.rawValue
        record.runningOn = report?.location.summary.rawValue
        record.totalTimeMilliseconds = report.map { Self.milliseconds($0.totalTime) }
        record.message = outcome.refusal?.description
        records.append(record)
        return records
    }

    private static func phase(_ name: String, at time: Double, _ target: MigrationTarget? = nil) -> TraceRecord {
        var record = TraceRecord(.phase, at: time)
        record.name = name
        record.sourceHost = target?.sourceHostname
        record.destinationHost = target?.destinationHostname
        return record
    }

    /// A duration in whole milliseconds.
    static func milliseconds(_ duration: Duration) -> Int64 {
        Int64((duration / .milliseconds(1)).rounded())
    }

    /// A status as a snake_case key, as `--json` spells keys: `migration_failed`.
    public static func key(_ status: SessionOutcome.Status) -> String {
        status.rawValue.reduce(into: "") { key, character in
            if character.isUppercase { key += "_" + character.lowercased() } else { key.append(character) }
        }
    }
}
