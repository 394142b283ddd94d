import ArgumentParser
import Foundation
import Migration
import Session
import Synchronization

/// Shows an evacuation on standard error: on a terminal that can redraw, one live line per migration in flight and a
/// total line, redrawn in place under the messages; otherwise plain timestamped lines (progress every 5 s per
/// guest, with --verbose). On a terminal every line fits its width, read again when it changes.
final class EvacuationDisplay: Sendable {
    private let style: ProgressDisplay.Style
    private let terminal: Terminal
    private let glyphs: Glyphs
    private let state = Mutex(State())

    private struct State {
        var source = "?"
        var total = 0
        var moved = 0
        var notMoved = 0
        var started = ContinuousClock.now
        /// Guests in flight, in start order, with their live text (or their last progress).
        var inFlight: [(guest: String, destination: String, text: String, progress: MigrationProgress?)] = []
        var lastLine: [String: ContinuousClock.Instant] = [:]
        /// The columns of each line of the live block on the screen.
        var drawnLines: [Int] = []
    }

    /// A dry run's plan is in its report: the display leaves it out.
    private let dryRun: Bool

    init(
        quiet: Bool,
        verbose: Bool = true,
        dryRun: Bool,
        terminal: Terminal = .standardError,
        glyphs: Glyphs = .current
    ) {
        self.style = terminal.progressStyle(quiet: quiet, verbose: verbose)
        self.terminal = terminal
        self.glyphs = glyphs
        self.dryRun = dryRun
    }

    /// A message on its own line(s), above the live block.
    func message(_ text: String) {
        switch self.style {
        case .none: return
        case .lines, .messages:
            ProgressDisplay.write(self.fitted("\(ProgressDisplay.timestamp()) \(text)") + "\n")
        case .terminal:
            let text = self.fitted(text)
            self.state.withLock { state in
                ProgressDisplay.write(self.erase(state.drawnLines) + text + "\n" + self.block(&state))
            }
        }
    }

    /// Redraws the live block, so that its clock moves while nothing else happens (terminal only).
    func refresh() {
        guard self.style == .terminal else { return }
        self.state.withLock { state in
            guard !state.drawnLines.isEmpty else { return }
            ProgressDisplay.write(self.erase(state.drawnLines) + self.block(&state))
        }
    }

    /// A message in the characters the locale allows, on a terminal broken to its width.
    private func fitted(_ text: String) -> String {
        let text = self.glyphs.text(text)
        guard let width = ProgressDisplay.usableWidth(self.terminal) else { return text }
        return Self.wrapped(text, width: width)
    }

    /// Each line of `text` broken to `width` columns, its continuation lines indented two more than it.
    static func wrapped(_ text: String, width: Int) -> String {
        Columns.wrapped(lines: text, width: width)
    }

    /// Takes the live block off the screen, before the report.
    func finish() {
        guard self.style == .terminal else { return }
        self.state.withLock { state in
            ProgressDisplay.write(self.erase(state.drawnLines))
            state.drawnLines = []
            state.inFlight = []
        }
    }

    func render(_ event: EvacuationEvent) {
        switch event {
        case .planned(let plan):
            self.state.withLock { state in
                state.source = plan.source
                state.total = plan.placements.count + plan.unplaced.count
            }
            if !self.dryRun { self.message(EvacuateText.plan(plan)) }
        case .notice(let line):
            self.message("! \(line)")
        case .started(let placement, let bandwidth):
            self.state.withLock { state in
                state.inFlight.append((placement.guest.name, placement.destination, "starting", nil))
            }
            self.message(
                "→ \(placement.guest.name) to \(placement.destination)"
                    + (bandwidth.map { " (at most \($0) MiB/s)" } ?? "")
            )
        case .session(let guest, let event):
            self.render(event, guest: guest)
        case .finished(let result):
            self.state.withLock { state in
                state.inFlight.removeAll { $0.guest == result.guest.name }
                if result.moved { state.moved += 1 } else { state.notMoved += 1 }
            }
            self.message(EvacuateText.finished(result))
        case .checked:
            break  // in the dry run's report
        case .stopping(let reason, let cancelled):
            self.message(
                "\(reason): stopping"
                    + (cancelled.isEmpty ? "" : "; not started: \(cancelled.joined(separator: ", "))")
            )
        }
    }

    private func render(_ event: SessionEvent, guest: String) {
        switch event {
        case .preparingCluster: self.update(guest, "preparing the guest cluster")
        case .cluster(let event):
            if event.failed || event.warning || self.style == .lines || self.style == .messages {
                self.message("  \(guest): \(event.line)")
            }
        case .migrationStarted: self.update(guest, "migrating")
        case .resumingPostCopy: self.update(guest, "resuming post-copy")
        case .progress(let progress):
            switch self.style {
            case .none, .messages: return
            case .terminal: self.update(guest, progress: progress)
            case .lines:
                let now = ContinuousClock.now
                let due = self.state.withLock { state in
                    guard state.lastLine[guest].map({ now - $0 >= .seconds(5) }) ?? true else { return false }
                    state.lastLine[guest] = now
                    return true
                }
                guard due else { return }
                let prefix = "\(ProgressDisplay.timestamp())   \(guest) "
                let width = ProgressDisplay.usableWidth(self.terminal)
                ProgressDisplay.write(
                    ProgressDisplay.line(for: progress, prefix: prefix, width: width, glyphs: self.glyphs) + "\n"
                )
            }
        case .policyStep(let step): self.message("  \(guest): ↳ \(Format.clock(step.elapsed)) \(step.detail)")
        case .notice(let line): self.message("  \(guest): ! \(line)")
        case .migrationEnded: self.update(guest, "migration ended")
        case .restoringCluster: self.update(guest, "restoring the guest cluster")
        case .verifying: self.update(guest, "verifying")
        }
    }

    /// Sets a guest's live text, or its progress (terminal only).
    private func update(_ guest: String, _ text: String = "", progress: MigrationProgress? = nil) {
        guard self.style == .terminal else { return }
        self.state.withLock { state in
            guard let index = state.inFlight.firstIndex(where: { $0.guest == guest }) else { return }
            state.inFlight[index].text = text
            state.inFlight[index].progress = progress
            ProgressDisplay.write(self.erase(state.drawnLines) + self.block(&state))
        }
    }

    /// The live block: a line per migration in flight and the total line, each fitted to the terminal's width
    /// (a line that wrapped would leave a stale copy behind at the next redraw).
    private func block(_ state: inout State) -> String {
        guard !state.inFlight.isEmpty else {
            state.drawnLines = []
            return ""
        }
        let width = ProgressDisplay.usableWidth(self.terminal) ?? 79
        let waiting = max(0, state.total - state.moved - state.notMoved - state.inFlight.count)
        var lines = state.inFlight.map { guest in
            let prefix = "\(guest.guest) → \(guest.destination) "
            guard let progress = guest.progress else {
                return Columns.cut(self.glyphs.text(prefix + guest.text), to: width)
            }
            return ProgressDisplay.line(for: progress, prefix: prefix, width: width, glyphs: self.glyphs)
        }
        lines.append(
            Columns.cut(
                self.glyphs.text(
                    "\(state.source): \(state.moved) of \(state.total) moved, \(state.inFlight.count) in flight, "
                        + "\(waiting) waiting"
                        + (state.notMoved > 0 ? ", \(state.notMoved) not moved" : "")
                        + " │ \(Format.clock(ContinuousClock.now - state.started))"
                ),
                to: width
            )
        )
        state.drawnLines = lines.map { Columns.width(of: $0) }
        return lines.map { $0 + "\n" }.joined()
    }

    /// Moves up over the drawn lines (of these columns) and clears to the end of the screen. A line wider than
    /// the terminal is now, after it narrowed, takes several rows on a terminal that reflows (see
    /// ``ProgressDisplay/erase(_:columns:)``).
    private func erase(_ lines: [Int]) -> String {
        Self.erase(lines, columns: self.terminal.columns ?? 80)
    }

    static func erase(_ lines: [Int], columns: Int) -> String {
        let rows = lines.reduce(0) { $0 + Terminal.rows($1, columns: columns) }
        return rows > 0 ? "\u{1B}[\(rows)F\u{1B}[J" : ""
    }
}

/// The evacuation's text: the plan, one line per finished guest, the final table.
enum EvacuateText {
    static func plan(_ plan: EvacuationPlan) -> String {
        var lines = [
            "Plan for emptying \(plan.source): \(plan.placements.count + plan.unplaced.count) running guest(s)"
        ]
        for placement in plan.placements {
            let node = placement.guest.cluster.map { " (cluster node \($0.node))" } ?? ""
            lines.append("  \(placement.guest.name)\(node) → \(placement.destination): \(placement.reason)")
        }
        for unplaced in plan.unplaced {
            lines.append("  \(unplaced.guest.name) → nowhere: \(unplaced.reason)")
        }
        return lines.joined(separator: "\n")
    }

    static func result(_ result: EvacuationResult) -> String {
        if result.alreadyMoved { return "moved before" }
        guard let outcome = result.outcome else { return "not started" }
        return outcome.status.words
    }

    static func finished(_ result: EvacuationResult) -> String {
        let name = result.guest.name
        guard let outcome = result.outcome else { return "✗ \(name): \(result.note ?? "not started")" }
        if result.moved && outcome.status == .migrated {
            return "✓ \(name) runs on \(result.destination ?? "?") (downtime "
                + "\(Format.duration(outcome.report?.downtime)), \(Format.duration(result.elapsed)))"
        }
        let why = outcome.refusal?.description ?? outcome.report?.errorMessage ?? outcome.report?.abortReason ?? ""
        return "✗ \(name): \(outcome.status.words)\(why.isEmpty ? "" : ": \(why)")"
    }

    /// What is printed at the end: one line of how it went, and the table of guests.
    static func report(_ outcome: EvacuationOutcome, dryRun: Bool) -> String {
        let source = outcome.source ?? "the host"
        var text = ""
        if dryRun, let plan = outcome.plan {
            text += plan.placements.isEmpty && plan.unplaced.isEmpty ? "" : self.plan(plan) + "\n"
            for (guest, checks) in outcome.checks {
                let passed = checks.filter { $0.status == .pass }.count
                text += "Checks of \(guest): \(passed) of \(checks.count) passed\n"
                for check in checks where check.status != .pass {
                    text += "  \(check.status.rawValue.uppercased()) \(check.name): \(check.detail)\n"
                }
            }
            text +=
                outcome.status == .migrated
                ? "Dry run: the plan can run; nothing was changed.\n"
                : "Dry run: the plan would be refused: \(outcome.message ?? outcome.status.words); nothing was changed.\n"
            return text
        }
        let moved = outcome.results.filter(\.moved).count
        let total = outcome.results.count
        switch outcome.status {
        case .migrated:
            text +=
                total == 0
                ? "Nothing to evacuate: no guest runs on \(source).\n"
                : "Evacuated \(source): \(moved) of \(total) guest(s) moved in \(Format.duration(outcome.elapsed)).\n"
        case .refused where outcome.results.isEmpty:
            text += "Error: \(outcome.message ?? "refused"); nothing was changed\n"
            return text
        default:
            text +=
                "Evacuation of \(source) ended (\(outcome.status.words)): \(moved) of \(total) guest(s) moved"
                + (outcome.message.map { "; \($0)" } ?? "") + ".\n"
        }
        guard !outcome.results.isEmpty else { return text }
        var rows = [["guest", "from", "to", "result", "downtime", "total time"]]
        for result in outcome.results {
            rows.append([
                result.guest.name,
                source,
                result.destination ?? "-",
                self.result(result),
                Format.duration(result.outcome?.report?.downtime),
                Format.duration(result.elapsed),
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            text +=
                "  "
                + zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        for result in outcome.results where !result.moved {
            if let outcome = result.outcome, let why = outcome.refusal?.description ?? outcome.report?.errorMessage {
                text += "  \(result.guest.name): \(why)\n"
            } else if result.outcome == nil, let note = result.note {
                text += "  \(result.guest.name): \(note)\n"
            }
        }
        return text
    }
}

/// The `--json` document of `kvmmigrate evacuate`.
struct EvacuateDocument: Encodable {
    var schemaVersion = 1
    var command = "evacuate"
    var exitCode: Int32
    /// The evacuation's status (`migrated` when every guest moved), or `usage_error`.
    var status: String
    var message: String?
    var dryRun: Bool
    var source: String?
    var elapsedMilliseconds: Int64?
    var plan: PlanPart?
    var guests: [GuestPart]
    var notes: [String]
    /// A dry run's checks of each guest's migration.
    var checks: [GuestChecks]?

    struct GuestChecks: Encodable {
        var guest: String
        var checks: [Check]

        struct Check: Encodable {
            var name: String
            var status: String
            var detail: String
        }
    }

    struct PlanPart: Encodable {
        var placements: [Placement]
        var unplaced: [Unplaced]

        struct Placement: Encodable {
            var guest: String
            var clusterNode: String?
            var destination: String
            var destinationUri: String
            var reason: String
            var colocatedWith: [String]
        }

        struct Unplaced: Encodable {
            var guest: String
            var clusterNode: String?
            var reason: String
        }
    }

    struct GuestPart: Encodable {
        var name: String
        var clusterNode: String?
        var from: String?
        var to: String?
        /// The guest's session status (`migrated`, `aborted`, …), `not_started` or `moved_before` (`--resume`).
        var result: String
        var note: String?
        var error: String?
        var downtimeMilliseconds: Int64?
        var migrationTimeMilliseconds: Int64?
        var totalTimeMilliseconds: Int64?
        var dataTransferredBytes: UInt64?
        var runningOn: String?
        var clusterHealthy: Bool?
    }

    init(_ outcome: EvacuationOutcome, dryRun: Bool) {
        self.exitCode = ExitCode(outcome.status).rawValue
        self.status = outcome.status.name
        self.message = outcome.message
        self.dryRun = dryRun
        self.source = outcome.source
        self.elapsedMilliseconds = Format.milliseconds(outcome.elapsed)
        self.plan = outcome.plan.map { plan in
            PlanPart(
                placements: plan.placements.map {
                    .init(
                        guest: $0.guest.name,
                        clusterNode: $0.guest.cluster?.node,
                        destination: $0.destination,
                        destinationUri: $0.destinationURI,
                        reason: $0.reason,
                        colocatedWith: $0.colocatedWith
                    )
                },
                unplaced: plan.unplaced.map {
                    .init(guest: $0.guest.name, clusterNode: $0.guest.cluster?.node, reason: $0.reason)
                }
            )
        }
        self.guests = outcome.results.map { result in
            let report = result.outcome?.report
            return GuestPart(
                name: result.guest.name,
                clusterNode: result.guest.cluster?.node,
                from: outcome.source,
                to: result.destination,
                result: result.alreadyMoved ? "moved_before" : (result.outcome?.status.name ?? "not_started"),
                note: result.note,
                error: result.outcome?.refusal?.description ?? report?.errorMessage,
                downtimeMilliseconds: Format.milliseconds(report?.downtime),
                migrationTimeMilliseconds: Format.milliseconds(report?.migrationJobTime),
                totalTimeMilliseconds: Format.milliseconds(result.elapsed),
                dataTransferredBytes: report?.dataTransferredBytes,
                runningOn: report.map { $0.location.summary.rawValue },
                clusterHealthy: result.outcome?.cluster?.healthy
            )
        }
        self.notes = outcome.notes
        if dryRun {
            self.checks = outcome.checks.map { guest, checks in
                GuestChecks(
                    guest: guest,
                    checks: checks.map { .init(name: $0.name, status: $0.status.rawValue, detail: $0.detail) }
                )
            }
        }
    }

    init(usageError message: String) {
        self.init(failure: message, status: "usage_error", exitCode: .validationFailure)
    }

    /// The document of an evacuation that ended before its plan: `status` and `message` say why.
    init(failure message: String, status: String, exitCode: ExitCode) {
        self.exitCode = exitCode.rawValue
        self.status = status
        self.message = message
        self.dryRun = false
        self.guests = []
        self.notes = []
    }
}

extension SessionOutcome.Status {
    /// The status in a `--json` document: snake_case (`migration_failed`).
    var name: String {
        self.rawValue.reduce(into: "") { name, character in
            if character.isUppercase { name += "_" + character.lowercased() } else { name.append(character) }
        }
    }

    /// The status in a sentence: `migration failed`.
    var words: String { self.name.replacingOccurrences(of: "_", with: " ") }
}
