import Testing

@testable import Cluster

/// `concurrently` with the closure shape that Swift 6.3.1's optimizer miscompiled when the closure returned its
/// value: a tuple built around a `try await` inside `do`/`catch`. Run in release (`swift test -c release`) this
/// is the regression test for the crash of `cluster verify`.
@Suite struct ConcurrentResultsTests {
    struct Unreachable: Error {}

    static let nodes = ["guest1", "guest2", "guest3", "guest4"].map {
        ClusterNode(name: $0, destination: "\($0).example", options: SSHOptions())
    }

    @inline(never)
    static func table(of node: ClusterNode) async throws(Unreachable) -> [String]? {
        await Task.yield()
        if node.name == "guest3" { throw Unreachable() }
        return node.name == "guest4" ? nil : ["\(node.name) SA_libvirtgp.so Idle Unknown TestWorked InitWorked"]
    }

    @Test func everyNodeRecordsItsOwnResult() async throws {
        let tables = ConcurrentResults<(String, Result<[String]?, Unreachable>)>()
        await concurrently(Self.nodes) { node in
            do throws(Unreachable) {
                tables.record((node.name, .success(try await Self.table(of: node))), for: node)
            } catch {
                tables.record((node.name, .failure(error)), for: node)
            }
        }
        let results = tables.inOrder(of: Self.nodes)
        #expect(results.map(\.node.name) == ["guest1", "guest2", "guest3", "guest4"])
        #expect(results.map(\.value.0) == ["guest1", "guest2", "guest3", "guest4"])
        #expect(try results[0].value.1.get() == ["guest1 SA_libvirtgp.so Idle Unknown TestWorked InitWorked"])
        #expect(throws: Unreachable.self) { try results[2].value.1.get() }
        #expect(try results[3].value.1.get() == nil)
    }

    @Test func aNodeThatRecordsNothingIsLeftOut() async {
        let results = ConcurrentResults<Int>()
        await concurrently(Self.nodes) { node in
            if node.name != "guest2" { results.record(node.name.count, for: node) }
        }
        #expect(results.inOrder(of: Self.nodes).map(\.node.name) == ["guest1", "guest3", "guest4"])
        #expect(results["guest2"] == nil)
    }
}
