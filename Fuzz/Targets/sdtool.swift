import Cluster

// sdtool -s: parses, and the three summaries agree with one another.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShutdownFacilityStatus(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let status = try? ShutdownFacilityStatus(parsing: fuzzText(data, size)) else { return 0 }
    for row in status.rows {
        require(!status.rows(for: row.nodeName).isEmpty, "rows(for:) of \(row.nodeName)")
        require(status.row(for: row.nodeName, agent: row.agent) != nil, "row(for:agent:) of \(row.nodeName)")
        require(row.isHealthy == (row.problem == nil), "a row's problem disagrees with isHealthy")
    }
    require(!(status.isHealthy && status.hasFailures), "healthy with failures")
    require(status.isSettling == (!status.isHealthy && !status.hasFailures), "isSettling disagrees")
    return 0
}
