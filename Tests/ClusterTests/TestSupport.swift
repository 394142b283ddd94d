import Cluster

/// The 1-based numbers of the lines that differ between two texts of the same line count (split at `\n`).
func changedLineNumbers(_ before: String, _ after: String) -> [Int] {
    let beforeLines = before.split(separator: "\n", omittingEmptySubsequences: false)
    let afterLines = after.split(separator: "\n", omittingEmptySubsequences: false)
    precondition(beforeLines.count == afterLines.count, "the texts have different line counts")
    return zip(beforeLines, afterLines).enumerated().filter { $0.element.0 != $0.element.1 }.map { $0.offset + 1 }
}

/// Everything a user could see of a value: its description, debug description, interpolation and `dump`.
func everythingShown(_ value: Any) -> String {
    var dumped = ""
    dump(value, to: &dumped)
    return [String(describing: value), String(reflecting: value), "\(value)", dumped].joined(separator: "\n")
}
