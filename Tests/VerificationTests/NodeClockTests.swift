import Testing

@testable import Verification

@Suite struct NodeClockTests {
    @Test func aRoundTripGivesTheLowEndAndTheTimeNotSpentOnTheNode() {
        // Sent at 100.0, answered at 100.5; the node read 130.1 at its start and 130.2 at its end.
        let clock = NodeClock(nodeStart: 130.1, nodeEnd: 130.2, sent: 100.0, received: 100.5)
        #expect(abs(clock.offset - 29.7) < 1e-9)
        #expect(abs(clock.uncertainty - 0.4) < 1e-9)
        #expect(abs(clock.local(130.2) - 100.5) < 1e-9)
        // The node's two reads span more than the round trip (its clock was stepped in between): no negative width.
        #expect(NodeClock(nodeStart: 10, nodeEnd: 12, sent: 10, received: 11).uncertainty == 0)
    }

    @Test(arguments: [
        (30.0, 0.01, true),
        (-0.004, 0.4, false),
        (-2.0, 0.5, true),
        (-1.3, 0.5, false),
        (0.9, 0.5, false),
        (1.1, 0.0, true),
    ])
    func isOffOnlyWhenTheWholeIntervalIsBeyondTheTolerance(offset: Double, uncertainty: Double, off: Bool) {
        #expect(NodeClock(offset: offset, uncertainty: uncertainty).isOff(by: 1) == off)
    }

    @Test(arguments: [("+0900\n", 32_400), ("-0130", -5_400), ("+0000", 0), ("-0000\n", 0), ("+0545", 20_700)])
    func zoneOffsetReadsDatePercentZ(text: String, seconds: Int) {
        #expect(NodeClock.zoneOffset(text) == seconds)
    }

    @Test(arguments: ["0900", "+09", "+0960", "+09:00", "", "UTC", "+09000"])
    func zoneOffsetRejectsOtherText(text: String) {
        #expect(NodeClock.zoneOffset(text) == nil)
    }
}
