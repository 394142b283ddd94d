import Testing

@testable import kvmmigrate

/// Parses `arguments` as a user's command line that must be refused as a usage error (exit 64); records an issue
/// when it parses or exits otherwise, and returns the message the user sees (empty when it parsed).
func usageError(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        _ = try KVMMigrate.parseAsRoot(arguments)
        Issue.record("\(arguments) parsed", sourceLocation: sourceLocation)
        return ""
    } catch {
        #expect(KVMMigrate.exitCode(for: error) == .validationFailure, sourceLocation: sourceLocation)
        let message = KVMMigrate.message(for: error)
        #expect(!message.isEmpty, sourceLocation: sourceLocation)
        return message
    }
}
