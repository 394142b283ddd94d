import ArgumentParser
import Foundation
import Libvirt
import Migration
import Testing

@testable import kvmmigrate

@Suite struct MigrateCommandParsingTests {
    @Test func everyOptionOfTheIssueParses() throws {
        let command = try #require(
            try KVMMigrate.parseAsRoot([
                "migrate", "domain1", "qemu+tcp://10.77.0.2/system", "-c", "qemu+tcp://10.77.0.1/system",
                "--persistent", "--undefine-source", "--dname", "moved", "--migrate-uri", "tcp://10.77.0.2",
                "--bandwidth", "120", "--max-downtime", "300", "--parallel", "4", "--compressed", "--auto-converge",
                "--json",
            ]) as? KVMMigrate.Migrate
        )
        let request = command.request(policy: try command.policyOptions.resolved())
        #expect(request.domain == "domain1")
        #expect(request.sourceURI == "qemu+tcp://10.77.0.1/system")
        #expect(request.destinationURI == "qemu+tcp://10.77.0.2/system")
        #expect(request.parameters.destinationName == "moved")
        #expect(request.parameters.migrationURI == "tcp://10.77.0.2")
        #expect(request.parameters.bandwidthMiBPerSecond == 120)
        #expect(request.parameters.parallelConnections == 4)
        #expect(request.policy.maximumDowntime == .milliseconds(300))
        #expect(request.policy.preset == nil)
        #expect(
            request.flags == [
                .live, .persistOnDestination, .undefineSource, .compressed, .autoConverge, .postCopy, .parallel,
            ]
        )
        #expect(command.output.json)
    }

    /// A tunnelled migration cannot switch to post-copy: the default ladder leaves that rung out rather than refusing
    /// `--tunnelled`; asking for post-copy with it, or for TLS, is still a usage error.
    @Test func tunnelledLeavesThePostCopyRungOut() throws {
        let command = try #require(
            try KVMMigrate.parseAsRoot(["migrate", "d", "qemu+tcp://b/system", "--tunnelled"]) as? KVMMigrate.Migrate
        )
        let request = command.request(policy: try command.policyOptions.resolved(tunnelled: true))
        #expect(!request.policy.needsPostCopy)
        #expect(request.flags.contains(.tunnelled))
        #expect(!request.flags.contains(.postCopy))
        #expect(throws: Never.self) { try request.validateOptions() }
        for postCopy in [["--allow-postcopy"], ["--policy", "fastest"]] {
            let message = usageError(["migrate", "d", "qemu+tcp://b/system", "--tunnelled"] + postCopy)
            #expect(message.contains("Post-copy cannot be used with --tunnelled"), "\(postCopy): \(message)")
        }
        let tls = usageError(["migrate", "d", "qemu+tcp://b/system", "--tunnelled", "--tls"])
        #expect(tls.contains("--tls and --tunnelled"), "\(tls)")
    }

    @Test func checkTunnelledIsAValidRequest() throws {
        let command = try #require(
            try KVMMigrate.parseAsRoot(["check", "d", "qemu+tcp://b/system", "--tunnelled"]) as? KVMMigrate.Check
        )
        #expect(throws: Never.self) { try command.request.validate() }
    }

    @Test func offlineImpliesPersistent() throws {
        let command = try #require(
            try KVMMigrate.parseAsRoot(["migrate", "d", "qemu+tcp://b/system", "--offline"]) as? KVMMigrate.Migrate
        )
        #expect(command.request(policy: .balanced).flags == [.offline, .persistOnDestination])
    }

    @Test(arguments: [
        ["migrate", "d", "qemu+tcp://b/system", "--bandwidth", "0"],
        ["migrate", "d", "qemu+tcp://b/system", "--bandwidth", "-5"],
        ["migrate", "d", "qemu+tcp://b/system", "--parallel", "0"],
        ["migrate", "d", "qemu+tcp://b/system", "--max-downtime", "0"],
        ["migrate", "d", "qemu+tcp://b/system", "--offline", "--auto-converge"],
        ["migrate", "", "qemu+tcp://b/system"],
        ["migrate", "d"],
        ["migrate", "d", "qemu+tcp://b/system", "--no-such-flag"],
    ])
    func badCommandLinesExitWithUsageCode(arguments: [String]) {
        _ = usageError(arguments)
    }

    @Test func helpDocumentsEveryExitCode() {
        let help = KVMMigrate.helpMessage()
        for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "6 ", "7 ", "64 "] {
            #expect(help.contains("  \(code)"), "exit code \(code) missing from --help")
        }
    }
}

@Suite struct MigrateOutputTests {
    private func report(
        outcome: MigrationOutcome = .completed,
        location: DomainLocation = sampleLocation
    ) -> MigrationReport {
        sampleReport(outcome: outcome, location: location)
    }

    @Test func jsonIsOneDocumentWithUnitsInKeyNames() throws {
        let report = self.report()
        let text = MigrateDocument(report: report, exitCode: report.exitCode).json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["schema_version"] as? Int == 1)
        #expect(object["outcome"] as? String == "completed")
        #expect(object["exit_code"] as? Int == 0)
        #expect(object["downtime_milliseconds"] as? Int == 37)
        #expect(object["setup_time_milliseconds"] as? Int == 9)
        #expect(object["total_time_milliseconds"] as? Int == 2412)
        #expect(object["migration_time_milliseconds"] as? Int == 500)
        #expect(object["data_transferred_bytes"] as? Int == 50 << 20)
        #expect(object["memory_passes"] as? Int == 3)
        #expect(object["average_throughput_bytes_per_second"] as? Int == 100 << 20)
        #expect(object["running_on"] as? String == "destination")
        #expect(object["started_at"] as? String == "1970-01-01T00:00:00Z")
        let destination = try #require(object["destination"] as? [String: Any])
        #expect(destination["hostname"] as? String == "hostB")
        #expect(destination["domain_state"] as? String == "running (migrated)")
        let domain = try #require(object["domain"] as? [String: Any])
        #expect(domain["name"] as? String == "domain1")
    }

    @Test func refusalsAreJSONToo() throws {
        let request = MigrationRequest(
            domain: "ghost",
            sourceURI: "qemu:///system",
            destinationURI: "qemu+tcp://b/system"
        )
        let error = MigrationError(.domainNotFound, "no domain 'ghost' on the source qemu:///system")
        let text = MigrateDocument(error: error, request: request, exitCode: error.exitCode).json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["outcome"] as? String == "refused")
        #expect(object["exit_code"] as? Int == 2)
        let errorPart = try #require(object["error"] as? [String: Any])
        #expect(errorPart["code"] as? String == "domain-not-found")
    }

    @Test func exitCodesSayHowItEnded() {
        #expect(self.report().exitCode == .success)
        let onSource = DomainLocation(
            sourceState: DomainStateInfo(state: .running, reason: 6),
            destinationState: nil
        )
        #expect(self.report(outcome: .aborted, location: onSource).exitCode.rawValue == 3)
        #expect(self.report(outcome: .failed, location: onSource).exitCode.rawValue == 4)
        let onDestination = DomainLocation(
            sourceState: DomainStateInfo(state: .shutOff, reason: 4),
            destinationState: DomainStateInfo(state: .running, reason: 2)
        )
        #expect(self.report(outcome: .failed, location: onDestination).exitCode.rawValue == 7)
        #expect(self.report(outcome: .failed, location: onDestination).text.contains("runs on the destination"))
        let both = DomainLocation(
            sourceState: DomainStateInfo(state: .running, reason: 1),
            destinationState: DomainStateInfo(state: .running, reason: 2)
        )
        #expect(self.report(location: both).exitCode.rawValue == 7)
        #expect(self.report(location: DomainLocation(sourceState: nil, destinationState: nil)).exitCode.rawValue == 7)
        #expect(MigrationError(.hostUnreachable, "x").exitCode.rawValue == 5)
        #expect(MigrationError(.destinationHasDomain, "x").exitCode.rawValue == 2)
        #expect(MigrationError(.sameHost, "x").exitCode.rawValue == 2)
        #expect(MigrationError(.domainNotRunning, "x").exitCode.rawValue == 2)
    }

    @Test func textReportNamesTheRealDowntimeAndWhereTheGuestRuns() {
        let text = self.report().text
        #expect(text.hasPrefix("Migrated domain1 from hostA to hostB."))
        #expect(text.contains("downtime         37 ms"))
        #expect(text.contains("running on       hostB (qemu+tcp://10.77.0.2/system), running (migrated)"))
        #expect(text.contains("memory passes    3"))
        #expect(text.contains("data transferred 50.0 MiB"))
    }

    @Test func policyStepsAndRecoveryAreInTheTextAndTheJSON() throws {
        var report = self.report()
        report.policy = .balanced
        report.steps = [
            ConvergenceStep(
                kind: .downtime,
                elapsed: .milliseconds(4600),
                pass: 3,
                downtime: .milliseconds(200),
                detail: "pass 3 still has 62 MiB to send: allowing 200 ms of downtime"
            ),
            ConvergenceStep(kind: .postCopy, elapsed: .milliseconds(8700), pass: 7, detail: "switching to post-copy"),
        ]
        report.recoveryActions = ["libvirt finished the migration after the link came back"]
        #expect(report.text.contains("00:04.6 pass 3 still has 62 MiB to send: allowing 200 ms of downtime"))
        #expect(report.text.contains("balanced: downtime 300 → 400 → 500 ms, then post-copy"))
        #expect(report.text.contains("recovery         libvirt finished the migration"))
        let object = try JSONSerialization.jsonObject(
            with: Data(MigrateDocument(report: report, exitCode: .success).json().utf8)
        )
        let document = try #require(object as? [String: Any])
        let policy = try #require(document["policy"] as? [String: Any])
        #expect(policy["name"] as? String == "balanced")
        #expect(policy["downtime_steps_milliseconds"] as? [Int] == [400, 500])
        let steps = try #require(document["steps"] as? [[String: Any]])
        #expect(steps.map { $0["kind"] as? String } == ["downtime", "post_copy"])
        #expect(steps.first?["downtime_milliseconds"] as? Int == 200)
        #expect(steps.first?["elapsed_milliseconds"] as? Int == 4600)
        #expect(document["recovery_actions"] as? [String] == report.recoveryActions)
    }

    @Test func aBrokenPostCopyNamesTheCommandThatResumesIt() {
        var report = self.report(
            outcome: .failed,
            location: DomainLocation(
                sourceState: DomainStateInfo(state: .paused, reason: 13),
                destinationState: DomainStateInfo(state: .running, reason: 10)
            )
        )
        report.resumeCommand =
            "kvmmigrate migrate domain1 qemu+tcp://10.77.0.2/system -c qemu+tcp://10.77.0.1/system --postcopy-resume"
        #expect(report.exitCode == .needsAttention)
        #expect(report.text.contains("do not stop either copy"))
        #expect(report.text.contains("resume with      kvmmigrate migrate domain1"))
    }

    @Test func aBrokenPostCopyTellsAHostThatHasNoCopyFromOneThatDoesNotAnswer() {
        let failed = DomainStateInfo(state: .paused, reason: 13)
        let unanswered = self.report(
            outcome: .failed,
            location: DomainLocation(
                sourceState: failed,
                destinationState: nil,
                problem: "the destination qemu+tcp://10.77.0.2/system does not answer: client socket is closed",
                destinationAnswered: false
            )
        )
        #expect(unanswered.text.contains("source paused (post-copy failed), destination not answering"))
        let gone = self.report(outcome: .failed, location: DomainLocation(sourceState: failed, destinationState: nil))
        #expect(gone.text.contains("source paused (post-copy failed), destination no copy"))
    }

    @Test func progressLineShowsPhaseDataRateAndTime() {
        let line = ProgressDisplay.line(
            for: MigrationProgress(
                phase: .preCopy(pass: 2),
                elapsed: .milliseconds(3_200),
                dataProcessedBytes: 120 << 20,
                dataRemainingBytes: 12 << 20,
                throughputBytesPerSecond: 1 << 30,
                memoryPass: 2,
                dirtyRateBytesPerSecond: 30 << 20,
                fractionDone: 0.45,
                expectedDowntime: nil
            )
        )
        #expect(line == "memory pass 2 │ 120.0 MiB sent, 12.0 MiB left │ 1.0 GiB/s │ dirty 30.0 MiB/s │  45% │ 00:03.2")
    }
}

@Suite struct ControlCommandParsingTests {
    @Test func statusTakesAnOptionalDomainAndAHost() throws {
        let all = try #require(
            try KVMMigrate.parseAsRoot(["status", "-c", "qemu+tcp://a/system"]) as? KVMMigrate.Status
        )
        #expect(all.domain == nil)
        #expect(all.connection.sourceURI == "qemu+tcp://a/system")
        let one = try #require(try KVMMigrate.parseAsRoot(["status", "domain1", "--json"]) as? KVMMigrate.Status)
        #expect(one.domain == "domain1")
        #expect(one.output.json)
    }

    @Test func cancelNeedsADomain() throws {
        let cancel = try #require(try KVMMigrate.parseAsRoot(["cancel", "domain1"]) as? KVMMigrate.Cancel)
        #expect(cancel.domain == "domain1")
        #expect(cancel.sourceURI == nil)
        #expect(throws: (any Error).self) { try KVMMigrate.parseAsRoot(["cancel"]) }
    }

    @Test func clusterCommandsParse() throws {
        #expect(try KVMMigrate.parseAsRoot(["cluster", "status"]) is KVMMigrate.ClusterGroup.Status)
        let restore = try #require(
            try KVMMigrate.parseAsRoot([
                "cluster", "restore", "domain1", "--host", "hostB", "--cluster-config", "/x.yaml",
            ])
                as? KVMMigrate.ClusterGroup.Restore
        )
        #expect(restore.host == "hostB")
        #expect(restore.cluster.resolvedPath == "/x.yaml")
        #expect(try KVMMigrate.parseAsRoot(["recover", "--json"]) is KVMMigrate.Recover)
        #expect(throws: (any Error).self) {
            try KVMMigrate.parseAsRoot(["migrate", "d", "qemu+tcp://b/system", "--cluster", "--dname", "x"])
        }
    }
}

@Suite struct PolicyOptionsTests {
    private func policy(_ arguments: [String]) throws -> ConvergencePolicy {
        let command = try #require(
            try KVMMigrate.parseAsRoot(["migrate", "d", "qemu+tcp://b/system"] + arguments) as? KVMMigrate.Migrate
        )
        return try command.policyOptions.resolved()
    }

    @Test func theDefaultIsTheBalancedPreset() throws {
        #expect(try self.policy([]) == .balanced)
        #expect(try self.policy(["--policy", "fastest"]) == ConvergencePolicy(.fastest))
    }

    @Test func knobsChangeThePreset() throws {
        let policy = try self.policy([
            "--policy", "low-downtime", "--max-downtime", "50", "--downtime-steps", "80, 120", "--no-auto-converge",
            "--allow-postcopy", "--completion-timeout", "30", "--timeout-action", "suspend",
        ])
        #expect(policy.preset == nil)
        #expect(policy.maximumDowntime == .milliseconds(50))
        #expect(policy.downtimeSteps == [.milliseconds(80), .milliseconds(120)])
        #expect(!policy.autoConverge)
        #expect(policy.allowPostCopy)
        #expect(policy.completionTimeoutPerGiB == .seconds(30))
        #expect(policy.timeoutAction == .suspend)
        #expect(try self.policy(["--completion-timeout", "0"]).completionTimeoutPerGiB == nil)
        #expect(try self.policy(["--downtime-steps", "none"]).downtimeSteps.isEmpty)
        // A start above the preset's steps drops the steps it would not climb.
        #expect(try self.policy(["--max-downtime", "450"]).downtimeSteps == [.milliseconds(500)])
    }

    @Test(arguments: [
        ["--policy", "quickest"],
        ["--downtime-steps", "200,abc"],
        ["--downtime-steps", "300,200"],
        ["--timeout-action", "pause"],
        ["--max-downtime", "600", "--downtime-steps", "500"],
        ["--offline", "--allow-postcopy"],
    ])
    func badPolicyOptionsAreUsageErrors(arguments: [String]) {
        do {
            _ = try KVMMigrate.parseAsRoot(["migrate", "d", "qemu+tcp://b/system"] + arguments)
            Issue.record("\(arguments) parsed")
        } catch {
            #expect(KVMMigrate.exitCode(for: error) == .validationFailure)
            #expect(!KVMMigrate.message(for: error).contains("\n"))
        }
    }
}
