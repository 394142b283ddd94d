import ArgumentParser
import Cluster
import Foundation
import Logging

/// Where the cluster configuration is.
struct ClusterOptions: ParsableArguments {
    @Option(
        name: .customLong("cluster-config"),
        help: ArgumentHelp(
            "The cluster configuration (default: $KVMMIGRATE_CLUSTER_CONFIG or \(ClusterConfiguration.defaultPath)).",
            valueName: "file"
        )
    )
    var path: String?

    var resolvedPath: String {
        self.path ?? ProcessInfo.processInfo.environment["KVMMIGRATE_CLUSTER_CONFIG"]
            ?? ClusterConfiguration.defaultPath
    }

    /// Reads the configuration; reports one line (or the `--json` refusal) and throws exit code 2 when it is
    /// unusable.
    func load(json: Bool, command: String) throws(ExitCode) -> ClusterConfiguration {
        do throws(ClusterError) {
            var configuration = try ClusterConfiguration(contentsOf: self.resolvedPath)
            if configuration.ssh.controlDirectory == nil {
                configuration.ssh.controlDirectory = Self.privateControlDirectory()
            }
            return configuration
        } catch {
            throw ClusterOutput.refusal(error, command: command, json: json)
        }
    }

    /// The cluster operation of a command, its steps shown on `display` and, when `audited`, written to the audit
    /// trail (not when a session runs it: the session's events are audited).
    func operation(
        _ configuration: ClusterConfiguration,
        output: OutputOptions,
        display: ProgressDisplay?,
        audited: Bool = false
    )
        -> ClusterOperation
    {
        ClusterOperation(
            configuration: configuration,
            configurationPath: self.resolvedPath,
            logger: output.makeLogger(),
            onEvent: { event in
                display?.event(event)
                if audited { AuditLog.record(event) }
            }
        )
    }

    /// A new private directory for ssh's connection sharing (`mkdtemp`: mode 0700, a name no one could have
    /// made before), for one operation that closes its connections and removes it when it ends.
    static func privateControlDirectory() -> String? {
        var template = Array(
            FileManager.default.temporaryDirectory.appending(path: "kvmmigrate-ssh-XXXXXX").path.utf8CString
        )
        return template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
    }
}
