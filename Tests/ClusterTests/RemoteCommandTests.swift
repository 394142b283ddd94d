import Foundation
import Logging
import Subprocess
import Synchronization
import Testing

@testable import Cluster

@Suite struct RemoteCommandTests {
    let logger = Logger(label: "kvmmigrate.tests.remote")

    // MARK: - argv

    @Test func defaultArgumentsAreSafeAndEndWithTheDestinationThenTheQuotedCommand() {
        let command = RemoteCommand(node: "guest1", destination: "10.77.0.11", arguments: ["sdtool", "-s"])
        #expect(
            command.sshArguments == [
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10", "-T",
                "--", "10.77.0.11", "'sdtool'", "'-s'",
            ]
        )
    }

    @Test func destinationDefaultsToTheNodeName() {
        #expect(RemoteCommand(node: "guest2", arguments: ["true"]).destination == "guest2")
    }

    @Test func everyOptionAppearsOnceInItsPlace() {
        let options = SSHOptions(
            configFile: "/etc/kvmmigrate/ssh_config",
            user: "root",
            identityFile: "/root/.ssh/id_ed25519",
            connectTimeout: .seconds(3),
            controlDirectory: "/run/kvmmigrate/ssh/",
            extraOptions: ["Port=2222"]
        )
        let command = RemoteCommand(node: "guest1", destination: "guest1", arguments: ["hostname"], options: options)
        #expect(
            command.sshArguments == [
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=3", "-T",
                "-F", "/etc/kvmmigrate/ssh_config", "-l", "root", "-i", "/root/.ssh/id_ed25519",
                "-o", "ControlMaster=auto", "-o", "ControlPath=/run/kvmmigrate/ssh/%C", "-o", "ControlPersist=60",
                "-o", "Port=2222",
                "--", "guest1", "'hostname'",
            ]
        )
    }

    @Test func connectionSharingOnlyWithAControlDirectory() {
        let arguments = SSHOptions().arguments.joined(separator: " ")
        #expect(!arguments.contains("Control"))
        #expect(!arguments.contains("-F"))
        #expect(!arguments.contains("-l"))
        #expect(!arguments.contains("-i"))
    }

    @Test(arguments: [
        (Duration.seconds(10), "ConnectTimeout=10"), (.milliseconds(1500), "ConnectTimeout=2"),
        (.zero, "ConnectTimeout=1"), (.milliseconds(1), "ConnectTimeout=1"),
    ])
    func connectTimeoutIsRoundedUpToWholeSeconds(timeout: Duration, option: String) {
        #expect(SSHOptions(connectTimeout: timeout).arguments.contains(option))
    }

    @Test func theSafetyOptionsComeBeforeAnythingThatCouldOverrideThem() throws {
        // ssh keeps the first value of an option, so these must precede the extra options.
        let arguments = SSHOptions(extraOptions: ["BatchMode=no", "StrictHostKeyChecking=no"]).arguments
        let batch = try #require(arguments.firstIndex(of: "BatchMode=yes"))
        let strict = try #require(arguments.firstIndex(of: "StrictHostKeyChecking=yes"))
        #expect(batch < arguments.firstIndex(of: "BatchMode=no")!)
        #expect(strict < arguments.firstIndex(of: "StrictHostKeyChecking=no")!)
    }

    @Test func aDestinationThatLooksLikeAnOptionStaysADestination() {
        let command = RemoteCommand(node: "x", destination: "-oProxyCommand=evil", arguments: ["true"])
        let arguments = command.sshArguments
        #expect(arguments[arguments.count - 3] == "--")
        #expect(arguments[arguments.count - 2] == "-oProxyCommand=evil")
    }

    // MARK: - Quoting

    static let awkwardArguments = [
        "it's", "$HOME", "a;b", "\"\"", "", "two words", "  leading and trailing  ", "line one\nline two\n",
        "'", "''", #"back\slash"#, "`id`", "$(id)", "*", "a|b&c>d<e", "tab\there", "#comment", "~", "-n", "é ünïcödé",
    ]

    /// Runs what ssh would hand the remote shell, with `/bin/sh -c`, and returns what `printf` got.
    func throughShell(_ arguments: [String]) async throws -> String {
        let quoted = arguments.map(RemoteCommand.shellQuoted).joined(separator: " ")
        let result = try await Subprocess.run(
            .path("/bin/sh"),
            arguments: ["-c", "printf '[%s]' " + quoted],
            output: .string(limit: 1 << 16)
        )
        #expect(result.terminationStatus.isSuccess)
        return result.standardOutput
    }

    @Test(arguments: awkwardArguments)
    func oneArgumentRoundTripsThroughTheShell(_ argument: String) async throws {
        #expect(try await self.throughShell([argument]) == "[\(argument)]")
    }

    @Test func manyArgumentsKeepTheirBoundaries() async throws {
        let output = try await self.throughShell(Self.awkwardArguments)
        #expect(output == Self.awkwardArguments.map { "[\($0)]" }.joined())
    }

    @Test func quotingSingleQuotes() {
        #expect(RemoteCommand.shellQuoted("it's") == #"'it'\''s'"#)
        #expect(RemoteCommand.shellQuoted("") == "''")
    }

    // MARK: - Results and messages

    @Test func checkPassesASuccessThrough() throws {
        let command = RemoteCommand(node: "guest1", arguments: ["true"])
        let result = RemoteResult(exitStatus: 0, standardOutput: "ok\n", standardError: "")
        #expect(try result.check(command) == result)
        #expect(result.succeeded)
    }

    @Test func checkNamesNodeCommandStatusAndTheFirstLineOfStandardError() throws {
        let command = RemoteCommand(node: "guest2", destination: "10.77.0.12", arguments: ["sdtool", "-s"])
        let result = RemoteResult(
            exitStatus: 2,
            standardOutput: "",
            standardError: "\n  sdtool: not running  \nmore detail\n"
        )
        let error = try #require(throws: ClusterError.self) { try result.check(command) }
        #expect(error.code == .remoteCommandFailed)
        #expect(error.node == "guest2")
        #expect(error.description == "guest2: 'sdtool -s' exited with status 2: sdtool: not running")
    }

    @Test func checkWithoutStandardErrorStillSaysWhatFailed() throws {
        let command = RemoteCommand(node: "guest1", arguments: ["false"])
        let error = try #require(throws: ClusterError.self) {
            try RemoteResult(exitStatus: 1, standardOutput: "", standardError: "").check(command)
        }
        #expect(error.description == "guest1: 'false' exited with status 1")
    }

    @Test func aLongScriptIsShortenedInMessages() throws {
        let command = RemoteCommand(
            node: "guest1",
            arguments: ["sh", "-c", "set -eu\necho " + String(repeating: "x", count: 200)]
        )
        let error = try #require(throws: ClusterError.self) {
            try RemoteResult(exitStatus: 1, standardOutput: "", standardError: "").check(command)
        }
        #expect(error.message == "'sh -c set -eu…' exited with status 1")
    }

    // MARK: - Running

    /// ssh to a closed local port, reading no user or system configuration.
    func unreachable(_ arguments: [String], timeout: Duration = .seconds(2)) -> RemoteCommand {
        RemoteCommand(
            node: "nowhere",
            destination: "127.0.0.1",
            arguments: arguments,
            options: SSHOptions(configFile: "/dev/null", connectTimeout: timeout, extraOptions: ["Port=1"])
        )
    }

    @Test func anUnreachableNodeThrowsQuickly() async throws {
        let start = ContinuousClock.now
        let error = try await #require(throws: ClusterError.self) {
            try await self.unreachable(["true"]).run(logger: self.logger)
        }
        // "refused" is ssh's answer at once, not a timeout; the bound only guards against a hang (a loaded CI
        // machine took 5.8 s to start and reap ssh here, so no tighter figure belongs in a test).
        #expect(ContinuousClock.now - start < .seconds(30))
        #expect(error.code == .nodeUnreachable)
        #expect(error.node == "nowhere")
        #expect(error.message.contains("ssh to 127.0.0.1 failed"))
        #expect(error.message.contains("refused"))
    }

    @Test func anUnreachableNodeWithInputThrowsWithoutShowingTheInput() async throws {
        let error = try await #require(throws: ClusterError.self) {
            try await self.unreachable(["cat"]).run(input: Secret("hunter2-password"), logger: self.logger)
        }
        #expect(error.code == .nodeUnreachable)
        #expect(!everythingShown(error).contains("hunter2"))
    }

    @Test func logsNodeAndCommandAtDebugButNeverTheInput() async throws {
        let records = LogRecords()
        var logger = Logger(label: "capture") { _ in CapturingLogHandler(records: records) }
        logger.logLevel = .trace
        _ = try? await self.unreachable(["cat", "-"]).run(input: Secret("hunter2-password"), logger: logger)
        let logged = records.lines
        #expect(logged.first == "debug Running remote command command=cat - node=nowhere")
        #expect(logged.allSatisfy { $0.hasPrefix("debug ") })
        #expect(!logged.joined().contains("hunter2"))
    }

    @Test func theInputPipeIsClosedAfterEveryRun() async throws {
        func openPipes() throws -> Int {
            try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0))?.hasPrefix("pipe:")
                    ?? false
            }
        }
        // The first run sets up swift-subprocess's own descriptors.
        _ = try? await self.unreachable(["cat"]).run(input: Secret("x"), logger: self.logger)
        let before = try openPipes()
        for _ in 0..<10 {
            _ = try? await self.unreachable(["cat"]).run(input: Secret("x"), logger: self.logger)
        }
        // Other tests run in parallel and open pipes too: allow some slack, but not ten leaked pipes.
        #expect(try openPipes() < before + 5)
    }

    @Test func aTimeoutStopsSshAndWhatItStartedAndThrows() async throws {
        // A "connection" that never says anything: ssh waits for the server's banner until the timeout stops it.
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let command = RemoteCommand(
            node: "silent",
            destination: "127.0.0.1",
            arguments: ["true"],
            options: SSHOptions(
                configFile: "/dev/null",
                connectTimeout: .seconds(30),
                extraOptions: ["ProxyCommand=sh -c 'echo $$ >\(directory)/pid; exec sleep 120'"]
            )
        )
        // 3 s: time enough for the proxy's shell to start and write its pid on a loaded 2-core machine.
        let start = ContinuousClock.now
        let error = try await #require(throws: ClusterError.self) {
            try await command.run(timeout: .seconds(3), logger: self.logger)
        }
        // The message says the 3 s bound ended it; without it the proxy would answer nothing for 120 s. (The whole suite
        // under AddressSanitizer on a loaded 2-core machine took 19 s here: the bound only tells the two apart.)
        #expect(ContinuousClock.now - start < .seconds(60))
        #expect(error.code == .nodeUnreachable)
        #expect(error.description == "silent: no answer within 3 s from ssh to 127.0.0.1 ('true')")
        // The proxy command was stopped with ssh: gone, or a zombie waiting for init to reap it.
        let pid = try #require(
            Int32(
                try String(contentsOfFile: directory + "/pid", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines
                )
            )
        )
        var alive = true
        for _ in 0..<20 where alive {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            alive = stat.split(separator: ") ").last?.first.map { $0 != "Z" } ?? false
            if alive { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(!alive, "the ProxyCommand outlived ssh")
    }

    @Test func cancellationKillsSshAndThrowsCancelled() async throws {
        let command = RemoteCommand(
            node: "silent",
            destination: "127.0.0.1",
            arguments: ["true"],
            options: SSHOptions(configFile: "/dev/null", extraOptions: ["ProxyCommand=sleep 20"])
        )
        let logger = self.logger
        let task = Task { () async throws(ClusterError) -> RemoteResult in
            try await command.run(logger: logger)
        }
        try await Task.sleep(for: .milliseconds(300))
        let start = ContinuousClock.now
        task.cancel()
        let error = try await #require(throws: ClusterError.self) { try await task.value }
        // Well under the proxy's 20 s: cancelled, not waited for (no tighter figure on a loaded machine).
        #expect(ContinuousClock.now - start < .seconds(15))
        #expect(error.code.rawValue == "cancelled")
    }

    @Test func anEmptyCommandIsRefused() async throws {
        let error = try await #require(throws: ClusterError.self) {
            try await RemoteCommand(node: "guest1", arguments: []).run(logger: self.logger)
        }
        #expect(error.code == .invalidValue)
    }

    @Test func aRelativePathIsRefusedBeforeConnecting() async throws {
        let error = try await #require(throws: ClusterError.self) {
            try await RemoteFile.write(
                Secret("x"),
                to: "etc/passwd",
                on: "nowhere",
                destination: "127.0.0.1",
                options: SSHOptions(configFile: "/dev/null", extraOptions: ["Port=1"]),
                logger: self.logger
            )
        }
        #expect(error.code == .invalidValue)
    }

    @Test func durationsInMessages() {
        #expect(RemoteCommand.format(.seconds(60)) == "60 s")
        #expect(RemoteCommand.format(.milliseconds(500)) == "0.5 s")
        #expect(RemoteCommand.format(.milliseconds(2250)) == "2.25 s")
    }

    // MARK: - The remote scripts, run locally

    /// Runs one of RemoteFile's scripts locally with `sh -c`, the way the node runs it.
    func runScript(_ script: String, _ path: String, input: String? = nil) async throws -> (Int32, String, String) {
        let arguments: Arguments = ["-c", script, "sh", path]
        let result =
            if let input {
                // Through a filled pipe, as RemoteCommand does: some runs exit before reading, and
                // swift-subprocess writing `.string(input)` to them would raise SIGPIPE in the test process.
                try await Subprocess.run(
                    .path("/bin/sh"),
                    arguments: arguments,
                    input: .fileDescriptor(
                        .init(rawValue: RemoteCommand.filledPipe(Array(input.utf8), node: "local")),
                        closeAfterSpawningProcess: true
                    ),
                    output: .string(limit: 1 << 16),
                    error: .string(limit: 1 << 16)
                )
            } else {
                try await Subprocess.run(
                    .path("/bin/sh"),
                    arguments: arguments,
                    output: .string(limit: 1 << 16),
                    error: .string(limit: 1 << 16)
                )
            }
        guard case .exited(let code) = result.terminationStatus else { return (-1, "", "") }
        return (code, result.standardOutput, result.standardError)
    }

    @Test func theReadScriptPrintsAFileOrReportsItMissing() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/a.cfg"
        #expect(try await self.runScript(RemoteFile.readScript, path).0 == RemoteFile.missingStatus)
        try "x\ny\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try await self.runScript(RemoteFile.readScript, path) == (0, "x\ny\n", ""))
    }

    @Test func theWriteScriptReplacesOnlyWhenTheContentsDiffer() async throws {
        // A new file gets root:root, which needs root; on an existing file the script works for anyone.
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/b.cfg"
        try "old\n".write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        let contents = "new 'value' $HOME\n"
        let upload = RemoteFile.upload(Secret(contents)).revealedValue
        #expect(try await self.runScript(RemoteFile.writeScript, path, input: upload) == (0, "replaced\n", ""))
        let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await self.runScript(RemoteFile.writeScript, path, input: upload) == (0, "unchanged\n", ""))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.modificationDate] as? Date == modified)
        #expect(attributes[.posixPermissions] as? Int == 0o640)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == contents)
        // No temporary file is left behind, whatever the outcome.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["b.cfg"])

        let missing = try await self.runScript(RemoteFile.writeScript, directory + "/missing/c.cfg", input: upload)
        #expect(missing.0 != 0)
        #expect(missing.2.contains("mktemp"))

        try FileManager.default.createSymbolicLink(atPath: directory + "/link.cfg", withDestinationPath: "b.cfg")
        let link = try await self.runScript(RemoteFile.writeScript, directory + "/link.cfg", input: upload)
        #expect(link == (1, "", "is a symbolic link; not replacing it\n"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == contents)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["b.cfg", "link.cfg"])
    }

    static let agentLine = "guest1 domain1 10.77.0.1 sfuser D0860AB04E1B8FA3\n"

    @Test(arguments: [("", 4_294_967_295), ("123456789", 930_766_865), (RemoteCommandTests.agentLine, 2_548_556_308)])
    func theUploadsChecksumIsPosixCksums(text: String, crc: Int) {
        // The figures are what coreutils' `printf %s TEXT | cksum` prints.
        #expect(RemoteFile.checksum(Array(text.utf8)) == UInt32(crc))
        #expect(RemoteFile.upload(Secret(text)).revealedValue == "\(crc) \(text.utf8.count)\n" + text)
    }

    /// An ssh connection that dies mid-way leaves the script a cut-short upload (or none): the file stays as it was,
    /// byte for byte, and no temporary file is left.
    @Test(arguments: [nil, 0, 1, 20, 48, -1])
    func aCutShortOrDamagedUploadLeavesTheFileAsItWas(keeping bytes: Int?) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/SA_libvirtgp.cfg"
        try Self.agentLine.write(toFile: path, atomically: false, encoding: .utf8)
        let new = Self.agentLine.replacingOccurrences(of: "10.77.0.1", with: "10.77.0.2")
        var upload = Array(RemoteFile.upload(Secret(new)).revealedValue.utf8)
        let header = upload.firstIndex(of: UInt8(ascii: "\n"))! + 1
        switch bytes {
        case nil: upload = []  // not even the header
        case -1: upload[upload.count - 3] ^= 0x01  // every byte there, one of them wrong
        case let bytes?: upload = Array(upload[..<(header + bytes)])
        }
        let result = try await self.runScript(
            RemoteFile.writeScript,
            path,
            input: String(decoding: upload, as: UTF8.self)
        )
        #expect(result.0 != 0)
        if bytes != nil { #expect(result.2.contains("cut short or damaged"), "\(result.2)") }
        #expect(!result.2.contains("D0860AB04E1B8FA3"), "no password in the message")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.agentLine)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["SA_libvirtgp.cfg"])
    }
}

/// A new empty directory in the temporary directory.
func makeTemporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appending(path: "kvmm-remote-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    return path
}

/// What a ``CapturingLogHandler`` saw: one line per message, `level message key=value…` (keys sorted).
final class LogRecords: Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { self.storage.withLock { $0 } }
    func append(_ line: String) { self.storage.withLock { $0.append(line) } }
}

struct CapturingLogHandler: LogHandler {
    let records: LogRecords
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let metadata = self.metadata.merging(event.metadata ?? [:]) { $1 }
        let pairs = metadata.keys.sorted().map { "\($0)=\(metadata[$0]!)" }
        self.records.append(([event.level.rawValue, "\(event.message)"] + pairs).joined(separator: " "))
    }
}
