import Cluster

// SA_vmchkhost.cfg: parses; renders back its bytes; setting the host a guest has changes nothing; setting
// another changes only those fields of that line, and the file parses again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVMCheckHostConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    guard let file = try? VMCheckHostConfig(parsing: text) else { return 0 }
    requireSameBytes(file.rendered, text, "rendered is not the parsed text")
    _ = file.maskedRendering
    for entry in file.entries {
        let name = entry.guestNodeName
        require(file.entry(for: name) == entry, "entry(for:) of \(name)")
        let same = mustSucceed("setting \(name)'s host") {
            try file.settingHost(entry.hostNodeName, address: entry.hostAddress, for: name)
        }
        requireSameBytes(same.rendered, text, "setting \(name)'s host to its host changed the file")
        let pointed = mustSucceed("pointing \(name)") {
            try ClusterEdits.pointed(hostCheckConfig: text, guest: name, hostName: "host9", address: "192.0.2.99")
        }
        let reparsed = mustSucceed("the pointed file parses") { try VMCheckHostConfig(parsing: pointed) }
        var expected = file.entries
        for index in expected.indices where expected[index].guestNodeName == name {
            expected[index].hostNodeName = "host9"
            expected[index].hostAddress = "192.0.2.99"
        }
        require(reparsed.entries == expected, "pointing \(name) changed more than its host")
    }
    return 0
}
