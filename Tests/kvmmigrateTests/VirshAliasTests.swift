import ArgumentParser
import Migration
import Testing

@testable import kvmmigrate

/// virsh's spellings (issue 12): each parses to what kvmmigrate's own spelling gives; disagreements are usage errors.
@Suite struct VirshAliasTests {
    private static let dest = "qemu+tcp://b/system"

    private func migrate(_ arguments: [String]) throws -> KVMMigrate.Migrate {
        try #require(try KVMMigrate.parseAsRoot(["migrate"] + arguments) as? KVMMigrate.Migrate)
    }

    private func request(_ arguments: [String]) throws -> MigrationRequest {
        let command = try self.migrate(arguments)
        return command.request(policy: try command.policyOptions.resolved())
    }

    private func check(_ arguments: [String]) throws -> KVMMigrate.Check {
        try #require(try KVMMigrate.parseAsRoot(["check"] + arguments) as? KVMMigrate.Check)
    }

    @Test(arguments: [
        (["d", "--desturi", dest], ["d", dest]),
        (["--desturi", dest, "d"], ["d", dest]),
        (["d", dest, "--undefinesource"], ["d", dest, "--undefine-source"]),
        (["d", dest, "--undefinesource", "--undefine-source"], ["d", dest, "--undefine-source"]),
        (["d", dest, "--migrateuri", "tcp://10.0.0.2"], ["d", dest, "--migrate-uri", "tcp://10.0.0.2"]),
        (
            ["d", dest, "--migrateuri", "tcp://10.0.0.2", "--migrate-uri", "tcp://10.0.0.2"],
            ["d", dest, "--migrate-uri", "tcp://10.0.0.2"]
        ),
        (["d", dest, "--live", "--p2p"], ["d", dest]),
        (["d", dest, "--postcopy"], ["d", dest, "--allow-postcopy"]),
        (["d", dest, "--postcopy", "--allow-postcopy"], ["d", dest, "--allow-postcopy"]),
        (
            ["d", dest, "--postcopy", "--policy", "low-downtime"],
            ["d", dest, "--allow-postcopy", "--policy", "low-downtime"]
        ),
        (["d", dest, "--postcopy-after-precopy"], ["d", dest, "--policy", "fastest"]),
        (
            ["d", dest, "--postcopy", "--postcopy-after-precopy"],
            ["d", dest, "--allow-postcopy", "--policy", "fastest"]
        ),
        (["d", dest, "--postcopy-after-precopy", "--policy", "fastest"], ["d", dest, "--policy", "fastest"]),
        (["d", dest, "--comp-methods", "xbzrle"], ["d", dest, "--compressed"]),
        (["d", dest, "--comp-methods", "xbzrle", "--compressed"], ["d", dest, "--compressed"]),
        (["d", dest, "--timeout-suspend"], ["d", dest, "--timeout-action", "suspend"]),
        (["d", dest, "--timeout-postcopy"], ["d", dest, "--timeout-action", "postcopy"]),
        (
            ["d", dest, "--timeout-postcopy", "--timeout-action", "postcopy"],
            ["d", dest, "--timeout-action", "postcopy"]
        ),
    ])
    func aliasesParseAsKVMMigratesOwnSpelling(alias: [String], own: [String]) throws {
        let aliased = try self.request(alias)
        let expected = try self.request(own)
        #expect(aliased.destinationURI == expected.destinationURI)
        #expect(aliased.parameters.migrationURI == expected.parameters.migrationURI)
        #expect(aliased.policy == expected.policy)
        #expect(aliased.flags == expected.flags)
        #expect(aliased.undefineSource == expected.undefineSource)
        #expect(aliased.compressed == expected.compressed)
    }

    @Test func listenAddressReachesTheMigrationParameters() throws {
        let request = try self.request(["d", Self.dest, "--listen-address", "192.0.2.7"])
        #expect(request.parameters.listenAddress == "192.0.2.7")
        #expect(try self.request(["d", Self.dest]).parameters.listenAddress == nil)
    }

    @Test func aliasesReachTheRequest() throws {
        let request = try self.request([
            "d", "--desturi", Self.dest, "--undefinesource", "--migrateuri", "tcp://10.0.0.2", "--live", "--p2p",
        ])
        #expect(request.destinationURI == Self.dest)
        #expect(request.undefineSource)
        #expect(request.parameters.migrationURI == "tcp://10.0.0.2")
        #expect(request.flags.contains(.live))
        #expect(try self.request(["d", Self.dest, "--postcopy-after-precopy"]).policy == ConvergencePolicy(.fastest))
    }

    @Test(arguments: [
        (["d", "--desturi", dest], ["d", dest]),
        (["d", dest, "--migrateuri", "tcp://10.0.0.2"], ["d", dest, "--migrate-uri", "tcp://10.0.0.2"]),
        (["d", dest, "--live", "--p2p"], ["d", dest]),
    ])
    func checkTakesTheAliasesItsOptionsHave(alias: [String], own: [String]) throws {
        let aliased = try self.check(alias).request
        let expected = try self.check(own).request
        #expect(aliased.destinationURI == expected.destinationURI)
        #expect(aliased.parameters.migrationURI == expected.parameters.migrationURI)
        #expect(aliased.flags == expected.flags)
    }

    @Test(arguments: [
        ["migrate", "d", dest, "--desturi", dest],
        ["migrate", "d", dest, "--desturi", "qemu+tcp://c/system"],
        ["migrate", "d"],
        ["migrate", "d", dest, "--migrateuri", "tcp://10.0.0.2", "--migrate-uri", "tcp://10.0.0.3"],
        ["migrate", "d", dest, "--live", "--offline"],
        ["migrate", "d", dest, "--postcopy", "--no-allow-postcopy"],
        ["migrate", "d", dest, "--postcopy-after-precopy", "--no-allow-postcopy"],
        ["migrate", "d", dest, "--postcopy-after-precopy", "--policy", "balanced"],
        ["migrate", "d", dest, "--postcopy-after-precopy", "--offline"],
        ["migrate", "d", dest, "--postcopy", "--offline"],
        ["migrate", "d", dest, "--comp-methods", "mt"],
        ["migrate", "d", dest, "--comp-methods", "xbzrle,zstd"],
        ["migrate", "d", dest, "--comp-methods", ""],
        ["migrate", "d", dest, "--listen-address", ""],
        ["migrate", "d", dest, "--listen-address", "10.0.0.2 -x"],
        ["migrate", "d", dest, "--timeout", "0"],
        ["migrate", "d", dest, "--timeout", "604801"],
        ["migrate", "d", dest, "--timeout", "-5"],
        ["migrate", "d", dest, "--timeout", "18446744073709551616"],
        ["migrate", "d", dest, "--timeout", "60", "--completion-timeout", "100"],
        ["migrate", "d", dest, "--timeout", "60", "--timeout-suspend", "--timeout-postcopy"],
        ["migrate", "d", dest, "--timeout-suspend", "--timeout-postcopy"],
        ["migrate", "d", dest, "--timeout-suspend", "--timeout-action", "abort"],
        ["check", "d", dest, "--desturi", dest],
        ["check", "d"],
        ["check", "d", dest, "--migrateuri", "tcp://10.0.0.2", "--migrate-uri", "tcp://10.0.0.3"],
        ["check", "d", dest, "--live", "--offline"],
    ])
    func conflictsAreOneLineUsageErrors(arguments: [String]) {
        let message = usageError(arguments)
        #expect(!message.contains("\n"), "\(message)")
    }

    @Test func timeoutIsTheWholeMigrationsLimitAndSuspendsAsInVirsh() throws {
        let policy = try self.request(["d", Self.dest, "--timeout", "60"]).policy
        #expect(policy.completionTimeoutTotal == .seconds(60))
        #expect(policy.completionTimeoutPerGiB == nil)
        #expect(policy.timeoutAction == .suspend)
        #expect(policy.preset == nil)
        // The same limit whatever the guest's size.
        #expect(policy.completionTimeout(memoryBytes: 1 << 30) == .seconds(60))
        #expect(policy.completionTimeout(memoryBytes: 64 << 30) == .seconds(60))
        #expect(try self.request(["d", Self.dest, "--timeout", "60", "--timeout-suspend"]).policy == policy)
        let postcopy = try self.request(["d", Self.dest, "--timeout", "60", "--timeout-postcopy"]).policy
        #expect(postcopy.timeoutAction == .postcopy)
        #expect(postcopy.completionTimeoutTotal == .seconds(60))
        let abort = try self.request(["d", Self.dest, "--timeout", "60", "--timeout-action", "abort"]).policy
        #expect(abort.timeoutAction == .abort)
    }

    @Test(arguments: ["migrate", "check"])
    func helpHidesTheAliases(command: String) {
        let help = KVMMigrate.helpMessage(for: command == "migrate" ? KVMMigrate.Migrate.self : KVMMigrate.Check.self)
        for alias in [
            "--desturi", "--undefinesource", "--migrateuri", "--live", "--p2p", "--postcopy ", "--postcopy-after",
            "--timeout ", "--timeout-suspend", "--timeout-postcopy", "--comp-methods",
        ] {
            // The discussion (above USAGE) names them; the usage and the option lists must not.
            let options = help.components(separatedBy: "USAGE:").dropFirst().joined()
            #expect(!options.contains(alias), "\(command) --help shows \(alias)")
        }
        #expect(help.contains("USAGE:"))
        #expect(help.contains("--migrate-uri"))
    }

    @Test func theDiscussionListsTheAliases() {
        let discussion = KVMMigrate.Migrate.configuration.discussion
        for alias in [
            "--desturi", "--undefinesource", "--migrateuri", "--live", "--p2p", "--postcopy ",
            "--postcopy-after-precopy",
            "--timeout N", "--timeout-suspend", "--timeout-postcopy", "--auto-converge", "--comp-methods",
            "--listen-address",
        ] {
            #expect(discussion.contains(alias), "the discussion does not name \(alias)")
        }
    }
}
