import Testing

@testable import Verification

/// `Verifier.repairs(in:)`: what `--fix` does, in what order.
@Suite struct VerifierRepairTests {
    func failing(
        _ repair: Repair,
        _ name: String = "SF",
        outcome: VerificationCheck.Outcome = .fail
    )
        -> VerificationCheck
    {
        VerificationCheck(.node("guest1"), name, outcome, "detail", repair: repair)
    }

    @Test func shutdownFacilityIsNotStartedWhereTheTimeoutCannotBeRestored() {
        let stuck = VerificationCheck(.node("guest1"), "CF timeout", .fail, "600 s loaded", repair: nil)
        let repairs = Verifier.repairs(in: [
            stuck,
            self.failing(.retestShutdownFacility(node: "guest1")),
            VerificationCheck(
                .node("guest2"),
                "SF",
                .fail,
                "not running",
                repair: .retestShutdownFacility(node: "guest2")
            ),
        ])
        #expect(repairs == [.retestShutdownFacility(node: "guest2")])
    }

    @Test func aRepairAskedTwiceIsDoneOnce() {
        let repairs = Verifier.repairs(in: [
            self.failing(.reloadClusterTimeout(node: "guest1"), "CF timeout"),
            self.failing(.reloadClusterTimeout(node: "guest1"), "CF timeout"),
            self.failing(.reloadClusterTimeout(node: "guest2"), "CF timeout"),
        ])
        #expect(repairs == [.reloadClusterTimeout(node: "guest1"), .reloadClusterTimeout(node: "guest2")])
    }

    @Test func pointingTheAgentsComesFirst() {
        let repairs = Verifier.repairs(in: [
            self.failing(.reloadClusterTimeout(node: "guest2"), "CF timeout"),
            self.failing(.synchronizeGuestClock(domain: "domain1", host: "hostB"), "guest clock"),
            self.failing(.pointAgents(guest: "guest1", host: "hostB"), "SA_libvirtgp"),
            self.failing(.pointAgents(guest: "guest1", host: "hostB"), "SA_libvirtgr"),
        ])
        #expect(
            repairs == [
                .pointAgents(guest: "guest1", host: "hostB"),
                .reloadClusterTimeout(node: "guest2"),
                .synchronizeGuestClock(domain: "domain1", host: "hostB"),
            ]
        )
    }

    @Test func pointingTheAgentsCoversEveryRetest() {
        let repairs = Verifier.repairs(in: [
            self.failing(.retestShutdownFacility(node: "guest1")),
            self.failing(.pointAgents(guest: "guest2", host: "hostA"), "SA_libvirtgp"),
            self.failing(.retestShutdownFacility(node: "guest2"), "SF tested", outcome: .warn),
        ])
        #expect(repairs == [.pointAgents(guest: "guest2", host: "hostA")])
    }

    @Test func aRetestAloneIsKept() {
        let repairs = Verifier.repairs(in: [
            self.failing(.retestShutdownFacility(node: "guest1"), "SF tested", outcome: .warn),
            self.failing(.reloadClusterTimeout(node: "guest1"), "CF timeout"),
        ])
        #expect(repairs == [.retestShutdownFacility(node: "guest1"), .reloadClusterTimeout(node: "guest1")])
    }

    @Test func aPassingChecksRepairIsIgnored() {
        let repairs = Verifier.repairs(in: [
            self.failing(.pointAgents(guest: "guest1", host: "hostB"), "SA_libvirtgp", outcome: .pass),
            self.failing(.retestShutdownFacility(node: "guest1")),
        ])
        #expect(repairs == [.retestShutdownFacility(node: "guest1")])
        #expect(Verifier.repairs(in: [VerificationCheck(.cluster, "clocks", .fail, "differ by 30 s")]).isEmpty)
    }

    /// Several guests' agents are pointed in the order the checks ask for them.
    @Test func severalGuestsAgentsArePointedInTheOrderTheChecksAsk() {
        let repairs = Verifier.repairs(in: [
            self.failing(.retestShutdownFacility(node: "guest2")),
            self.failing(.pointAgents(guest: "guest1", host: "hostB"), "SA_libvirtgp"),
            self.failing(.pointAgents(guest: "guest2", host: "hostA"), "SA_libvirtgp"),
            self.failing(.pointAgents(guest: "guest3", host: "hostA"), "SA_libvirtgp"),
        ])
        #expect(repairs.count == 3)
        #expect(
            repairs == [
                .pointAgents(guest: "guest1", host: "hostB"),
                .pointAgents(guest: "guest2", host: "hostA"),
                .pointAgents(guest: "guest3", host: "hostA"),
            ]
        )
    }
}
