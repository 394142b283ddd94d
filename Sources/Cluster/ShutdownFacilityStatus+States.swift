// The states in the columns of `sdtool -s` [C, except where marked]. Each is an open set: a value this version
// doesn't know is kept as printed, never an error, and is simply not healthy.

extension ShutdownFacilityStatus {
    /// The `SA State` column: what the agent is doing or last did.
    public struct AgentState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The state as `sdtool -s` prints it, for example `Idle`.
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String {
            self.rawValue
        }

        /// `Idle`.
        public static let idle = Self(rawValue: "Idle")
        /// `Init-ing`.
        public static let initializing = Self(rawValue: "Init-ing")
        /// `InitWorked`.
        public static let initializationWorked = Self(rawValue: "InitWorked")
        /// `InitFailed`.
        public static let initializationFailed = Self(rawValue: "InitFailed")
        /// `Testing`.
        public static let testing = Self(rawValue: "Testing")
        /// `TestWorked`.
        public static let testWorked = Self(rawValue: "TestWorked")
        /// `TestFailed`.
        public static let testFailed = Self(rawValue: "TestFailed")
        /// `Killing`.
        public static let killing = Self(rawValue: "Killing")
        /// `KillWorked`.
        public static let killWorked = Self(rawValue: "KillWorked")
        /// `KillFailed`.
        public static let killFailed = Self(rawValue: "KillFailed")
        /// `UnInit-ing`.
        public static let uninitializing = Self(rawValue: "UnInit-ing")
        /// `UnInitWorked`.
        public static let uninitializationWorked = Self(rawValue: "UnInitWorked")
        /// `UnInitFailed`.
        public static let uninitializationFailed = Self(rawValue: "UnInitFailed")
    }

    /// The `Shut State` column: the outcome of the last kill.
    public struct ShutdownState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The state as `sdtool -s` prints it, for example `Unknown`.
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String {
            self.rawValue
        }

        /// `Unknown`: no kill has run yet.
        public static let unknown = Self(rawValue: "Unknown")
        /// `Killing`.
        public static let killing = Self(rawValue: "Killing")
        /// `KillWorked`.
        public static let killWorked = Self(rawValue: "KillWorked")
        /// `KillFailed`.
        public static let killFailed = Self(rawValue: "KillFailed")
    }

    /// The `Test State` column: whether the agent could carry out a kill now. The test runs about every 10
    /// minutes.
    public struct TestState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The state as `sdtool -s` prints it, for example `TestWorked`.
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String {
            self.rawValue
        }

        /// `Unknown`: not tested yet.
        public static let unknown = Self(rawValue: "Unknown")
        /// `Testing`.
        public static let testing = Self(rawValue: "Testing")
        /// `TestWorked`.
        public static let testWorked = Self(rawValue: "TestWorked")
        /// `TestFailed`: a kill could not be carried out now.
        public static let testFailed = Self(rawValue: "TestFailed")
    }

    /// The `Init State` column: whether the agent started.
    public struct InitializationState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The state as `sdtool -s` prints it, for example `InitWorked`.
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String {
            self.rawValue
        }

        /// `Unknown`.
        public static let unknown = Self(rawValue: "Unknown")
        /// `Init-ing`.
        public static let initializing = Self(rawValue: "Init-ing")
        /// `InitWorked`.
        public static let initializationWorked = Self(rawValue: "InitWorked")
        /// `InitFailed`.
        public static let initializationFailed = Self(rawValue: "InitFailed")
        /// `UnInit-ing`. [I: that the Init State column shows the UnInit states]
        public static let uninitializing = Self(rawValue: "UnInit-ing")
        /// `UnInitWorked`. [I]
        public static let uninitializationWorked = Self(rawValue: "UnInitWorked")
        /// `UnInitFailed`. [I]
        public static let uninitializationFailed = Self(rawValue: "UnInitFailed")
    }
}
