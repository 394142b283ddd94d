import Cluster

// cftool -n: parses, and every accessor agrees with the nodes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNodeTable(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let table = try? NodeTable(parsing: fuzzText(data, size)) else { return 0 }
    for node in table.nodes {
        require(table.node(named: node.name) == node, "node(named:) of \(node.name)")
    }
    require(table.allUp == (!table.nodes.isEmpty && table.nodesNotUp.isEmpty), "allUp disagrees with nodesNotUp")
    return 0
}
