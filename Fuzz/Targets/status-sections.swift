import Cluster

// The status script's output: any text splits without a crash; and two command outputs, each followed by
// its marker line as the script prints it (`cmd; echo "marker $?"`), split back into exactly those outputs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStatusSections(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    _ = NodeStatus.sections(of: text)
    // The input is the two outputs, separated by a NUL; neither may hold the marker.
    let parts = text.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    guard parts.allSatisfy({ !$0.contains(NodeStatus.marker) }) else { return 0 }
    let codes: [Int32] = [0, 127]
    var script = ""
    for (part, code) in zip(parts, codes) { script += part + "\(NodeStatus.marker) \(code)\n" }
    let sections = NodeStatus.sections(of: script)
    require(sections.count == parts.count, "\(parts.count) outputs split into \(sections.count) sections")
    for (section, (part, code)) in zip(sections, zip(parts, codes)) {
        requireSameBytes(section.output, part, "an output did not come back")
        require(section.status == code, "a status did not come back")
    }
    return 0
}
