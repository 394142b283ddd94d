import Cluster

// cluster.config: parses; renders back its bytes; setting a value a name has changes nothing; prepare then
// restore (ClusterEdits) gives back the bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClusterConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    guard let file = try? ClusterConfigFile(parsing: text) else { return 0 }
    requireSameBytes(file.rendered, text, "rendered is not the parsed text")
    require(file.clusterTimeout >= 1, "a CLUSTER_TIMEOUT below 1 s parsed")
    for pair in file.pairs {
        require(file.value(for: pair.name) == pair.value, "value(for:) of \(pair.name)")
        // The value may hold a stray CR, which settingValue refuses as a line break; a throw is allowed.
        if let same = try? file.settingValue(pair.value, for: pair.name) {
            requireSameBytes(same.rendered, text, "setting \(pair.name) to its value changed the file")
        }
    }
    let timeoutText = file.value(for: "CLUSTER_TIMEOUT")
    let before = timeoutText == nil ? nil : file.clusterTimeout
    // Throws only when a missing CLUSTER_TIMEOUT would be a 101st pair.
    guard let prepared = try? ClusterEdits.prepared(clusterConfig: text, timeout: 600) else {
        require(timeoutText == nil && file.pairs.count >= 100, "prepare refused a file it could edit")
        return 0
    }
    let reparsed = mustSucceed("the prepared file parses") { try ClusterConfigFile(parsing: prepared) }
    require(reparsed.clusterTimeout == 600, "the prepared file's timeout is not 600")
    require(
        reparsed.pairs.filter { $0.name != "CLUSTER_TIMEOUT" } == file.pairs.filter { $0.name != "CLUSTER_TIMEOUT" },
        "prepare changed another pair"
    )
    let restored = mustSucceed("restore") { try ClusterEdits.restored(clusterConfig: prepared, before: before) }
    // The journal records the timeout as a number: the bytes come back when the file wrote it that way.
    if let before, String(before) != timeoutText {
        require(try! ClusterConfigFile(parsing: restored).clusterTimeout == before, "restore lost the timeout")
    } else {
        requireSameBytes(restored, text, "prepare then restore changed the file")
    }
    return 0
}
