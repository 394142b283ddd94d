import Cluster
import Foundation
import Libvirt
import Migration
import Synchronization
import Testing
import Verification

@testable import Session

/// The session's order of steps, with fake hosts and a fake cluster: what runs, what is refused before anything
/// changes, and how each end maps to one status.
@Suite final class MigrationSessionTests {
    let calls = Calls()
    let locks = FileManager.default.temporaryDirectory.appending(path: "kvmm-session-\(UUID().uuidString)")

    deinit {
        try? FileManager.default.removeItem(at: self.locks)
    }

    func options(skipChecks: Bool = false, resumePostCopy: Bool = false) -> MigrationSession.Options {
        MigrationSession.Options(
            request: MigrationRequest(
                domain: "domain1",
                sourceURI: "qemu+tcp://10.77.0.1/system",
                destinationURI: "qemu+tcp://10.77.0.2/system"
            ),
            skipChecks: skipChecks,
            resumePostCopy: resumePostCopy,
            lockDirectory: self.locks
        )
    }

    func driver(
        refusal: MigrationError? = nil,
        checks: [CheckResult] = [CheckResult("cpu", .pass, "fine")],
        result: MigrationReport = report(),
        during: @escaping @Sendable (FakeMigrationConnection) async -> Void = { _ in }
    ) -> FakeMigrationDriver {
        FakeMigrationDriver(calls: self.calls, refusal: refusal, checks: checks, result: result, during: during)
    }

    /// Runs the session to its end, collecting its events.
    func run(_ session: MigrationSession) async -> (SessionOutcome, [SessionEvent]) {
        async let outcome = session.run()
        var events: [SessionEvent] = []
        for await event in session.events { events.append(event) }
        return (await outcome, events)
    }

    var migrationsRunning: Int { MigrationLock.running(in: self.locks).count }

    // MARK: - Refusals

    @Test func aRefusedPreflightTouchesNeitherLockNorCluster() async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(refusal: MigrationError(.domainNotFound, "no domain 'x'")),
            cluster: FakeClusterDriver(calls: self.calls)
        )
        let (outcome, events) = await self.run(session)
        #expect(outcome.status == .refused)
        #expect(outcome.refusal?.description == "no domain 'x'")
        #expect(self.calls.all == ["connect", "cluster close"])
        #expect(events.isEmpty)
    }

    @Test func anUnreachableHostHasItsOwnStatus() async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(refusal: MigrationError(.hostUnreachable, "cannot connect"))
        )
        #expect(await self.run(session).0.status == .unreachable)
    }

    @Test func aFailedCheckRefusesBeforeTheLockAndTheCluster() async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(checks: [
                CheckResult("cpu", .pass, "fine"), CheckResult("destination-memory", .fail, "12 MiB free"),
            ]),
            cluster: FakeClusterDriver(calls: self.calls)
        )
        let (outcome, _) = await self.run(session)
        #expect(outcome.status == .refused)
        #expect(
            outcome.refusal?.description
                == "destination-memory: 12 MiB free (kvmmigrate check shows every check; --skip-checks skips these)"
        )
        #expect(self.calls.all == ["connect", "checks", "cluster close"])
        #expect(self.migrationsRunning == 0)
    }

    @Test func skipChecksSkipsThemButNotThePreflight() async {
        let session = MigrationSession(
            self.options(skipChecks: true),
            migrationDriver: self.driver(checks: [CheckResult("cpu", .fail, "incompatible")])
        )
        let (outcome, _) = await self.run(session)
        #expect(outcome.status == .migrated)
        #expect(self.calls.all == ["connect", "migrate"])
    }

    @Test func aSecondMigrationOfTheSameDomainIsRefusedWhileTheFirstRuns() async {
        let locks = self.locks
        let second = Mutex<SessionOutcome?>(nil)
        let secondCalls = Calls()
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(during: { _ in
                let other = MigrationSession(
                    MigrationSession.Options(
                        request: MigrationRequest(
                            domain: "domain1",
                            sourceURI: "qemu+tcp://10.77.0.1/system",
                            destinationURI: "qemu+tcp://10.77.0.2/system"
                        ),
                        lockDirectory: locks
                    ),
                    migrationDriver: FakeMigrationDriver(calls: secondCalls)
                )
                let outcome = await other.run()
                second.withLock { $0 = outcome }
            })
        )
        let (outcome, _) = await self.run(session)
        #expect(outcome.status == .migrated)
        let refused = second.withLock { $0 }
        #expect(refused?.status == .refused)
        #expect(refused?.refusal?.description.contains("domain1 is being migrated already") == true)
        #expect(!secondCalls.all.contains("migrate"))
        #expect(self.migrationsRunning == 0)
    }

    // MARK: - A plain migration

    @Test func aPlainMigrationHoldsTheLockAndReportsInOrder() async {
        let locks = self.locks
        let heldDuring = Mutex(0)
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(during: { _ in
                heldDuring.withLock { $0 = MigrationLock.running(in: locks).count }
            })
        )
        let (outcome, events) = await self.run(session)
        #expect(outcome.status == .migrated)
        #expect(outcome.report?.location.summary == .destination)
        #expect(outcome.target == sessionTarget)
        #expect(heldDuring.withLock { $0 } == 1)
        #expect(self.migrationsRunning == 0)
        #expect(events.map(Self.name) == ["migration-started", "notice moving", "migration-ended"])
    }

    @Test(arguments: [
        (MigrationOutcome.failed, onSource, SessionOutcome.Status.migrationFailed),
        (.aborted, onSource, .aborted),
        (.completed, onBoth, .needsAttention),
        (.failed, onDestination, .needsAttention),
    ])
    func theReportDecidesTheStatus(
        outcome: MigrationOutcome,
        location: DomainLocation,
        status: SessionOutcome.Status
    )
        async
    {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(result: report(outcome, at: location))
        )
        #expect(await self.run(session).0.status == status)
    }

    @Test func postCopyResumeOnlyResumes() async {
        let session = MigrationSession(
            self.options(resumePostCopy: true),
            migrationDriver: self.driver()
        )
        let (outcome, events) = await self.run(session)
        #expect(outcome.status == .migrated)
        #expect(self.calls.all == ["connect resuming", "resume post-copy"])
        #expect(events.map(Self.name) == ["resuming-post-copy"])
    }

    // MARK: - Interrupts

    @Test func anAbortBeforeTheMigrationStartsChangesNothing() async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(),
            cluster: FakeClusterDriver(calls: self.calls)
        )
        #expect(session.requestAbort(reason: "SIGINT") == .stoppingBeforeStart)
        let (outcome, _) = await self.run(session)
        #expect(outcome.status == .aborted)
        #expect(outcome.refusal?.description == "SIGINT before the migration started: nothing changed")
        #expect(!self.calls.all.contains("migrate"))
        #expect(!self.calls.all.contains("cluster prepare"))
    }

    @Test func anAbortDuringTheMigrationAbortsIt() async {
        let box = SessionBox()
        let responses = Mutex<[MigrationSession.AbortResponse]>([])
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(during: { _ in
                responses.withLock {
                    $0.append(box.session!.requestAbort(reason: "SIGTERM"))
                    $0.append(box.session!.requestAbort(reason: "SIGINT"))
                }
            })
        )
        box.session = session
        let (outcome, _) = await self.run(session)
        #expect(outcome.status == .aborted)
        #expect(responses.withLock { $0 } == [.aborting(first: true), .aborting(first: false)])
        #expect(self.calls.all.contains("abort SIGTERM"))
    }

    @Test func anAbortDuringTheClusterRestoreWaitsForIt() async {
        let box = SessionBox()
        let response = Mutex<MigrationSession.AbortResponse?>(nil)
        var cluster = FakeClusterDriver(calls: self.calls)
        cluster.afterBody = { response.withLock { $0 = box.session!.requestAbort(reason: "SIGINT") } }
        let session = MigrationSession(self.options(), migrationDriver: self.driver(), cluster: cluster)
        box.session = session
        let (outcome, _) = await self.run(session)
        #expect(response.withLock { $0 } == .restoring)
        #expect(outcome.status == .migrated)
        #expect(!self.calls.all.contains { $0.hasPrefix("abort") })
    }

    // MARK: - With the guest cluster

    @Test func theClusterStepsSurroundTheMigration() async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(),
            cluster: FakeClusterDriver(calls: self.calls)
        )
        let (outcome, events) = await self.run(session)
        #expect(outcome.status == .migrated)
        #expect(outcome.cluster?.healthy == true)
        #expect(
            self.calls.all == [
                "connect", "checks", "cluster check", "cluster prepare", "migrate", "cluster restore", "cluster close",
            ]
        )
        #expect(
            events.map(Self.name) == [
                "preparing-cluster", "cluster sf-stopped", "migration-started", "notice moving", "migration-ended",
                "restoring-cluster",
            ]
        )
    }

    @Test(arguments: [
        (
            ClusterError(.notHealthy, "the cluster is not healthy: guest2: SF not running"),
            SessionOutcome.Status.refused
        ),
        (ClusterError(.nodeUnreachable, "guest2 does not answer"), .unreachable),
        (ClusterError(.invalidValue, "the destination is not a host of the cluster configuration"), .refused),
    ])
    func aClusterRefusalPreparesNothing(error: ClusterError, status: SessionOutcome.Status) async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(),
            cluster: FakeClusterDriver(calls: self.calls, refusal: error)
        )
        let (outcome, _) = await self.run(session)
        #expect(outcome.status == status)
        #expect(outcome.refusal?.description == error.description)
        #expect(self.calls.all == ["connect", "checks", "cluster check", "cluster close"])
        #expect(self.migrationsRunning == 0)
    }

    @Test(arguments: [true, false])
    func aFailedPrepareMigratesNothingAndStillRestores(healthyAfterwards: Bool) async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(),
            cluster: FakeClusterDriver(calls: self.calls, prepareFails: true, healthyAfterwards: healthyAfterwards)
        )
        let (outcome, _) = await self.run(session)
        #expect(outcome.status == (healthyAfterwards ? .refused : .clusterNotHealthy))
        #expect(outcome.refusal?.description == "preparing the cluster failed: guest2: cfset -r failed")
        #expect(!self.calls.all.contains("migrate"))
        #expect(self.calls.all.contains("cluster restore"))
    }

    @Test func anUnhealthyClusterAfterwardsHasItsOwnStatus() async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(),
            cluster: FakeClusterDriver(calls: self.calls, healthyAfterwards: false)
        )
        let (outcome, _) = await self.run(session)
        #expect(outcome.status == .clusterNotHealthy)
        #expect(outcome.report?.location.summary == .destination)
    }

    @Test func theGuestsLocationComesBeforeTheClustersHealth() async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(result: report(at: onBoth)),
            cluster: FakeClusterDriver(calls: self.calls, healthyAfterwards: false)
        )
        #expect(await self.run(session).0.status == .needsAttention)
    }

    // MARK: - Verification of the moved domain

    @Test func aMovedDomainIsVerifiedAfterTheClusterIsRestored() async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(),
            cluster: FakeClusterDriver(calls: self.calls),
            verification: FakeVerificationDriver(
                calls: self.calls,
                checks: [
                    VerificationCheck(.domain("domain1", node: "guest1"), "placement", .pass, "runs on hostB only")
                ]
            )
        )
        let (outcome, events) = await self.run(session)
        #expect(outcome.status == .migrated)
        #expect(outcome.verification?.outcome == .pass)
        #expect(self.calls.all.suffix(3) == ["cluster restore", "verify domain1", "cluster close"])
        #expect(events.map(Self.name).contains("verifying domain1"))
    }

    @Test(arguments: [
        ("placement", SessionOutcome.Status.needsAttention),
        ("SA_libvirtgp", SessionOutcome.Status.clusterNotHealthy),
    ])
    func aFailingVerificationIsNotASuccess(check: String, status: SessionOutcome.Status) async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(),
            verification: FakeVerificationDriver(
                calls: self.calls,
                checks: [VerificationCheck(.domain("domain1", node: nil), check, .fail, "wrong")]
            )
        )
        #expect(await self.run(session).0.status == status)
    }

    @Test func aWarningLeavesTheMigrationASuccess() async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(),
            verification: FakeVerificationDriver(
                calls: self.calls,
                checks: [VerificationCheck(.domain("domain1", node: nil), "definition", .warn, "also defined on hostA")]
            )
        )
        let outcome = await self.run(session).0
        #expect(outcome.status == .migrated)
        #expect(outcome.verification?.outcome == .warn)
    }

    @Test func aDomainThatDidNotMoveIsNotVerified() async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(result: report(.failed, at: onSource)),
            verification: FakeVerificationDriver(calls: self.calls, checks: [])
        )
        let outcome = await self.run(session).0
        #expect(outcome.status == .migrationFailed)
        #expect(outcome.verification == nil)
        #expect(!self.calls.all.contains("verify domain1"))
    }

    // MARK: - check and --dry-run

    @Test func checkRunsEveryCheckAndTheClustersChangingNothing() async {
        let session = MigrationSession(
            self.options(skipChecks: true),
            migrationDriver: self.driver(),
            cluster: FakeClusterDriver(calls: self.calls)
        )
        let results = await session.check()
        #expect(results.map(\.name) == ["request", "cpu", "cluster"])
        #expect(results.allSatisfy { $0.status == .pass })
        #expect(self.calls.all == ["connect", "checks", "cluster check", "cluster close"])
    }

    @Test func checkStopsAtAFailedPreflight() async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(refusal: MigrationError(.sameHost, "the same host")),
            cluster: FakeClusterDriver(calls: self.calls)
        )
        let results = await session.check()
        #expect(results.map(\.status) == [.pass, .fail, .skipped, .skipped, .skipped, .skipped, .skipped])
        #expect(results[1].name == "hosts")
        #expect(!self.calls.all.contains("cluster check"))
    }

    @Test func checkShowsTheClustersRefusal() async {
        let session = MigrationSession(
            self.options(),
            migrationDriver: self.driver(),
            cluster: FakeClusterDriver(calls: self.calls, refusal: ClusterError(.notHealthy, "guest2 is DOWN"))
        )
        let results = await session.check()
        #expect(results.last?.name == "cluster")
        #expect(results.last?.status == .fail)
        #expect(results.last?.detail == "guest2 is DOWN")
        #expect(!MigrationCheck.wouldMigrate(results))
    }

    // MARK: - Status from errors

    @Test func errorsMapToStatuses() {
        #expect(SessionOutcome.Status(MigrationError(.hostUnreachable, "x")) == .unreachable)
        #expect(SessionOutcome.Status(MigrationError(.invalidURI, "x")) == .unreachable)
        #expect(SessionOutcome.Status(MigrationError(.destinationHasDomain, "x")) == .refused)
        #expect(SessionOutcome.Status(MigrationError(.operationInProgress, "x")) == .refused)
        #expect(SessionOutcome.Status(MigrationError(.aborted, "x")) == .aborted)
        // The lock's record is written before anything is asked of a host: a journal that cannot be written refuses.
        #expect(SessionOutcome.Status(MigrationError(.journal, "x")) == .refused)
        #expect(SessionOutcome.Status(MigrationError(.init(rawValue: "something-else"), "x")) == .internalFailure)
        #expect(SessionOutcome.Status(ClusterError(.nodeUnreachable, "x")) == .unreachable)
        #expect(SessionOutcome.Status(ClusterError(.journal, "x")) == .refused)
    }

    static func name(_ event: SessionEvent) -> String {
        switch event {
        case .preparingCluster: "preparing-cluster"
        case .cluster(let event): "cluster \(event.step)"
        case .migrationStarted: "migration-started"
        case .resumingPostCopy: "resuming-post-copy"
        case .progress: "progress"
        case .policyStep: "policy-step"
        case .notice(let line): "notice \(line)"
        case .migrationEnded: "migration-ended"
        case .restoringCluster: "restoring-cluster"
        case .verifying(let domain): "verifying \(domain)"
        }
    }
}

/// Lets a fake reach the session it runs under.
final class SessionBox: @unchecked Sendable {
    // @unchecked: set once before the session runs, read only while it runs.
    var session: MigrationSession?
}
