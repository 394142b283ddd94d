import ArgumentParser
import Cluster
import Foundation
import Verification

extension KVMMigrate {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check a guest and its cluster after any migration, whoever made it; --fix repairs what is stale.",
            discussion: """
                Compares, at once, where libvirt runs each domain with what the guest cluster says: the SF agents' \
                host in SA_libvirtgp.cfg, SA_libvirtgr.cfg and SA_vmchkhost.cfg on every node, the SF weight, the \
                files agreeing between nodes, the CF timeout loaded (600 s left by a forgotten after-step), every \
                node UP, SF running, tested after its configuration changed, and the clocks (each node against this \
                host, over ssh, corrected for the round trip; a guest's own clock through its QEMU guest agent). \
                One line per check: pass, warn or FAIL. Exits 0 unless a check fails: 7 when a domain's placement \
                fails, 6 for any other failure.
                """
        )

        @Argument(help: "The libvirt domains to verify (a node of the cluster brings the whole cluster's checks).")
        var domains: [String] = []

        @Flag(help: "Verify every node of the cluster configuration's guest cluster.")
        var all = false

        @Flag(
            help: """
                Repair what is stale with the restore's own code (agent files, CF timeout, SF re-read and test, a \
                guest agent's clock), then verify again.
                """
        )
        var fix = false

        @Option(
            name: [.customShort("c"), .customLong("connect")],
            help: ArgumentHelp(
                "A libvirt host the domains may run on, repeatable (default: the cluster configuration's hosts).",
                valueName: "uri"
            )
        )
        var connect: [String] = []

        @Option(
            help: ArgumentHelp(
                "The largest clock difference that passes (default: the configuration's verify.clock-tolerance, or \(Verifier.defaultClockTolerance) s).",
                valueName: "s"
            )
        )
        var clockTolerance: Double?

        @Option(
            name: .customLong("cf-timeout"),
            help: ArgumentHelp(
                "With --fix: the CF timeout to write where cluster.config still holds a migration's (the one before is recorded nowhere kvmmigrate can read; PRIMECLUSTER's default is 10).",
                valueName: "s"
            )
        )
        var restoredClusterTimeout: Int?

        @OptionGroup var cluster: ClusterOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let tolerance = self.clockTolerance, !(tolerance.isFinite && tolerance > 0 && tolerance <= 3600) {
                throw ValidationError("--clock-tolerance must be more than 0 and at most 3600 seconds.")
            }
            if let seconds = self.restoredClusterTimeout {
                guard self.fix else { throw ValidationError("--cf-timeout is what --fix writes: add --fix.") }
                guard (1..<300).contains(seconds) else {
                    throw ValidationError("--cf-timeout must be 1 to 299 seconds (300 and more is a migration's).")
                }
            }
        }

        func run() async throws {
            // Here rather than in validate(): the parser reports a mistyped option only after validate() passed.
            if self.domains.isEmpty && !self.all {
                throw ValidationError("Name the domains to verify, or --all for every node of the cluster.")
            }
            // With --connect and no --cluster-config, the domains are verified outside any cluster.
            let configuration: ClusterConfiguration? =
                self.connect.isEmpty || self.cluster.path != nil || self.all
                ? try self.cluster.load(json: self.output.json, command: "verify") : nil
            defer { configuration?.ssh.closeSharedConnections() }
            let hosts =
                self.connect.isEmpty
                ? configuration?.hosts ?? []
                : self.connect.map { uri in
                    configuration?.hosts.first { $0.uri == uri }
                        ?? ClusterConfiguration.Host(
                            name: URLComponents(string: uri)?.host ?? uri,
                            uri: uri,
                            address: ""
                        )
                }
            let verifier = Verifier(
                cluster: configuration,
                hosts: hosts,
                logger: self.output.makeLogger(),
                clockTolerance: self.clockTolerance ?? configuration?.clockTolerance ?? Verifier.defaultClockTolerance,
                restoredClusterTimeout: self.restoredClusterTimeout
            )
            let scope: Verifier.Scope = self.all ? .cluster : .domains(self.domains)
            if !self.output.quiet && !self.output.json && isatty(STDERR_FILENO) == 1 {
                ProgressDisplay.write(self.fix ? "Verifying, then repairing…\n" : "Verifying…\n")
            }
            let report = self.fix ? await verifier.verifyAndRepair(scope) : await verifier.verify(scope)
            let document = VerificationDocument(report, command: "verify")
            if self.output.json { print(JSONOutput.encode(document)) }
            ProgressDisplay.write(document.text + "\n")
            if let code = report.exitCode { throw code }
        }
    }
}

extension VerificationReport {
    /// The exit code of a verification that failed: 7 when a domain's placement failed, 6 otherwise; `nil` when
    /// nothing failed (warnings pass).
    var exitCode: ExitCode? {
        guard self.outcome == .fail else { return nil }
        return self.placementFailed ? .needsAttention : .clusterNotHealthy
    }
}
