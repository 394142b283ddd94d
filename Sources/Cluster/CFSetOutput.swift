/// What `cfset -a` prints: the configuration CF uses now, as `KEY: NAME VALUE: value` pairs. [C]
///
/// The pairs may follow a heading on one line,
/// `From cfset configuration in CF module: KEY: CFCP VALUE: cfcp KEY: CLUSTER_TIMEOUT VALUE: 600`,
/// or stand on lines of their own; the parser reads the words of the whole output, so any mix of spaces, tabs and
/// line breaks works. Text before the first `KEY:` is a heading and ignored. A value runs up to the next `KEY:`; a
/// value of several words keeps them, joined by single spaces.
public struct CFSetOutput: Sendable, Hashable {
    /// The pairs, in the order printed.
    public private(set) var pairs: [ClusterConfigFile.Pair]

    /// Parses the output of `cfset -a`.
    ///
    /// - Throws: ``ClusterError`` with `.malformedOutput` when the output has no `KEY:` at all (empty output, or
    ///   an error message), when a `KEY:` has no name or no `VALUE:`, or when `CLUSTER_TIMEOUT` isn't a number;
    ///   with `.duplicateKey` when a name is printed twice.
    public init(parsing output: String) throws(ClusterError) {
        let words = Self.words(of: output)
        guard var index = words.firstIndex(of: Self.keyMarker) else {
            let shown = TextLine.split(output).first { !$0.isBlank }.map { ": \(excerpt($0.content))" } ?? ": no output"
            throw ClusterError(.malformedOutput, "cfset -a printed no KEY: … VALUE: … pairs\(shown)")
        }
        var pairs: [ClusterConfigFile.Pair] = []
        var names: Set<String> = []
        while index < words.count {
            // words[index] is "KEY:".
            let nameStart = index + 1
            guard
                let valueMarker = words[nameStart...].firstIndex(where: {
                    $0 == Self.valueMarker || $0 == Self.keyMarker
                }),
                words[valueMarker] == Self.valueMarker
            else {
                throw ClusterError(.malformedOutput, "cfset -a printed a KEY: without a VALUE:")
            }
            guard valueMarker == nameStart + 1 else {
                let problem = valueMarker == nameStart ? "without a name" : "with a name of several words"
                throw ClusterError(.malformedOutput, "cfset -a printed a KEY: \(problem)")
            }
            let name = words[nameStart]
            let valueEnd = words[(valueMarker + 1)...].firstIndex(of: Self.keyMarker) ?? words.count
            let value = words[(valueMarker + 1)..<valueEnd].joined(separator: " ")
            guard names.insert(name).inserted else {
                throw ClusterError(.duplicateKey, "cfset -a printed the key \(excerpt(name)) twice")
            }
            if name == ClusterFormat.clusterTimeoutKey, Int(value) == nil {
                throw ClusterError(
                    .malformedOutput,
                    "cfset -a printed a \(name) that isn't a number of seconds: \(excerpt(value))"
                )
            }
            pairs.append(ClusterConfigFile.Pair(name: name, value: value))
            index = valueEnd
        }
        self.pairs = pairs
    }

    /// The values by name.
    public var values: [String: String] {
        Dictionary(self.pairs.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    /// The value CF uses for a name, or `nil` if `cfset -a` didn't print it.
    public func value(for name: String) -> String? {
        self.pairs.first { $0.name == name }?.value
    }

    /// The CF interconnect timeout in seconds that CF uses now: `CLUSTER_TIMEOUT`, or 10 when not printed.
    public var clusterTimeout: Int {
        self.value(for: ClusterFormat.clusterTimeoutKey).flatMap { Int($0) } ?? ClusterFormat.defaultClusterTimeout
    }

    // MARK: - Words

    private static let keyMarker = "KEY:"
    private static let valueMarker = "VALUE:"

    /// The output's blank-separated words, with `KEY:`/`VALUE:` split from a word they are glued to
    /// (`KEY:CFCP` → `KEY:`, `CFCP`).
    private static func words(of output: String) -> [String] {
        var words: [String] = []
        for line in TextLine.split(output) {
            for word in line.words {
                if let marker = [Self.keyMarker, Self.valueMarker].first(where: { word.hasPrefix($0) && word != $0 }) {
                    words.append(marker)
                    words.append(String(word.dropFirst(marker.count)))
                } else {
                    words.append(word)
                }
            }
        }
        return words
    }
}
