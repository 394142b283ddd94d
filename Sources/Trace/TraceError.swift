/// An error from the Trace layer: a trace file that cannot be written, read or used.
///
/// A trace holds no secret, so its messages may quote what they found; they name the line (1-based) they are about.
public struct TraceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; an open set, like ``Code/rawValue`` names.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The code's name, for example `truncated`.
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String {
            self.rawValue
        }

        /// The trace file could not be opened, created or read.
        public static let unreadable = Code(rawValue: "unreadable")
        /// The trace file could not be created or written.
        public static let unwritable = Code(rawValue: "unwritable")
        /// The file holds no record.
        public static let empty = Code(rawValue: "empty")
        /// A line is not a JSON object with a number `t` and a string `type`: the file is not a trace.
        public static let notATrace = Code(rawValue: "notATrace")
        /// The last line ends without a line break and does not parse: the writer was cut off mid-line.
        public static let truncated = Code(rawValue: "truncated")
        /// A number no run can have: a negative or enormous time, byte count or rate.
        public static let absurdValue = Code(rawValue: "absurdValue")
        /// The file is larger than a trace can sensibly be.
        public static let tooLarge = Code(rawValue: "tooLarge")

        /// Matches an error against a code, so that `catch TraceError.Code.truncated` works.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? TraceError)?.code == code
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, in words a user can act on.
    public var message: String
    /// The 1-based line of the trace the error is about, when it is about one.
    public var line: Int?

    public init(_ code: Code, _ message: String, line: Int? = nil) {
        self.code = code
        self.message = message
        self.line = line
    }

    /// One line for the user: `line 12: t is -3, not a time since the start`.
    public var description: String {
        self.line.map { "line \($0): \(self.message)" } ?? self.message
    }
}
