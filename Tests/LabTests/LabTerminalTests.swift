import Foundation
import Testing

/// What a user sees of `kvmmigrate migrate` in an 80-column terminal: tmux runs it in a detached 80x24 session,
/// and the test reads the screen (`capture-pane`) while it runs and after, and the bytes it wrote (`pipe-pane`).
/// The guest is one of the test's own, started for each test and destroyed after it.
extension LabTests {
    @Suite(.serialized, .timeLimit(.minutes(5))) struct LabTerminalTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
        }

        struct Case: Sendable, CustomTestStringConvertible {
            var name: String
            /// Added to the environment tmux gives the command (tmux sets `TERM` itself).
            var environment: [String: String]
            /// Added to the command line.
            var options: [String] = []
            /// The terminal can redraw a line: one progress line at a time, redrawn in place.
            var redraws: Bool
            /// Progress lines are shown: always on a terminal that redraws, else only with `-v` (as virsh).
            var progress: Bool
            /// The locale is not UTF-8: every byte written is ASCII.
            var ascii: Bool
            var testDescription: String { self.name }
        }

        static let cases = [
            Case(
                name: "tmux's TERM, UTF-8",
                environment: ["LC_ALL": "C.UTF-8"],
                redraws: true,
                progress: true,
                ascii: false
            ),
            Case(
                name: "TERM=dumb -v",
                environment: ["TERM": "dumb", "LC_ALL": "C.UTF-8"],
                options: ["-v"],
                redraws: false,
                progress: true,
                ascii: false
            ),
            Case(
                name: "TERM=dumb without -v",
                environment: ["TERM": "dumb", "LC_ALL": "C.UTF-8"],
                redraws: false,
                progress: false,
                ascii: false
            ),
            Case(
                name: "LANG=C LC_ALL=C",
                environment: ["LANG": "C", "LC_ALL": "C"],
                redraws: true,
                progress: true,
                ascii: true
            ),
        ]

        func migrateCommand(_ guest: TestGuest, bandwidth: Int, options: [String] = []) throws -> [String] {
            [
                try self.lab.binary.path, "migrate", guest.name, self.lab.destinationURI, "-c", self.lab.sourceURI,
                "--bandwidth", "\(bandwidth)",
            ] + options
        }

        @Test(arguments: Self.cases)
        func migrateInAnEightyColumnTerminal(_ terminal: Case) async throws {
            let guest = try TestGuest(self.lab, name: "term1", ["fill=96", "verify=0"])
            defer { guest.stop() }
            let tmux = try Tmux()
            defer { tmux.stop() }
            // 25 MiB/s: a few seconds of progress to watch.
            try tmux.start(
                try self.migrateCommand(guest, bandwidth: 25, options: terminal.options),
                environment: terminal.environment
            )

            var screens: [[String]] = []
            var status: Int32?
            let deadline = ContinuousClock.now + .seconds(180)
            while ContinuousClock.now < deadline {
                screens.append(try tmux.screen())
                status = tmux.exitStatus
                if status != nil { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try #require(status != nil, "kvmmigrate did not end within 180 s: \(screens.last ?? [])")
            // pipe-pane's copy of the last bytes may lag behind the screen.
            try await Task.sleep(for: .milliseconds(500))
            let history = try tmux.screen(history: true)
            let output = tmux.output
            #expect(status == 0, "\(history.joined(separator: "\n"))")

            // No line wider than the terminal (capture-pane -J joins what the terminal wrapped).
            for line in screens.joined() + history {
                #expect(TerminalText.columns(line) <= 80, "wider than 80 columns: \(line)")
            }
            // The final report.
            #expect(history.contains("Migrated term1 from hostA to hostB."), "\(history.joined(separator: "\n"))")
            #expect(history.contains { $0.hasPrefix("  downtime") })
            #expect(history.contains { $0.hasPrefix("  running on       hostB") })

            let progressPerScreen = screens.map { $0.filter(TerminalText.isProgress).count }
            if terminal.redraws {
                // One progress line at a time, redrawn in place; none left once the report is there.
                #expect(progressPerScreen.allSatisfy { $0 <= 1 }, "stacked progress lines: \(Self.worst(screens))")
                #expect(progressPerScreen.contains(1), "no progress line seen in \(screens.count) screens")
                #expect(try tmux.screen().filter(TerminalText.isProgress).isEmpty)
                #expect(output.contains(0x1B), "no redraw in place on a terminal that can do it")
            } else {
                // Plain lines: no escape sequence, no carriage return but the terminal's own before a newline.
                #expect(!output.contains(0x1B), "an escape sequence on a dumb terminal")
                let returns = output.indices.filter { output[$0] == 0x0D }
                #expect(returns.allSatisfy { $0 + 1 < output.count && output[$0 + 1] == 0x0A })
                // Progress lines only with -v; the messages either way.
                #expect(
                    history.contains(where: TerminalText.isProgress) == terminal.progress,
                    "\(history.joined(separator: "\n"))"
                )
                #expect(history.contains { $0.contains("Migrating term1 from hostA to hostB") })
            }
            if terminal.ascii {
                let foreign = output.filter { $0 >= 0x80 }
                #expect(foreign.isEmpty, "non-ASCII bytes with LC_ALL=C: \(String(decoding: output, as: UTF8.self))")
            } else {
                #expect(history.contains { $0.contains("…") }, "UTF-8 locale, yet no UTF-8 character")
            }
            #expect(try guest.states().destination?.state == .running)
        }

        /// The width is read again on SIGWINCH: after the window narrows to 60 columns, the progress line does too.
        @Test func theProgressLineFollowsAResize() async throws {
            let guest = try TestGuest(self.lab, name: "term1", ["fill=96", "verify=0"])
            defer { guest.stop() }
            let tmux = try Tmux()
            defer { tmux.stop() }
            try tmux.start(try self.migrateCommand(guest, bandwidth: 8), environment: ["LC_ALL": "C.UTF-8"])

            var wide: String?
            var narrow: String?
            let deadline = ContinuousClock.now + .seconds(120)
            while narrow == nil, tmux.exitStatus == nil, ContinuousClock.now < deadline {
                let progress = try tmux.screen().filter(TerminalText.isProgress)
                #expect(progress.count <= 1, "stacked progress lines: \(progress)")
                if wide == nil, let line = progress.first, TerminalText.columns(line) > 60 {
                    wide = line
                    try tmux.tmux(["resize-window", "-t", "kvmm", "-x", "60", "-y", "24"])
                } else if wide != nil, let line = progress.first, TerminalText.columns(line) < 60 {
                    narrow = line
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(wide != nil, "no progress line wider than 60 columns at 80")
            #expect(narrow != nil, "the progress line did not narrow after the resize")
            var status: Int32?
            while ContinuousClock.now < deadline {
                status = tmux.exitStatus
                if status != nil { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let history = try tmux.screen(history: true)
            #expect(status == 0, "\(history.joined(separator: "\n"))")
            #expect(try guest.states().destination?.state == .running)
        }

        static func worst(_ screens: [[String]]) -> String {
            (screens.max { $0.filter(TerminalText.isProgress).count < $1.filter(TerminalText.isProgress).count } ?? [])
                .joined(separator: "\n")
        }
    }
}

/// How the screen's text is measured: terminal columns (East Asian wide characters take 2), and what a
/// progress line looks like (it ends with the share done and the elapsed time: ` 42% │ 00:03.1`).
enum TerminalText {
    static func columns(_ line: String) -> Int {
        line.reduce(0) { total, character in
            let wide = character.unicodeScalars.contains { scalar in
                [
                    0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F,
                    0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD,
                ].contains { $0.contains(scalar.value) }
            }
            return total + (wide ? 2 : 1)
        }
    }

    static func isProgress(_ line: String) -> Bool {
        line.contains(try! Regex(#"[0-9]+% (\||│) [0-9]{2}:[0-9]{2}\.[0-9]$"#))
    }
}

/// A tmux server of the test's own (its socket in a private directory) with one detached 80x24 session, `kvmm`,
/// whose pane runs the command under test and stays after it ended (`remain-on-exit`), its screen still there.
/// Every tmux client runs with a time limit, its output into a file (a client hands its standard output to the
/// server, which may keep it after the client ended, so a pipe read to its end would wait).
///
/// The client that starts the server runs through ``cleanStart``. A client that finds no server forks one, and
/// the server keeps what the client inherited: every descriptor but 0-2 (which `daemon(3)` points to /dev/null)
/// and the signal mask. Foundation's `Process` gives each child one end of a socket pair and takes the child for
/// ended only once that socket closes, so a server holding it made the client look alive for as long as the
/// server ran, and `waitUntilExit()` waited for ever. And the test's threads block SIGTERM, SIGHUP and more (as
/// every dispatch thread does): a server started from one ignored `kill-server` (it signals itself SIGTERM) and
/// stayed after the test.
final class Tmux {
    let directory: URL
    let executable: URL
    var socket: String { self.directory.appending(path: "socket").path }
    private var outputFile: String { self.directory.appending(path: "output").path }
    private var statusFile: String { self.directory.appending(path: "status").path }

    /// The command line that starts a program (the rest of the arguments) with no descriptor open but 0-2, no
    /// signal blocked, and SIGPIPE and SIGXFSZ (which Python ignores) at their defaults.
    static let cleanStart = [
        "/usr/bin/env", "python3", "-c",
        """
        import os, signal, sys
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        for fd in map(int, os.listdir("/proc/self/fd")):
            if fd > 2:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.execv(sys.argv[1], sys.argv[1:])
        """,
    ]

    init() throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard
            let tmux = path.split(separator: ":").map({ URL(filePath: String($0)).appending(path: "tmux") })
                .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) })
        else { throw LabError("tmux is not installed (Fixtures/lab/lab install installs it)") }
        self.executable = tmux
        var template = Array((FileManager.default.temporaryDirectory.path + "/kvmm-tmux-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw LabError("mkdtemp failed") }
        self.directory = URL(filePath: String(cString: made))
    }

    /// Runs a tmux client with these arguments and returns what it printed; past `timeLimit` its process group is
    /// killed and the call fails. `startsServer`: through ``cleanStart``.
    @discardableResult
    func tmux(_ arguments: [String], startsServer: Bool = false, timeLimit: Duration = .seconds(10)) throws -> String {
        let file = self.directory.appending(path: "client-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try FileHandle(forWritingTo: file)
        defer { try? output.close() }
        let process = Process()
        let commandLine =
            (startsServer ? Self.cleanStart : []) + [self.executable.path, "-u", "-S", self.socket] + arguments
        process.executableURL = URL(filePath: commandLine[0])
        process.arguments = Array(commandLine.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["LC_ALL": "C.UTF-8", "TERM": "xterm-256color"]
        ) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = ContinuousClock.now + timeLimit
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                let pid = process.processIdentifier
                kill(getpgid(pid) == pid ? -pid : pid, SIGKILL)
                throw LabError("tmux \(arguments.joined(separator: " ")) did not end within \(timeLimit)")
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw LabError("tmux \(arguments.joined(separator: " ")): exit \(process.terminationStatus): \(text)")
        }
        return text
    }

    /// Starts `command` (with `environment`) in a new 80x24 session; everything it writes is copied to ``output``.
    /// The command waits until the copy is set up. The shell that runs it writes its exit status to a file: tmux's
    /// own `#{pane_dead_status}` stayed empty here, the command's end never reaped by the server.
    func start(_ command: [String], environment: [String: String]) throws {
        let variables = environment.sorted { $0.key < $1.key }.map { Self.quoted("\($0.key)=\($0.value)") }
        let script = [
            "\(Self.quoted(self.executable.path)) -S \(Self.quoted(self.socket)) wait-for go"
                + " && env \(variables.joined(separator: " ")) \(command.map(Self.quoted).joined(separator: " "))",
            "echo $? > \(Self.quoted(self.statusFile))",
        ].joined(separator: "; ")
        try self.tmux(["new-session", "-d", "-x", "80", "-y", "24", "-s", "kvmm", script], startsServer: true)
        // The pane stays once the shell ended: its screen is read after.
        try self.tmux(["set-option", "-g", "remain-on-exit", "on"])
        try self.tmux(["pipe-pane", "-t", "kvmm", "-o", "cat >> \(Self.quoted(self.outputFile))"])
        try self.tmux(["wait-for", "-S", "go"])
    }

    /// The command's exit status, once it has ended.
    var exitStatus: Int32? {
        (try? String(contentsOfFile: self.statusFile, encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The screen as the user sees it (with `history`, also what scrolled off), one string per line, wrapped lines
    /// joined, trailing spaces and empty lines at the end left out.
    func screen(history: Bool = false) throws -> [String] {
        let text = try self.tmux(["capture-pane", "-p", "-J", "-t", "kvmm"] + (history ? ["-S", "-"] : []))
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0.reversed().drop { $0 == " " }.reversed())
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// The bytes the command wrote to its terminal.
    var output: [UInt8] {
        Array((try? Data(contentsOf: URL(filePath: self.outputFile))) ?? Data())
    }

    /// Ends this tmux server (its own socket: no other server is touched) and removes its directory.
    func stop() {
        _ = try? self.tmux(["kill-server"])
        try? FileManager.default.removeItem(at: self.directory)
    }

    static func quoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
