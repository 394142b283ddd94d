import Cluster
import Foundation
import Migration
import Session
import Synchronization

/// Shows migration progress on standard error: one live line redrawn in place on a terminal that can do it, or
/// plain timestamped lines at an interval when standard error is a file, a pipe or a dumb terminal
/// (``Terminal/Kind``), whose progress lines only `--verbose` adds, as in virsh (messages are written either
/// way). On a terminal every line fits its width, read again when it changes.
final class ProgressDisplay: Sendable {
    /// `messages` is `lines` without the progress lines.
    enum Style { case terminal, lines, messages, none }

    private let style: Style
    private let domain: String
    private let lineInterval: Duration
    private let terminal: Terminal
    private let glyphs: Glyphs
    private let state = Mutex(State())

    private struct State {
        var lastLine: ContinuousClock.Instant?
        var lastPhase: String?
        /// The columns of the live line on the screen, or `nil` when none is.
        var drawnColumns: Int?
    }

    init(
        domain: String,
        quiet: Bool,
        verbose: Bool = true,
        lineInterval: Duration = .seconds(2),
        terminal: Terminal = .standardError,
        glyphs: Glyphs = .current
    ) {
        self.domain = domain
        self.lineInterval = lineInterval
        self.terminal = terminal
        self.glyphs = glyphs
        self.style = terminal.progressStyle(quiet: quiet, verbose: verbose)
    }

    /// The one-line summary of an observation.
    static func line(for progress: MigrationProgress) -> String {
        self.parts(for: progress).joined(separator: " │ ")
    }

    /// The summary's parts: phase, amounts sent and left, throughput, dirty rate (when known), share done, elapsed.
    static func parts(for progress: MigrationProgress) -> [String] {
        var parts = [
            "\(progress.phase)",
            "\(Format.bytes(progress.dataProcessedBytes)) sent, \(Format.bytes(progress.dataRemainingBytes)) left",
            Format.rate(progress.throughputBytesPerSecond),
        ]
        if let dirty = progress.dirtyRateBytesPerSecond { parts.append("dirty \(Format.rate(dirty))") }
        parts.append(String(format: "%3.0f%%", progress.fractionDone * 100))
        parts.append(Format.clock(progress.elapsed))
        return parts
    }

    /// `prefix` and the summary in at most `width` columns (any width without one), in the characters `glyphs`
    /// allows. When it is too wide the dirty rate goes first, then the throughput, then the amounts; the phase,
    /// share done and elapsed time stay unless even they do not fit, and then the line is cut.
    static func line(for progress: MigrationProgress, prefix: String, width: Int?, glyphs: Glyphs) -> String {
        var parts = self.parts(for: progress).map(glyphs.text)
        parts[0] = glyphs.text(prefix) + parts[0]
        let separator = glyphs.text(" │ ")
        guard let width else { return parts.joined(separator: separator) }
        let dropOrder = progress.dirtyRateBytesPerSecond == nil ? [2, 1] : [3, 2, 1]
        return Columns.fit(parts, separator: separator, width: width, dropOrder: dropOrder)
    }

    /// The columns a line may take: one less than the terminal's, so that the cursor never waits in the last
    /// column (where a terminal wraps at the next character); `nil` when standard error is not a terminal.
    static func usableWidth(_ terminal: Terminal) -> Int? {
        terminal.columns.map { max(1, $0 - 1) }
    }

    func show(_ progress: MigrationProgress) {
        switch self.style {
        case .none, .messages:
            return
        case .terminal:
            let text = Self.line(
                for: progress,
                prefix: "\(self.domain) ",
                width: Self.usableWidth(self.terminal) ?? 79,  // a terminal that does not say: 80 columns
                glyphs: self.glyphs
            )
            self.state.withLock { state in
                Self.write(self.erase(state.drawnColumns) + text)
                state.drawnColumns = Columns.width(of: text)
            }
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
            guard due else { return }
            let text = Self.line(
                for: progress,
                prefix: "\(Self.timestamp()) \(self.domain) ",
                width: Self.usableWidth(self.terminal),
                glyphs: self.glyphs
            )
            Self.write(text + "\n")
        }
    }

    /// A message of its own line, clearing the live line first; on a terminal broken to its width.
    func message(_ text: String) {
        guard self.style != .none else { return }
        var text = self.glyphs.text(self.style != .terminal ? "\(Self.timestamp()) \(text)" : text)
        if let width = Self.usableWidth(self.terminal) { text = Columns.wrapped(lines: text, width: width) }
        self.state.withLock { state in
            Self.write((state.drawnColumns.map { self.erase($0) } ?? "") + text + "\n")
            state.drawnColumns = nil
        }
    }

    /// A cluster step, as one line.
    func event(_ event: ClusterEvent) {
        self.message("  \(event.line)")
    }

    /// Clears the live line, before the report is printed.
    func clear() {
        guard self.style == .terminal else { return }
        self.state.withLock { state in
            guard let drawn = state.drawnColumns else { return }
            Self.write(self.erase(drawn))
            state.drawnColumns = nil
        }
    }

    /// What takes a live line of `drawnColumns` off the screen, leaving the cursor where it started.
    private func erase(_ drawnColumns: Int?) -> String {
        Self.erase(drawnColumns, columns: self.terminal.columns ?? 80)
    }

    /// What takes a live line of `drawnColumns` off a terminal now `columns` wide. When the terminal narrowed
    /// below the line, a terminal that reflows (tmux, screen, VTE, iTerm2, Windows Terminal, kitty) now shows it
    /// over several rows with the cursor on the last: all of them are cleared, or a stale part would stay.
    static func erase(_ drawnColumns: Int?, columns: Int) -> String {
        let rows = Terminal.rows(drawnColumns ?? 0, columns: columns)
        return rows > 1 ? "\r\u{1B}[\(rows - 1)A\u{1B}[J" : "\r\u{1B}[2K"
    }

    /// Writes `text` on standard error, in the characters the locale allows (``Glyphs``): every text for people
    /// goes out here.
    static func write(_ text: String) {
        Hangup.write(Array(Glyphs.current.text(text).utf8), to: STDERR_FILENO)
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
