import Foundation
import Libvirt
import Migration
import Testing

@testable import kvmmigrate

@Suite struct TerminalTests {
    @Test func termDecidesWhetherALineIsRedrawn() {
        #expect(Terminal.kind(isTerminal: false, term: "xterm-256color") == .notATerminal)
        #expect(Terminal.kind(isTerminal: true, term: "xterm-256color") == .capable)
        #expect(Terminal.kind(isTerminal: true, term: "tmux-256color") == .capable)
        #expect(Terminal.kind(isTerminal: true, term: "dumb") == .dumb)
        #expect(Terminal.kind(isTerminal: true, term: nil) == .dumb)
        #expect(Terminal.kind(isTerminal: true, term: "") == .dumb)
    }

    @Test func aFileIsNotATerminalAndHasNoWidth() throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "kvmmigrate-terminal-\(getpid())").path
        let descriptor = open(path, O_CREAT | O_WRONLY, 0o600)
        defer {
            close(descriptor)
            unlink(path)
        }
        let terminal = Terminal(fileDescriptor: descriptor, environment: ["TERM": "xterm"])
        #expect(terminal.kind == .notATerminal)
        #expect(terminal.columns == nil)
        #expect(terminal.progressStyle(quiet: false, verbose: true) == .lines)
        #expect(terminal.progressStyle(quiet: false, verbose: false) == .messages)
        #expect(terminal.progressStyle(quiet: true, verbose: false) == .none)
    }

    @Test func aLiveLineIsErasedOverEveryRowItTakesAfterTheTerminalNarrowed() {
        #expect(Terminal.rows(79, columns: 80) == 1)
        #expect(Terminal.rows(80, columns: 80) == 1)
        #expect(Terminal.rows(81, columns: 80) == 2)
        #expect(Terminal.rows(79, columns: 30) == 3)
        #expect(Terminal.rows(0, columns: 80) == 1)
        #expect(ProgressDisplay.erase(nil, columns: 80) == "\r\u{1B}[2K")
        #expect(ProgressDisplay.erase(70, columns: 80) == "\r\u{1B}[2K")
        #expect(ProgressDisplay.erase(70, columns: 60) == "\r\u{1B}[1A\u{1B}[J")
        #expect(ProgressDisplay.erase(79, columns: 30) == "\r\u{1B}[2A\u{1B}[J")
        #expect(EvacuationDisplay.erase([70, 40], columns: 80) == "\u{1B}[2F\u{1B}[J")
        #expect(EvacuationDisplay.erase([70, 40], columns: 60) == "\u{1B}[3F\u{1B}[J")
        #expect(EvacuationDisplay.erase([], columns: 80) == "")
    }

    static let progress = MigrationProgress(
        phase: .preCopy(pass: 12),
        elapsed: .milliseconds(83_200),
        dataProcessedBytes: 1_234 << 20,
        dataRemainingBytes: 212 << 20,
        throughputBytesPerSecond: 293 << 20,
        memoryPass: 12,
        dirtyRateBytesPerSecond: 30 << 20,
        fractionDone: 0.81,
        expectedDowntime: nil
    )

    @Test(arguments: [20, 40, 59, 79, 119, 200])
    func theProgressLineFitsAndKeepsPhaseShareAndClock(_ width: Int) {
        for glyphs in [Glyphs(unicode: true), Glyphs(unicode: false)] {
            let line = ProgressDisplay.line(
                for: Self.progress,
                prefix: "guest-with-a-name ",
                width: width,
                glyphs: glyphs
            )
            #expect(Columns.width(of: line) <= width, "\(line)")
            #expect(line.hasPrefix(String("guest-with-a-name memory pass 12".prefix(width))))
            if width >= 59 {
                #expect(line.hasSuffix(" 81% \(glyphs.text("│")) 01:23.2"), "\(line)")
            }
            if !glyphs.unicode { #expect(line.utf8.allSatisfy { $0 < 0x80 }, "\(line)") }
        }
        let full = ProgressDisplay.line(for: Self.progress, prefix: "", width: 200, glyphs: Glyphs(unicode: true))
        #expect(full == ProgressDisplay.line(for: Self.progress))
    }

    @Test func theDirtyRateGoesFirstThenTheThroughput() {
        let unicode = Glyphs(unicode: true)
        let line = ProgressDisplay.line(for: Self.progress, prefix: "d ", width: 79, glyphs: unicode)
        #expect(line == "d memory pass 12 │ 1.2 GiB sent, 212.0 MiB left │ 293.0 MiB/s │  81% │ 01:23.2")
        let narrower = ProgressDisplay.line(for: Self.progress, prefix: "d ", width: 64, glyphs: unicode)
        #expect(narrower == "d memory pass 12 │ 1.2 GiB sent, 212.0 MiB left │  81% │ 01:23.2")
        let narrowest = ProgressDisplay.line(for: Self.progress, prefix: "d ", width: 63, glyphs: unicode)
        #expect(narrowest == "d memory pass 12 │  81% │ 01:23.2")
    }
}

@Suite struct MigrationReportTextTests {
    @Test func rowsContinueUnderTheirValueWithinTheWidth() throws {
        var report = sampleReport()
        report.policy = ConvergencePolicy(.lowDowntime)
        for glyphs in [Glyphs(unicode: true), Glyphs(unicode: false)] {
            let text = report.text(width: 60, glyphs: glyphs)
            let lines = text.split(separator: "\n")
            #expect(lines.allSatisfy { Columns.width(of: $0) <= 60 }, "\(text)")
            let policy = try #require(lines.firstIndex { $0.hasPrefix("  policy           low-downtime: ") })
            #expect(lines[policy + 1].hasPrefix(String(repeating: " ", count: 19)))
            if !glyphs.unicode { #expect(text.utf8.allSatisfy { $0 < 0x80 }, "\(text)") }
        }
        #expect(report.text(width: nil, glyphs: Glyphs(unicode: true)).contains("100 → 150 → 200"))
    }
}
