/// What `sdtool -s` prints: the state of every shutdown agent of every node. [C]
///
/// ```
/// Cluster Host    Agent             SA State      Shut State  Test State    Init State
/// ------------    -----             --------      ----------  ----------    ----------
/// guest1          SA_libvirtgp.so   Idle          Unknown     TestWorked    InitWorked
/// ```
///
/// The shutdown facility is healthy when every row shows `TestWorked` and `InitWorked`. Right after `sdtool -b`
/// rows show `Unknown`, `Init-ing` or `Testing` for a while (``isSettling``); a `TestFailed` or `InitFailed`
/// (``hasFailures``) means the settings may not have changed and the after-step must run again.
///
/// The parser looks for the heading line (any spacing), skips the dashes under it if present, and reads every
/// further non-blank line as a row of six blank-separated values. Lines before the heading are ignored.
public struct ShutdownFacilityStatus: Sendable, Hashable {
    /// The state of one agent of one node.
    public struct Row: Sendable, Hashable {
        /// The node's CF node name (the `Cluster Host` column).
        public var nodeName: String

        /// The agent as printed, perhaps with `.so`: `SA_libvirtgp.so`.
        public var agent: String

        /// The `SA State` column.
        public var agentState: AgentState

        /// The `Shut State` column.
        public var shutdownState: ShutdownState

        /// The `Test State` column.
        public var testState: TestState

        /// The `Init State` column.
        public var initializationState: InitializationState

        public init(
            nodeName: String,
            agent: String,
            agentState: AgentState,
            shutdownState: ShutdownState,
            testState: TestState,
            initializationState: InitializationState
        ) {
            self.nodeName = nodeName
            self.agent = agent
            self.agentState = agentState
            self.shutdownState = shutdownState
            self.testState = testState
            self.initializationState = initializationState
        }

        /// The agent's name without `.so`: `SA_libvirtgp`. Compare agent names with this.
        public var agentName: String {
            ClusterFormat.baseAgentName(self.agent)
        }

        /// Whether the agent started and its last test worked.
        public var isHealthy: Bool {
            self.testState == .testWorked && self.initializationState == .initializationWorked
        }

        /// Whether the agent's test or start failed.
        public var hasFailure: Bool {
            self.testState == .testFailed || self.initializationState == .initializationFailed
        }

        /// What is not healthy about the row, for example `guest2 SA_libvirtgp: TestFailed`, or `nil` if it is
        /// healthy.
        public var problem: String? {
            var states: [String] = []
            if self.testState != .testWorked {
                let value = self.testState.rawValue
                states.append(value.hasPrefix("Test") ? value : "Test State \(value)")
            }
            if self.initializationState != .initializationWorked {
                let value = self.initializationState.rawValue
                states.append(value.hasPrefix("Init") || value.hasPrefix("UnInit") ? value : "Init State \(value)")
            }
            guard !states.isEmpty else { return nil }
            return "\(self.nodeName) \(self.agentName): \(states.joined(separator: ", "))"
        }
    }

    /// The rows, in the order printed.
    public private(set) var rows: [Row]

    /// Creates a status from rows, for example to test code that acts on one.
    public init(rows: [Row]) {
        self.rows = rows
    }

    /// Parses the output of `sdtool -s`.
    ///
    /// - Throws: ``ClusterError`` with `.malformedOutput` when there is no heading line (for example when the
    ///   shutdown facility isn't running and `sdtool` prints a message instead; the error quotes its first line),
    ///   or when a row hasn't six values.
    public init(parsing output: String) throws(ClusterError) {
        let lines = TextLine.split(output)
        guard let headingIndex = lines.firstIndex(where: { $0.words == ClusterFormat.shutdownStatusHeading }) else {
            let shown = lines.first { !$0.isBlank }.map { ": \(excerpt($0.content))" } ?? ": no output"
            throw ClusterError(.malformedOutput, "sdtool -s printed no table heading\(shown)")
        }
        var rows: [Row] = []
        var expectingDashes = true
        for index in lines.indices where index > headingIndex && !lines[index].isBlank {
            let words = lines[index].words
            defer { expectingDashes = false }
            if expectingDashes, words.allSatisfy({ $0.allSatisfy { $0 == "-" } }) {
                continue
            }
            guard words.count == 6 else {
                throw ClusterError(
                    .malformedOutput,
                    "expected 6 columns in sdtool -s output, found \(words.count): \(excerpt(lines[index].content))",
                    line: index + 1
                )
            }
            rows.append(
                Row(
                    nodeName: words[0],
                    agent: words[1],
                    agentState: AgentState(rawValue: words[2]),
                    shutdownState: ShutdownState(rawValue: words[3]),
                    testState: TestState(rawValue: words[4]),
                    initializationState: InitializationState(rawValue: words[5])
                )
            )
        }
        self.rows = rows
    }

    /// The rows of a node.
    public func rows(for nodeName: String) -> [Row] {
        self.rows.filter { $0.nodeName == nodeName }
    }

    /// The row of a node's agent, the agent's name compared without `.so`.
    public func row(for nodeName: String, agent agentName: String) -> Row? {
        let baseName = ClusterFormat.baseAgentName(agentName)
        return self.rows.first { $0.nodeName == nodeName && $0.agentName == baseName }
    }

    /// Whether there is at least one row and every row shows `TestWorked` and `InitWorked`.
    public var isHealthy: Bool {
        !self.rows.isEmpty && self.rows.allSatisfy(\.isHealthy)
    }

    /// Whether any row shows `TestFailed` or `InitFailed`: the after-step must run again.
    public var hasFailures: Bool {
        self.rows.contains(where: \.hasFailure)
    }

    /// Whether the facility is neither healthy nor failed: rows still show `Unknown`, `Init-ing`, `Testing` (or a
    /// value this version doesn't know), or there are no rows yet. Poll again until a deadline.
    public var isSettling: Bool {
        !self.isHealthy && !self.hasFailures
    }

    /// One line per row that is not healthy, for example `guest2 SA_libvirtgp: TestFailed`; one line saying so
    /// when there are no rows; empty when healthy.
    public var problems: [String] {
        guard !self.rows.isEmpty else { return ["sdtool -s lists no shutdown agents"] }
        return self.rows.compactMap(\.problem)
    }
}
