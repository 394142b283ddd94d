import Logging

/// A file on a cluster node, read whole and replaced atomically over ssh.
///
/// Both operations run one `sh -c` script on the node, with the path as the script's positional parameter `$1`,
/// so the path is never parsed by a shell. File contents travel on ssh's standard input or output only: they
/// never appear on a command line (where `ps` on either side would show them), in a log or in an error message.
/// The shutdown agents' files hold passwords.
public enum RemoteFile {
    /// The exit status of the read script when the file doesn't exist.
    static let missingStatus: Int32 = 3

    /// Prints the file, or exits with ``missingStatus`` when there is nothing at the path. A dangling symbolic
    /// link is not "missing": `cat` fails on it, and so does the read.
    static let readScript = #"""
        if [ -e "$1" ] || [ -L "$1" ]; then exec cat -- "$1"; fi
        exit 3
        """#

    /// Replaces `$1` with standard input, atomically, and prints `replaced`, or `unchanged` when the file already
    /// had exactly these contents.
    ///
    /// Comparing on the node after the upload, rather than hashing locally and comparing with `sha256sum` in a
    /// first command, keeps it to one connection and one script; the files are a few hundred bytes, so sending
    /// them even when unchanged costs nothing, and the comparison is exact rather than by digest.
    ///
    /// - The temporary file is created by `mktemp` (mode 0600) in the target's directory, so `mv` is a rename
    ///   within one file system, and is removed on any failure (the `EXIT` trap; a signal exits through it).
    /// - Owner and mode come from the existing file (`chown`/`chmod --reference`; ACLs and extended attributes
    ///   are not copied), or are `root:root 0600` for a new file.
    /// - The data is on disk (`sync FILE`) before the rename, and the rename is (`sync DIRECTORY`) before the
    ///   script reports success.
    /// - A symbolic link or anything but a regular file at the path is refused rather than replaced.
    /// - Standard input starts with a line `CRC LENGTH`, the contents' POSIX `cksum`; the upload is renamed over
    ///   the file only when what arrived has that checksum and length. An ssh connection that dies mid-way would
    ///   otherwise leave `cat` with a cut-short file, and the rename would put it in place of the good one.
    static let writeScript = #"""
        set -eu
        IFS=' ' read -r expected_sum expected_length
        target=$1
        if [ -L "$target" ]; then echo "is a symbolic link; not replacing it" >&2; exit 1; fi
        if [ -e "$target" ] && [ ! -f "$target" ]; then echo "is not a regular file" >&2; exit 1; fi
        directory=$(dirname -- "$target")
        temporary=$(mktemp "$directory/.${target##*/}.kvmmigrate.XXXXXX")
        trap 'rm -f -- "$temporary"' EXIT
        trap 'exit 1' HUP INT TERM PIPE
        cat >"$temporary"
        set -- $(cksum <"$temporary")
        if [ "$1" != "$expected_sum" ] || [ "$2" != "$expected_length" ]; then
            echo "the upload arrived cut short or damaged ($2 of $expected_length bytes); the file is left as it was" >&2
            exit 1
        fi
        if [ -f "$target" ] && cmp -s -- "$temporary" "$target"; then
            echo unchanged
            exit 0
        fi
        if [ -e "$target" ]; then
            chown --reference="$target" -- "$temporary"
            chmod --reference="$target" -- "$temporary"
        else
            chown root:root -- "$temporary"
            chmod 0600 -- "$temporary"
        fi
        sync -- "$temporary"
        mv -f -- "$temporary" "$target"
        sync -- "$directory"
        echo replaced
        """#

    /// Reads a file on a node.
    ///
    /// - Parameters:
    ///   - path: The file's absolute path on the node.
    ///   - node: The CF node name, for messages and logs.
    ///   - destination: What ssh connects to (see ``RemoteCommand/destination``).
    ///   - options: How to reach the node.
    ///   - logger: Where to log the command (never the contents).
    /// - Returns: The file's contents, one scalar per byte (``ByteText``), or `nil` when the file doesn't exist.
    /// - Throws: ``ClusterError``: ``ClusterError/Code/invalidValue`` for a path that isn't absolute;
    ///   ``ClusterError/Code/remoteCommandFailed`` when the file exists but can't be read;
    ///   ``ClusterError/Code/nodeUnreachable`` as ``RemoteCommand/run(input:timeout:logger:)`` does.
    public static func read(
        _ path: String,
        on node: String,
        destination: String,
        options: SSHOptions,
        logger: Logger
    ) async throws(ClusterError) -> String? {
        try Self.validate(path, node: node)
        let command = RemoteCommand(
            node: node,
            destination: destination,
            arguments: ["sh", "-c", Self.readScript, "sh", path],
            options: options
        )
        let result = try await command.run(logger: logger)
        if result.exitStatus == Self.missingStatus {
            return nil
        }
        guard result.succeeded else {
            throw ClusterError(
                .remoteCommandFailed,
                "cannot read the file" + RemoteCommand.suffix(result.standardError),
                node: node,
                path: path
            )
        }
        return ByteText.decode(result.standardOutputBytes)
    }

    /// Replaces a file on a node atomically, unless it already has exactly these contents.
    ///
    /// The new contents are written to a temporary file in the same directory that gets the existing file's owner
    /// and mode (a new file gets `root:root` and 0600), are synced to disk, and are renamed over the old file; the
    /// directory is synced last. A reader sees the old file or the new one, never a mix, and a crash leaves one of
    /// the two. The contents travel on ssh's standard input, never on a command line.
    ///
    /// When the file already has exactly these contents, nothing changes (not even its modification time), so
    /// repeating an edit is harmless.
    ///
    /// - Parameters:
    ///   - contents: The file's new contents. They are a ``Secret`` because the shutdown agents' files hold
    ///     passwords; wrap other text with `Secret(text)`.
    ///   - path: The file's absolute path on the node; its directory must exist.
    ///   - node: The CF node name, for messages and logs.
    ///   - destination: What ssh connects to (see ``RemoteCommand/destination``).
    ///   - options: How to reach the node.
    ///   - logger: Where to log the command (never the contents).
    /// - Returns: `true` when the file was replaced or created, `false` when it already had these contents.
    /// - Throws: ``ClusterError``: ``ClusterError/Code/invalidValue`` for a path that isn't absolute;
    ///   ``ClusterError/Code/remoteCommandFailed`` when the file can't be replaced (missing directory, no
    ///   permission, a symbolic link or a directory at the path); ``ClusterError/Code/nodeUnreachable`` as
    ///   ``RemoteCommand/run(input:timeout:logger:)`` does.
    @discardableResult
    public static func write(
        _ contents: Secret,
        to path: String,
        on node: String,
        destination: String,
        options: SSHOptions,
        logger: Logger
    ) async throws(ClusterError) -> Bool {
        try Self.validate(path, node: node)
        let command = RemoteCommand(
            node: node,
            destination: destination,
            arguments: ["sh", "-c", Self.writeScript, "sh", path],
            options: options
        )
        let result = try await command.run(input: Self.upload(contents), logger: logger)
        guard result.succeeded else {
            throw ClusterError(
                .remoteCommandFailed,
                "cannot replace the file" + RemoteCommand.suffix(result.standardError),
                node: node,
                path: path
            )
        }
        switch RemoteResult.firstLine(of: result.standardOutput) {
        case "replaced":
            logger.debug("Replaced remote file", metadata: ["node": "\(node)", "path": "\(path)"])
            return true
        case "unchanged":
            logger.debug("Remote file already up to date", metadata: ["node": "\(node)", "path": "\(path)"])
            return false
        default:
            throw ClusterError(
                .malformedOutput,
                "the file replacement script did not report its outcome",
                node: node,
                path: path
            )
        }
    }

    /// What ``writeScript`` reads on standard input: the `CRC LENGTH` line, then the contents.
    static func upload(_ contents: Secret) -> Secret {
        let bytes = ByteText.encode(contents.revealedValue)
        return Secret("\(Self.checksum(bytes)) \(bytes.count)\n" + contents.revealedValue)
    }

    /// The POSIX `cksum` CRC of `bytes` (CRC-32 with polynomial 0x04C11DB7, the length appended, complemented),
    /// as the node's `cksum` prints it.
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0
        func feed(_ byte: UInt8) {
            crc ^= UInt32(byte) << 24
            for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1 }
        }
        for byte in bytes { feed(byte) }
        var length = bytes.count
        while length > 0 {
            feed(UInt8(truncatingIfNeeded: length))
            length >>= 8
        }
        return ~crc
    }

    /// Accepts only an absolute path to a file (not ending in `/`).
    private static func validate(_ path: String, node: String) throws(ClusterError) {
        guard path.hasPrefix("/"), !path.hasSuffix("/"), !path.contains("\0") else {
            throw ClusterError(.invalidValue, "not an absolute file path: \(path)", node: node)
        }
    }
}
