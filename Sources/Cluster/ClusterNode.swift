import Logging

/// One node of the guest cluster as kvmmigrate reaches it: its CF node name and its ssh destination.
public struct ClusterNode: Sendable, Hashable {
    /// The CF node name, for example `guest1`.
    public var name: String
    /// What ssh connects to.
    public var destination: String
    public var options: SSHOptions

    public init(name: String, destination: String, options: SSHOptions) {
        self.name = name
        self.destination = destination
        self.options = options
    }

    /// Runs a command on the node; a non-zero exit is a result.
    public func run(
        _ arguments: [String],
        timeout: Duration = .seconds(60),
        logger: Logger
    ) async throws(ClusterError)
        -> RemoteResult
    {
        let command = RemoteCommand(
            node: self.name,
            destination: self.destination,
            arguments: arguments,
            options: self.options
        )
        return try await command.run(timeout: timeout, logger: logger)
    }

    /// Runs a command on the node and throws when it exits unsuccessfully.
    @discardableResult
    public func runChecked(
        _ arguments: [String],
        timeout: Duration = .seconds(60),
        logger: Logger
    )
        async throws(ClusterError) -> String
    {
        let command = RemoteCommand(
            node: self.name,
            destination: self.destination,
            arguments: arguments,
            options: self.options
        )
        return try await command.run(timeout: timeout, logger: logger).check(command).standardOutput
    }

    /// A file's contents on the node, or `nil` when it does not exist.
    public func read(_ path: String, logger: Logger) async throws(ClusterError) -> String? {
        try await RemoteFile.read(
            path,
            on: self.name,
            destination: self.destination,
            options: self.options,
            logger: logger
        )
    }

    /// Replaces a file on the node atomically, keeping owner and mode; returns whether anything changed.
    @discardableResult
    public func write(_ contents: String, to path: String, logger: Logger) async throws(ClusterError) -> Bool {
        try await RemoteFile.write(
            Secret(contents),
            to: path,
            on: self.name,
            destination: self.destination,
            options: self.options,
            logger: logger
        )
    }

    /// Reads, edits and writes back a file; returns whether anything changed. The edit sees the current text.
    ///
    /// - Parameter ifExists: Leave a missing file alone (and return `false`) instead of throwing.
    @discardableResult
    public func edit(
        _ path: String,
        ifExists: Bool = false,
        logger: Logger,
        _ change: (String) throws(ClusterError) -> String
    ) async throws(ClusterError) -> Bool {
        guard let text = try await self.read(path, logger: logger) else {
            if ifExists { return false }
            throw ClusterError(.malformedFile, "the file does not exist", node: self.name, path: path)
        }
        let changed: String
        do throws(ClusterError) {
            changed = try change(text)
        } catch {
            throw error.located(node: self.name, path: path)
        }
        guard changed != text else { return false }
        return try await self.write(changed, to: path, logger: logger)
    }

    /// Reads a file and applies `change` to its text as ``edit(_:ifExists:logger:_:)`` would, and writes nothing:
    /// the checks before a prepare try every edit the operation will make, so that a file it cannot edit refuses
    /// the operation before anything changed.
    ///
    /// - Throws: What ``edit(_:ifExists:logger:_:)`` would throw before its write.
    public func rehearseEdit(
        _ path: String,
        ifExists: Bool = false,
        logger: Logger,
        _ change: (String) throws(ClusterError) -> String
    ) async throws(ClusterError) {
        guard let text = try await self.read(path, logger: logger) else {
            if ifExists { return }
            throw ClusterError(.malformedFile, "the file does not exist", node: self.name, path: path)
        }
        do throws(ClusterError) {
            _ = try change(text)
        } catch {
            throw error.located(node: self.name, path: path)
        }
    }
}
