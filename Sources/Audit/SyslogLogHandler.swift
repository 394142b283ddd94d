import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A swift-log backend that writes each message to the system log through syslog(3), on one line: the message,
/// then the metadata as `key=value` pairs (``AuditLine``).
///
/// The identity is `kvmmigrate` with the process id (`LOG_PID`), facility `LOG_USER`, so the records read back
/// with `journalctl -t kvmmigrate` or from the syslog file. The text is always passed as the argument of a `"%s"`
/// format, never as the format. Without a syslog daemon (no `/dev/log`) syslog(3) drops the message silently: an
/// audit record that cannot be written never stops an operation.
public struct SyslogLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let write: @Sendable (Int32, String) -> Void

    /// A handler that writes to the system log.
    public init(label: String) {
        Self.open()
        self.write = { priority, line in Self.send(priority, line) }
    }

    /// A handler that hands each line and its priority to `write` instead, for tests.
    public init(label: String, write: @escaping @Sendable (Int32, String) -> Void) {
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = self.metadata
        if let metadata = event.metadata { all.merge(metadata) { _, new in new } }
        self.write(Self.priority(for: event.level), AuditLine.render(event.message.description, all))
    }

    /// The syslog(3) priority of a swift-log level: `trace` and `debug` are `LOG_DEBUG`, `error` is `LOG_ERR`,
    /// `critical` is `LOG_CRIT`, the others have the same name.
    public static func priority(for level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: LOG_DEBUG
        case .info: LOG_INFO
        case .notice: LOG_NOTICE
        case .warning: LOG_WARNING
        case .error: LOG_ERR
        case .critical: LOG_CRIT
        }
    }

    /// openlog(3) once per process. The identity must outlive every syslog(3) call: a string literal's storage does.
    private static let opened: Void = {
        let identity: StaticString = "kvmmigrate"
        identity.withUTF8Buffer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count + 1) { pointer in
                openlog(pointer, LOG_PID, LOG_USER)
            }
        }
    }()

    private static func open() { _ = Self.opened }

    private static func send(_ priority: Int32, _ line: String) {
        // The C string itself must be the argument: a Swift String in a va_list is not a `char *`.
        line.withCString { text in
            withVaList([text]) { arguments in vsyslog(priority, "%s", arguments) }
        }
    }
}
