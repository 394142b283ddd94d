import Cluster
import Foundation
import Migration
import Session

/// Keeps a ``MetricsFile`` up to date from one guest's ``MigrationSession`` events, as ``SessionTracer`` keeps a
/// trace:
///
/// ```swift
/// let metrics = SessionMetrics(MetricsRecorder(file, warn: warn), domain: request.domain)
/// for await event in session.events { display.render(event); metrics.record(event) }
/// metrics.finish(await outcome)
/// ```
///
/// Making it counts a migration started and writes the file. During the migration the file is rewritten with the
/// latest sample at most once per ``MetricsRecorder/interval``; ``finish(_:)`` writes the outcome. Several guests
/// (evacuate) share one recorder. Any thread.
public final class SessionMetrics: Sendable {
    private let recorder: MetricsRecorder
    public let domain: String

    /// Counts a migration of `domain` started, and writes the file.
    public init(_ recorder: MetricsRecorder, domain: String) {
        self.recorder = recorder
        self.domain = domain
        recorder.update(force: true) { metrics in
            metrics.increment(.init(.started, domain: domain))
            metrics.gauges[domain] = [.inProgress: 1]
        }
    }

    /// Counts what one event tells; writes the file when a counter changed or a sample is due.
    public func record(_ event: SessionEvent) {
        let domain = self.domain
        switch event {
        case .preparingCluster:
            self.recorder.update(force: true) { $0.increment(.init(.clusterOperations, domain: domain)) }
        case .policyStep(let step):
            self.recorder.update(force: true) { $0.increment(.init(.policySteps, domain: domain, step.kind.rawValue)) }
        case .progress(let progress):
            self.recorder.update(force: false) { metrics in
                var gauges = metrics.gauges[domain, default: [:]]
                gauges[.dataProcessed] = Double(progress.dataProcessedBytes)
                gauges[.dataRemaining] = progress.dataRemainingBytes.map { Double($0) }
                gauges[.memoryTransferRate] = progress.throughputBytesPerSecond.map { Double($0) }
                gauges[.dirtyMemoryRate] = progress.dirtyRateBytesPerSecond.map { Double($0) }
                if let pass = progress.memoryPass { gauges[.memoryPasses] = Double(pass) }
                metrics.gauges[domain] = gauges
            }
        default:
            break
        }
    }

    /// Counts the outcome and writes the file.
    public func finish(_ outcome: SessionOutcome) {
        let domain = self.domain
        self.recorder.update(force: true) { metrics in
            if outcome.status == .migrated {
                metrics.increment(.init(.succeeded, domain: domain))
            } else {
                metrics.increment(.init(.failed, domain: domain, SessionTracer.key(outcome.status)))
            }
            if outcome.verification?.outcome == .fail {
                metrics.increment(.init(.verifyFailures, domain: domain))
            }
            // What is left of a run that ended: its figures, not the rates of its last sample.
            let last = metrics.gauges[domain, default: [:]]
            var gauges: [MigrationMetrics.Gauge: Double] = [.inProgress: 0]
            gauges[.endTime] = Date().timeIntervalSince1970
            gauges[.dataProcessed] = last[.dataProcessed]
            gauges[.memoryPasses] = last[.memoryPasses]
            if let report = outcome.report {
                gauges[.totalTime] = Self.seconds(report.totalTime)
                gauges[.downtime] = report.downtime.map(Self.seconds)
                if let bytes = report.dataTransferredBytes { gauges[.dataProcessed] = Double(bytes) }
                if let passes = report.memoryPasses { gauges[.memoryPasses] = Double(passes) }
            }
            metrics.gauges[domain] = gauges
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
