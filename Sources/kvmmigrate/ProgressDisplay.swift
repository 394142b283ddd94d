import Cluster
import Foundation
import Migration
import Session
import Synchronization

/// Shows migration progress on standard error: one live line redrawn in place on a terminal, or plain
/// timestamped lines at an interval when standard error is a file or a pipe.
final class ProgressDisplay: Sendable {
    enum Style { case terminal, lines, none }

    private let style: Style
    private let domain: String
    private let lineInterval: Duration
    private let state = Mutex(State())

    private struct State {
        var lastLine: ContinuousClock.Instant?
        var lastPhase: String?
        var drawn = false
    }

    init(domain: String, quiet: Bool, lineInterval: Duration = .seconds(2)) {
        self.domain = domain
        self.lineInterval = lineInterval
        if quiet {
            self.style = .none
        } else {
            self.style = isatty(STDERR_FILENO) == 1 ? .terminal : .lines
        }
    }

    /// The one-line summary of an observation.
    static func line(for progress: MigrationProgress) -> String {
        var parts = [
            "\(progress.phase)",
            "\(Format.bytes(progress.dataProcessedBytes)) sent, \(Format.bytes(progress.dataRemainingBytes)) left",
            Format.rate(progress.throughputBytesPerSecond),
        ]
        if let dirty = progress.dirtyRateBytesPerSecond { parts.append("dirty \(Format.rate(dirty))") }
        parts.append(String(format: "%3.0f%%", progress.fractionDone * 100))
        parts.append(Format.clock(progress.elapsed))
        return parts.joined(separator: " │ ")
    }

    func show(_ progress: MigrationProgress) {
        let text = Self.line(for: progress)
        switch self.style {
        case .none:
            return
        case .terminal:
            self.state.withLock { $0.drawn = true }
            Self.write("\r\u{1B}[2K\(self.domain) \(text)")
        case .lines:
            let now = ContinuousClock.now
            let due: Bool = self.state.withLock { state in
                let phaseChanged = state.lastPhase != progress.phase.key
                guard phaseChanged || state.lastLine.map({ now - $0 >= self.lineInterval }) ?? true else {
                    return false
                }
                state.lastLine = now
                state.lastPhase = progress.phase.key
                return true
            }
            if due { Self.write("\(Self.timestamp()) \(self.domain) \(text)\n") }
        }
    }

    /// A message of its own line, clearing the live line first.
    func message(_ text: String) {
        guard self.style != .none else { return }
        self.clear()
        Self.write(self.style == .lines ? "\(Self.timestamp()) \(text)\n" : "\(text)\n")
    }

    /// A cluster step, as one line.
    func event(_ event: ClusterEvent) {
        self.message("  \(event.line)")
    }

    /// Clears the live line, before the report is printed.
    func clear() {
        guard self.style == .terminal else { return }
        if self.state.withLock({ state in
            defer { state.drawn = false }
            return state.drawn
        }) {
            Self.write("\r\u{1B}[2K")
        }
    }

    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func timestamp() -> String {
        ISO8601DateFormatter().string(from: Date())
    }
}

extension ProgressDisplay {
    /// Shows one event of a migration session.
    func render(_ event: SessionEvent) {
        switch event {
        case .preparingCluster(let domain):
            self.message("Checking and preparing the guest cluster for \(domain)…")
        case .cluster(let event):
            self.event(event)
        case .migrationStarted(let target, let policy):
            self.message(
                "Migrating \(target.domainName) from \(target.sourceHostname) to \(target.destinationHostname)…"
            )
            self.message("  policy \(policy)")
        case .resumingPostCopy(let target):
            self.message("Resuming the post-copy migration of \(target.domainName) to \(target.destinationHostname)…")
        case .progress(let progress):
            self.show(progress)
        case .policyStep(let step):
            self.message("  ↳ \(Format.clock(step.elapsed)) \(step.detail)")
        case .notice(let line):
            self.message("  ! \(line)")
        case .migrationEnded:
            self.clear()
        case .restoringCluster:
            self.message("Restoring the guest cluster…")
        case .verifying(let domain):
            self.message("Verifying \(domain) where it runs now…")
        }
    }
}
