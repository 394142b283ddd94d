import Cluster

// rcsd.cfg: parses; renders back its bytes; an edit that changes nothing gives back the bytes; an edit that
// changes something gives a file that parses, with only that node's line changed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShutdownDaemonConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    guard let file = try? ShutdownDaemonConfig(parsing: text) else { return 0 }
    requireSameBytes(file.rendered, text, "rendered is not the parsed text")
    for entry in file.entries {
        let name = entry.nodeName
        require(file.entry(for: name) == entry, "entry(for:) of \(name)")
        require(entry.weight >= 1 && entry.agents.allSatisfy { $0.timeout >= 1 }, "a weight or timeout below 1")
        let others = file.entries.filter { $0.nodeName != name }

        let same = mustSucceed("setting \(name)'s weight") { try file.settingWeight(entry.weight, for: name) }
        requireSameBytes(same.rendered, text, "setting \(name)'s weight to its weight changed the file")
        let weight = entry.weight == 1 ? 2 : 1
        let weighted = mustSucceed("weighting \(name)") {
            try ClusterEdits.weighted(daemonConfig: text, guest: name, weight: weight)
        }
        let reweighted = mustSucceed("the weighted file parses") { try ShutdownDaemonConfig(parsing: weighted) }
        require(reweighted.entry(for: name)?.weight == weight, "the weight did not change")
        require(reweighted.entries.filter { $0.nodeName != name } == others, "weighting changed another node")

        // addingAgent edits the first agent of a name (compared without `.so`); a node may list a name twice.
        let baseNames = entry.agents.map { ClusterFormat.baseAgentName($0.name) }
        for (agent, baseName) in zip(entry.agents, baseNames) where baseNames.filter({ $0 == baseName }).count == 1 {
            // An agent name parsed from the file may hold characters addingAgent refuses; a throw is allowed.
            if let again = try? file.addingAgent(agent.name, timeout: agent.timeout, for: name) {
                requireSameBytes(again.rendered, text, "adding \(name)'s agent as it is changed the file")
            }
        }
        let added = mustSucceed("adding an agent to \(name)") {
            try file.addingAgent("SA_fuzz", timeout: 7, for: name)
        }
        let readded = mustSucceed("the file with an agent added parses") {
            try ShutdownDaemonConfig(parsing: added.rendered)
        }
        require(readded.entry(for: name)?.agent(named: "SA_fuzz")?.timeout == 7, "the agent is not there")
        require(readded.entries.filter { $0.nodeName != name } == others, "adding an agent changed another node")

        if entry.agent(named: "SA_absent") == nil {
            let unchanged = mustSucceed("removing an absent agent") { try file.removingAgent("SA_absent", for: name) }
            requireSameBytes(unchanged.rendered, text, "removing an absent agent changed the file")
        }
        if entry.agents.count > 1, let first = entry.agents.first {
            let removed = mustSucceed("removing \(name)'s first agent") {
                try file.removingAgent(first.name, for: name)
            }
            let reremoved = mustSucceed("the file with an agent removed parses") {
                try ShutdownDaemonConfig(parsing: removed.rendered)
            }
            require(reremoved.entries.filter { $0.nodeName != name } == others, "removing changed another node")
        }
    }
    return 0
}
