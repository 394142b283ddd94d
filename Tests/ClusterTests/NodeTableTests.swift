import Cluster
import Foundation
import Testing

@Suite struct NodeTableTests {
    static let example = """
        Node     Number State       Os      Cpu
        guest1   1      UP          Linux   EM64T
        guest2   2      UP          Linux   EM64T

        """

    @Test func theSpecExampleIsAllUp() throws {
        let table = try NodeTable(parsing: Self.example)
        #expect(table.allUp)
        #expect(table.nodesNotUp.isEmpty)
        #expect(table.nodes.map(\.name) == ["guest1", "guest2"])
        let node = try #require(table.node(named: "guest2"))
        #expect(node.number == 2)
        #expect(node.state == .up)
        #expect(node.operatingSystem == "Linux")
        #expect(node.processor == "EM64T")
        #expect(table.node(named: "guest3") == nil)
    }

    @Test(arguments: [
        (NodeTable.State.down, "DOWN"), (.leftCluster, "LEFTCLUSTER"), (.comingUp, "COMINGUP"), (.invalid, "INVALID"),
        (NodeTable.State(rawValue: "UNCONFIGURED"), "UNCONFIGURED"),
    ])
    func aNodeNotUpIsReported(state: NodeTable.State, printed: String) throws {
        let table = try NodeTable(
            parsing: Self.example.replacingOccurrences(of: "2      UP", with: "2      \(printed)")
        )
        #expect(!table.allUp)
        #expect(table.nodesNotUp.map(\.name) == ["guest2"])
        #expect(table.node(named: "guest2")?.state == state)
    }

    @Test(arguments: [
        "Node Number State Os Cpu\r\nguest1 1 UP Linux EM64T\r\n\r\n",
        "  Node\tNumber\tState\tOs\tCpu\n\tguest1\t1\tUP\tLinux\tEM64T",
        "Node State Number\nguest1 UP 1\n",
        "cftool: nodes\nNode State\nguest1 UP\n",
    ])
    func toleratesLayoutVariations(text: String) throws {
        let table = try NodeTable(parsing: text)
        #expect(table.nodes.map(\.name) == ["guest1"])
        #expect(table.allUp)
    }

    @Test func noNodesIsNotAllUp() throws {
        #expect(!(try NodeTable(parsing: "Node Number State Os Cpu\n")).allUp)
    }

    @Test(arguments: [
        ("", ClusterError.Code.malformedOutput),
        ("cftool: CF is not running\n", .malformedOutput),
        ("guest1 1 UP Linux EM64T\n", .malformedOutput),
        ("Node Number State Os Cpu\nguest1 1 UP Linux\n", .malformedOutput),
        ("Node Number State Os Cpu\nguest1 one UP Linux EM64T\n", .malformedOutput),
        ("Node Number State Os Cpu\nguest1 1 UP Linux EM64T\nguest1 2 UP Linux EM64T\n", .duplicateKey),
    ])
    func malformedOutputIsAnError(text: String, code: ClusterError.Code) {
        let error = #expect(throws: ClusterError.self) { try NodeTable(parsing: text) }
        #expect(error?.code == code)
    }
}
