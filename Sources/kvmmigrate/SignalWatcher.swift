import Dispatch
import Foundation
import Migration
import Synchronization

/// Turns SIGINT and SIGTERM into calls of a handler instead of ending the process, so a migration can be
/// aborted cleanly and its report still printed.
final class SignalWatcher {
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32] = [SIGINT, SIGTERM], handler: @escaping @Sendable (Int32) -> Void) {
        self.sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    /// Restores the default dispositions.
    func stop() {
        for source in self.sources {
            source.cancel()
            signal(Int32(source.handle), SIG_DFL)
        }
    }

    static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(number)"
        }
    }
}

/// What the signal handler and the command share: whether a signal came, and the migration to abort.
final class InterruptState: Sendable {
    private let state = Mutex<(signal: Int32?, migration: LiveMigration?, restoring: Bool)>((nil, nil, false))

    /// The first signal received, if any.
    var signal: Int32? { self.state.withLock { $0.signal } }

    /// Records a signal and aborts the attached migration; returns the message to show.
    func receive(_ number: Int32) -> String {
        let name = SignalWatcher.name(number)
        let (first, migration, restoring) = self.state.withLock { state in
            defer { state.signal = state.signal ?? number }
            return (state.signal == nil, state.migration, state.restoring)
        }
        if restoring {
            return "\(name): the guest cluster is being restored; that finishes first (it must, or it cannot fail over)."
        }
        guard let migration else { return "\(name): stopping before the migration starts." }
        migration.requestAbort(reason: name)
        return first
            ? "\(name): aborting the migration; the guest keeps running on the source…"
            : "\(name): still aborting, waiting for libvirt to finish…"
    }

    /// The migration is over and the cluster restore runs: signals no longer abort anything.
    func restoring() {
        self.state.withLock { $0.restoring = true }
    }

    /// Attaches the migration that a signal aborts from now on; aborts it at once if a signal came already.
    func attach(_ migration: LiveMigration) {
        let signal = self.state.withLock { state in
            state.migration = migration
            return state.signal
        }
        if let signal { migration.requestAbort(reason: SignalWatcher.name(signal)) }
    }
}
