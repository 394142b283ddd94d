/// One pre-flight check: what was checked, how it went, and one line of why.
public struct CheckResult: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, Codable {
        /// Fine.
        case pass
        /// Worth knowing; the migration would still be tried.
        case warn
        /// The migration would be refused or would fail.
        case fail
        /// Not checked, because an earlier check failed.
        case skipped
    }

    /// A stable name, for example `destination-memory`.
    public var name: String
    public var status: Status
    public var detail: String

    public init(_ name: String, _ status: Status, _ detail: String) {
        self.name = name
        self.status = status
        self.detail = detail
    }
}
