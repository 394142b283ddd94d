import Audit
import Cluster
import Glibc
import Logging
import Migration
import Session
import Synchronization
import Testing

/// Lines a ``SyslogLogHandler`` would have sent, with their priorities.
final class SyslogCapture: Sendable {
    let lines = Mutex<[(priority: Int32, line: String)]>([])

    var logger: Logger {
        Logger(label: "test") { label in
            SyslogLogHandler(label: label) { priority, line in self.lines.withLock { $0.append((priority, line)) } }
        }
    }

    var all: [String] { self.lines.withLock { $0.map(\.line) } }
}

@Suite struct SyslogLogHandlerTests {
    @Test(arguments: [
        (Logger.Level.trace, LOG_DEBUG), (.debug, LOG_DEBUG), (.info, LOG_INFO), (.notice, LOG_NOTICE),
        (.warning, LOG_WARNING), (.error, LOG_ERR), (.critical, LOG_CRIT),
    ])
    func levelsMapToSyslogPriorities(level: Logger.Level, priority: Int32) {
        #expect(SyslogLogHandler.priority(for: level) == priority)
    }

    @Test func aLineIsTheMessageThenOperationThenTheKeysInOrder() {
        let capture = SyslogCapture()
        capture.logger.warning("step", metadata: ["zeta": "1", "operation": "abc", "alpha": "two words"])
        #expect(capture.lines.withLock { $0.first?.priority } == LOG_WARNING)
        #expect(capture.all == [#"step operation=abc alpha="two words" zeta=1"#])
    }

    @Test func controlCharactersCannotForgeASecondRecord() {
        let line = AuditLine.render("step", ["message": "a\nstep operation=evil\u{1B}[31m"])
        #expect(!line.contains("\n") && !line.contains("\u{1B}"))
        #expect(line == #"step message="a\u{A}step operation=evil\u{1B}[31m""#)
        #expect(AuditLine.render("m", ["k": #"\u{A}"#]) == #"m k="\\u{A}""#)
    }

    @Test func quotesAndBackslashesAreEscaped() {
        #expect(AuditLine.render("m", ["k": #"say "hi" \ bye"#]) == #"m k="say \"hi\" \\ bye""#)
        #expect(AuditLine.render("m", ["k": ""]) == #"m k="""#)
    }

    @Test func uriPasswordsNeverReachARecord() {
        let line = AuditLine.render("start", ["destination": "qemu+ssh://root:hunter2@host-b/system"])
        #expect(line == "start destination=qemu+ssh://root:***@host-b/system")
    }
}

@Suite struct RedactionTests {
    @Test func uriUserInfoPasswordsAreReplaced() {
        #expect(Redaction.uris("qemu+tcp://alice:s3cret@h/system?x=1") == "qemu+tcp://alice:***@h/system?x=1")
        #expect(Redaction.uris("qemu+ssh://alice@h/system") == "qemu+ssh://alice@h/system")
        #expect(Redaction.uris("a://u:p@x b://v:q@y") == "a://u:***@x b://v:***@y")
        #expect(Redaction.uris("no uri here") == "no uri here")
    }

    @Test func secretOptionValuesAreReplaced() {
        #expect(
            Redaction.arguments(["migrate", "--password", "pw", "--agent-secret=xyz", "qemu://u:p@h/system", "vm"])
                == ["migrate", "--password", "***", "--agent-secret=***", "qemu://u:***@h/system", "vm"]
        )
    }
}

@Suite struct AuditTrailTests {
    @Test func invokerIsTheSSHClientElseTheTerminalElseLocal() {
        let ssh = Invoker(
            uid: 1000,
            user: "alice",
            environment: ["SSH_CONNECTION": "10.1.2.3 5022 10.0.0.1 22", "SUDO_USER": "bob"],
            terminal: "/dev/pts/1"
        )
        #expect(ssh.origin == "ssh:10.1.2.3" && ssh.sudoUser == "bob")
        #expect(
            Invoker(uid: 0, user: "root", environment: ["SSH_CLIENT": "::1 4 22"], terminal: nil).origin == "ssh:::1"
        )
        #expect(Invoker(uid: 0, user: "root", environment: [:], terminal: "/dev/tty1").origin == "/dev/tty1")
        #expect(Invoker(uid: 0, user: "root", environment: ["SUDO_USER": ""], terminal: nil).origin == "local")
    }

    @Test func startStepsAndOutcomeShareTheOperationID() {
        let capture = SyslogCapture()
        let trail = AuditTrail(logger: capture.logger, operation: "0123456789ab")
        trail.start(
            command: "migrate",
            invoker: Invoker(uid: 0, user: "root", sudoUser: "alice", origin: "ssh:10.0.0.9"),
            what: ["domain": "vm1"],
            arguments: ["migrate", "vm1", "qemu+ssh://root:pw@b/system", "--json"]
        )
        trail.step("migration_started", ["policy": "balanced"])
        trail.step("cluster", failed: true, ["node": "n1"])
        trail.note(["downtime_ms": "42"])
        trail.finish(exitCode: 4, reason: "it broke")
        trail.finish(exitCode: 0)
        let lines = capture.all
        #expect(lines.count == 4)
        #expect(lines.allSatisfy { $0.contains(" operation=0123456789ab") })
        #expect(
            lines[0]
                == #"start operation=0123456789ab arguments="migrate vm1 qemu+ssh://root:***@b/system --json" "#
                + "command=migrate domain=vm1 from=ssh:10.0.0.9 sudo_user=alice uid=0 user=root"
        )
        #expect(lines[1] == "step operation=0123456789ab policy=balanced step=migration_started")
        #expect(lines[2] == "step operation=0123456789ab failed=true node=n1 step=cluster")
        #expect(lines[3].hasPrefix("outcome operation=0123456789ab downtime_ms=42 exit_code=4 reason=\"it broke\""))
        #expect(lines[3].contains(" result=failure ") && lines[3].contains(" total_ms="))
        let priorities = capture.lines.withLock { $0.map(\.priority) }
        #expect(priorities == [LOG_NOTICE, LOG_INFO, LOG_WARNING, LOG_ERR])
    }

    @Test func operationIDsDiffer() {
        let capture = SyslogCapture()
        let first = AuditTrail(logger: capture.logger).operation
        #expect(first.count == 12 && first != AuditTrail(logger: capture.logger).operation)
    }

    @Test func theTrailLogsWhateverTheLoggersLevel() {
        let capture = SyslogCapture()
        var logger = capture.logger
        logger.logLevel = .critical
        let trail = AuditTrail(logger: logger, operation: "x")
        trail.step("lock")
        #expect(capture.all == ["step operation=x step=lock"])
    }
}

@Suite struct SessionAuditorTests {
    let target = MigrationTarget(domainName: "vm1", domainUUID: "u-1", sourceHostname: "a", destinationHostname: "b")

    func sample(_ phase: MigrationPhase) -> SessionEvent {
        .progress(
            MigrationProgress(
                phase: phase,
                elapsed: .seconds(1),
                dataProcessedBytes: 1,
                dataRemainingBytes: 1,
                throughputBytesPerSecond: 1,
                memoryPass: 1,
                dirtyRateBytesPerSecond: nil,
                fractionDone: 0.5,
                expectedDowntime: nil
            )
        )
    }

    @Test func stepsOfNoteAreRecordedAndSamplesAreNot() {
        let capture = SyslogCapture()
        let auditor = SessionAuditor(AuditTrail(logger: capture.logger, operation: "op"))
        auditor.record(.preparingCluster(domain: "vm1"))
        auditor.record(.cluster(ClusterEvent(node: "n1", step: "sf_stop", message: "SF stopped")))
        auditor.record(.migrationStarted(self.target, policy: "balanced"))
        auditor.record(self.sample(.preCopy(pass: 1)))
        auditor.record(self.sample(.switchOver))
        auditor.record(self.sample(.finishing))
        auditor.record(.migrationEnded)
        auditor.record(.restoringCluster)
        auditor.record(.verifying(domain: "vm1"))
        #expect(
            capture.all == [
                "step operation=op domain=vm1 step=cluster_prepare",
                #"step operation=op message="SF stopped" name=sf_stop node=n1 step=cluster"#,
                "step operation=op destination_host=b domain=vm1 policy=balanced source_host=a step=migration_started "
                    + "uuid=u-1",
                "step operation=op step=switch_over",
                "step operation=op step=migration_ended",
                "step operation=op step=cluster_restore",
                "step operation=op domain=vm1 step=verify",
            ]
        )
    }

    @Test func aRefusalIsNotedForTheOutcome() {
        let capture = SyslogCapture()
        let trail = AuditTrail(logger: capture.logger, operation: "op")
        let auditor = SessionAuditor(trail, guest: "vm1")
        auditor.finish(
            SessionOutcome(status: .refused, refusal: .migration(MigrationError(.domainNotRunning, "not running")))
        )
        trail.finish(exitCode: 2)
        #expect(
            capture.all.first?.hasPrefix(#"outcome operation=op exit_code=2 refusal="not running" result=failure"#)
                == true
        )
        #expect(capture.all.first?.contains(" status=refused") == true)
    }
}

@Suite struct EvacuationAuditorTests {
    static func placement(_ guest: String, to host: String) -> EvacuationPlan.Placement {
        EvacuationPlan.Placement(
            guest: EvacuationGuest(name: guest, uuid: "uuid-\(guest)", memoryBytes: 1 << 30),
            destination: host,
            destinationURI: "qemu+tcp://operator:s3cret@\(host)/system",
            reason: "test"
        )
    }

    /// What an auditor reads of an evacuation: the plan, each guest's start, its session's steps marked with the
    /// guest, its end (a guest not moved as a failed step), the stop, and the evacuation's outcome under the same id.
    @Test func anEvacuationIsRecordedGuestByGuestUnderOneOperation() {
        let capture = SyslogCapture()
        let trail = AuditTrail(logger: capture.logger, operation: "op")
        let auditor = EvacuationAuditor(trail)
        let first = Self.placement("vm1", to: "hostB")
        let second = Self.placement("vm2", to: "hostC")
        auditor.record(.planned(EvacuationPlan(source: "hostA", placements: [first, second], unplaced: [])))
        auditor.record(.started(first, bandwidthMiBPerSecond: nil))
        auditor.record(
            .session(
                guest: "vm1",
                .migrationStarted(
                    MigrationTarget(
                        domainName: "vm1",
                        domainUUID: "uuid-vm1",
                        sourceHostname: "hostA",
                        destinationHostname: "hostB"
                    ),
                    policy: "balanced"
                )
            )
        )
        auditor.record(.finished(EvacuationResult(guest: second.guest, destination: "hostC", note: "not started")))
        auditor.record(.stopping(reason: "SIGINT", cancelled: ["vm2"]))
        auditor.finish(EvacuationOutcome(status: .aborted, message: "stopped by SIGINT", source: "hostA"))
        trail.finish(exitCode: 3)

        let lines = capture.all
        #expect(lines.allSatisfy { $0.split(separator: " ").dropFirst().first == "operation=op" }, "\(lines)")
        #expect(lines.first == "step operation=op placements=vm1>hostB,vm2>hostC step=planned")
        #expect(
            lines.contains { $0.hasPrefix("step ") && $0.contains("step=guest_started") && $0.contains("guest=vm1") }
        )
        #expect(
            lines.contains {
                $0.contains("step=migration_started") && $0.contains("guest=vm1")
                    && $0.contains("destination_host=hostB")
            },
            "\(lines)"
        )
        let finished = lines.first { $0.contains("step=guest_finished") } ?? ""
        #expect(finished.contains("guest=vm2") && finished.contains("moved=false") && finished.contains("failed=true"))
        #expect(lines.contains { $0.contains("step=stopping") && $0.contains("cancelled=vm2") })
        let outcome = lines.last ?? ""
        #expect(outcome.hasPrefix("outcome operation=op"), "\(outcome)")
        #expect(outcome.contains("exit_code=3") && outcome.contains("moved=0") && outcome.contains("source_host=hostA"))
        #expect(!lines.joined().contains("s3cret"), "no password of a URI in any record")
    }
}
