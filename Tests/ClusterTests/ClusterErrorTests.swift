import Cluster
import Testing

@Suite struct ClusterErrorTests {
    @Test func descriptionNamesNodePathAndLine() {
        let error = ClusterError(
            .duplicateKey,
            "duplicate key CLUSTER_TIMEOUT",
            node: "guest2",
            path: "/etc/default/cluster.config",
            line: 4
        )
        #expect(error.description == "guest2: /etc/default/cluster.config line 4: duplicate key CLUSTER_TIMEOUT")
    }

    @Test(
        arguments: [
            (nil, nil, nil, "went wrong"),
            ("guest1", nil, nil, "guest1: went wrong"),
            (nil, "/etc/x", nil, "/etc/x: went wrong"),
            (nil, nil, 7, "line 7: went wrong"),
            ("guest1", nil, 7, "guest1: line 7: went wrong"),
            (nil, "/etc/x", 7, "/etc/x line 7: went wrong"),
        ] as [(String?, String?, Int?, String)]
    )
    func descriptionLeavesOutWhatIsUnknown(node: String?, path: String?, line: Int?, expected: String) {
        let error = ClusterError(.malformedFile, "went wrong", node: node, path: path, line: line)
        #expect(error.description == expected)
    }

    @Test func locatedAddsNodeAndPathAndKeepsTheLine() throws {
        let error = #expect(throws: ClusterError.self) {
            try ClusterConfigFile(parsing: "CLUSTER_TIMEOUT \"600\"\nCLUSTER_TIMEOUT \"10\"\n")
        }
        let located = try #require(error).located(node: "guest2", path: ClusterFormat.clusterConfigPath)
        #expect(located.line == 2)
        #expect(located.description.hasPrefix("guest2: /etc/default/cluster.config line 2: duplicate key"))
        #expect(located.located(node: nil, path: nil) == located)
    }

    @Test func codesMatchInCatchClauses() {
        var caught = false
        do {
            _ = try ClusterConfigFile(parsing: "A \"1\"\nA \"2\"\n")
        } catch ClusterError.Code.duplicateKey {
            caught = true
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(caught)
    }

    @Test func codesAreOpen() {
        let later = ClusterError.Code(rawValue: "somethingNew")
        #expect(later != .malformedFile)
        #expect(later.description == "somethingNew")
        #expect(ClusterError.Code.remoteCommandFailed.rawValue == "remoteCommandFailed")
        #expect(Set([ClusterError.Code.nodeUnreachable, .notHealthy, .unknownNode, .malformedOutput]).count == 4)
    }
}
