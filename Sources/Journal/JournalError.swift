/// The journal's one error type: a record that cannot be read or written, or an operation that another
/// process holds.
///
/// The set of codes is open, like swift-system's `Errno`; the layers above map them to their own errors (a
/// refusal, an exit code).
public struct JournalError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public var code: Code
    /// One line, for the user: it names the file or the operation concerned.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { self.message }

    /// An open set of failure kinds.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { self.rawValue }

        /// A record or directory could not be read, written, made durable or decoded.
        public static let storage = Code(rawValue: "storage")
        /// Another live handle holds the key, or a process that died left an unfinished record for it.
        public static let operationInProgress = Code(rawValue: "operation-in-progress")
    }
}
