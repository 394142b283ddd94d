import ArgumentParser

/// The `--json` document of a command line refused as a usage error (exit 64): a script that asked for JSON gets
/// one document on standard output whatever went wrong, as with every other refusal.
///
/// ```json
/// {"command": "migrate", "error": {"code": "usage-error", "message": "Unknown option '--bogus'"},
///  "exit_code": 64, "schema_version": 1}
/// ```
struct UsageErrorDocument: Encodable {
    struct ErrorPart: Encodable {
        var code = "usage-error"
        var message: String
    }

    /// The subcommand, as far as the command line names one (`migrate`, `cluster verify`); `nil` when it does not.
    var command: String?
    var error: ErrorPart
    var exitCode: Int32
    var schemaVersion = 1

    /// The document for `error`, or `nil` when none is due: `arguments` do not ask for `--json` (before a `--`),
    /// the error is no usage error, or it is an `ExitCode` a command threw after printing its own document.
    init?(_ error: any Error, arguments: [String]) {
        guard !(error is ExitCode), arguments.prefix(while: { $0 != "--" }).contains("--json") else { return nil }
        let code = KVMMigrate.exitCode(for: error)
        guard code == .validationFailure else { return nil }
        let message = KVMMigrate.message(for: error).split(separator: "\n").first.map(String.init) ?? ""
        self.error = ErrorPart(message: message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)
        self.exitCode = code.rawValue
        self.command = Self.command(in: arguments)
    }

    /// The subcommand's name in `arguments`: the first word, and the second under a command group.
    static func command(in arguments: [String]) -> String? {
        guard let first = arguments.first,
            let command = KVMMigrate.configuration.subcommands.first(where: { $0._commandName == first })
        else { return nil }
        guard arguments.count > 1,
            let sub = command.configuration.subcommands.first(where: { $0._commandName == arguments[1] })
        else { return first }
        return "\(first) \(sub._commandName)"
    }
}
