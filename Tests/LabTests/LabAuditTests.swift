import Foundation
import Testing

/// The audit trail (issue: every operation logs its start, steps and outcome to the system log), read back as an
/// auditor would: kvmmigrate runs in a mount namespace of its own whose `/dev/log` leads to a datagram socket this
/// test reads, since the lab machine has no syslog daemon.
extension LabTests {
    @Suite(.serialized, .timeLimit(.minutes(10))) struct LabAuditTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        /// Receives syslog(3) datagrams on `$1` and appends each, one line, to `$2`.
        static let receiver = """
            import os, socket, sys
            path, out = sys.argv[1], sys.argv[2]
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind(path)
            os.chmod(path, 0o666)
            with open(out, "ab", buffering=0) as f:
                while True:
                    f.write(s.recv(65536).rstrip(b"\\0").rstrip(b"\\n") + b"\\n")
            """

        /// `/dev` replaced (in the namespace only) by a tmpfs holding everything the real one holds, bound back,
        /// and a `log` symlink to the receiver's socket; then the command.
        static let namespace = """
            set -e
            old="$1"; sock="$2"; shift 2
            mount --rbind /dev "$old"
            mount -t tmpfs -o mode=755 tmpfs /dev
            for e in "$old"/* "$old"/.[!.]*; do
              [ -e "$e" ] || [ -L "$e" ] || continue
              n=${e##*/}
              if [ -L "$e" ]; then cp -P "$e" "/dev/$n"
              elif [ -d "$e" ]; then mkdir "/dev/$n"; mount --rbind "$e" "/dev/$n"
              else : > "/dev/$n"; mount --bind "$e" "/dev/$n"; fi
            done
            ln -s "$sock" /dev/log
            exec "$@"
            """

        /// Runs `kvmmigrate arguments` with a system log this test reads; returns the run and the records' text
        /// (what follows `kvmmigrate[pid]: `), in order.
        private func audited(_ arguments: [String]) throws -> (run: CommandRun, records: [String]) {
            let directory = FileManager.default.temporaryDirectory.appending(path: "kvmm-audit-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(at: directory) }
            let socket = directory.appending(path: "log").path
            let output = directory.appending(path: "records").path
            let oldDevices = directory.appending(path: "dev").path
            try FileManager.default.createDirectory(atPath: oldDevices, withIntermediateDirectories: false)
            let receiver = Process()
            receiver.executableURL = URL(filePath: "/usr/bin/python3")
            receiver.arguments = ["-c", Self.receiver, socket, output]
            try receiver.run()
            defer {
                // SIGKILL: the test process may run with SIGTERM ignored, which its children inherit.
                kill(receiver.processIdentifier, SIGKILL)
                receiver.waitUntilExit()
            }
            for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) {
                Thread.sleep(forTimeInterval: 0.05)
            }
            let result = try run(
                URL(filePath: "/usr/bin/timeout"),
                ["540", "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", Self.namespace, "sh"]
                    + [oldDevices, socket, try self.lab.binary.path] + arguments
            )
            Thread.sleep(forTimeInterval: 0.3)
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            let records = text.split(separator: "\n").compactMap { line -> String? in
                guard line.contains("kvmmigrate["), let mark = line.range(of: "]: ") else { return nil }
                return String(line[mark.upperBound...])
            }
            return (result, records)
        }

        /// The records of the one operation the run started, checked to share its id.
        private func operation(_ records: [String]) throws -> [String] {
            let start = try #require(records.first { $0.hasPrefix("start ") }, "no start record in \(records)")
            let id = try #require(start.split(separator: " ").dropFirst().first, "\(start)")
            #expect(id.hasPrefix("operation=") && id.count == "operation=".count + 12, "\(start)")
            let mine = records.filter { $0.split(separator: " ").dropFirst().first == id }
            #expect(mine == records, "records of another operation: \(records)")
            return mine
        }

        /// The SF agents' password of the lab's cluster, from a node's SA_libvirtgp.cfg.
        private func agentPassword() throws -> String {
            let line = try self.lab.shell(on: "guest1", "grep '^guest1 ' /etc/opt/SMAW/SMAWsf/SA_libvirtgp.cfg")
            return String(try #require(line.split(separator: " ").dropFirst(4).first))
        }

        @Test func aClusterMigrationIsAuditedFromStartToOutcomeWithJSONOutput() throws {
            let password = try self.agentPassword()
            let (run, all) = try self.audited([
                "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster",
                "--persistent", "--undefine-source", "--json", "--log-level", "critical",
            ])
            #expect(run.exitCode == 0, "\(run.standardError)")
            // --json: standard output is the document alone.
            #expect((try? run.json) != nil, "\(run.standardOutput)")
            let records = try self.operation(all)
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
            let back = try self.audited([
                "migrate", self.lab.domain, self.lab.sourceURI, "-c", self.lab.destinationURI, "--cluster",
                "--persistent", "--undefine-source", "--quiet",
            ])
            #expect(back.run.exitCode == 0, "\(back.run.standardError)")
            #expect(back.records.last?.contains("result=success") == true, "\(back.records)")
        }

        @Test func aFailedMigrationGivesAFailureOutcomeAndNoURIPassword() throws {
            // A domain the source does not run, to a destination whose URI carries a password.
            let destination = self.lab.destinationURI.replacing("://", with: "://auditor:Sekr1tPw@")
            let (run, all) = try self.audited([
                "migrate", "no-such-domain-audit", destination, "-c", self.lab.sourceURI, "--json",
            ])
            #expect(run.exitCode != 0)
            let records = try self.operation(all)
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
                let (run, all) = try self.audited(["cluster", command, self.lab.domain, "--json"])
                #expect(run.exitCode == 0, "\(command): \(run.standardError)")
                let records = try self.operation(all)
                #expect(records.first?.contains("command=\"cluster \(command)\"") == true, "\(records)")
                let step = command == "prepare" ? "name=sf-stopped" : "name=sf-started"
                for node in self.lab.nodes {
                    #expect(records.contains { $0.contains("node=\(node)") && $0.contains(step) }, "\(records)")
                }
                #expect(records.last?.contains("result=success") == true, "\(records)")
            }
        }

        @Test func readOnlyCommandsWriteNoRecord() throws {
            let (run, all) = try self.audited(["status", self.lab.domain, "-c", self.lab.sourceURI, "--json"])
            #expect(run.exitCode == 0, "\(run.standardError)")
            #expect(all.isEmpty, "\(all)")
        }
    }
}
