import Cluster
import Foundation
import Libvirt
import Migration
import Session
import Synchronization
import Verification

/// What the fakes were asked to do, in order: the session's steps as a test sees them.
final class Calls: Sendable {
    private let list = Mutex<[String]>([])
    func append(_ call: String) { self.list.withLock { $0.append(call) } }
    var all: [String] { self.list.withLock { $0 } }
}

let onSource = DomainLocation(
    sourceState: DomainStateInfo(state: .running, reason: 1),
    destinationState: nil
)
let onDestination = DomainLocation(
    sourceState: nil,
    destinationState: DomainStateInfo(state: .running, reason: 2)
)
let onBoth = DomainLocation(
    sourceState: DomainStateInfo(state: .running, reason: 1),
    destinationState: DomainStateInfo(state: .running, reason: 2)
)

let sessionTarget = MigrationTarget(
    domainName: "domain1",
    domainUUID: "6b3c7a1e-0000-4000-8000-000000000001",
    sourceHostname: "hostA",
    destinationHostname: "hostB"
)

func report(_ outcome: MigrationOutcome = .completed, at location: DomainLocation = onDestination) -> MigrationReport {
    MigrationReport(
        outcome: outcome,
        domainName: sessionTarget.domainName,
        domainUUID: sessionTarget.domainUUID,
        sourceURI: "qemu+tcp://10.77.0.1/system",
        destinationURI: "qemu+tcp://10.77.0.2/system",
        sourceHostname: "hostA",
        destinationHostname: "hostB",
        startedAt: Date(timeIntervalSince1970: 0),
        totalTime: .seconds(2),
        completedStatistics: nil,
        memoryPassesSeen: 3,
        location: location,
        errorMessage: outcome == .completed ? nil : "failed",
        abortReason: outcome == .aborted ? "SIGINT" : nil
    )
}

/// A libvirt that answers what the test says.
struct FakeMigrationDriver: MigrationDriver {
    var calls: Calls
    var refusal: MigrationError?
    var checks: [CheckResult] = [CheckResult("cpu", .pass, "fine")]
    var result: MigrationReport = report()
    /// Runs while the fake migration "runs", before it returns its result.
    var during: @Sendable (FakeMigrationConnection) async -> Void = { _ in }

    func connect(
        _ request: MigrationRequest,
        resumingPostCopy: Bool
    ) async throws(MigrationError)
        -> any MigrationConnection
    {
        self.calls.append(resumingPostCopy ? "connect resuming" : "connect")
        if let refusal { throw refusal }
        return FakeMigrationConnection(driver: self)
    }
}

final class FakeMigrationConnection: MigrationConnection {
    let driver: FakeMigrationDriver
    let aborts = Mutex<[String]>([])

    init(driver: FakeMigrationDriver) { self.driver = driver }

    var target: MigrationTarget { sessionTarget }

    func checks(copyStorage: Bool) async -> [CheckResult] {
        self.driver.calls.append("checks")
        return self.driver.checks
    }

    func migrate(
        reconnectTimeout: Duration,
        onProgress: @escaping @Sendable (MigrationProgress) -> Void,
        onStep: @escaping @Sendable (ConvergenceStep) -> Void,
        onNotice: @escaping @Sendable (String) -> Void
    ) async -> MigrationReport {
        self.driver.calls.append("migrate")
        onNotice("moving")
        await self.driver.during(self)
        let aborted = self.aborts.withLock { !$0.isEmpty }
        return aborted ? report(.aborted, at: onSource) : self.driver.result
    }

    func requestAbort(reason: String) {
        self.driver.calls.append("abort \(reason)")
        self.aborts.withLock { $0.append(reason) }
    }

    func resumePostCopy(
        reconnectTimeout: Duration,
        onNotice: @escaping @Sendable (String) -> Void
    ) async
        -> MigrationReport
    {
        self.driver.calls.append("resume post-copy")
        return self.driver.result
    }
}

/// A guest cluster that answers what the test says; `migrate` runs the body like the real operation does.
struct FakeClusterDriver: ClusterDriver {
    var calls: Calls
    var refusal: ClusterError?
    var prepareFails = false
    var healthyAfterwards = true
    /// Runs after the body returned, where the real operation restores.
    var afterBody: @Sendable () -> Void = {}

    func checkBeforeMigrating(
        domain: String,
        destinationURI: String,
        destinationHostname: String?
    ) async throws(ClusterError)
        -> ClusterReadiness
    {
        self.calls.append("cluster check")
        if let refusal { throw refusal }
        return ClusterReadiness(summary: "guest1 and its peers are UP")
    }

    func migrate(
        domain: String,
        sourceHost: String,
        destinationURI: String,
        destinationHostname: String,
        delegate: Bool,
        onEvent: @escaping @Sendable (ClusterEvent) -> Void,
        body: @Sendable () async -> MigrationReport
    ) async throws(ClusterError) -> (MigrationReport?, ClusterOperation.Report) {
        self.calls.append("cluster check")
        if let refusal { throw refusal }
        self.calls.append("cluster prepare")
        onEvent(ClusterEvent(node: "guest1", step: "sf-stopped", message: "shutdown facility stopped"))
        var result: MigrationReport?
        if !self.prepareFails {
            result = await body()
            self.afterBody()
        }
        self.calls.append("cluster restore")
        let clusterReport = ClusterOperation.Report(
            guestNode: "guest1",
            nodes: ["guest1", "guest2"],
            prepared: !self.prepareFails,
            restore: ClusterSteps.RestoreResult(failures: [:]),
            verification: ClusterSteps.Verification(
                healthy: self.healthyAfterwards,
                problems: self.healthyAfterwards ? [:] : ["guest2": ["TestFailed"]],
                retries: 0,
                elapsed: .seconds(1)
            ),
            prepareFailure: self.prepareFails ? "guest2: cfset -r failed" : nil
        )
        return (result, clusterReport)
    }

    func close() { self.calls.append("cluster close") }
}

/// Verifies with a fixed answer, and records that it was asked.
struct FakeVerificationDriver: VerificationDriver {
    var calls: Calls
    var checks: [VerificationCheck]

    func verify(
        domain: String,
        request: MigrationRequest,
        target: MigrationTarget,
        movedAt: Date
    ) async
        -> VerificationReport
    {
        self.calls.append("verify \(domain)")
        return VerificationReport(checks: self.checks)
    }
}
