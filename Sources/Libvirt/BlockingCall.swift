import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on a thread of its own and suspends the caller until it returns: the one way async code calls
/// libvirt.
///
/// Every libvirt call blocks its thread: most are a round trip to a daemon that may sit on another host, across a
/// link that may be down (then the call waits until the connection's keep-alive gives up), and
/// `virDomainMigrateToURI3` blocks for the whole migration. Swift's cooperative thread pool has only as many
/// threads as the machine has cores, so a libvirt call made directly from a task stalls every other task on that
/// thread; on a two-core host, two of them stall the process. A dedicated thread per call costs a thread start,
/// which is small next to a network round trip.
///
/// libvirt keeps its last error per thread, so `body` must read it (every wrapper of this module does, through
/// ``LibvirtError``) before it returns: the error then travels back to the caller as a value.
///
/// A `body` that does not throw makes the call non-throwing (`Failure` is `Never`):
/// `let state = await runBlocking(named: "state") { try? domain.state() }`. Annotate a throwing body to keep its
/// error typed: `try await runBlocking(named: "state") { () throws(LibvirtError) in try domain.state() }`.
///
/// Cancelling the calling task does not interrupt `body`; cancel the libvirt operation itself (for a migration,
/// `virDomainAbortJob`) to make it return early.
///
/// - Parameters:
///   - name: The thread's name, as debuggers and `top -H` show it: its first 15 bytes.
///   - body: The blocking work.
/// - Returns: What `body` returned.
/// - Throws: What `body` threw.
public func runBlocking<Value: Sendable, Failure: Error>(
    named name: String,
    _ body: @escaping @Sendable () throws(Failure) -> Value
) async throws(Failure) -> Value {
    let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
        let thread = Thread {
            nameCurrentThread(name)
            continuation.resume(returning: Result { () throws(Failure) -> Value in try body() })
        }
        thread.start()
    }
    return try result.get()
}

/// Names the calling thread, as `top -H`, `ps -L` and debuggers show it.
private func nameCurrentThread(_ name: String) {
    #if os(Linux)
    // Foundation's `Thread.name` does not reliably reach the kernel on Linux: a name set before `start()` never
    // did here, and one set from inside the thread only sometimes. Writing the thread's `comm` always does.
    let descriptor = open("/proc/thread-self/comm", O_WRONLY)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    _ = threadName(name).withCString { write(descriptor, $0, strlen($0)) }
    #else
    Thread.current.name = name
    #endif
}

/// `name`, cut on a character boundary to the 15 bytes Linux keeps of a thread's name.
func threadName(_ name: String) -> String {
    var short = ""
    for character in name {
        guard short.utf8.count + character.utf8.count <= 15 else { break }
        short.append(character)
    }
    return short
}

/// The error of a blocking call that did not return within its bound.
public struct BlockingCallTimeout: Error, Sendable, Hashable, CustomStringConvertible {
    /// The call's name, as given to ``runBlocking(named:timeout:_:)``.
    public var name: String
    public var timeout: Duration

    public var description: String { "\(self.name): no answer within \(self.timeout)" }
}

/// Runs `body` on a thread of its own, as ``runBlocking(named:_:)``, and gives up waiting after `timeout`.
///
/// A libvirt call cannot be interrupted from outside (a connection to a host whose link is down waits for TCP's
/// own timeout, minutes): when the bound passes, the caller resumes with ``BlockingCallTimeout`` and the thread
/// finishes on its own, its result dropped. Use it for reads whose answer is worthless late (where a domain runs,
/// for a report); never for a call whose effect the caller must know (a migration, a destroy).
///
/// - Returns: What `body` returned, or `.failure` with the timeout.
public func runBlocking<Value: Sendable>(
    named name: String,
    timeout: Duration,
    _ body: @escaping @Sendable () -> Value
) async -> Result<Value, BlockingCallTimeout> {
    let once = OnceResume<Result<Value, BlockingCallTimeout>>()
    return await withCheckedContinuation { continuation in
        once.set(continuation)
        let thread = Thread {
            nameCurrentThread(name)
            once.resume(.success(body()))
        }
        thread.start()
        Task {
            try? await Task.sleep(for: timeout)
            once.resume(.failure(BlockingCallTimeout(name: name, timeout: timeout)))
        }
    }
}

/// A continuation resumed by whichever of two racers comes first; the other's value is dropped.
private final class OnceResume<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value, Never>?

    func set(_ continuation: CheckedContinuation<Value, Never>) {
        self.lock.withLock { self.continuation = continuation }
    }

    func resume(_ value: Value) {
        let continuation = self.lock.withLock {
            defer { self.continuation = nil }
            return self.continuation
        }
        continuation?.resume(returning: value)
    }
}
