import ArgumentParser
import Cluster
import Foundation

extension KVMMigrate {
    struct Recover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Finish any cluster operation a crash left unfinished: restore every node, verify.",
            discussion: """
                Reads the operation journal, asks libvirt on every configured host where the domain runs now, \
                and restores the cluster for that host. `kvmmigrate migrate --cluster` refuses to start while an \
                operation is unfinished.
                """
        )

        @OptionGroup var cluster: ClusterOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let configuration = try self.cluster.load(json: self.output.json, command: "recover")
            defer { configuration.ssh.closeSharedConnections() }
            let display = ProgressDisplay(domain: "recover", quiet: self.output.quiet, verbose: self.output.verbose)
            let operation = self.cluster.operation(
                configuration,
                output: self.output,
                display: display,
                audited: true
            )
            let reports: [ClusterOperation.Report]
            do { reports = try await operation.recover() } catch {
                throw ClusterOutput.refusal(error, command: "recover", json: self.output.json)
            }
            let parts = reports.map(ClusterPart.init)
            let healthy = reports.allSatisfy(\.healthy)
            if self.output.json {
                print(JSONOutput.encode(RecoverDocument(exitCode: healthy ? 0 : 6, recovered: parts)))
            }
            ProgressDisplay.write(
                (parts.isEmpty
                    ? "Nothing to recover: no unfinished operation." : parts.map(\.text).joined(separator: "\n"))
                    + "\n"
            )
            if !healthy { throw ExitCode.clusterNotHealthy }
        }
    }
}

struct RecoverDocument: Encodable {
    var schemaVersion = 1
    var command = "recover"
    var exitCode: Int32
    var recovered: [ClusterPart]
}
