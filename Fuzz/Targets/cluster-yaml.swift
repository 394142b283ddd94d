import Cluster

// cluster.yaml (with Yams): parses or throws a ClusterError, and every lookup works on what parsed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClusterConfiguration(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let configuration = try? ClusterConfiguration(yaml: fuzzText(data, size)) else { return 0 }
    for host in configuration.hosts {
        require(configuration.host(matching: host.name) != nil, "host(matching:) of \(host.name)")
    }
    for node in configuration.nodeDestinations.keys {
        _ = configuration.destination(of: node)
    }
    return 0
}
