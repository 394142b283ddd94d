import Foundation
import Synchronization

/// Standard error as its reader sees it: a file or a pipe, a terminal that takes only plain lines, or one that
/// can redraw a line in place; and, on a terminal, its width in columns.
///
/// The width is read with `TIOCGWINSZ` when the process first asks, and again on every `SIGWINCH` (bridged by a
/// ``SignalWatcher``, as SIGINT is: the handler runs on a dispatch queue, not in signal context).
final class Terminal: Sendable {
    enum Kind: Sendable, Hashable {
        /// Not a terminal (a file, a pipe): timestamped lines.
        case notATerminal
        /// A terminal with `TERM=dumb` or no `TERM`: plain lines; no cursor movement, carriage-return redraw or
        /// colour.
        case dumb
        /// A terminal that can redraw a line in place.
        case capable
    }

    /// Standard error, where everything but `--json` goes.
    static let standardError = Terminal(fileDescriptor: STDERR_FILENO)

    let kind: Kind
    private let width: Width
    private let resizes: SignalWatcher?

    private final class Width: Sendable {
        /// The width in columns; 0 when the terminal does not say.
        let columns: Atomic<Int>
        init(_ columns: Int?) { self.columns = Atomic(columns ?? 0) }
    }

    init(fileDescriptor: Int32, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let kind = Self.kind(isTerminal: isatty(fileDescriptor) == 1, term: environment["TERM"])
        let width = Width(kind == .notATerminal ? nil : Self.columns(of: fileDescriptor))
        self.kind = kind
        self.width = width
        self.resizes =
            kind == .notATerminal
            ? nil
            : SignalWatcher(signals: [SIGWINCH]) { _ in
                width.columns.store(Terminal.columns(of: fileDescriptor) ?? 0, ordering: .relaxed)
            }
    }

    /// What a terminal of type `term` can take (`TERM=dumb`, or no `TERM` at all, cannot move its cursor).
    static func kind(isTerminal: Bool, term: String?) -> Kind {
        guard isTerminal else { return .notATerminal }
        guard let term, !term.isEmpty, term != "dumb" else { return .dumb }
        return .capable
    }

    /// The width in columns, or `nil` when it is not a terminal or the terminal does not say.
    var columns: Int? {
        let columns = self.width.columns.load(ordering: .relaxed)
        return columns > 0 ? columns : nil
    }

    /// How progress is shown here: nothing with `--quiet`; redrawn in place on a capable terminal; otherwise
    /// timestamped lines, whose progress lines only `--verbose` adds (as virsh), messages either way.
    func progressStyle(quiet: Bool, verbose: Bool) -> ProgressDisplay.Style {
        Self.progressStyle(kind: self.kind, quiet: quiet, verbose: verbose)
    }

    /// How progress is shown on a terminal of `kind`, with `--quiet` and `--verbose` as given.
    static func progressStyle(kind: Kind, quiet: Bool, verbose: Bool) -> ProgressDisplay.Style {
        if quiet { return .none }
        if kind == .capable { return .terminal }
        return verbose ? .lines : .messages
    }

    /// The rows a line of `lineColumns` takes on a terminal `columns` wide (at least one).
    static func rows(_ lineColumns: Int, columns: Int) -> Int {
        guard columns > 0, lineColumns > columns else { return 1 }
        return (lineColumns + columns - 1) / columns
    }

    /// The width of the terminal on `fileDescriptor` (`TIOCGWINSZ`), or `nil`.
    static func columns(of fileDescriptor: Int32) -> Int? {
        var size = winsize()
        guard ioctl(fileDescriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}
