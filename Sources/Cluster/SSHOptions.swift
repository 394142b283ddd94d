/// How to reach cluster nodes with OpenSSH.
///
/// Every connection runs with `-o BatchMode=yes -o StrictHostKeyChecking=yes`: ssh never prompts (for a password,
/// a passphrase or a host key) and never accepts a host key it doesn't already know, so an unattended migration
/// can't hang on a question or talk to an impostor. These two come first on the command line, and ssh keeps the
/// first value it obtains for each option, so neither the ssh configuration file nor ``extraOptions`` can weaken
/// them.
///
/// ```swift
/// var options = SSHOptions(configFile: "/etc/kvmmigrate/ssh_config", connectTimeout: .seconds(5))
/// options.controlDirectory = temporaryDirectory  // share one connection per node between commands
/// ```
public struct SSHOptions: Sendable, Hashable {
    /// The ssh client configuration file (`ssh -F FILE`); `nil` reads the user's and the system's files.
    public var configFile: String?

    /// The remote user (`ssh -l USER`); `nil` leaves it to the destination or the configuration file.
    public var user: String?

    /// The private key to authenticate with (`ssh -i FILE`); `nil` leaves it to the configuration and the agent.
    public var identityFile: String?

    /// How long ssh may take to establish the connection (`-o ConnectTimeout=N`), rounded up to whole seconds and
    /// at least 1 s. Commands that take longer than this once connected are bounded by their own timeout.
    public var connectTimeout: Duration

    /// A directory for ssh's connection-sharing sockets, or `nil` to open a new connection for every command.
    ///
    /// When set, ssh runs with `-o ControlMaster=auto -o ControlPath=DIR/%C -o ControlPersist=60`: the first
    /// command to a node opens a master connection that later commands reuse, and the master exits 60 s after
    /// its last use. The directory must exist, be writable only by the user running ssh, and have a path of at
    /// most 49 bytes: a Unix socket path holds 107, and ssh adds `/`, 40 for `%C` and 17 for a temporary suffix.
    public var controlDirectory: String?

    /// More ssh options, each `KEY=VALUE` as for `-o` (for example `Port=2222`). They come after the options
    /// above, and ssh keeps the first value of an option, so they can't override those.
    public var extraOptions: [String]

    /// Creates options; the defaults use the user's ssh configuration and a 10 s connect timeout.
    ///
    /// - Parameters:
    ///   - configFile: The ssh client configuration file (`-F`).
    ///   - user: The remote user (`-l`).
    ///   - identityFile: The private key (`-i`).
    ///   - connectTimeout: How long establishing the connection may take.
    ///   - controlDirectory: Where ssh keeps connection-sharing sockets; `nil` disables sharing.
    ///   - extraOptions: More `KEY=VALUE` options for `-o`.
    public init(
        configFile: String? = nil,
        user: String? = nil,
        identityFile: String? = nil,
        connectTimeout: Duration = .seconds(10),
        controlDirectory: String? = nil,
        extraOptions: [String] = []
    ) {
        self.configFile = configFile
        self.user = user
        self.identityFile = identityFile
        self.connectTimeout = connectTimeout
        self.controlDirectory = controlDirectory
        self.extraOptions = extraOptions
    }

    /// The ssh options these settings stand for, in order: the fixed safety options, the connect timeout, `-F`,
    /// `-l`, `-i`, connection sharing, then ``extraOptions``. They don't include the destination or the command.
    public var arguments: [String] {
        var arguments = [
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "ConnectTimeout=\(self.connectTimeoutSeconds)",
            // No pseudo-terminal: the command's output stays byte-exact, and input is passed through as is.
            "-T",
        ]
        if let configFile = self.configFile {
            arguments += ["-F", configFile]
        }
        if let user = self.user {
            arguments += ["-l", user]
        }
        if let identityFile = self.identityFile {
            arguments += ["-i", identityFile]
        }
        if let controlDirectory = self.controlDirectory {
            let directory = controlDirectory.hasSuffix("/") ? String(controlDirectory.dropLast()) : controlDirectory
            arguments += [
                "-o", "ControlMaster=auto",
                "-o", "ControlPath=\(directory)/%C",
                "-o", "ControlPersist=60",
            ]
        }
        for option in self.extraOptions {
            arguments += ["-o", option]
        }
        return arguments
    }

    /// ``connectTimeout`` in whole seconds, rounded up, at least 1 (ssh reads 0 as "no timeout").
    var connectTimeoutSeconds: Int64 {
        let (seconds, attoseconds) = self.connectTimeout.components
        return max(1, seconds + (attoseconds > 0 ? 1 : 0))
    }
}
