/// The shutdown daemon's configuration, `/etc/opt/SMAW/SMAWsf/rcsd.cfg`, identical on all nodes.
///
/// One line per node [C]: `CFName[,weight=W][,admIP=ADDR]:agent=SA1,timeout=T1[:agent=SA2,timeout=T2]...`, for
/// example `guest1,weight=1,admIP=10.0.0.11:agent=SA_libvirtgp,timeout=35:agent=SA_libvirtgr,timeout=35`. The
/// weight is 1 when absent; agents are tried in order. Attributes other than `weight`, `admIP`, `agent` and
/// `timeout` are kept as they are. Comment lines (`#`) and blank lines are kept [I: where a comment may start].
///
/// An address may hold colons (`admIP=fe80::1`): a colon starts a new agent only when `key=` follows it.
///
/// The file keeps the text of every line, so ``rendered`` gives back the parsed bytes exactly, and an edit
/// changes only the line of the node it is about.
public struct ShutdownDaemonConfig: Sendable, Hashable {
    /// A `key=value` attribute of a node or an agent.
    public struct Attribute: Sendable, Hashable {
        public var key: String
        public var value: String

        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// One shutdown agent of a node, with the time the daemon gives it.
    public struct Agent: Sendable, Hashable {
        /// The agent's name, for example `SA_libvirtgp`.
        public var name: String

        /// The `timeout`, in seconds.
        public var timeout: Int

        /// The agent's attributes other than `agent` and `timeout`, in file order.
        public var otherAttributes: [Attribute]

        public init(name: String, timeout: Int, otherAttributes: [Attribute] = []) {
            self.name = name
            self.timeout = timeout
            self.otherAttributes = otherAttributes
        }
    }

    /// The line of one node.
    public struct Entry: Sendable, Hashable {
        /// The node's CF node name.
        public var nodeName: String

        /// The SF node weight: `weight`, or 1 when absent.
        public var weight: Int

        /// The node's address on the administrative LAN: `admIP`.
        public var administrativeAddress: String?

        /// The agents, in the order the daemon tries them.
        public var agents: [Agent]

        /// The node's attributes other than `weight` and `admIP`, in file order.
        public var otherAttributes: [Attribute]

        public init(
            nodeName: String,
            weight: Int = ClusterFormat.defaultShutdownWeight,
            administrativeAddress: String? = nil,
            agents: [Agent],
            otherAttributes: [Attribute] = []
        ) {
            self.nodeName = nodeName
            self.weight = weight
            self.administrativeAddress = administrativeAddress
            self.agents = agents
            self.otherAttributes = otherAttributes
        }

        /// The agent with a name, compared without a `.so` suffix.
        public func agent(named name: String) -> Agent? {
            let baseName = ClusterFormat.baseAgentName(name)
            return self.agents.first { ClusterFormat.baseAgentName($0.name) == baseName }
        }
    }

    /// A node's line, cut at its separators so that one piece can change and the others keep their bytes.
    private struct EntryLine: Sendable, Hashable {
        /// The node part, cut at commas: the CF name, then `key=value` pieces (blanks included).
        var nodePieces: [String]
        /// Each agent part (after a colon), cut at commas.
        var agentParts: [[String]]
        var terminator: String
        var entry: Entry

        var content: String {
            self.nodePieces.joined(separator: ",") + self.agentParts.map { ":" + $0.joined(separator: ",") }.joined()
        }
    }

    private enum Line: Sendable, Hashable {
        /// A comment or blank line, kept as it is.
        case verbatim(TextLine)
        case entry(EntryLine)

        var textLine: TextLine {
            switch self {
            case .verbatim(let line): line
            case .entry(let entry): TextLine(content: entry.content, terminator: entry.terminator)
            }
        }
    }

    private var lines: [Line]

    /// Parses the file's text.
    ///
    /// - Throws: ``ClusterError`` with `.malformedFile` for a line without a node name or agent, an attribute
    ///   without `=`, an attribute given twice, a weight or timeout that isn't a positive whole number, or an agent
    ///   without a name; with `.duplicateKey` for a node listed twice. The error gives the line number.
    public init(parsing text: String) throws(ClusterError) {
        var lines: [Line] = []
        var lineNumbers: [String: Int] = [:]
        for (offset, textLine) in TextLine.split(text).enumerated() {
            let lineNumber = offset + 1
            if textLine.isBlank || ClusterFormat.isShutdownFacilityComment(textLine.content) {
                lines.append(.verbatim(textLine))
                continue
            }
            let entryLine = try Self.parseEntry(
                textLine.content,
                terminator: textLine.terminator,
                lineNumber: lineNumber
            )
            let nodeName = entryLine.entry.nodeName
            if let first = lineNumbers[nodeName] {
                throw ClusterError(
                    .duplicateKey,
                    "node \(excerpt(nodeName)) is listed twice (first on line \(first))",
                    line: lineNumber
                )
            }
            lineNumbers[nodeName] = lineNumber
            lines.append(.entry(entryLine))
        }
        self.lines = lines
    }

    // MARK: - Reading

    /// The nodes, in file order.
    public var entries: [Entry] {
        self.lines.compactMap { line in
            guard case .entry(let entryLine) = line else { return nil }
            return entryLine.entry
        }
    }

    /// The line of a node, or `nil` if the file doesn't list it.
    public func entry(for nodeName: String) -> Entry? {
        self.entries.first { $0.nodeName == nodeName }
    }

    /// The file's text: exactly what was parsed, with any edits.
    public var rendered: String {
        TextLine.join(self.lines.map(\.textLine))
    }

    // MARK: - Editing

    /// Returns the file with a node's SF weight set.
    ///
    /// An existing `weight=` keeps its place and only its value changes; otherwise `,weight=W` goes right after
    /// the CF name. Setting the weight a node already has (1 for a line without `weight=`) changes nothing.
    ///
    /// - Throws: ``ClusterError`` with `.unknownNode` if the file doesn't list the node; `.invalidValue` for a
    ///   weight below 1.
    public func settingWeight(_ weight: Int, for nodeName: String) throws(ClusterError) -> ShutdownDaemonConfig {
        guard weight >= 1 else {
            throw ClusterError(.invalidValue, "the weight of \(excerpt(nodeName)) must be at least 1, not \(weight)")
        }
        return try self.editing(nodeName) { (line: inout EntryLine) throws(ClusterError) in
            guard line.entry.weight != weight else { return }
            if let index = Self.attributeIndex(of: "weight", in: line.nodePieces) {
                line.nodePieces[index] = Self.replacingValue(of: line.nodePieces[index], with: String(weight))
            } else {
                line.nodePieces.insert("weight=\(weight)", at: 1)
            }
        }
    }

    /// Returns the file with an agent for a node: appended as the node's last agent, or, if the node has it
    /// already (compared without `.so`), with its timeout set. Adding an agent exactly as it is changes nothing.
    ///
    /// - Throws: ``ClusterError`` with `.unknownNode` if the file doesn't list the node; `.invalidValue` for an
    ///   empty agent name or one with blanks, `,`, `:` or `=`, or a timeout below 1.
    public func addingAgent(
        _ agentName: String,
        timeout: Int,
        for nodeName: String
    ) throws(ClusterError)
        -> ShutdownDaemonConfig
    {
        let invalidCharacters: Set<Character> = [",", ":", "=", "#"]
        guard !agentName.isEmpty,
            !agentName.unicodeScalars.contains(where: TextLine.isBlank),
            !agentName.contains(where: { invalidCharacters.contains($0) || $0.isNewline })
        else {
            throw ClusterError(.invalidValue, "\(excerpt(agentName)) is not a valid agent name")
        }
        guard timeout >= 1 else {
            throw ClusterError(.invalidValue, "the timeout of \(excerpt(agentName)) must be at least 1, not \(timeout)")
        }
        return try self.editing(nodeName) { (line: inout EntryLine) throws(ClusterError) in
            guard let index = Self.agentIndex(of: agentName, in: line) else {
                line.agentParts.append(["agent=\(agentName)", "timeout=\(timeout)"])
                return
            }
            guard line.entry.agents[index].timeout != timeout,
                let timeoutIndex = Self.attributeIndex(of: "timeout", in: line.agentParts[index])
            else { return }
            line.agentParts[index][timeoutIndex] = Self.replacingValue(
                of: line.agentParts[index][timeoutIndex],
                with: String(timeout)
            )
        }
    }

    /// Returns the file without an agent of a node (compared without `.so`). Removing an agent the node
    /// doesn't have changes nothing.
    ///
    /// - Throws: ``ClusterError`` with `.unknownNode` if the file doesn't list the node; `.invalidValue` when it
    ///   is the node's only agent, since a node line needs one.
    public func removingAgent(_ agentName: String, for nodeName: String) throws(ClusterError) -> ShutdownDaemonConfig {
        try self.editing(nodeName) { (line: inout EntryLine) throws(ClusterError) in
            guard let index = Self.agentIndex(of: agentName, in: line) else { return }
            guard line.agentParts.count > 1 else {
                throw ClusterError(
                    .invalidValue,
                    "can't remove \(excerpt(agentName)), the only agent of \(excerpt(nodeName))"
                )
            }
            line.agentParts.remove(at: index)
        }
    }

    /// Applies an edit to a node's line, then parses the line again so that its entry matches its text.
    private func editing(
        _ nodeName: String,
        _ edit: (inout EntryLine) throws(ClusterError) -> Void
    ) throws(ClusterError) -> ShutdownDaemonConfig {
        guard
            let index = self.lines.firstIndex(where: {
                guard case .entry(let line) = $0 else { return false }
                return line.entry.nodeName == nodeName
            }),
            case .entry(var line) = self.lines[index]
        else {
            throw ClusterError(.unknownNode, "\(excerpt(nodeName)) is not listed in rcsd.cfg")
        }
        let original = line
        try edit(&line)
        guard line != original else { return self }
        var copy = self
        copy.lines[index] = .entry(
            try Self.parseEntry(line.content, terminator: line.terminator, lineNumber: index + 1)
        )
        return copy
    }

    private static func agentIndex(of agentName: String, in line: EntryLine) -> Int? {
        let baseName = ClusterFormat.baseAgentName(agentName)
        return line.entry.agents.firstIndex { ClusterFormat.baseAgentName($0.name) == baseName }
    }

    // MARK: - Parsing helpers

    private static func parseEntry(
        _ content: String,
        terminator: String,
        lineNumber: Int
    ) throws(ClusterError)
        -> EntryLine
    {
        let parts = Self.splitParts(content)
        let nodePieces = parts[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let agentParts = parts.dropFirst().map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }

        let nodeName = Self.trimmed(nodePieces[0])
        guard !nodeName.isEmpty, !nodeName.contains("="), !nodeName.unicodeScalars.contains(where: TextLine.isBlank)
        else {
            throw ClusterError(
                .malformedFile,
                "expected CFName[,weight=W][,admIP=ADDR]:agent=SA,timeout=T…, found \(excerpt(content))",
                line: lineNumber
            )
        }
        var entry = Entry(
            nodeName: nodeName,
            weight: ClusterFormat.defaultShutdownWeight,
            administrativeAddress: nil,
            agents: [],
            otherAttributes: []
        )
        for attribute in try Self.attributes(nodePieces.dropFirst(), of: nodeName, lineNumber: lineNumber) {
            switch attribute.key {
            case "weight":
                entry.weight = try Self.positiveNumber(attribute, of: nodeName, lineNumber: lineNumber)
            case "admIP":
                entry.administrativeAddress = attribute.value
            default:
                entry.otherAttributes.append(attribute)
            }
        }
        guard !agentParts.isEmpty else {
            throw ClusterError(
                .malformedFile,
                "node \(excerpt(nodeName)) has no agent=…,timeout=…",
                line: lineNumber
            )
        }
        for pieces in agentParts {
            var name: String?
            var timeout: Int?
            var others: [Attribute] = []
            for attribute in try Self.attributes(pieces[...], of: nodeName, lineNumber: lineNumber) {
                switch attribute.key {
                case "agent": name = attribute.value
                case "timeout": timeout = try Self.positiveNumber(attribute, of: nodeName, lineNumber: lineNumber)
                default: others.append(attribute)
                }
            }
            guard let name, !name.isEmpty else {
                throw ClusterError(
                    .malformedFile,
                    "an agent of \(excerpt(nodeName)) has no agent=NAME",
                    line: lineNumber
                )
            }
            guard let timeout else {
                throw ClusterError(
                    .malformedFile,
                    "agent \(excerpt(name)) of \(excerpt(nodeName)) has no timeout=",
                    line: lineNumber
                )
            }
            entry.agents.append(Agent(name: name, timeout: timeout, otherAttributes: others))
        }
        return EntryLine(nodePieces: nodePieces, agentParts: agentParts, terminator: terminator, entry: entry)
    }

    /// Cuts a line at the colons that start an agent part: those followed by `key=`. Other colons, as in an
    /// IPv6 address, stay inside their part.
    private static func splitParts(_ content: String) -> [String] {
        var parts: [String] = []
        for piece in content.split(separator: ":", omittingEmptySubsequences: false) {
            if parts.isEmpty || !Self.startsWithKey(piece) {
                if parts.isEmpty {
                    parts.append(String(piece))
                } else {
                    parts[parts.count - 1] += ":" + piece
                }
            } else {
                parts.append(String(piece))
            }
        }
        return parts.isEmpty ? [""] : parts
    }

    /// Whether text starts (after blanks) with a key and `=`, like `agent=` or `timeout=`.
    private static func startsWithKey(_ text: Substring) -> Bool {
        let rest = text.drop { $0.unicodeScalars.allSatisfy(TextLine.isBlank) }
        guard let equals = rest.firstIndex(of: "="), equals > rest.startIndex else { return false }
        return rest[..<equals].allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }

    private static func attributes(
        _ pieces: ArraySlice<String>,
        of nodeName: String,
        lineNumber: Int
    )
        throws(ClusterError) -> [Attribute]
    {
        var attributes: [Attribute] = []
        var keys: Set<String> = []
        for piece in pieces {
            guard let equals = piece.firstIndex(of: "=") else {
                throw ClusterError(
                    .malformedFile,
                    "expected key=value after a comma, found \(excerpt(Self.trimmed(piece)))",
                    line: lineNumber
                )
            }
            let key = Self.trimmed(piece[..<equals])
            let value = Self.trimmed(piece[piece.index(after: equals)...])
            guard !key.isEmpty else {
                throw ClusterError(
                    .malformedFile,
                    "expected key=value, found \(excerpt(Self.trimmed(piece)))",
                    line: lineNumber
                )
            }
            guard keys.insert(key).inserted else {
                throw ClusterError(
                    .malformedFile,
                    "\(excerpt(key))= is given twice for \(excerpt(nodeName))",
                    line: lineNumber
                )
            }
            attributes.append(Attribute(key: key, value: value))
        }
        return attributes
    }

    private static func positiveNumber(
        _ attribute: Attribute,
        of nodeName: String,
        lineNumber: Int
    )
        throws(ClusterError) -> Int
    {
        guard let number = Int(attribute.value), number >= 1 else {
            throw ClusterError(
                .malformedFile,
                "\(attribute.key) of \(excerpt(nodeName)) must be a positive whole number, "
                    + "not \(excerpt(attribute.value))",
                line: lineNumber
            )
        }
        return number
    }

    /// The index of the piece with a key, among `key=value` pieces.
    private static func attributeIndex(of key: String, in pieces: [String]) -> Int? {
        pieces.indices.first { index in
            guard let equals = pieces[index].firstIndex(of: "=") else { return false }
            return Self.trimmed(pieces[index][..<equals]) == key
        }
    }

    /// A `key=value` piece with a new value, keeping the key, the `=` and any blanks around the value.
    private static func replacingValue(of piece: String, with value: String) -> String {
        guard let equals = piece.firstIndex(of: "=") else { return piece }
        let valueText = piece[piece.index(after: equals)...]
        let leading = valueText.prefix { $0.unicodeScalars.allSatisfy(TextLine.isBlank) }
        let trailing = valueText.reversed().prefix { $0.unicodeScalars.allSatisfy(TextLine.isBlank) }
        return piece[...equals] + leading + value + String(trailing.reversed())
    }

    private static func trimmed(_ text: some StringProtocol) -> String {
        let isBlank: (Character) -> Bool = { $0.unicodeScalars.allSatisfy(TextLine.isBlank) }
        return String(text.drop(while: isBlank).reversed().drop(while: isBlank).reversed())
    }
}
