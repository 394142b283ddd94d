// A miscompile in Swift 6.3.1 (x86_64 Linux) that crashed `kvmmigrate cluster verify` in release builds.
//
//   swiftc -O     Fixtures/compiler/async-closure-tuple-return.swift -o /tmp/repro && /tmp/repro   # SIGILL: "found nil"
//   swiftc -Onone Fixtures/compiler/async-closure-tuple-return.swift -o /tmp/repro && /tmp/repro   # [("x", "a!"), ("x", "b!")]
//
// An async closure, passed as a generic `(String) async -> Value` and called from a task group's child task,
// returns a tuple built around a `try await` inside `do`/`catch`. The value that reaches the group is garbage,
// though no error is thrown. Binding the awaited value first (`let value = try await …; return ("x", value)`),
// `try?` instead of `do`/`catch`, or an unstructured `Task` all hide it. kvmmigrate does not rely on any of
// these: `concurrently` takes closures that return `Void` and record their results (Sources/Cluster/ConcurrentResults.swift).
struct Failure: Error {}

@inline(never) func read(_ name: String) async throws -> String {
    if name.isEmpty { throw Failure() }
    return name + "!"
}

func collect<Value: Sendable>(_ names: [String], _ body: @escaping @Sendable (String) async -> Value) async -> [Value] {
    await withTaskGroup(of: (Int, Value).self) { group in
        for (index, name) in names.enumerated() { group.addTask { (index, await body(name)) } }
        var results = [Value?](repeating: nil, count: names.count)
        for await (index, value) in group { results[index] = value }
        return results.map { $0! }
    }
}

let results = await collect(["a", "b"]) { name -> (String, String) in
    do { return ("x", try await read(name)) } catch { return ("x", "failed") }
}
print(results)
