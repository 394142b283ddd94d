import Foundation
import Testing

/// One run of the `kvmmigrate` binary, as a user would start it.
struct CommandRun {
    var exitCode: Int32
    var standardOutput: String
    var standardError: String

    /// The `--json` document on standard output.
    var json: [String: Any] {
        get throws {
            let object = try JSONSerialization.jsonObject(with: Data(self.standardOutput.utf8))
            return try #require(object as? [String: Any])
        }
    }
}

/// A started `kvmmigrate` process, for tests that signal it while it runs.
final class RunningCommand: @unchecked Sendable {
    // @unchecked: the process and pipes are only touched from the test's own task.
    let process = Process()
    private let output = Pipe()
    private let error = Pipe()
    private var outputData = Data()
    private var errorData = Data()
    private let readers = DispatchGroup()

    init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        self.process.executableURL = executable
        self.process.arguments = arguments
        if !environment.isEmpty {
            self.process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        self.process.standardOutput = self.output
        self.process.standardError = self.error
        self.process.standardInput = FileHandle.nullDevice
        try self.process.run()
        // Drain both pipes while the process runs, so a full pipe never blocks it.
        for (pipe, keyPath) in [(self.output, \RunningCommand.outputData), (self.error, \RunningCommand.errorData)] {
            self.readers.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                self[keyPath: keyPath] = data
                self.readers.leave()
            }
        }
    }

    func signal(_ number: Int32) {
        kill(self.process.processIdentifier, number)
    }

    /// Waits for the process to end, at most `timeLimit` when there is one: past it, the process's group (Process
    /// starts each child in a group of its own) is killed and the wait fails.
    func wait(timeLimit: Duration?) throws -> CommandRun {
        if let timeLimit {
            let deadline = ContinuousClock.now + timeLimit
            while self.process.isRunning {
                guard ContinuousClock.now < deadline else {
                    let pid = self.process.processIdentifier
                    kill(getpgid(pid) == pid ? -pid : pid, SIGKILL)
                    let command = ([self.process.executableURL?.path ?? ""] + (self.process.arguments ?? []))
                    throw LabError("\(command.joined(separator: " ")) did not end within \(timeLimit)")
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        return self.wait()
    }

    /// Waits for the process to end.
    func wait() -> CommandRun {
        self.process.waitUntilExit()
        self.readers.wait()
        return CommandRun(
            exitCode: self.process.terminationStatus,
            standardOutput: String(decoding: self.outputData, as: UTF8.self),
            standardError: String(decoding: self.errorData, as: UTF8.self)
        )
    }
}

/// Runs `executable` with `arguments` (and more environment variables) to its end, or at most `timeLimit`.
func run(
    _ executable: URL,
    _ arguments: [String],
    environment: [String: String] = [:],
    timeLimit: Duration? = nil
) throws -> CommandRun {
    try RunningCommand(executable, arguments, environment: environment).wait(timeLimit: timeLimit)
}
