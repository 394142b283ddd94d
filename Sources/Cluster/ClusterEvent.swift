/// Something that happened in a cluster operation, for progress output and the report.
public struct ClusterEvent: Sendable, Hashable {
    /// The node it happened on, or `nil` for the whole cluster.
    public var node: String?
    /// A stable step name: `sf-stopped`, `timeout-written`, `timeout-loaded`, `timeout-restored`, …
    public var step: String
    /// One line for the user.
    public var message: String
    public var failed: Bool
    /// Not a failure, but something the operator should know; the operation went on.
    public var warning: Bool

    public init(node: String?, step: String, message: String, failed: Bool = false, warning: Bool = false) {
        self.node = node
        self.step = step
        self.message = message
        self.failed = failed
        self.warning = warning
    }
}
