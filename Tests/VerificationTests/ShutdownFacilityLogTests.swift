import Foundation
import Testing

@testable import Verification

@Suite struct ShutdownFacilityLogTests {
    /// 2026-11-30 04:10:30 UTC.
    static let time = 1_796_011_830.0

    @Test func readsTestWorkedAndTestFailedLinesWithoutSo() throws {
        let log = ShutdownFacilityLog(
            parsing: """
                2026-11-30 04:10:30 rcsd[1234]: guest2 SA_libvirtgp.so: TestWorked: domain2 running on 10.77.0.2
                2026-11-30 04:10:35 rcsd[1234]: guest1 SA_libvirtgr.so: TestFailed: domain1 not found on 10.77.0.1

                """,
            zoneOffset: 0
        )
        #expect(log.results.count == 2)
        let worked = try #require(log.results.first)
        #expect(worked.node == "guest2")
        #expect(worked.agent == "SA_libvirtgp")
        #expect(worked.worked)
        #expect(worked.time == Self.time)
        let failed = try #require(log.results.last)
        #expect(failed.node == "guest1")
        #expect(failed.agent == "SA_libvirtgr")
        #expect(!failed.worked)
        #expect(failed.time == Self.time + 5)
    }

    @Test func theLatestResultPerNodeAndAgentWinsWhateverTheLineOrder() {
        // A rotated or merged log: the newest line of guest1's SA_libvirtgp comes first.
        let log = ShutdownFacilityLog(
            parsing: """
                2026-11-30 04:20:30 rcsd[1234]: guest1 SA_libvirtgp.so: TestFailed: domain1 not running on 10.77.0.1
                2026-11-30 04:00:30 rcsd[1234]: guest2 SA_libvirtgp.so: TestWorked: domain2 running on 10.77.0.2
                2026-11-30 04:10:30 rcsd[1234]: guest1 SA_libvirtgp.so: TestWorked: domain1 running on 10.77.0.1
                2026-11-30 04:15:30 rcsd[1234]: guest2 SA_libvirtgp.so: TestWorked: domain2 running on 10.77.0.2
                """,
            zoneOffset: 0
        )
        #expect(log.results.map(\.node) == ["guest1", "guest2"])
        let guest1 = log.latest(node: "guest1", agent: "SA_libvirtgp")
        #expect(guest1?.worked == false)
        #expect(guest1?.time == Self.time + 600)
        #expect(log.latest(node: "guest2", agent: "SA_libvirtgp")?.time == Self.time + 300)
    }

    @Test func latestFindsAnAgentWithOrWithoutSo() {
        let log = ShutdownFacilityLog(
            parsing: "2026-11-30 04:10:30 rcsd[99]: guest1 SA_libvirtgr.so: TestWorked: domain1 running on 10.77.0.1\n",
            zoneOffset: 0
        )
        #expect(log.latest(node: "guest1", agent: "SA_libvirtgr")?.worked == true)
        #expect(log.latest(node: "guest1", agent: "SA_libvirtgr.so")?.worked == true)
        #expect(log.latest(node: "guest1", agent: "SA_libvirtgp") == nil)
        #expect(log.latest(node: "guest2", agent: "SA_libvirtgr") == nil)
    }

    @Test(arguments: [
        "2026-11-30 04:10:30 rcsd[1234]: guest1 SA_libvirtgp.so: InitWorked",
        "2026-11-30 04:10:30 rcsd[1234]: configuration loaded",
        "garbage: TestWorked",
        "",
        "2026-11-30 04:10 rcsd[1234]: guest1 SA_libvirtgp.so: TestWorked: domain1 running on 10.77.0.1",
        "2026-13-30 04:10:30 rcsd[1234]: guest1 SA_libvirtgp.so: TestWorked: domain1 running on 10.77.0.1",
        "2026-11-30 24:10:30 rcsd[1234]: guest1 SA_libvirtgp.so: TestWorked: domain1 running on 10.77.0.1",
        "Nov 30 04:10:30 rcsd[1234]: guest1 SA_libvirtgp.so: TestWorked: domain1 running on 10.77.0.1",
        "2026-11-30 04:10:30 rcsd[1234]: guest1 SA_libvirtgp.so TestWorked without its colon",
    ])
    func otherLinesAreIgnored(line: String) {
        let log = ShutdownFacilityLog(parsing: line + "\n", zoneOffset: 0)
        #expect(log.results.isEmpty)
    }

    @Test func aNodeAheadOfUTCHasItsLocalTimesShiftedBack() {
        // A +0900 node logs 13:10:30 for 04:10:30 UTC; a -0130 node logs 02:40:30.
        let tokyo = ShutdownFacilityLog(
            parsing: "2026-11-30 13:10:30 rcsd[1]: guest1 SA_libvirtgp.so: TestWorked: domain1 running on 10.77.0.1\n",
            zoneOffset: 32_400
        )
        #expect(tokyo.results.first?.time == Self.time)
        let west = ShutdownFacilityLog(
            parsing: "2026-11-30 02:40:30 rcsd[1]: guest1 SA_libvirtgp.so: TestWorked: domain1 running on 10.77.0.1\n",
            zoneOffset: -5_400
        )
        #expect(west.results.first?.time == Self.time)
    }

    @Test(arguments: [(1970, 1, 1), (2000, 3, 1), (2000, 2, 29), (2026, 11, 30), (1969, 12, 31), (2100, 3, 1)])
    func daysFromCivilAgreesWithFoundation(year: Int, month: Int, day: Int) throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        let date = try #require(calendar.date(from: DateComponents(year: year, month: month, day: day)))
        #expect(
            ShutdownFacilityLog.daysFromCivil(year: year, month: month, day: day)
                == Int((date.timeIntervalSince1970 / 86_400).rounded())
        )
        #expect(ShutdownFacilityLog.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
    }

    /// A TestFailed line whose reason quotes "TestWorked" is a failure: the first result in the line counts.
    @Test func aTestFailedLineWhoseReasonMentionsTestWorkedIsAFailure() {
        let log = ShutdownFacilityLog(
            parsing: "2026-11-30 04:10:30 rcsd[1]: guest1 SA_libvirtgp.so: TestFailed: ssh to 10.77.0.1 timed out "
                + "(previous result: TestWorked)\n",
            zoneOffset: 0
        )
        #expect(log.latest(node: "guest1", agent: "SA_libvirtgp")?.worked == false)
    }
}
