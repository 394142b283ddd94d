import Cluster

// SA_libvirtgp.cfg / SA_libvirtgr.cfg: parses; renders back its bytes; setting an address a guest has changes
// nothing; setting another changes only that field of that line, and the file parses again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLibvirtAgentConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    guard let file = try? LibvirtAgentConfig(parsing: text, fileName: "SA_libvirtgp.cfg") else { return 0 }
    requireSameBytes(file.rendered, text, "rendered is not the parsed text")
    _ = file.maskedRendering
    for entry in file.entries {
        let name = entry.nodeName
        require(file.entry(for: name) == entry, "entry(for:) of \(name)")
        let same = mustSucceed("setting \(name)'s address") {
            try file.settingHostAddress(entry.hostAddress, for: name)
        }
        requireSameBytes(same.rendered, text, "setting \(name)'s address to its address changed the file")
        let pointed = mustSucceed("pointing \(name)") {
            try ClusterEdits.pointed(
                libvirtAgentConfig: text,
                fileName: "SA_libvirtgp.cfg",
                guest: name,
                address: "192.0.2.99"
            )
        }
        let reparsed = mustSucceed("the pointed file parses") { try LibvirtAgentConfig(parsing: pointed) }
        var expected = file.entries
        for index in expected.indices where expected[index].nodeName == name {
            expected[index].hostAddress = "192.0.2.99"
        }
        require(reparsed.entries == expected, "pointing \(name) changed more than its address")
    }
    return 0
}
