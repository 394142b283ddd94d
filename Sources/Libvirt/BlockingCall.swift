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
