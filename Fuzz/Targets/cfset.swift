import Cluster

// cfset -a: parses, and every accessor agrees with the pairs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCFSet(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let output = try? CFSetOutput(parsing: fuzzText(data, size)) else { return 0 }
    require(!output.pairs.isEmpty, "parsed without a pair")
    require(output.values.count == output.pairs.count, "a name printed twice parsed")
    for pair in output.pairs {
        require(output.value(for: pair.name) == pair.value, "value(for:) of \(pair.name)")
    }
    _ = output.clusterTimeout
    return 0
}
