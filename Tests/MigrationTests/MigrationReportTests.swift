import Foundation
import Libvirt
import Testing

@testable import Migration

/// How ``LiveMigration/run(pollInterval:logger:onProgress:onStep:reconnectTimeout:onNotice:)`` turns the migration
/// call's answer and the recovery after it into a report.
@Suite struct MigrationReportTests {
    typealias States = MigrationRecoveryTests

    static let onDestination = DomainLocation(sourceState: nil, destinationState: States.runningMigrated)
    static let onSource = DomainLocation(sourceState: States.running, destinationState: nil)
    static let linkLost = LibvirtError(
        code: .operationFailed,
        message: "connection lost",
        function: "virDomainMigrateToURI3"
    )

    /// A migration of the test driver's domain; the report reads only its names, URIs and memory.
    func prepared() throws -> PreparedMigration {
        let connection = try Connection(uri: "test:///default", readOnly: true)
        let domain = try connection.domain(named: "test")
        return PreparedMigration(
            request: MigrationRequest(domain: "test", sourceURI: "test:///default", destinationURI: "test:///other"),
            source: connection,
            destination: connection,
            domain: domain,
            domainName: "test",
            domainUUID: try domain.uuid(),
            initialState: States.running,
            memoryKiB: 1024,
            sourceHostname: "a",
            destinationHostname: "b"
        )
    }

    func report(
        _ result: Result<Void, LibvirtError>,
        recovery: MigrationRecovery.Outcome? = nil,
        location: DomainLocation,
        abortReason: String? = nil
    ) throws -> MigrationReport {
        MigrationReport(
            try self.prepared(),
            result: result,
            recovery: recovery,
            location: location,
            startedAt: Date(),
            totalTime: .seconds(3),
            completedStatistics: nil,
            memoryPassesSeen: 2,
            abortReason: abortReason,
            steps: []
        )
    }

    func recovery(
        resumed: Bool = false,
        bySource: Bool = false,
        at location: DomainLocation
    )
        -> MigrationRecovery.Outcome
    {
        MigrationRecovery.Outcome(
            location: location,
            actions: ["a line"],
            resumedPostCopy: resumed,
            finishedBySource: bySource,
            resumeCommand: nil
        )
    }

    @Test func aSuccessfulCallCompletes() throws {
        let report = try self.report(.success(()), location: Self.onDestination)
        #expect(report.outcome == .completed)
        #expect(report.errorMessage == nil)
        #expect(report.memoryBytes == 1024 * 1024)
        #expect(report.memoryPassesSeen == 2)
        #expect(report.policy == MigrationRequest(domain: "test", sourceURI: "a", destinationURI: "b").policy)
    }

    @Test func aFailedCallFailsWithLibvirtsMessage() throws {
        let report = try self.report(.failure(Self.linkLost), location: Self.onSource)
        #expect(report.outcome == .failed)
        #expect(report.errorMessage == "connection lost")
    }

    @Test func anAbortedCallIsAborted() throws {
        let aborted = LibvirtError(
            code: .operationAborted,
            message: "aborted by client",
            function: "virDomainMigrateToURI3"
        )
        #expect(try self.report(.failure(aborted), location: Self.onSource).outcome == .aborted)
    }

    @Test func anAbortAskedForThatEndsInAnotherErrorWithTheGuestOnTheSourceIsAborted() throws {
        let raced = LibvirtError(
            code: .internalError,
            message: "qemu unexpectedly closed the monitor: Unknown combination of migration flags: 0x0",
            function: "virDomainMigrateToURI3"
        )
        let report = try self.report(.failure(raced), location: Self.onSource, abortReason: "time limit")
        #expect(report.outcome == .aborted)
        #expect(report.errorMessage?.contains("Unknown combination") == true)
        // Without an abort asked for, the same error is a failure.
        #expect(try self.report(.failure(raced), location: Self.onSource).outcome == .failed)
    }

    @Test(arguments: [(true, false), (false, true)])
    func aFailedCallThatRecoveryCarriedToTheDestinationCompletes(resumed: Bool, bySource: Bool) throws {
        let recovery = self.recovery(resumed: resumed, bySource: bySource, at: Self.onDestination)
        let report = try self.report(.failure(Self.linkLost), recovery: recovery, location: Self.onDestination)
        #expect(report.outcome == .completed)
        #expect(report.errorMessage == nil)
    }

    @Test func aRecoveryThatLeftTheGuestOnTheSourceStillFails() throws {
        let recovery = self.recovery(bySource: true, at: Self.onSource)
        let report = try self.report(.failure(Self.linkLost), recovery: recovery, location: Self.onSource)
        #expect(report.outcome == .failed)
    }

    @Test func aRecoveryThatOnlyCleanedUpDoesNotTurnAFailureIntoSuccess() throws {
        let recovery = self.recovery(at: Self.onDestination)
        #expect(
            try self.report(.failure(Self.linkLost), recovery: recovery, location: Self.onDestination).outcome
                == .failed
        )
    }

    @Test func whatRecoveryDidIsInTheReport() throws {
        var recovery = self.recovery(at: Self.onSource)
        recovery.resumeCommand = "kvmmigrate migrate test b -c a --postcopy-resume"
        let report = try self.report(.failure(Self.linkLost), recovery: recovery, location: Self.onSource)
        #expect(report.recoveryActions == ["a line"])
        #expect(report.resumeCommand == "kvmmigrate migrate test b -c a --postcopy-resume")
        #expect(try self.report(.success(()), location: Self.onDestination).recoveryActions.isEmpty)
    }
}
