import Testing

@testable import Verification

@Suite struct VerificationReportTests {
    let domain = VerificationCheck.Subject.domain("domain1", node: "guest1")

    @Test func theOutcomeIsTheWorstCheck() {
        func report(_ outcomes: [VerificationCheck.Outcome]) -> VerificationReport {
            VerificationReport(checks: outcomes.map { VerificationCheck(.cluster, "clocks", $0, "detail") })
        }
        #expect(report([]).outcome == .pass)
        #expect(report([.pass, .pass]).outcome == .pass)
        #expect(report([.pass, .warn, .pass]).outcome == .warn)
        #expect(report([.warn, .fail, .pass]).outcome == .fail)
    }

    @Test func onlyAFailingPlacementIsAPlacementFailure() {
        let failing = VerificationCheck(self.domain, "placement", .fail, "active on 2 hosts")
        let warning = VerificationCheck(self.domain, "placement", .warn, "is paused on hostB, its only copy")
        let otherFailure = VerificationCheck(self.domain, "SA_libvirtgp", .fail, "names 10.77.0.1 (hostA)")
        #expect(VerificationReport(checks: [otherFailure, failing]).placementFailed)
        #expect(!VerificationReport(checks: [otherFailure, warning]).placementFailed)
        #expect(!VerificationReport(checks: [VerificationCheck(self.domain, "definition", .fail, "x")]).placementFailed)
    }

    @Test func groupsKeepTheOrderSubjectsFirstAppear() {
        let report = VerificationReport(checks: [
            VerificationCheck(self.domain, "placement", .pass, "runs on hostA only"),
            VerificationCheck(.node("guest2"), "CF timeout", .pass, "10 s"),
            VerificationCheck(self.domain, "definition", .pass, "defined on hostA only"),
            VerificationCheck(.cluster, "clocks", .pass, "agree"),
            VerificationCheck(.node("guest2"), "clock", .pass, "+0.002 s"),
        ])
        let groups = report.grouped
        #expect(groups.map(\.subject) == [self.domain, .node("guest2"), .cluster])
        #expect(
            groups.map { $0.checks.map(\.name) } == [
                ["placement", "definition"], ["CF timeout", "clock"], ["clocks"],
            ]
        )
    }
}
