import Synchronization

/// Runs `body` for every node at once and returns when every call has returned.
///
/// `body` returns nothing: what a node produced is recorded in a ``NodeResults`` that the caller owns. This is
/// deliberate. Swift 6.3.1's optimizer miscompiles an async closure passed as a generic `(…) async -> Value` when
/// it returns a value built around a `try await` inside a `do`/`catch` (`do { return (name, try await f()) }
/// catch { … }`): the value that reaches the task group is garbage, and `-c release` builds crashed with "found
/// nil" or a segmentation fault in `cluster verify`. A closure that returns `Void` has no result to miscompile,
/// whatever its body looks like; the tests in `NodeResultsTests` hold the shape that broke.
func forEachNode(_ nodes: [ClusterNode], _ body: @escaping @Sendable (ClusterNode) async -> Void) async {
    await withTaskGroup(of: Void.self) { group in
        for node in nodes {
            group.addTask { await body(node) }
        }
    }
}

/// What each node produced in a ``forEachNode(_:_:)`` run, by node name.
final class NodeResults<Value: Sendable>: Sendable {
    private let values = Mutex<[String: Value]>([:])

    init() {}

    /// Records `value` for `node`, replacing what was recorded before.
    func record(_ value: Value, for node: ClusterNode) {
        self.values.withLock { $0[node.name] = value }
    }

    /// What was recorded for the node named `name`.
    subscript(name: String) -> Value? {
        self.values.withLock { $0[name] }
    }

    /// What was recorded, in the order of `nodes`, skipping nodes with nothing recorded.
    func inOrder(of nodes: [ClusterNode]) -> [(node: ClusterNode, value: Value)] {
        let values = self.values.withLock { $0 }
        return nodes.compactMap { node in values[node.name].map { (node, $0) } }
    }
}
