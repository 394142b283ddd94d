import Foundation

// The splitter needs nothing but Foundation, so that its fuzz target (Fuzz/) compiles it without the
// remote-command machinery of NodeStatus.swift.
extension NodeStatus {
    /// Ends each command's output in the status script; a line no PRIMECLUSTER output contains.
    public static let marker = "@@kvmmigrate-status"

    /// Splits the status script's output at its markers: each command's output and exit status.
    public static func sections(of output: String) -> [(output: String, status: Int32)] {
        var sections: [(String, Int32)] = []
        var current: [Substring] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            // The marker starts its own line, or ends the last line of an output without a final newline (a file
            // whose last line has none): that output is kept exactly, without a newline added.
            if let start = line.range(of: Self.marker + " ", options: .backwards),
                let code = Int32(line[start.upperBound...])
            {
                let before = line[..<start.lowerBound]
                if before.isEmpty {
                    sections.append((current.isEmpty ? "" : current.joined(separator: "\n") + "\n", code))
                } else {
                    sections.append(((current + [before]).joined(separator: "\n"), code))
                }
                current = []
            } else {
                current.append(line)
            }
        }
        return sections
    }
}
