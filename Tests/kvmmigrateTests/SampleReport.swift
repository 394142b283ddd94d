import Foundation
import Libvirt
import Migration

/// Where the sample migration left the guest: shut off on the source, running on the destination.
let sampleLocation = DomainLocation(
    sourceState: DomainStateInfo(state: .shutOff, reason: 4),
    destinationState: DomainStateInfo(state: .running, reason: 2)
)

/// One migration's report, as the CLI's output tests render it: domain1 from hostA to hostB, 37 ms of downtime.
func sampleReport(outcome: MigrationOutcome = .completed, location: DomainLocation = sampleLocation) -> MigrationReport
{
    var stats = JobStats(type: .completed)
    stats.downtime = .milliseconds(37)
    stats.setupTime = .milliseconds(9)
    stats.timeElapsed = .milliseconds(500)
    stats.dataProcessed = 50 << 20
    stats.memoryIteration = 3
    return MigrationReport(
        outcome: outcome,
        domainName: "domain1",
        domainUUID: "6b3c7a1e-0000-4000-8000-000000000001",
        sourceURI: "qemu+tcp://10.77.0.1/system",
        destinationURI: "qemu+tcp://10.77.0.2/system",
        sourceHostname: "hostA",
        destinationHostname: "hostB",
        startedAt: Date(timeIntervalSince1970: 0),
        totalTime: .milliseconds(2412),
        completedStatistics: outcome == .completed ? stats : nil,
        memoryPassesSeen: 2,
        location: location,
        errorMessage: outcome == .completed ? nil : "operation aborted",
        abortReason: outcome == .aborted ? "SIGINT" : nil
    )
}
