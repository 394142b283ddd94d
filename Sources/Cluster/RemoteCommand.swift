import Logging
import Subprocess

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A command to run on a cluster node over OpenSSH: a value you can build, compare and test, then run.
///
/// ssh hands the remote command to the remote user's login shell as one string, so each argument is single-quoted
/// for that shell (which must be a POSIX shell such as `sh` or `bash`); the remote side sees exactly the
/// arguments given here, whatever quotes, dollars, semicolons or newlines they hold.
///
/// ```swift
/// let command = RemoteCommand(node: "guest1", destination: "10.77.0.11", arguments: ["sdtool", "-s"])
/// let status = try await command.run(logger: logger).check(command).standardOutput
/// ```
public struct RemoteCommand: Sendable, Hashable {
    /// The CF node name of the node, used in messages and logs.
    public var node: String

    /// What ssh connects to: a `Host` alias from the ssh configuration, an address, or `user@address`.
    public var destination: String

    /// The remote command and its arguments; it must not be empty.
    public var arguments: [String]

    /// How to reach the node.
    public var options: SSHOptions

    /// Creates a command.
    ///
    /// - Parameters:
    ///   - node: The CF node name, for messages and logs.
    ///   - destination: What ssh connects to; defaults to the node name (an ssh configuration alias).
    ///   - arguments: The remote command and its arguments, unquoted.
    ///   - options: How to reach the node.
    public init(node: String, destination: String? = nil, arguments: [String], options: SSHOptions = SSHOptions()) {
        self.node = node
        self.destination = destination ?? node
        self.arguments = arguments
        self.options = options
    }

    /// The complete argument vector after `ssh`: the options, `--`, the destination, then the quoted arguments.
    ///
    /// `--` ends ssh's options, so a destination that begins with `-` can't be read as an option, and ssh doesn't
    /// look for options after the destination either (it otherwise does).
    public var sshArguments: [String] {
        self.options.arguments + ["--", self.destination] + self.arguments.map(Self.shellQuoted)
    }

    /// The command as the logs and messages show it: the arguments joined with spaces, unquoted.
    public var commandLine: String {
        self.arguments.joined(separator: " ")
    }

    /// The command line shortened for messages: its first line, at most 80 characters, `…` marking a cut.
    var summary: String {
        let line = self.commandLine.prefix { !$0.isNewline }
        guard line.count > 80 || line.count < self.commandLine.count else { return self.commandLine }
        return String(line.prefix(80)) + "…"
    }

    /// Quotes one argument for a POSIX shell: single quotes around it, each `'` inside written as `'\''`.
    static func shellQuoted(_ argument: String) -> String {
        "'" + argument.replacing("'", with: #"'\''"#) + "'"
    }

    // MARK: - Running

    /// The most standard output kept from one command; more fails the command.
    static let outputLimit = 4 << 20

    /// The most standard error kept from one command; more fails the command.
    static let errorLimit = 256 << 10

    /// Runs the command on the node and returns its exit status and output.
    ///
    /// A non-zero exit of the remote command is a result, not an error: use ``RemoteResult/check(_:)`` where it
    /// should be one. Exit status 255 is ssh's own failure (unreachable, refused, unknown host key,
    /// authentication) and throws; a remote command that itself exits 255 can't be told apart from that.
    ///
    /// The command is logged at `.debug` with metadata `node` and `command`; the input never is.
    ///
    /// - Parameters:
    ///   - input: What the remote command reads on its standard input; `nil` gives it an empty input. It is
    ///     handed to ssh through a pipe filled before ssh starts, never on a command line, and must fit in a pipe
    ///     (1 MiB at most).
    ///   - timeout: How long the whole run may take, connection included. When it passes, ssh is killed.
    ///   - logger: Where to log the command.
    /// - Returns: The remote command's exit status, standard output and standard error.
    /// - Throws: ``ClusterError`` with code ``ClusterError/Code/nodeUnreachable`` when ssh can't run or can't
    ///   reach the node, or no answer came within `timeout`; ``ClusterError/Code/remoteCommandFailed`` when the
    ///   output is longer than 4 MiB; ``ClusterError/Code/invalidValue`` for an empty command or an input that is
    ///   too large; code `cancelled` when the task is cancelled (ssh is killed).
    public func run(
        input: Secret? = nil,
        timeout: Duration = .seconds(60),
        logger: Logger
    ) async throws(ClusterError) -> RemoteResult {
        guard !self.arguments.isEmpty else {
            throw ClusterError(.invalidValue, "no remote command given", node: self.node)
        }
        logger.debug(
            "Running remote command",
            metadata: ["node": "\(self.node)", "command": "\(self.commandLine)"]
        )
        let start = ContinuousClock.now
        let outcome: Outcome
        do {
            if let input {
                let descriptor = try Self.filledPipe(ByteText.encode(input.revealedValue), node: self.node)
                outcome = try await self.run(
                    input: .fileDescriptor(.init(rawValue: descriptor), closeAfterSpawningProcess: true),
                    timeout: timeout
                )
            } else {
                outcome = try await self.run(input: .none, timeout: timeout)
            }
        } catch let error as ClusterError {
            throw error
        } catch is CancellationError {
            throw ClusterError(.cancelled, "cancelled while running '\(self.summary)'", node: self.node)
        } catch let error as SubprocessError where error.code == .outputLimitExceeded {
            throw ClusterError(
                .remoteCommandFailed,
                "'\(self.summary)' wrote more output than kvmmigrate keeps (\(error))",
                node: self.node
            )
        } catch {
            throw ClusterError(.nodeUnreachable, "cannot run ssh: \(error)", node: self.node)
        }
        let elapsed = ContinuousClock.now - start
        // A cancelled caller gets `cancelled`, even when ssh's teardown finished before the sleep did.
        guard !Task.isCancelled else {
            throw ClusterError(.cancelled, "cancelled while running '\(self.summary)'", node: self.node)
        }
        switch outcome {
        case .timedOut:
            logger.debug(
                "Remote command timed out",
                metadata: ["node": "\(self.node)", "command": "\(self.commandLine)"]
            )
            throw ClusterError(
                .nodeUnreachable,
                "no answer within \(Self.format(timeout)) from ssh to \(self.destination) ('\(self.summary)')",
                node: self.node
            )
        case .signaled(let signal, let standardError):
            throw ClusterError(
                .nodeUnreachable,
                "ssh to \(self.destination) was killed by signal \(signal)" + Self.suffix(standardError),
                node: self.node
            )
        case .exited(let result):
            logger.debug(
                "Remote command exited with status \(result.exitStatus) after \(Self.format(elapsed))",
                metadata: ["node": "\(self.node)", "command": "\(self.commandLine)"]
            )
            guard result.exitStatus != 255 else {
                throw ClusterError(
                    .nodeUnreachable,
                    "ssh to \(self.destination) failed" + Self.suffix(result.standardError),
                    node: self.node
                )
            }
            return result
        }
    }

    /// How a run ended, before it is turned into a result or an error.
    private enum Outcome: Sendable {
        case exited(RemoteResult)
        case signaled(Int32, standardError: String)
        case timedOut
    }

    /// Runs ssh, racing it against the timeout. When the timeout wins, cancelling the group cancels the
    /// `Subprocess.run` task, whose teardown stops ssh before the group returns.
    ///
    /// ssh runs in a session of its own: it has no terminal to prompt on, a Ctrl-C at the user's terminal reaches
    /// kvmmigrate only (which then cancels), and the teardown can signal ssh's whole process group, so that a
    /// `ProxyCommand` ssh started stops too rather than outliving it. A connection-sharing master that ssh put in
    /// the background has left that group (`daemon(3)`), and stays. `SIGTERM` first, `SIGKILL` a second later.
    private func run(input: some InputProtocol & Sendable, timeout: Duration) async throws -> Outcome {
        let arguments = self.sshArguments
        var platformOptions = PlatformOptions()
        platformOptions.createSession = true
        platformOptions.teardownSequence = [
            .send(signal: .terminate, toProcessGroup: true, allowedDurationToNextStep: .seconds(1))
        ]
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask { [platformOptions] in
                let result = try await Subprocess.run(
                    .name("ssh"),
                    arguments: Arguments(arguments),
                    platformOptions: platformOptions,
                    input: input,
                    output: .bytes(limit: Self.outputLimit),
                    error: .string(limit: Self.errorLimit)
                )
                switch result.terminationStatus {
                case .exited(let code):
                    return .exited(
                        RemoteResult(
                            exitStatus: code,
                            standardOutputBytes: result.standardOutput,
                            standardError: result.standardError
                        )
                    )
                case .signaled(let signal):
                    return .signaled(signal, standardError: result.standardError)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return .timedOut
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
    }

    // MARK: - Input

    /// Linux's `F_SETPIPE_SZ`, which Glibc's module doesn't export (it needs `_GNU_SOURCE`).
    private static let setPipeSize: CInt = 1031

    /// The largest input: the default `/proc/sys/fs/pipe-max-size`, up to which any user may grow a pipe.
    static let inputLimit = 1 << 20

    /// Returns the read end of a new pipe that already holds all of `bytes`, its write end closed.
    ///
    /// Filling the pipe before ssh starts means nothing is ever written to ssh while it runs: a write to a pipe
    /// whose reader has exited (ssh failing to connect) would raise `SIGPIPE`, which kills the whole process
    /// unless it is ignored, and swift-subprocess doesn't ignore it.
    static func filledPipe(_ bytes: [UInt8], node: String) throws(ClusterError) -> CInt {
        guard bytes.count <= Self.inputLimit else {
            throw ClusterError(
                .invalidValue,
                "input of \(bytes.count) bytes is larger than \(Self.inputLimit) bytes",
                node: node
            )
        }
        var descriptors: [CInt] = [-1, -1]
        // `pipe2(O_CLOEXEC)` isn't exported without `_GNU_SOURCE`. swift-subprocess closes every other descriptor
        // in the children it starts, so only a process started otherwise in this instant could inherit these.
        guard pipe(&descriptors) == 0 else {
            throw ClusterError(.nodeUnreachable, "cannot create a pipe for ssh: errno \(errno)", node: node)
        }
        let (readEnd, writeEnd) = (descriptors[0], descriptors[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        defer { close(writeEnd) }
        // The default capacity is 64 KiB; grow it when the input needs more.
        if bytes.count > 65536 && fcntl(writeEnd, Self.setPipeSize, CInt(bytes.count)) < 0 {
            close(readEnd)
            throw ClusterError(.invalidValue, "input of \(bytes.count) bytes does not fit in a pipe", node: node)
        }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                write(writeEnd, buffer.baseAddress! + written, buffer.count - written)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                close(readEnd)
                throw ClusterError(.nodeUnreachable, "cannot fill the pipe for ssh: errno \(errno)", node: node)
            }
            written += count
        }
        return readEnd
    }

    // MARK: - Messages

    /// `: ` and the first non-empty line of `standardError`, or nothing when there is none.
    static func suffix(_ standardError: String) -> String {
        guard let line = RemoteResult.firstLine(of: standardError) else { return "" }
        return ": " + line
    }

    /// A duration in seconds for messages: `60 s`, `0.5 s`.
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard attoseconds != 0 else { return "\(seconds) s" }
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return "\(Double(milliseconds) / 1000) s"
    }
}

/// What a remote command did: its exit status and output.
public struct RemoteResult: Sendable, Hashable {
    /// The remote command's exit status (never 255, which is ssh's own failure and throws instead).
    public var exitStatus: Int32

    /// Everything the command wrote to standard output, decoded as UTF-8.
    public var standardOutput: String

    /// Everything the command wrote to standard output, as it was (a file's bytes: ``ByteText``).
    public var standardOutputBytes: [UInt8]

    /// Everything the command wrote to standard error, decoded as UTF-8.
    public var standardError: String

    /// Creates a result.
    public init(exitStatus: Int32, standardOutput: String, standardError: String) {
        self.exitStatus = exitStatus
        self.standardOutput = standardOutput
        self.standardOutputBytes = Array(standardOutput.utf8)
        self.standardError = standardError
    }

    /// Creates a result from the bytes the command wrote to standard output.
    public init(exitStatus: Int32, standardOutputBytes: [UInt8], standardError: String) {
        self.exitStatus = exitStatus
        self.standardOutput = String(decoding: standardOutputBytes, as: UTF8.self)
        self.standardOutputBytes = standardOutputBytes
        self.standardError = standardError
    }

    /// Whether the command exited with status 0.
    public var succeeded: Bool {
        self.exitStatus == 0
    }

    /// The first line of `text` that isn't blank, trimmed and made printable (at most 200 characters; control
    /// characters shown as `\u{1B}`), or `nil` when there is none.
    static func firstLine(of text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) {
            guard let first = line.firstIndex(where: { !$0.isWhitespace }),
                let last = line.lastIndex(where: { !$0.isWhitespace })
            else { continue }
            return printable(line[first...last], limit: 200)
        }
        return nil
    }
}

extension RemoteResult {
    /// Returns this result when the command succeeded, and throws otherwise.
    ///
    /// The error names the node, the command and the first line of its standard error, never its input.
    ///
    /// ```swift
    /// let output = try await command.run(logger: logger).check(command).standardOutput
    /// ```
    ///
    /// - Parameter command: The command that produced this result.
    /// - Returns: This result, unchanged.
    /// - Throws: ``ClusterError`` with code ``ClusterError/Code/remoteCommandFailed`` when the exit status isn't 0.
    @discardableResult
    public func check(_ command: RemoteCommand) throws(ClusterError) -> RemoteResult {
        guard !self.succeeded else { return self }
        throw ClusterError(
            .remoteCommandFailed,
            "'\(command.summary)' exited with status \(self.exitStatus)"
                + RemoteCommand.suffix(self.standardError),
            node: command.node
        )
    }
}
