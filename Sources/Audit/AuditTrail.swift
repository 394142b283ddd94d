import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The audit records of one operation: its start (who, from where, what, with which options), its steps and its
/// outcome, each one line to its logger with the same `operation=<id>` key.
///
/// The logger is the audit's own (``SyslogLogHandler``), at level `info` whatever `--log-level` says, and whatever
/// the output mode. Any thread.
public final class AuditTrail: Sendable {
    /// The id every record of this operation carries: 12 hexadecimal digits, random.
    public let operation: String
    private let logger: Logger
    private let clock = ContinuousClock()
    private let state: Mutex<State>

    private struct State {
        var started: ContinuousClock.Instant?
        var finished = false
        /// What the command tells about its outcome before the trail writes it (status, downtime).
        var outcome: Logger.Metadata = [:]
    }

    public init(logger: Logger, operation: String? = nil) {
        var logger = logger
        logger.logLevel = .info
        self.logger = logger
        self.operation = operation ?? Self.newOperationID()
        self.state = Mutex(State())
    }

    /// The `start` record: who (``Invoker``), what (the command, the domain, the URIs) and the options as given.
    public func start(
        command: String,
        invoker: Invoker = .current(),
        what: Logger.Metadata = [:],
        arguments: [String]
    ) {
        self.state.withLock { $0.started = self.clock.now }
        var metadata = invoker.metadata
        metadata.merge(what) { _, new in new }
        metadata["command"] = "\(command)"
        metadata["arguments"] = "\(Redaction.arguments(arguments).joined(separator: " "))"
        self.write(.notice, "start", metadata)
    }

    /// A `step` record: `step=<name>` and what else tells it. A failed step is a warning.
    public func step(_ name: String, failed: Bool = false, _ metadata: Logger.Metadata = [:]) {
        var metadata = metadata
        metadata["step"] = "\(name)"
        if failed { metadata["failed"] = "true" }
        self.write(failed ? .warning : .info, "step", metadata)
    }

    /// Adds to what the `outcome` record will tell (a status, a downtime); the command calls this as it learns it.
    public func note(_ metadata: Logger.Metadata) {
        self.state.withLock { $0.outcome.merge(metadata) { _, new in new } }
    }

    /// The `outcome` record, once: `result=success` or `result=failure`, the exit code, the reason when there is
    /// one, the total time since ``start(command:invoker:what:arguments:)``, and what was noted.
    public func finish(exitCode: Int32, reason: String? = nil) {
        let (started, noted, first) = self.state.withLock { state in
            defer { state.finished = true }
            return (state.started, state.outcome, !state.finished)
        }
        guard first else { return }
        var metadata = noted
        metadata["result"] = exitCode == 0 ? "success" : "failure"
        metadata["exit_code"] = "\(exitCode)"
        if let reason { metadata["reason"] = "\(reason)" }
        if let started { metadata["total_ms"] = "\(Self.milliseconds(self.clock.now - started))" }
        self.write(exitCode == 0 ? .notice : .error, "outcome", metadata)
    }

    private func write(_ level: Logger.Level, _ message: Logger.Message, _ metadata: Logger.Metadata) {
        var metadata = metadata
        metadata["operation"] = "\(self.operation)"
        self.logger.log(level: level, message, metadata: metadata)
    }

    /// A duration in whole milliseconds.
    public static func milliseconds(_ duration: Duration) -> Int64 {
        Int64((duration / .milliseconds(1)).rounded())
    }

    static func newOperationID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<12).map { _ in String(generator.next(upperBound: UInt8(16)), radix: 16) }.joined()
    }
}

/// Who runs an operation, and from where.
public struct Invoker: Sendable, Hashable {
    /// The real user id and its name (`?` when the password database has none).
    public var uid: UInt32
    public var user: String
    /// The user who ran sudo, when sudo ran kvmmigrate (`SUDO_USER`).
    public var sudoUser: String?
    /// The ssh client's address (`SSH_CONNECTION`, else `SSH_CLIENT`), else the terminal, else `local`.
    public var origin: String

    public init(uid: UInt32, user: String, sudoUser: String?, origin: String) {
        self.uid = uid
        self.user = user
        self.sudoUser = sudoUser
        self.origin = origin
    }

    /// This process's invoker, from its real uid, the environment and its standard input's terminal.
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> Invoker {
        let uid = getuid()
        let user = getpwuid(uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "?"
        let terminal = ttyname(STDIN_FILENO).map { String(cString: $0) }
        return Invoker(uid: uid, user: user, environment: environment, terminal: terminal)
    }

    /// The invoker from these facts (the rule ``current(environment:)`` applies, testable).
    public init(uid: UInt32, user: String, environment: [String: String], terminal: String?) {
        self.uid = uid
        self.user = user
        self.sudoUser = environment["SUDO_USER"].flatMap { $0.isEmpty ? nil : $0 }
        let ssh = [environment["SSH_CONNECTION"], environment["SSH_CLIENT"]].compactMap { value in
            value?.split(separator: " ").first.map(String.init)
        }
        self.origin = ssh.first.map { "ssh:" + $0 } ?? terminal ?? "local"
    }

    var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = ["user": "\(self.user)", "uid": "\(self.uid)", "from": "\(self.origin)"]
        if let sudoUser { metadata["sudo_user"] = "\(sudoUser)" }
        return metadata
    }
}
