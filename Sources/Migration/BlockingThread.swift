import Foundation

/// Runs blocking work (a libvirt call that waits on the network) on a new thread and suspends the caller
/// until it returns, so the cooperative thread pool never blocks.
public func runOnDedicatedThread<Value: Sendable>(
    named name: String, _ body: @escaping @Sendable () -> Value
) async -> Value {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.name = name
        thread.start()
    }
}

/// Like ``runOnDedicatedThread(named:_:)`` for work that throws.
public func runOnDedicatedThread<Value: Sendable, Failure: Error>(
    named name: String, throwing body: @escaping @Sendable () throws(Failure) -> Value
) async throws(Failure) -> Value {
    let result: Result<Value, Failure> = await runOnDedicatedThread(named: name) {
        do throws(Failure) { return .success(try body()) } catch { return .failure(error) }
    }
    return try result.get()
}
