/// The CF configuration file, `/etc/default/cluster.config`, which `cfset -r` loads into CF.
///
/// The format [C]: each line is `NAME "VALUE"` or `NAME 'VALUE'`, a comment with `#` in column 1, or blank; the
/// file holds at most 100 pairs and no name twice. The CF interconnect timeout is `CLUSTER_TIMEOUT "600"`, and
/// 10 seconds when absent. A `#` after blanks doesn't start a comment, so such a line is malformed, as the
/// format says.
///
/// The file keeps the text of every line, so ``rendered`` gives back the parsed bytes exactly, and an edit
/// changes only the line it is about.
///
/// ```swift
/// let file = try ClusterConfigFile(parsing: text)
/// let prepared = try file.settingClusterTimeout(600)
/// ```
public struct ClusterConfigFile: Sendable, Hashable {
    /// One `NAME "VALUE"` pair of the file.
    public struct Pair: Sendable, Hashable {
        /// The name, for example `CLUSTER_TIMEOUT`.
        public var name: String

        /// The value between the quotes, for example `600`.
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A `NAME "VALUE"` line, split so that the value can change and everything else stays.
    private struct PairLine: Sendable, Hashable {
        /// Everything up to and including the opening quote, for example `CLUSTER_TIMEOUT "`.
        var prefix: String
        var name: String
        var quote: Character
        var value: String
        /// The closing quote and any blanks after it.
        var suffix: String

        var content: String {
            self.prefix + self.value + self.suffix
        }
    }

    private enum Line: Sendable, Hashable {
        /// A comment or blank line, kept as it is.
        case verbatim(TextLine)
        case pair(PairLine, terminator: String)

        var textLine: TextLine {
            switch self {
            case .verbatim(let line): line
            case .pair(let pair, let terminator): TextLine(content: pair.content, terminator: terminator)
            }
        }

        /// The pair's name, or `nil` for a comment or blank line.
        var name: String? {
            guard case .pair(let pair, _) = self else { return nil }
            return pair.name
        }

        /// Sets the line's terminator: `newline` when another line is appended after a last line without one,
        /// `""` when the line becomes the last again and the file ended without one.
        mutating func setTerminator(_ newline: String) {
            switch self {
            case .verbatim(var line):
                line.terminator = newline
                self = .verbatim(line)
            case .pair(let pair, _):
                self = .pair(pair, terminator: newline)
            }
        }
    }

    private var lines: [Line]

    /// Parses the file's text.
    ///
    /// - Throws: ``ClusterError`` with `.malformedFile` for a line that is neither a pair, a comment nor blank,
    ///   for more than 100 pairs, or for a `CLUSTER_TIMEOUT` that isn't a positive number of seconds; with
    ///   `.duplicateKey` for a name given twice. The error gives the line number; add the node and path with
    ///   ``ClusterError/located(node:path:)``.
    public init(parsing text: String) throws(ClusterError) {
        var lines: [Line] = []
        var lineNumbers: [String: Int] = [:]
        for (offset, textLine) in TextLine.split(text).enumerated() {
            let lineNumber = offset + 1
            if textLine.content.hasPrefix("#") || textLine.isBlank {
                lines.append(.verbatim(textLine))
                continue
            }
            let pair = try Self.parsePair(textLine.content, lineNumber: lineNumber)
            if let first = lineNumbers[pair.name] {
                throw ClusterError(
                    .duplicateKey,
                    "duplicate key \(excerpt(pair.name)) (first on line \(first))",
                    line: lineNumber
                )
            }
            lineNumbers[pair.name] = lineNumber
            guard lineNumbers.count <= ClusterFormat.maximumClusterConfigPairs else {
                throw ClusterError(
                    .malformedFile,
                    "more than \(ClusterFormat.maximumClusterConfigPairs) pairs",
                    line: lineNumber
                )
            }
            if pair.name == ClusterFormat.clusterTimeoutKey {
                try Self.validateClusterTimeout(pair.value, lineNumber: lineNumber)
            }
            lines.append(.pair(pair, terminator: textLine.terminator))
        }
        self.lines = lines
    }

    // MARK: - Reading

    /// The pairs, in file order.
    public var pairs: [Pair] {
        self.lines.compactMap { line in
            guard case .pair(let pair, _) = line else { return nil }
            return Pair(name: pair.name, value: pair.value)
        }
    }

    /// The value of a name, or `nil` if the file doesn't set it.
    public func value(for name: String) -> String? {
        for case .pair(let pair, _) in self.lines where pair.name == name {
            return pair.value
        }
        return nil
    }

    /// The CF interconnect timeout in seconds: `CLUSTER_TIMEOUT`, or 10 when the file doesn't set it.
    public var clusterTimeout: Int {
        // The parser checked that a present value is a number.
        self.value(for: ClusterFormat.clusterTimeoutKey).flatMap { Int($0) } ?? ClusterFormat.defaultClusterTimeout
    }

    /// The file's text: exactly what was parsed, with any edits.
    public var rendered: String {
        TextLine.join(self.lines.map(\.textLine))
    }

    // MARK: - Editing

    /// Returns the file with a name set to a value.
    ///
    /// If the file has the name, its line keeps everything but the value, including its quote style (unless the
    /// value holds that quote, when the line switches to the other one). Otherwise one `NAME "VALUE"` line is
    /// appended. There is never a second line for a name. Setting the value a name already has changes nothing.
    ///
    /// - Throws: ``ClusterError`` with `.invalidValue` for a name that is empty or holds blanks, quotes or starts
    ///   with `#`, or a value with a line break or both kinds of quote; with `.malformedFile` if appending would
    ///   make more than 100 pairs.
    /// The file without the line of `name`; the file itself when it has none. Every other line is kept.
    ///
    /// Restores a file in which kvmmigrate had added `CLUSTER_TIMEOUT`.
    public func removingValue(for name: String) -> ClusterConfigFile {
        var copy = self
        copy.lines.removeAll { $0.name == name }
        // A file that ended without a line break still does: the appended line had taken that over.
        if self.lines.last?.name == name, self.lines.last?.textLine.terminator.isEmpty == true,
            let last = copy.lines.indices.last
        {
            copy.lines[last].setTerminator("")
        }
        return copy
    }

    public func settingValue(_ value: String, for name: String) throws(ClusterError) -> ClusterConfigFile {
        try Self.validateName(name)
        if value.contains(where: \.isNewline) {
            throw ClusterError(.invalidValue, "the value for \(excerpt(name)) contains a line break")
        }
        if name == ClusterFormat.clusterTimeoutKey {
            try Self.validateClusterTimeout(value, lineNumber: nil)
        }
        var copy = self
        if let index = self.lines.firstIndex(where: { $0.name == name }),
            case .pair(var pair, let terminator) = self.lines[index]
        {
            guard pair.value != value else { return self }
            let quote = try Self.quote(for: value, preferring: pair.quote, name: name)
            if quote != pair.quote {
                pair.prefix = String(pair.prefix.dropLast()) + String(quote)
                pair.suffix = String(quote) + pair.suffix.dropFirst()
                pair.quote = quote
            }
            pair.value = value
            copy.lines[index] = .pair(pair, terminator: terminator)
            return copy
        }
        guard self.pairs.count < ClusterFormat.maximumClusterConfigPairs else {
            throw ClusterError(
                .malformedFile,
                "can't add \(excerpt(name)): the file already has \(ClusterFormat.maximumClusterConfigPairs) pairs"
            )
        }
        let quote = try Self.quote(for: value, preferring: "\"", name: name)
        let pair = PairLine(prefix: "\(name) \(quote)", name: name, quote: quote, value: value, suffix: String(quote))
        let newline = TextLine.newline(of: self.lines.map(\.textLine))
        // A file that ends without a line break keeps ending without one, so that removing the line again
        // (``removingValue(for:)``) gives back its bytes.
        var terminator = newline
        if let last = copy.lines.indices.last, copy.lines[last].textLine.terminator.isEmpty {
            // A stray CR ending that line stays its content: a "\n" after it would read as a "\r\n".
            let endsInReturn = copy.lines[last].textLine.content.unicodeScalars.last == "\r"
            copy.lines[last].setTerminator(endsInReturn ? "\r\n" : newline)
            terminator = ""
        }
        copy.lines.append(.pair(pair, terminator: terminator))
        return copy
    }

    /// Returns the file with `CLUSTER_TIMEOUT` set to a number of seconds; see ``settingValue(_:for:)``.
    ///
    /// - Throws: ``ClusterError`` with `.invalidValue` for fewer than 1 second; with `.malformedFile` if the
    ///   line must be appended to a file that already has 100 pairs.
    public func settingClusterTimeout(_ seconds: Int) throws(ClusterError) -> ClusterConfigFile {
        try self.settingValue(String(seconds), for: ClusterFormat.clusterTimeoutKey)
    }

    // MARK: - Parsing helpers

    /// Parses `NAME "VALUE"`: optional blanks, a name, blanks, a quoted value, optional blanks.
    private static func parsePair(_ content: String, lineNumber: Int) throws(ClusterError) -> PairLine {
        let expected = "expected NAME \"VALUE\" or NAME 'VALUE', found \(excerpt(content))"
        let characters = Array(content)
        var index = 0
        while index < characters.count, characters[index].isBlankOrTab { index += 1 }
        let nameStart = index
        while index < characters.count, !characters[index].isBlankOrTab, !characters[index].isQuote { index += 1 }
        let name = String(characters[nameStart..<index])
        let nameEnd = index
        while index < characters.count, characters[index].isBlankOrTab { index += 1 }
        guard !name.isEmpty, index > nameEnd, index < characters.count, characters[index].isQuote else {
            throw ClusterError(.malformedFile, expected, line: lineNumber)
        }
        let quote = characters[index]
        let prefix = String(characters[0...index])
        index += 1
        let valueStart = index
        while index < characters.count, characters[index] != quote { index += 1 }
        guard index < characters.count else {
            throw ClusterError(
                .malformedFile,
                "the value of \(excerpt(name)) has no closing \(quote)",
                line: lineNumber
            )
        }
        let value = String(characters[valueStart..<index])
        let suffix = String(characters[index...])
        guard suffix.dropFirst().allSatisfy(\.isBlankOrTab) else {
            throw ClusterError(.malformedFile, "unexpected text after the value of \(excerpt(name))", line: lineNumber)
        }
        return PairLine(prefix: prefix, name: name, quote: quote, value: value, suffix: suffix)
    }

    private static func validateClusterTimeout(_ value: String, lineNumber: Int?) throws(ClusterError) {
        guard let seconds = Int(value), seconds >= 1 else {
            throw ClusterError(
                lineNumber == nil ? .invalidValue : .malformedFile,
                "\(ClusterFormat.clusterTimeoutKey) must be a whole number of seconds, not \(excerpt(value))",
                line: lineNumber
            )
        }
    }

    private static func validateName(_ name: String) throws(ClusterError) {
        guard !name.isEmpty, !name.hasPrefix("#"),
            !name.contains(where: { $0.isBlankOrTab || $0.isQuote || $0.isNewline })
        else {
            throw ClusterError(.invalidValue, "\(excerpt(name)) is not a valid name for cluster.config")
        }
    }

    /// The quote to write a value in: the preferred one unless the value holds it.
    private static func quote(
        for value: String,
        preferring preferred: Character,
        name: String
    ) throws(ClusterError)
        -> Character
    {
        let other: Character = preferred == "\"" ? "'" : "\""
        if !value.contains(preferred) { return preferred }
        if !value.contains(other) { return other }
        throw ClusterError(.invalidValue, "the value for \(excerpt(name)) contains both kinds of quote")
    }
}

extension Character {
    /// A space or a tab (and the carriage return of a stray CR), which separate a name from its value.
    fileprivate var isBlankOrTab: Bool {
        self.unicodeScalars.count == 1 && TextLine.isBlank(self.unicodeScalars.first!)
    }

    fileprivate var isQuote: Bool {
        self == "\"" || self == "'"
    }
}
