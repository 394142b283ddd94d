import Foundation
import Testing

/// The Ansible module (`Ansible/library/kvmmigrate.py`) driven by a real `ansible-playbook` (ansible-core from PyPI,
/// in the venv `Fixtures/lab/lab install` makes) against the lab: each test writes a one-task playbook and an
/// inventory of `localhost` into a private directory and reads the task's result from the `tree` callback's file.
extension LabTests {
    @Suite(.serialized) struct LabAnsibleTests {
        let lab: Lab

        /// Where `Fixtures/lab/lab install` puts ansible-core.
        static let venv = URL(filePath: "/opt/kvmm-ansible")

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        /// One `ansible-playbook` run: its exit status, its output (with the play recap) and the task's result.
        struct PlaybookRun {
            var exitCode: Int32
            var output: String
            var result: [String: Any]

            var report: [String: Any] { self.result["report"] as? [String: Any] ?? [:] }
            var command: [String] { self.result["cmd"] as? [String] ?? [] }

            /// The recap's count `name` (`ok`, `changed`, `failed`…) for localhost.
            func recap(_ name: String) -> Int? {
                guard let line = self.output.split(separator: "\n").last(where: { $0.hasPrefix("localhost") }),
                    let field = line.split(separator: " ").first(where: { $0.hasPrefix("\(name)=") })
                else { return nil }
                return Int(field.dropFirst(name.count + 1))
            }
        }

        /// Runs a playbook of one `kvmmigrate` task with `arguments` (the lab's binary added), in check mode when
        /// `check`.
        private func play(_ arguments: [String: Any], check: Bool = false) throws -> PlaybookRun {
            let playbook = Self.venv.appending(path: "bin/ansible-playbook")
            guard FileManager.default.isExecutableFile(atPath: playbook.path) else {
                throw LabError("no \(playbook.path): run Fixtures/lab/lab install")
            }
            let directory = FileManager.default.temporaryDirectory.appending(path: "kvmm-ansible-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }

            var task = arguments
            task["binary"] = try self.lab.binary.path
            // JSON is YAML: the task's arguments as one flow mapping, every string quoted.
            let taskText = String(
                decoding: try JSONSerialization.data(withJSONObject: task, options: [.sortedKeys]),
                as: UTF8.self
            )
            let playbookFile = directory.appending(path: "play.yml")
            try """
            - hosts: localhost
              gather_facts: false
              tasks:
                - name: kvmmigrate
                  kvmmigrate: \(taskText)

            """.write(to: playbookFile, atomically: true, encoding: .utf8)
            let inventory = directory.appending(path: "inventory")
            let python = Self.venv.appending(path: "bin/python").path
            try "localhost ansible_connection=local ansible_python_interpreter=\(python)\n"
                .write(to: inventory, atomically: true, encoding: .utf8)
            let configuration = directory.appending(path: "ansible.cfg")
            try "".write(to: configuration, atomically: true, encoding: .utf8)
            let tree = directory.appending(path: "tree")

            let command = try run(
                playbook,
                ["-i", inventory.path, playbookFile.path] + (check ? ["--check"] : []),
                environment: [
                    "ANSIBLE_CONFIG": configuration.path,  // no ansible.cfg of this machine's
                    "ANSIBLE_HOME": directory.appending(path: "home").path,
                    "ANSIBLE_LOCAL_TEMP": directory.appending(path: "local").path,
                    "ANSIBLE_REMOTE_TEMP": directory.appending(path: "remote").path,
                    "ANSIBLE_LIBRARY": self.lab.root.appending(path: "Ansible/library").path,
                    "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree",
                    "ANSIBLE_CALLBACK_TREE_DIR": tree.path,
                    "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_RETRY_FILES_ENABLED": "0",
                ],
                timeLimit: .seconds(300)
            )
            let output = command.standardOutput + command.standardError
            let data = try Data(contentsOf: tree.appending(path: "localhost"))
            let result = try #require(
                try JSONSerialization.jsonObject(with: data) as? [String: Any],
                "no task result; ansible-playbook said: \(output)"
            )
            return PlaybookRun(exitCode: command.exitCode, output: output, result: result)
        }

        /// The arguments of a migration of the lab's domain from the source to the destination.
        private var migration: [String: Any] {
            [
                "command": "migrate", "domain": self.lab.domain, "connect_uri": self.lab.sourceURI,
                "dest_uri": self.lab.destinationURI,
            ]
        }

        @Test func aClusterMigrationFromAPlaybookMovesTheGuestAndRestoresTheCluster() throws {
            defer { try? self.lab.resetAll() }
            var arguments = self.migration
            arguments["cluster"] = true
            arguments["persistent"] = true
            arguments["undefine_source"] = true
            arguments["max_downtime"] = 400
            let play = try self.play(arguments)
            #expect(play.exitCode == 0, "\(play.output)")
            #expect(play.result["changed"] as? Bool == true)
            #expect(play.result["rc"] as? Int == 0)
            #expect(play.recap("changed") == 1, "\(play.output)")
            #expect(play.report["command"] as? String == "migrate")
            #expect(play.report["outcome"] as? String == "completed")
            #expect(play.report["running_on"] as? String == "destination")
            #expect((play.report["cluster"] as? [String: Any])?["healthy"] as? Bool == true)
            #expect((play.report["policy"] as? [String: Any])?["max_downtime_milliseconds"] as? Int == 400)
            #expect(play.command.contains("--cluster") && play.command.contains("--json"))
            #expect(!play.command.contains("--dry-run"))

            // Where libvirt runs the guest now, and the cluster restored for hostB.
            #expect(self.lab.state(of: self.lab.domain, on: try self.lab.destination())?.state == .running)
            #expect(self.lab.state(of: self.lab.domain, on: try self.lab.source()) == nil)
            try self.lab.expectRestored(pointingAt: "10.77.0.2")
        }

        @Test func checkModeIsADryRunThatChangesNothing() throws {
            defer { try? self.lab.resetAll() }
            let files = try self.lab.nodeFiles()
            var arguments = self.migration
            arguments["cluster"] = true
            let play = try self.play(arguments, check: true)
            #expect(play.exitCode == 0, "\(play.output)")
            #expect(play.result["changed"] as? Bool == false)
            #expect(play.recap("ok") == 1 && play.recap("changed") == 0, "\(play.output)")
            #expect(play.command.contains("--dry-run"))
            #expect(play.report["would_migrate"] as? Bool == true)
            try self.lab.expectUnchanged()
            #expect(try self.lab.nodeFiles() == files)

            // verify with fix in check mode: read-only, never --fix.
            let verify = try self.play(["command": "verify", "domain": self.lab.domain, "fix": true], check: true)
            #expect(verify.exitCode == 0, "\(verify.output)")
            #expect(verify.result["changed"] as? Bool == false)
            #expect(verify.command.contains("verify") && !verify.command.contains("--fix"))
            #expect(verify.report["outcome"] as? String != "fail", "\(verify.report)")
            try self.lab.expectUnchanged()
            #expect(try self.lab.nodeFiles() == files)
        }

        @Test func aFailureFailsThePlayWithTheToolsMessage() throws {
            defer { try? self.lab.resetAll() }
            let files = try self.lab.nodeFiles()
            var arguments = self.migration
            arguments["domain"] = "kvmm-no-such-domain"
            arguments["cluster"] = true
            let play = try self.play(arguments)
            #expect(play.exitCode == 2, "\(play.output)")
            #expect(play.recap("failed") == 1, "\(play.output)")
            #expect(play.result["rc"] as? Int == 2)
            #expect(play.result["changed"] as? Bool == false)
            #expect(
                play.result["msg"] as? String == "no domain 'kvmm-no-such-domain' on the source \(self.lab.sourceURI)",
                "\(play.result)"
            )
            #expect((play.report["error"] as? [String: Any])?["code"] as? String == "domain-not-found")
            #expect(play.output.contains("no domain 'kvmm-no-such-domain'"))
            try self.lab.expectUnchanged()
            #expect(try self.lab.nodeFiles() == files)
        }
    }
}
