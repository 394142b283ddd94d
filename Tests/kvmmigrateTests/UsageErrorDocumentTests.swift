import ArgumentParser
import Foundation
import Testing

@testable import kvmmigrate

/// With `--json`, a usage error gives one JSON document on standard output too (issue 9).
@Suite struct UsageErrorDocumentTests {
    private func error(_ arguments: [String]) -> any Error {
        do {
            _ = try KVMMigrate.parseAsRoot(arguments)
        } catch {
            return error
        }
        Issue.record("\(arguments) parsed")
        return ExitCode.success
    }

    @Test(arguments: [
        (["migrate", "d", "qemu+tcp://b/system", "--json", "--max-downtime", "0"], "migrate"),
        (["migrate", "--json", "--bogus"], "migrate"),
        (["cluster", "verify", "--json", "--timeout", "0"], "cluster verify"),
        (["evacuate", "--json"], "evacuate"),
    ])
    func aUsageErrorWithJSONIsADocument(arguments: [String], command: String) throws {
        let document = try #require(UsageErrorDocument(self.error(arguments), arguments: arguments))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(JSONOutput.encode(document).utf8)) as? [String: Any]
        )
        #expect(json["exit_code"] as? Int == 64)
        #expect(json["command"] as? String == command)
        #expect(json["schema_version"] as? Int == 1)
        let error = try #require(json["error"] as? [String: Any])
        #expect(error["code"] as? String == "usage-error")
        let message = try #require(error["message"] as? String)
        #expect(!message.isEmpty && !message.contains("\n") && !message.hasPrefix("Error:"), "\(message)")
    }

    @Test func noDocumentWithoutJSONOrAfterDoubleDash() {
        let plain = ["migrate", "d", "qemu+tcp://b/system", "--max-downtime", "0"]
        #expect(UsageErrorDocument(self.error(plain), arguments: plain) == nil)
        let quoted = ["migrate", "--bogus", "--", "--json"]
        #expect(UsageErrorDocument(self.error(quoted), arguments: quoted) == nil)
    }

    /// A command that printed its own document throws an `ExitCode`: no second document.
    @Test func anExitCodeAlreadyHadItsDocument() {
        #expect(UsageErrorDocument(ExitCode.validationFailure, arguments: ["evacuate", "--json"]) == nil)
    }

    @Test func helpAndVersionAreNoUsageErrors() {
        for arguments in [["migrate", "--help", "--json"], ["--version", "--json"], ["--help"]] {
            do {
                _ = try KVMMigrate.parseAsRoot(arguments)
            } catch {
                #expect(UsageErrorDocument(error, arguments: arguments) == nil, "\(arguments)")
            }
        }
    }
}

/// A usage error is one line on standard error, naming where to read more (the brief: "a clear one-line error").
@Suite struct UsageErrorLineTests {
    private func error(_ arguments: [String]) -> any Error {
        do {
            _ = try KVMMigrate.parseAsRoot(arguments)
        } catch {
            return error
        }
        return ExitCode.success
    }

    @Test(arguments: [
        (["migrate", "--bogus", "d", "u"], "Error: Unknown option '--bogus' (see 'kvmmigrate migrate --help')"),
        (
            ["migrate", "d", "u", "--max-downtime", "18446744073709551615"],
            "Error: --max-downtime must be 1 to 2000000 ms, not 18446744073709551615. (see 'kvmmigrate migrate --help')"
        ),
        (["cluster", "verify", "--bogus"], "Error: Unknown option '--bogus' (see 'kvmmigrate cluster verify --help')"),
        (["frobnicate"], "Error: Unexpected argument 'frobnicate' (see 'kvmmigrate --help')"),
    ])
    func oneLine(arguments: [String], line: String) {
        #expect(KVMMigrate.usageErrorLine(for: self.error(arguments), arguments: arguments) == line)
    }

    @Test(arguments: [["--help"], ["migrate", "--help"], ["--version"]])
    func helpAndVersionAreNoUsageErrors(arguments: [String]) {
        #expect(KVMMigrate.usageErrorLine(for: self.error(arguments), arguments: arguments) == nil)
    }
}
