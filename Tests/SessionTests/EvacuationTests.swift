import Foundation
import Journal
import Libvirt
import Migration
import Synchronization
import Testing

@testable import Session

/// The evacuation's run with fake hosts and fake migrations: who is moved, how many at once, what a refusal, a
/// failure, an abort and a resume do, and what the journal keeps.
@Suite final class EvacuationTests {
    let directory = FileManager.default.temporaryDirectory.appending(path: "kvmm-evacuation-\(UUID().uuidString)")
    let tracker = MigrationTracker()

    deinit {
        try? FileManager.default.removeItem(at: self.directory)
    }

    static let source = "qemu+tcp://10.77.0.1/system"
    static let gib: UInt64 = 1 << 30

    static func guest(_ name: String, node: String? = nil) -> EvacuationGuest {
        EvacuationGuest(
            name: name,
            uuid: "uuid-\(name)",
            memoryBytes: 256 << 20,
            cluster: node.map { ClusterMembership(cluster: "guest1+guest2+guest3+guest4", node: $0) }
        )
    }

    static func host(_ name: String, nodes: [String] = []) -> EvacuationCandidate {
        EvacuationCandidate(
            name: name,
            uri: "qemu+tcp://\(name)/system",
            freeMemoryBytes: 16 * Self.gib,
            unsuitable: [:],
            clusterNodes: nodes.isEmpty ? [:] : ["guest1+guest2+guest3+guest4": nodes]
        )
    }

    /// hostA runs two nodes of a four-node cluster and two plain guests; hostB and hostC one node each.
    static let survey = EvacuationSurvey(
        source: "hostA",
        guests: [guest("domain1", node: "guest1"), guest("domain4", node: "guest4"), guest("plain1"), guest("plain2")],
        candidates: [host("hostB", nodes: ["guest2"]), host("hostC", nodes: ["guest3"])],
        persistent: ["domain1", "domain4"]
    )

    func evacuation(
        _ request: EvacuationRequest = EvacuationRequest(sourceURI: EvacuationTests.source, allowColocation: true),
        survey: EvacuationSurvey = EvacuationTests.survey,
        resume: Bool = false,
        dryRun: Bool = false,
        failing: Set<String> = [],
        migrationTime: Duration = .milliseconds(40),
        startSpacing: Duration = .zero,
        recovered: Calls = Calls()
    ) -> Evacuation {
        let tracker = self.tracker
        let locks = self.directory.appending(path: "locks")
        return Evacuation(
            Evacuation.Options(
                request: request,
                migration: MigrationRequest(domain: "", sourceURI: Self.source, destinationURI: ""),
                dryRun: dryRun,
                resume: resume,
                journalDirectory: self.directory,
                startSpacing: startSpacing
            ),
            environment: Evacuation.Environment(
                survey: { _ in survey },
                session: { placement, migration in
                    tracker.created()
                    return MigrationSession(
                        MigrationSession.Options(
                            request: migration,
                            lockDirectory: locks
                        ),
                        migrationDriver: TrackedMigrationDriver(
                            tracker: tracker,
                            guest: placement.guest,
                            fails: failing.contains(placement.guest.name),
                            time: migrationTime
                        )
                    )
                },
                recoverClusters: {
                    recovered.append("recover")
                    return ["recovered"]
                },
                waitForJobs: { _, guests in
                    recovered.append("wait \(guests.joined(separator: ","))")
                    return []
                }
            )
        )
    }

    func run(_ evacuation: Evacuation) async -> (EvacuationOutcome, [EvacuationEvent]) {
        async let outcome = evacuation.run()
        var events: [EvacuationEvent] = []
        for await event in evacuation.events { events.append(event) }
        return (await outcome, events)
    }

    var unfinished: [JournalEntry<EvacuationRecord>] {
        (try? JournalStore<EvacuationRecord>(directory: self.directory).unfinished()) ?? []
    }

    // MARK: - Runs

    @Test func everyGuestMovesAtMostTwoAtOnceAndNeverTwoNodesOfTheCluster() async {
        let (outcome, _) = await self.run(self.evacuation())
        #expect(outcome.status == .migrated)
        #expect(outcome.results.map(\.guest.name).sorted() == ["domain1", "domain4", "plain1", "plain2"])
        #expect(outcome.results.allSatisfy { $0.moved })
        #expect(self.tracker.maximumAtOnce == 2)
        #expect(self.tracker.maximumNodesAtOnce == 1)
        #expect(self.unfinished.isEmpty, "a finished evacuation leaves nothing to resume")
    }

    @Test func oneAtATimeWithMaxParallelOne() async {
        let (outcome, _) = await self.run(
            self.evacuation(EvacuationRequest(sourceURI: Self.source, maxParallel: 1, allowColocation: true))
        )
        #expect(outcome.status == .migrated)
        #expect(self.tracker.maximumAtOnce == 1)
    }

    @Test func startsBesideAnotherMigrationAreSpacedApart() async {
        let (outcome, _) = await self.run(
            self.evacuation(migrationTime: .milliseconds(900), startSpacing: .milliseconds(300))
        )
        #expect(outcome.status == .migrated)
        #expect(self.tracker.maximumAtOnce == 2, "spacing delays a start, it does not forbid it")
        let starts = self.tracker.starts.sorted()
        for (earlier, later) in zip(starts, starts.dropFirst()) {
            #expect(later - earlier >= .milliseconds(290), "two starts closer than the spacing")
        }
    }

    @Test func persistentGuestsTakeTheirDefinitionAlongAndTheLinkIsShared() async {
        _ = await self.run(
            self.evacuation(
                EvacuationRequest(sourceURI: Self.source, bandwidthMiBPerSecond: 100, allowColocation: true)
            )
        )
        let requests = self.tracker.requests
        #expect(requests["domain1"]?.persistent == true)
        #expect(requests["domain1"]?.undefineSource == true)
        #expect(requests["plain1"]?.persistent == false)
        #expect(requests["plain1"]?.undefineSource == false)
        #expect(requests.values.allSatisfy { $0.parameters.bandwidthMiBPerSecond == 50 })
    }

    // MARK: - Refusals

    @Test func colocationIsRefusedUnlessAllowedAndNothingMoves() async {
        let (outcome, _) = await self.run(self.evacuation(EvacuationRequest(sourceURI: Self.source)))
        #expect(outcome.status == .refused)
        #expect(outcome.message?.contains("--allow-colocation") == true)
        #expect(outcome.message?.contains("guest1") == true)
        #expect(self.tracker.requests.isEmpty)
        #expect(self.unfinished.isEmpty)
    }

    @Test func aGuestNoHostCanTakeRefusesTheWholeEvacuation() async {
        var survey = Self.survey
        survey.candidates = survey.candidates.map {
            var host = $0
            host.freeMemoryBytes = 100 << 20
            return host
        }
        let (outcome, _) = await self.run(self.evacuation(survey: survey))
        #expect(outcome.status == .refused)
        #expect(outcome.message?.contains("no host can take") == true)
        #expect(self.tracker.requests.isEmpty)
    }

    @Test func aDryRunPlansChecksEveryGuestAndChangesNothing() async {
        let (outcome, events) = await self.run(self.evacuation(dryRun: true))
        #expect(outcome.status == .migrated)
        #expect(outcome.plan?.placements.count == 4)
        #expect(outcome.checks.map(\.guest) == outcome.plan?.placements.map(\.guest.name))
        #expect(outcome.checks.allSatisfy { $0.checks.contains { $0.name == "request" } })
        #expect(events.contains { if case .planned = $0 { true } else { false } })
        #expect(self.tracker.requests.isEmpty)
        #expect(self.unfinished.isEmpty)
    }

    // MARK: - Failures and interrupts

    @Test func aFailedGuestDoesNotStopTheOthers() async {
        let (outcome, _) = await self.run(self.evacuation(failing: ["plain1"]))
        #expect(outcome.status == .migrationFailed)
        #expect(outcome.results.filter(\.moved).map(\.guest.name).sorted() == ["domain1", "domain4", "plain2"])
    }

    @Test func stopOnErrorStartsNothingAfterAFailure() async {
        let request = EvacuationRequest(
            sourceURI: Self.source,
            maxParallel: 1,
            allowColocation: true,
            stopOnError: true
        )
        let (outcome, events) = await self.run(self.evacuation(request, failing: ["domain1"]))
        #expect(outcome.status == .migrationFailed)
        #expect(
            self.tracker.requests.keys.sorted() == ["domain1"],
            "the first in the plan failed; nothing else started"
        )
        #expect(outcome.results.filter { $0.outcome == nil }.count == 3)
        #expect(events.contains { if case .stopping = $0 { true } else { false } })
    }

    @Test func anAbortStopsStartingAndAbortsWhatRuns() async {
        // 30 s migrations: an abort that waited for them would show; a loaded machine's seconds would not.
        let evacuation = self.evacuation(migrationTime: .seconds(30))
        let tracker = self.tracker
        // Ctrl-C once two migrations are under way.
        let interrupter = Task {
            while tracker.requests.count < 2 { try? await Task.sleep(for: .milliseconds(5)) }
            evacuation.requestAbort(reason: "SIGINT")
        }
        let (result, events) = await self.run(evacuation)
        await interrupter.value
        #expect(result.status == .aborted)
        #expect(events.filter { if case .started = $0 { true } else { false } }.count == 2, "nothing new started")
        #expect(result.results.filter { $0.outcome?.status == .aborted }.count == 2)
        #expect(result.results.filter { $0.outcome == nil }.count == 2)
        #expect(result.results.allSatisfy { !$0.moved })
        #expect(result.elapsed < .seconds(20), "the migrations in flight were aborted, not waited for")
        #expect(self.unfinished.isEmpty)
    }

    // MARK: - Resume

    @Test func resumeMovesOnlyTheGuestsStillOnTheSourceAndRecoversFirst() async throws {
        // A crash left this record: domain1 moved, plain1 started (the crash cut it short), the rest pending.
        let store = try JournalStore<EvacuationRecord>(directory: self.directory)
        let request = EvacuationRequest(sourceURI: Self.source, maxParallel: 1, allowColocation: true)
        do {
            // Dropping the handle unfinished is what a crash leaves: the lock gone, the record kept.
            _ = try store.begin(
                key: Self.source,
                record: EvacuationRecord(
                    request: request,
                    source: "hostA",
                    guests: [
                        .init(name: "domain1", uuid: "uuid-domain1", state: .moved, destination: "hostC"),
                        .init(name: "plain1", uuid: "uuid-plain1", state: .started, destination: "hostB"),
                        .init(name: "domain4", uuid: "uuid-domain4", state: .pending),
                        .init(name: "plain2", uuid: "uuid-plain2", state: .pending),
                    ]
                )
            )
        }
        var survey = Self.survey
        survey.guests = survey.guests.filter { $0.name != "domain1" } + [Self.guest("newcomer")]
        let calls = Calls()
        let (outcome, _) = await self.run(
            self.evacuation(EvacuationRequest(sourceURI: Self.source), survey: survey, resume: true, recovered: calls)
        )
        #expect(outcome.status == .migrated)
        #expect(self.tracker.requests.keys.sorted() == ["domain4", "plain1", "plain2"])
        #expect(outcome.results.first { $0.guest.name == "domain1" }?.alreadyMoved == true)
        #expect(calls.all == ["wait plain1", "recover"])
        #expect(self.unfinished.isEmpty)
    }

    @Test func withoutAnUnfinishedEvacuationResumeIsRefused() async {
        let (outcome, _) = await self.run(self.evacuation(resume: true))
        #expect(outcome.status == .refused)
        #expect(outcome.message?.contains("no unfinished evacuation") == true)
    }

    // MARK: - Request

    @Test func theRequestIsRangeChecked() {
        #expect(throws: MigrationError.self) {
            try EvacuationRequest(sourceURI: Self.source, maxParallel: 0).validate()
        }
        #expect(throws: MigrationError.self) {
            try EvacuationRequest(sourceURI: Self.source, maxParallel: 17).validate()
        }
        #expect(throws: MigrationError.self) {
            try EvacuationRequest(sourceURI: Self.source, maxIncomingPerDestination: -1).validate()
        }
        #expect(throws: MigrationError.self) {
            try EvacuationRequest(sourceURI: Self.source, bandwidthMiBPerSecond: 0).validate()
        }
        #expect(throws: MigrationError.self) {
            try EvacuationRequest(sourceURI: Self.source, destinationURIs: [Self.source]).validate()
        }
        #expect(throws: Never.self) { try EvacuationRequest(sourceURI: Self.source).validate() }
    }
}

/// What the fake migrations saw: requests by guest, how many ran at once, how many cluster nodes at once.
final class MigrationTracker: Sendable {
    private struct State {
        var requests: [String: MigrationRequest] = [:]
        var running: Set<String> = []
        var nodes: Set<String> = []
        var maximumAtOnce = 0
        var maximumNodesAtOnce = 0
        var starts: [ContinuousClock.Instant] = []
    }
    private let state = Mutex(State())

    func started(_ guest: EvacuationGuest, _ request: MigrationRequest) {
        self.state.withLock { state in
            state.requests[guest.name] = request
            state.running.insert(guest.name)
            if guest.cluster != nil { state.nodes.insert(guest.name) }
            state.maximumAtOnce = max(state.maximumAtOnce, state.running.count)
            state.maximumNodesAtOnce = max(state.maximumNodesAtOnce, state.nodes.count)
        }
    }

    /// The evacuation made a session: the moment it started a placement.
    func created() {
        self.state.withLock { $0.starts.append(.now) }
    }

    func ended(_ guest: String) {
        self.state.withLock { state in
            state.running.remove(guest)
            state.nodes.remove(guest)
        }
    }

    var requests: [String: MigrationRequest] { self.state.withLock { $0.requests } }
    var maximumAtOnce: Int { self.state.withLock { $0.maximumAtOnce } }
    var maximumNodesAtOnce: Int { self.state.withLock { $0.maximumNodesAtOnce } }
    var starts: [ContinuousClock.Instant] { self.state.withLock { $0.starts } }
}

/// A libvirt whose migration of one guest takes `time` and ends where the test says.
struct TrackedMigrationDriver: MigrationDriver {
    var tracker: MigrationTracker
    var guest: EvacuationGuest
    var fails: Bool
    var time: Duration

    func connect(
        _ request: MigrationRequest,
        resumingPostCopy: Bool
    ) async throws(MigrationError)
        -> any MigrationConnection
    {
        TrackedMigrationConnection(driver: self, request: request)
    }
}

final class TrackedMigrationConnection: MigrationConnection {
    let driver: TrackedMigrationDriver
    let request: MigrationRequest
    let aborted = Mutex(false)

    init(driver: TrackedMigrationDriver, request: MigrationRequest) {
        self.driver = driver
        self.request = request
    }

    var target: MigrationTarget {
        MigrationTarget(
            domainName: self.driver.guest.name,
            domainUUID: self.driver.guest.uuid,
            sourceHostname: "hostA",
            destinationHostname: "hostB"
        )
    }

    func checks(copyStorage: Bool) async -> [CheckResult] { [] }

    func migrate(
        reconnectTimeout: Duration,
        onProgress: @escaping @Sendable (MigrationProgress) -> Void,
        onStep: @escaping @Sendable (ConvergenceStep) -> Void,
        onNotice: @escaping @Sendable (String) -> Void
    ) async -> MigrationReport {
        self.driver.tracker.started(self.driver.guest, self.request)
        defer { self.driver.tracker.ended(self.driver.guest.name) }
        let clock = ContinuousClock()
        let end = clock.now + self.driver.time
        while clock.now < end, !self.aborted.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
        if self.aborted.withLock({ $0 }) { return self.report(.aborted, at: onSource) }
        return self.driver.fails ? self.report(.failed, at: onSource) : self.report(.completed, at: onDestination)
    }

    func report(_ outcome: MigrationOutcome, at location: DomainLocation) -> MigrationReport {
        var result = SessionTests.report(outcome, at: location)
        result.domainName = self.driver.guest.name
        result.domainUUID = self.driver.guest.uuid
        return result
    }

    func requestAbort(reason: String) { self.aborted.withLock { $0 = true } }

    func resumePostCopy(
        reconnectTimeout: Duration,
        onNotice: @escaping @Sendable (String) -> Void
    ) async
        -> MigrationReport
    {
        self.report(.failed, at: onSource)
    }
}
