import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes a trace as it happens: each ``TraceRecord`` is one JSON line, handed to the kernel with one `write(2)`
/// when it is recorded, so a crash loses nothing written and `tail -f` shows the run live.
///
/// Tracing never stops the operation it watches: the first write that fails calls `onFailure` once with one line
/// for the operator, closes the file, and every later record is dropped.
///
/// Any thread; records are written in the order ``write(_:)`` is called.
public final class TraceWriter: Sendable {
    private let state: Mutex<State>
    private let path: String
    private let onFailure: @Sendable (String) -> Void
    private let start: ContinuousClock.Instant

    private struct State {
        /// The open file, or `nil` once a write failed (or ``close()`` was called).
        var descriptor: Int32?
    }

    /// Creates (or empties) the trace file at `path`.
    ///
    /// The file is opened with `O_CREAT | O_TRUNC | O_NOFOLLOW` and mode 0644 (less what the umask takes): a link
    /// planted at the path is refused rather than followed.
    ///
    /// - Parameters:
    ///   - path: The trace file.
    ///   - start: When the operation started; every record's `t` counts from it.
    ///   - onFailure: Called at most once, with one line, when a write fails; the trace stops there.
    /// - Throws: ``TraceError/Code/unwritable`` when the file cannot be created.
    public init(
        path: String,
        since start: ContinuousClock.Instant = .now,
        onFailure: @escaping @Sendable (String) -> Void
    ) throws(TraceError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw TraceError(.unwritable, "cannot create the trace file \(path): \(reason)")
        }
        self.state = Mutex(State(descriptor: descriptor))
        self.path = path
        self.onFailure = onFailure
        self.start = start
    }

    deinit {
        self.close()
    }

    /// Seconds since the operation started, to the millisecond: the `t` of a record made now.
    public var now: Double {
        let elapsed = ContinuousClock.now - self.start
        return (elapsed / .milliseconds(1)).rounded() / 1000
    }

    /// Whether records still reach the file (no write has failed).
    public var isWriting: Bool { self.state.withLock { $0.descriptor != nil } }

    /// Writes one record as one line, at once.
    public func write(_ record: TraceRecord) {
        let line: Data
        do {
            line = try Self.encoder.encode(record) + Data("\n".utf8)
        } catch {
            // A record of strings and integers always encodes; if one did not, tracing stops like a failed write.
            self.fail("cannot encode a trace record: \(error)")
            return
        }
        let failure: String? = self.state.withLock { state in
            guard let descriptor = state.descriptor else { return nil }
            let reason = line.withUnsafeBytes { buffer -> String? in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return String(cString: strerror(errno))
                    }
                    offset += written
                }
                return nil
            }
            guard let reason else { return nil }
            Glibc.close(descriptor)
            state.descriptor = nil
            return reason
        }
        if let failure { self.reportFailure(failure) }
    }

    /// Closes the file; later records are dropped. Safe to call more than once.
    public func close() {
        self.state.withLock { state in
            if let descriptor = state.descriptor { Glibc.close(descriptor) }
            state.descriptor = nil
        }
    }

    private func fail(_ reason: String) {
        let wasWriting: Bool = self.state.withLock { state in
            guard let descriptor = state.descriptor else { return false }
            Glibc.close(descriptor)
            state.descriptor = nil
            return true
        }
        if wasWriting { self.reportFailure(reason) }
    }

    private func reportFailure(_ reason: String) {
        self.onFailure("cannot write the trace \(self.path) (\(reason)): tracing stops, the operation goes on")
    }

    /// One line per record, keys sorted (the same record is always the same line), `/` unescaped.
    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
