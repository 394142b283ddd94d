import Libvirt
import Testing

@testable import Migration

@Suite struct MigrationRecoveryTests {
    // Reasons as libvirt numbers them (virDomainRunningReason, virDomainPausedReason).
    static let running = DomainStateInfo(state: .running, reason: 1)
    static let runningMigrated = DomainStateInfo(state: .running, reason: 2)
    static let runningPostCopy = DomainStateInfo(state: .running, reason: 10)
    static let runningPostCopyFailed = DomainStateInfo(state: .running, reason: 11)
    static let pausedMigrating = DomainStateInfo(state: .paused, reason: 2)
    static let pausedPostCopy = DomainStateInfo(state: .paused, reason: 12)
    static let pausedPostCopyFailed = DomainStateInfo(state: .paused, reason: 13)

    @Test func aCleanEndNeedsNothing() {
        #expect(!MigrationRecovery.needsRecovery(DomainLocation(sourceState: Self.running, destinationState: nil)))
        #expect(
            !MigrationRecovery.needsRecovery(DomainLocation(sourceState: nil, destinationState: Self.runningMigrated))
        )
    }

    @Test(arguments: [
        DomainLocation(sourceState: Self.running, destinationState: nil, problem: "the destination does not answer"),
        DomainLocation(sourceState: Self.running, destinationState: Self.pausedMigrating),
        DomainLocation(sourceState: Self.pausedMigrating, destinationState: nil),
        DomainLocation(sourceState: Self.pausedPostCopyFailed, destinationState: Self.runningPostCopy),
        DomainLocation(sourceState: Self.pausedPostCopy, destinationState: Self.runningPostCopyFailed),
        DomainLocation(sourceState: nil, destinationState: nil),
    ])
    func troubleNeedsRecovery(location: DomainLocation) {
        #expect(MigrationRecovery.needsRecovery(location))
    }

    @Test func aBrokenPostCopyIsSplitNotOnBothHosts() {
        let location = DomainLocation(sourceState: Self.pausedPostCopyFailed, destinationState: Self.runningPostCopy)
        #expect(location.summary == .postCopyBroken)
        #expect(Self.pausedPostCopy.isPostCopy && Self.runningPostCopy.isPostCopy)
        #expect(!Self.pausedMigrating.isPostCopy)
        // A copy paused for the switch-over next to a running one is still two copies.
        #expect(DomainLocation(sourceState: Self.pausedMigrating, destinationState: Self.running).summary == .both)
    }
}
