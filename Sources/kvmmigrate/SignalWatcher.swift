import Dispatch
import Foundation
import Synchronization

/// Turns SIGINT and SIGTERM into calls of a handler instead of ending the process, so a migration can be
/// aborted cleanly and its report still printed; and SIGWINCH into a new read of the terminal's width.
///
/// The handler runs on a dispatch queue, never in signal context, so it may do anything.
/// `@unchecked Sendable`: its one stored property is set in `init` and never changed, and dispatch sources may be
/// cancelled from any thread.
final class SignalWatcher: @unchecked Sendable {
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
        case SIGWINCH: "SIGWINCH"
        default: "signal \(number)"
        }
    }
}
