import Synchronization

/// Runs `body` for every item (a node, a host) at once and returns when every call has returned.
///
/// `body` returns nothing: what an item produced is recorded in a ``ConcurrentResults`` that the caller owns.
/// This is deliberate. Swift 6.3.1's optimizer miscompiles an async closure passed as a generic
/// `(…) async -> Value` when it returns a value built around a `try await` inside a `do`/`catch`
/// (`do { return (name, try await f()) } catch { … }`): the value that reaches the task group is garbage, and
/// `-c release` builds crashed with "found nil" or a segmentation fault in `cluster verify`
/// (`Fixtures/compiler/async-closure-tuple-return.swift`). A closure that returns `Void` has no result to
/// miscompile, whatever its body looks like; `ConcurrentResultsTests` hold the shape that broke.
public func concurrently<Item: Sendable>(_ items: [Item], _ body: @escaping @Sendable (Item) async -> Void) async {
    await withTaskGroup(of: Void.self) { group in
        for item in items {
            group.addTask { await body(item) }
        }
    }
}

/// What each item produced in a ``concurrently(_:_:)`` run, by a name: a node's CF node name, a host's URI.
public final class ConcurrentResults<Value: Sendable>: Sendable {
    private let values = Mutex<[String: Value]>([:])

    public init() {}

    /// Records `value` under `key`, replacing what was recorded before.
    public func record(_ value: Value, for key: String) {
        self.values.withLock { $0[key] = value }
    }

    /// Records `value` for `node`, by its CF node name.
    public func record(_ value: Value, for node: ClusterNode) {
        self.record(value, for: node.name)
    }

    /// What was recorded under `key`.
    public subscript(key: String) -> Value? {
        self.values.withLock { $0[key] }
    }

    /// What was recorded, in the order of `nodes`, skipping nodes with nothing recorded.
    public func inOrder(of nodes: [ClusterNode]) -> [(node: ClusterNode, value: Value)] {
        let values = self.values.withLock { $0 }
        return nodes.compactMap { node in values[node.name].map { (node, $0) } }
    }
}
