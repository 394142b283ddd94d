/// What `cftool -n` prints: the CF nodes and their states.
///
/// ```
/// Node     Number State       Os      Cpu
/// guest1   1      UP          Linux   EM64T
/// ```
///
/// The layout is inferred [I]; the parser finds its columns by the heading's names (kept in ``ClusterFormat``),
/// so columns in another order, or without `Number`, `Os` or `Cpu`, still parse. Only `Node` and `State` are
/// needed. Lines before the heading are ignored.
public struct NodeTable: Sendable, Hashable {
    /// A CF node's state. The set is open: a state this version doesn't know is kept as printed. [C]
    public struct State: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The state as `cftool -n` prints it, for example `UP`.
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String {
            self.rawValue
        }

        /// `UP`: the node is a working member of the cluster.
        public static let up = Self(rawValue: "UP")
        /// `DOWN`: the node is known to be down.
        public static let down = Self(rawValue: "DOWN")
        /// `LEFTCLUSTER`: the node stopped answering and has not been shut down or marked down yet.
        public static let leftCluster = Self(rawValue: "LEFTCLUSTER")
        /// `COMINGUP`: the node is joining.
        public static let comingUp = Self(rawValue: "COMINGUP")
        /// `INVALID`.
        public static let invalid = Self(rawValue: "INVALID")
    }

    /// One row of the table.
    public struct Node: Sendable, Hashable {
        /// The CF node name.
        public var name: String

        /// The node number, if the table has that column.
        public var number: Int?

        /// The node's state.
        public var state: State

        /// The operating system column (`Linux`), if present.
        public var operatingSystem: String?

        /// The processor column (`EM64T`), if present.
        public var processor: String?

        public init(
            name: String,
            number: Int? = nil,
            state: State,
            operatingSystem: String? = nil,
            processor: String? = nil
        ) {
            self.name = name
            self.number = number
            self.state = state
            self.operatingSystem = operatingSystem
            self.processor = processor
        }
    }

    /// The nodes, in the order printed.
    public private(set) var nodes: [Node]

    /// Creates a table from nodes, for example to test code that acts on one.
    public init(nodes: [Node]) {
        self.nodes = nodes
    }

    /// Parses the output of `cftool -n`.
    ///
    /// - Throws: ``ClusterError`` with `.malformedOutput` when there is no heading with `Node` and `State`, when a
    ///   row hasn't as many values as the heading, or when a node number isn't a number; `.duplicateKey` for a node
    ///   listed twice.
    public init(parsing output: String) throws(ClusterError) {
        let columns = ClusterFormat.nodeTableColumns
        let lines = TextLine.split(output)
        guard
            let headingIndex = lines.firstIndex(where: {
                let words = $0.words
                return words.first == columns.node && words.contains(columns.state)
            })
        else {
            let shown = lines.first { !$0.isBlank }.map { ": \(excerpt($0.content))" } ?? ": no output"
            throw ClusterError(.malformedOutput, "cftool -n printed no table heading\(shown)")
        }
        let heading = lines[headingIndex].words
        let stateColumn = heading.firstIndex(of: columns.state)!
        let numberColumn = heading.firstIndex(of: columns.number)
        let operatingSystemColumn = heading.firstIndex(of: columns.os)
        let processorColumn = heading.firstIndex(of: columns.cpu)
        var nodes: [Node] = []
        var names: Set<String> = []
        for index in lines.indices where index > headingIndex && !lines[index].isBlank {
            let words = lines[index].words
            guard words.count == heading.count else {
                throw ClusterError(
                    .malformedOutput,
                    "expected \(heading.count) columns in cftool -n output, found \(words.count): "
                        + excerpt(lines[index].content),
                    line: index + 1
                )
            }
            var number: Int?
            if let numberColumn {
                guard let value = Int(words[numberColumn]) else {
                    throw ClusterError(
                        .malformedOutput,
                        "node number \(excerpt(words[numberColumn])) is not a number",
                        line: index + 1
                    )
                }
                number = value
            }
            guard names.insert(words[0]).inserted else {
                throw ClusterError(
                    .duplicateKey,
                    "cftool -n lists node \(excerpt(words[0])) twice",
                    line: index + 1
                )
            }
            nodes.append(
                Node(
                    name: words[0],
                    number: number,
                    state: State(rawValue: words[stateColumn]),
                    operatingSystem: operatingSystemColumn.map { words[$0] },
                    processor: processorColumn.map { words[$0] }
                )
            )
        }
        self.nodes = nodes
    }

    /// The node with a CF node name, or `nil`.
    public func node(named name: String) -> Node? {
        self.nodes.first { $0.name == name }
    }

    /// Whether there is at least one node and every node is `UP`: the condition for starting.
    public var allUp: Bool {
        !self.nodes.isEmpty && self.nodes.allSatisfy { $0.state == .up }
    }

    /// The nodes that are not `UP`.
    public var nodesNotUp: [Node] {
        self.nodes.filter { $0.state != .up }
    }
}
