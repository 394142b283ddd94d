import Foundation
import Testing

/// The audit trail (issue: every operation logs its start, steps and outcome to the system log), read back as an
/// auditor would, through ``Lab/audited(_:)``.
extension LabTests {
    @Suite(.serialized, .timeLimit(.minutes(10))) struct LabAuditTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        /// The SF agents' password of the lab's cluster, from a node's SA_libvirtgp.cfg.
        private func agentPassword() throws -> String {
            let line = try self.lab.shell(on: "guest1", "grep '^guest1 ' /etc/opt/SMAW/SMAWsf/SA_libvirtgp.cfg")
            return String(try #require(line.split(separator: " ").dropFirst(4).first))
        }

        @Test func aClusterMigrationIsAuditedFromStartToOutcomeWithJSONOutput() throws {
            let password = try self.agentPassword()
            let (run, all) = try self.lab.audited([
                "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster",
                "--persistent", "--undefine-source", "--json", "--log-level", "critical",
            ])
            #expect(run.exitCode == 0, "\(run.standardError)")
            // --json: standard output is the document alone.
            #expect((try? run.json) != nil, "\(run.standardOutput)")
            let records = try auditedOperation(all)
            let start = try #require(records.first)
            for part in [
                "command=migrate", "user=root", "uid=0", "from=", "domain=\(self.lab.domain)",
                "source=\(self.lab.sourceURI)", "destination=\(self.lab.destinationURI)", "cluster=",
                "--undefine-source", "--json",
            ] {
                #expect(start.contains(part), "no \(part) in \(start)")
            }
            let steps = records.filter { $0.hasPrefix("step ") }
            for step in ["cluster_prepare", "migration_started", "migration_ended", "cluster_restore", "verify"] {
                #expect(steps.contains { $0.contains(" step=\(step)") }, "no \(step) in \(steps)")
            }
            // The cluster's steps, per node: SF stopped on each, then started again.
            for node in self.lab.nodes {
                #expect(steps.contains { $0.contains("node=\(node)") && $0.contains("name=sf-stopped") }, "\(steps)")
                #expect(steps.contains { $0.contains("node=\(node)") && $0.contains("name=sf-started") }, "\(steps)")
            }
            // Not a record per progress sample.
            #expect(steps.count < 60, "\(steps.count) steps")
            let outcome = try #require(records.last)
            #expect(outcome.hasPrefix("outcome "), "\(outcome)")
            for part in [
                "result=success", "exit_code=0", "status=migrated", "downtime_ms=", "total_ms=",
                "cluster_healthy=true", "running_on=destination",
            ] {
                #expect(outcome.contains(part), "no \(part) in \(outcome)")
            }
            #expect(!all.contains { $0.contains(password) }, "the SF agents' password is in a record")

            // Home again (audited too, not checked here).
            let back = try self.lab.audited([
                "migrate", self.lab.domain, self.lab.sourceURI, "-c", self.lab.destinationURI, "--cluster",
                "--persistent", "--undefine-source", "--quiet",
            ])
            #expect(back.run.exitCode == 0, "\(back.run.standardError)")
            #expect(back.records.last?.contains("result=success") == true, "\(back.records)")
        }

        @Test func aFailedMigrationGivesAFailureOutcomeAndNoURIPassword() throws {
            // A domain the source does not run, to a destination whose URI carries a password.
            let destination = self.lab.destinationURI.replacing("://", with: "://auditor:Sekr1tPw@")
            let (run, all) = try self.lab.audited([
                "migrate", "no-such-domain-audit", destination, "-c", self.lab.sourceURI, "--json",
            ])
            #expect(run.exitCode != 0)
            let records = try auditedOperation(all)
            #expect(
                records.first?.contains("destination=\(destination.replacing("Sekr1tPw", with: "***"))") == true,
                "\(records)"
            )
            let outcome = try #require(records.last)
            #expect(outcome.hasPrefix("outcome ") && outcome.contains("result=failure"), "\(outcome)")
            #expect(outcome.contains("exit_code=\(run.exitCode)"), "\(outcome)")
            #expect(!all.contains { $0.contains("Sekr1tPw") }, "\(all)")
        }

        @Test func clusterPrepareAndRestoreByHandAreAuditedPerNode() throws {
            for command in ["prepare", "restore"] {
                let (run, all) = try self.lab.audited(["cluster", command, self.lab.domain, "--json"])
                #expect(run.exitCode == 0, "\(command): \(run.standardError)")
                let records = try auditedOperation(all)
                #expect(records.first?.contains("command=\"cluster \(command)\"") == true, "\(records)")
                let step = command == "prepare" ? "name=sf-stopped" : "name=sf-started"
                for node in self.lab.nodes {
                    #expect(records.contains { $0.contains("node=\(node)") && $0.contains(step) }, "\(records)")
                }
                #expect(records.last?.contains("result=success") == true, "\(records)")
            }
        }

        @Test func readOnlyCommandsWriteNoRecord() throws {
            let (run, all) = try self.lab.audited(["status", self.lab.domain, "-c", self.lab.sourceURI, "--json"])
            #expect(run.exitCode == 0, "\(run.standardError)")
            #expect(all.isEmpty, "\(all)")
        }
    }
}
