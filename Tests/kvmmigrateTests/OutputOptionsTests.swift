import ArgumentParser
import Logging
import Testing

@testable import kvmmigrate

@Suite struct OutputOptionsTests {
    @Test func verboseShowsProgressLinesOffATerminal() throws {
        let options = try OutputOptions.parse(["-v"])
        #expect(options.verbose)
        #expect(try OutputOptions.parse(["--verbose"]).verbose)
        #expect(Self.style(options, .notATerminal) == .lines)
        #expect(Self.style(options, .dumb) == .lines)
        #expect(Self.style(options, .capable) == .terminal)
    }

    @Test func withoutVerboseOnlyMessagesOffATerminal() throws {
        let options = try OutputOptions.parse([])
        #expect(Self.style(options, .notATerminal) == .messages)
        #expect(Self.style(options, .dumb) == .messages)
        #expect(Self.style(options, .capable) == .terminal)
        #expect(Self.style(try OutputOptions.parse(["-q"]), .capable) == .none)
    }

    private static func style(_ options: OutputOptions, _ kind: Terminal.Kind) -> ProgressDisplay.Style {
        Terminal.progressStyle(kind: kind, quiet: options.quiet, verbose: options.verbose)
    }

    @Test func verboseNoLongerChangesTheLogLevel() throws {
        #expect(try OutputOptions.parse([]).makeLogger().logLevel == .warning)
        #expect(try OutputOptions.parse(["-v"]).makeLogger().logLevel == .warning)
    }

    @Test(arguments: Logger.Level.allCases)
    func everyLogLevelParses(level: Logger.Level) throws {
        let options = try OutputOptions.parse(["--log-level", level.rawValue])
        #expect(options.makeLogger().logLevel == level)
    }

    @Test func anUnknownLogLevelIsRefused() {
        do {
            _ = try OutputOptions.parse(["--log-level", "verbose"])
            Issue.record("--log-level verbose parsed")
        } catch {
            let message = OutputOptions.message(for: error)
            #expect(message.contains("'verbose'"))
            #expect(message.contains("critical"))
            #expect(!message.contains("\n"))
            #expect(OutputOptions.exitCode(for: error) == .validationFailure)
        }
    }

    @Test func quietAndVerboseContradict() {
        #expect(throws: (any Error).self) { try OutputOptions.parse(["-q", "-v"]) }
    }

    @Test func theMigrateCommandTakesTheOutputOptions() throws {
        let command = try #require(
            try KVMMigrate.parseAsRoot(["migrate", "d", "qemu+tcp://b/system", "-v", "--log-level", "debug"])
                as? KVMMigrate.Migrate
        )
        #expect(command.output.verbose)
        #expect(command.output.logLevel == .debug)
    }
}
