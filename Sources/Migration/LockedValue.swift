import Synchronization

/// A value shared between tasks and threads, behind a lock: a class, so closures can capture it.
final class LockedValue<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { self.mutex = Mutex(value) }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try self.mutex.withLock { try body(&$0) }
    }

    var value: Value { self.mutex.withLock { $0 } }
}
