import Testing

@testable import Verification

/// `ClusterChecks.clockAgreement()`: the nodes' clocks against each other.
@Suite struct ClockAgreementTests {
    @Test func nodesHalfAMinuteApartFail() throws {
        let checks = try Fixture.checks([
            Fixture.snapshot("guest1", clock: NodeClock(offset: 0.01, uncertainty: 0.02)),
            Fixture.snapshot("guest2", clock: NodeClock(offset: 30, uncertainty: 0.02)),
        ]).clockAgreement()
        #expect(checks.count == 1)
        let check = try #require(checks.first)
        #expect(check.outcome == .fail)
        #expect(check.subject == .cluster)
        #expect(check.detail.contains("differ"))
        #expect(check.detail.contains("guest2 against guest1"))
    }

    @Test func nodesCloseTogetherPass() throws {
        let checks = try Fixture.checks([
            Fixture.snapshot("guest1", clock: NodeClock(offset: -0.004, uncertainty: 0.02)),
            Fixture.snapshot("guest2", clock: NodeClock(offset: 0.003, uncertainty: 0.02)),
        ]).clockAgreement()
        #expect(checks.map(\.outcome) == [.pass])
        #expect(checks.first?.detail.contains("agree") == true)
    }

    @Test func aDifferenceWithinTheMeasurementsUncertaintyPasses() throws {
        // 1.2 s apart by the low ends, but guest1's true offset may be up to 0.5 s higher.
        let checks = try Fixture.checks([
            Fixture.snapshot("guest1", clock: NodeClock(offset: 0, uncertainty: 0.5)),
            Fixture.snapshot("guest2", clock: NodeClock(offset: 1.2, uncertainty: 0.01)),
        ]).clockAgreement()
        #expect(checks.map(\.outcome) == [.pass])
    }
}
