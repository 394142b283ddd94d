import Cluster
import Foundation
import Logging
import Testing

extension LabTests {
    /// `RemoteCommand` and `RemoteFile` against the lab's cluster nodes (`guest1`, `guest2`), over real ssh.
    @Suite(.serialized) struct LabRemoteTests {
        let logger = Logger(label: "kvmmigrate.tests.lab-remote")
        let lab: Lab
        let options: SSHOptions

        init() throws {
            self.lab = try Lab()
            let configFile = try #require(ProcessInfo.processInfo.environment["KVMMIGRATE_LAB_SSH_CONFIG"])
            self.options = SSHOptions(configFile: configFile, connectTimeout: .seconds(3))
        }

        func command(_ arguments: [String], on node: String = "guest1", options: SSHOptions? = nil) -> RemoteCommand {
            RemoteCommand(node: node, destination: node, arguments: arguments, options: options ?? self.options)
        }

        /// Runs a command on a node and returns its standard output; fails the test when it fails.
        @discardableResult
        func output(_ arguments: [String], on node: String = "guest1") async throws -> String {
            let command = self.command(arguments, on: node)
            return try await command.run(logger: self.logger).check(command).standardOutput
        }

        /// Runs `lab link NODE down|up` (the tests run as root in the admin namespace, where it works).
        func link(_ node: String, _ state: String) throws {
            let process = Process()
            process.executableURL = self.lab.root.appending(path: "Fixtures/lab/lab")
            process.arguments = ["link", node, state]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "lab link \(node) \(state) failed")
        }

        // MARK: - Commands

        @Test func hostnameOnGuest1() async throws {
            let result = try await self.command(["hostname"]).run(logger: self.logger)
            #expect(result == RemoteResult(exitStatus: 0, standardOutput: "guest1\n", standardError: ""))
        }

        @Test func argumentsArriveAsGiven() async throws {
            let arguments = ["it's", "$HOME", "a;b", "\"\"", "", "two  words", "line one\nline two"]
            let output = try await self.output(["printf", "[%s]"] + arguments)
            #expect(output == arguments.map { "[\($0)]" }.joined())
        }

        @Test func aFailingCommandIsAResultAndCheckNamesIt() async throws {
            let command = self.command(["ls", "/nonexistent-kvmm"])
            let result = try await command.run(logger: self.logger)
            #expect(result.exitStatus == 2)
            let error = try #require(throws: ClusterError.self) { try result.check(command) }
            #expect(error.code == .remoteCommandFailed)
            #expect(error.description.hasPrefix("guest1: 'ls /nonexistent-kvmm' exited with status 2: ls: "))
        }

        @Test func inputReachesTheCommandUnchanged() async throws {
            let text = "user=sfuser\npassword=s3cr3t 'quoted' $VAR\n"
            let result = try await self.command(["cat"]).run(input: Secret(text), logger: self.logger)
            #expect(result.standardOutput == text)
        }

        @Test func connectionSharingWorksAndIsFaster() async throws {
            // Short: ssh's socket path (directory, 40 for %C, 17 for a temporary suffix) must fit in 107 bytes.
            let directory = URL(filePath: "/tmp/kvmm-ssh-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(
                at: directory,
                withIntermediateDirectories: false,
                attributes: [.posixPermissions: 0o700]
            )
            var shared = self.options
            shared.controlDirectory = directory.path
            defer {
                self.stopMaster(controlDirectory: directory.path, node: "guest1")
                try? FileManager.default.removeItem(at: directory)
            }

            let fresh = try await self.averageRoundTrip(self.command(["true"]))
            let first = try await self.roundTrip(self.command(["true"], options: shared))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 1)
            let reused = try await self.averageRoundTrip(self.command(["true"], options: shared))
            print("ssh round trip to guest1: \(fresh) without sharing, \(first) opening a master, \(reused) reusing it")
            #expect(
                try await self.command(["hostname"], options: shared).run(logger: self.logger).standardOutput
                    == "guest1\n"
            )
            #expect(reused < fresh)
        }

        func roundTrip(_ command: RemoteCommand) async throws -> Duration {
            let start = ContinuousClock.now
            try await command.run(logger: self.logger).check(command)
            return ContinuousClock.now - start
        }

        func averageRoundTrip(_ command: RemoteCommand, count: Int = 5) async throws -> Duration {
            var total = Duration.zero
            for _ in 0..<count {
                total += try await self.roundTrip(command)
            }
            return total / count
        }

        /// Asks a connection-sharing master to exit, so that it doesn't outlive the test by `ControlPersist`.
        func stopMaster(controlDirectory: String, node: String) {
            let process = Process()
            process.executableURL = URL(filePath: "/usr/bin/ssh")
            process.arguments = [
                "-F", self.options.configFile ?? "/dev/null", "-o", "ControlPath=\(controlDirectory)/%C",
                "-O", "exit", node,
            ]
            process.standardError = FileHandle.nullDevice
            try? process.run()
            process.waitUntilExit()
        }

        // MARK: - Unreachable

        @Test func aNodeWhoseLinkIsDownIsUnreachableWithinTheConnectTimeout() async throws {
            try self.link("guest2", "down")
            defer { try? self.link("guest2", "up") }
            let start = ContinuousClock.now
            let error = try await #require(throws: ClusterError.self) {
                try await self.command(["true"], on: "guest2").run(timeout: .seconds(30), logger: self.logger)
            }
            let elapsed = ContinuousClock.now - start
            print("guest2 with its link down: \(error) after \(elapsed)")
            #expect(error.code == .nodeUnreachable)
            #expect(error.node == "guest2")
            #expect(elapsed < self.options.connectTimeout + .seconds(2))
        }

        @Test func guest2AnswersAgainOnceItsLinkIsUp() async throws {
            #expect(try await self.output(["hostname"], on: "guest2") == "guest2\n")
        }

        // MARK: - Files

        @Test func readsTheShutdownDaemonConfiguration() async throws {
            let text = try await RemoteFile.read(
                "/etc/opt/SMAW/SMAWsf/rcsd.cfg",
                on: "guest1",
                destination: "guest1",
                options: self.options,
                logger: self.logger
            )
            #expect(try #require(text).hasPrefix("guest1,weight="))
        }

        @Test func readingAMissingFileGivesNil() async throws {
            let text = try await RemoteFile.read(
                "/etc/opt/kvmm-remote-test-missing/none.cfg",
                on: "guest1",
                destination: "guest1",
                options: self.options,
                logger: self.logger
            )
            #expect(text == nil)
        }

        static let scratch = "/etc/opt/kvmm-remote-test"

        /// `%U %a %i %Y`: owner, mode, inode and modification time of a file on guest1.
        func stat(_ path: String) async throws -> [String] {
            try await self.output(["stat", "-c", "%U %a %i %Y", path]).split(separator: " ").map {
                $0.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }

        func write(_ contents: String, to path: String) async throws -> Bool {
            try await RemoteFile.write(
                Secret(contents),
                to: path,
                on: "guest1",
                destination: "guest1",
                options: self.options,
                logger: self.logger
            )
        }

        @Test func writesAtomicallyKeepingOwnerAndModeAndOnlyWhenChanged() async throws {
            let directory = Self.scratch
            let path = directory + "/x.cfg"
            try await self.output(["rm", "-rf", directory])
            try await self.output(["mkdir", "-p", directory])
            do {
                let setUp = #"printf 'old\n' >"$1" && chown sfuser "$1" && chmod 640 "$1""#
                try await self.output(["sh", "-c", setUp, "sh", path])
                let before = try await self.stat(path)
                #expect(before[0...1] == ["sfuser", "640"])

                let contents = "agent=SA_libvirtgp\npassword='s3cr3t' $x\n"
                #expect(try await self.write(contents, to: path))
                let after = try await self.stat(path)
                #expect(after[0...1] == ["sfuser", "640"])
                #expect(after[2] != before[2], "a rename gives the file a new inode")
                #expect(try await self.output(["cat", path]) == contents)

                try await Task.sleep(for: .seconds(1.1))  // %Y has whole seconds
                #expect(try await self.write(contents, to: path) == false)
                #expect(try await self.stat(path) == after, "an identical write must leave the file alone")

                // A new file: root:root 0600.
                #expect(try await self.write("new\n", to: directory + "/new.cfg"))
                #expect(try await self.stat(directory + "/new.cfg")[0...1] == ["root", "600"])
                #expect(try await self.output(["stat", "-c", "%G", directory + "/new.cfg"]) == "root\n")
                // No temporary file was left behind.
                #expect(try await self.output(["ls", "-A", directory]) == "new.cfg\nx.cfg\n")

                // A missing directory fails with a message that names node and path.
                let error = try await #require(throws: ClusterError.self) {
                    try await self.write("x", to: directory + "/missing/y.cfg")
                }
                #expect(error.code == .remoteCommandFailed)
                #expect(error.description.hasPrefix("guest1: \(directory)/missing/y.cfg: cannot replace the file: "))
                #expect(!error.description.contains("x\n"))
            } catch {
                _ = try? await self.output(["rm", "-rf", directory])
                throw error
            }
            try await self.output(["rm", "-rf", directory])
        }

        @Test func aWriteToAnUnreachableNodeThrowsWithoutTheContents() async throws {
            var options = self.options
            options.extraOptions = ["Port=1"]
            let error = try await #require(throws: ClusterError.self) {
                try await RemoteFile.write(
                    Secret("password=hunter2\n"),
                    to: "/etc/opt/kvmm-remote-test/z.cfg",
                    on: "guest1",
                    destination: "guest1",
                    options: options,
                    logger: self.logger
                )
            }
            #expect(error.code == .nodeUnreachable)
            #expect(!"\(error)".contains("hunter2"))
        }
    }
}
