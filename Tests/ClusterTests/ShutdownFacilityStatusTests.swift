import Cluster
import Testing

@Suite struct ShutdownFacilityStatusTests {
    static let healthy = """
        Cluster Host    Agent             SA State      Shut State  Test State    Init State
        ------------    -----             --------      ----------  ----------    ----------
        guest1          SA_libvirtgp.so   Idle          Unknown     TestWorked    InitWorked
        guest1          SA_libvirtgr.so   Idle          Unknown     TestWorked    InitWorked
        guest2          SA_libvirtgp.so   Idle          Unknown     TestWorked    InitWorked
        guest2          SA_libvirtgr.so   Idle          Unknown     TestWorked    InitWorked

        """

    static func table(_ rows: String) -> String {
        """
        Cluster Host    Agent             SA State      Shut State  Test State    Init State
        ------------    -----             --------      ----------  ----------    ----------
        \(rows)
        """
    }

    @Test func theSpecExampleIsHealthy() throws {
        let status = try ShutdownFacilityStatus(parsing: Self.healthy)
        #expect(status.rows.count == 4)
        #expect(status.isHealthy)
        #expect(!status.hasFailures)
        #expect(!status.isSettling)
        #expect(status.problems.isEmpty)
        let row = try #require(status.rows.first)
        #expect(row.nodeName == "guest1")
        #expect(row.agent == "SA_libvirtgp.so")
        #expect(row.agentName == "SA_libvirtgp")
        #expect(row.agentState == .idle)
        #expect(row.shutdownState == .unknown)
        #expect(row.testState == .testWorked)
        #expect(row.initializationState == .initializationWorked)
    }

    @Test func agentNamesCompareWithoutSo() throws {
        let status = try ShutdownFacilityStatus(parsing: Self.healthy)
        #expect(status.row(for: "guest2", agent: "SA_libvirtgr")?.agent == "SA_libvirtgr.so")
        #expect(status.row(for: "guest2", agent: "SA_libvirtgr.so") != nil)
        #expect(status.row(for: "guest3", agent: "SA_libvirtgr") == nil)
        #expect(status.rows(for: "guest1").map(\.agentName) == ["SA_libvirtgp", "SA_libvirtgr"])
    }

    @Test func aFailedTestIsAFailureNamedPerNodeAndAgent() throws {
        let status = try ShutdownFacilityStatus(
            parsing: Self.table(
                """
                guest1          SA_libvirtgp.so   Idle          Unknown     TestWorked    InitWorked
                guest2          SA_libvirtgp.so   Idle          Unknown     TestFailed    InitWorked
                guest2          SA_libvirtgr.so   InitFailed    Unknown     Unknown       InitFailed
                """
            )
        )
        #expect(!status.isHealthy)
        #expect(status.hasFailures)
        #expect(!status.isSettling)
        #expect(
            status.problems == [
                "guest2 SA_libvirtgp: TestFailed",
                "guest2 SA_libvirtgr: Test State Unknown, InitFailed",
            ]
        )
    }

    @Test func rowsRightAfterStartingAreSettling() throws {
        let status = try ShutdownFacilityStatus(
            parsing: Self.table(
                """
                guest1          SA_libvirtgp.so   Init-ing      Unknown     Unknown       Init-ing
                guest1          SA_libvirtgr.so   Testing       Unknown     Testing       InitWorked
                guest2          SA_libvirtgp.so   Idle          Unknown     TestWorked    InitWorked
                """
            )
        )
        #expect(!status.isHealthy)
        #expect(!status.hasFailures)
        #expect(status.isSettling)
        #expect(
            status.problems == [
                "guest1 SA_libvirtgp: Test State Unknown, Init-ing",
                "guest1 SA_libvirtgr: Testing",
            ]
        )
    }

    @Test func unknownStatesAreKeptAndNotHealthy() throws {
        let status = try ShutdownFacilityStatus(
            parsing: Self.table("guest1  SA_new  Dreaming  Sleepy  TestPending  InitWorked")
        )
        let row = try #require(status.rows.first)
        #expect(row.agentState.rawValue == "Dreaming")
        #expect(row.shutdownState.rawValue == "Sleepy")
        #expect(row.testState == ShutdownFacilityStatus.TestState(rawValue: "TestPending"))
        #expect(!status.isHealthy)
        #expect(!status.hasFailures)
        #expect(status.isSettling)
        #expect(status.problems == ["guest1 SA_new: TestPending"])
    }

    @Test func aTableWithoutRowsIsNotHealthy() throws {
        let status = try ShutdownFacilityStatus(parsing: Self.table(""))
        #expect(status.rows.isEmpty)
        #expect(!status.isHealthy)
        #expect(status.problems == ["sdtool -s lists no shutdown agents"])
    }

    @Test(arguments: [
        // Extra spaces and tabs, no dash line, trailing blank lines.
        "Cluster   Host\tAgent SA   State Shut State Test State Init State\n"
            + "guest1 SA_libvirtgp.so Idle Unknown TestWorked InitWorked\n\n\n",
        // CRLF line endings.
        "Cluster Host    Agent             SA State      Shut State  Test State    Init State\r\n"
            + "------------    -----             --------      ----------  ----------    ----------\r\n"
            + "guest1          SA_libvirtgp.so   Idle          Unknown     TestWorked    InitWorked\r\n",
        // Leading spaces, a line before the heading, no final newline.
        "RCSD running\n  Cluster Host Agent SA State Shut State Test State Init State\n  ---- ---\n"
            + "\tguest1\tSA_libvirtgp.so\tIdle\tUnknown\tTestWorked\tInitWorked",
    ])
    func toleratesLayoutVariations(text: String) throws {
        let status = try ShutdownFacilityStatus(parsing: text)
        #expect(status.rows.count == 1)
        #expect(status.rows.first?.agentName == "SA_libvirtgp")
        #expect(status.isHealthy)
    }

    @Test(arguments: [
        "", "\n\n", "The RCSD is not running\n", "guest1 SA_libvirtgp.so Idle Unknown TestWorked InitWorked\n",
    ])
    func outputWithoutAHeadingIsAnError(text: String) {
        let error = #expect(throws: ClusterError.self) { try ShutdownFacilityStatus(parsing: text) }
        #expect(error?.code == .malformedOutput)
    }

    @Test func theErrorQuotesWhatSdtoolPrintedInstead() {
        let error = #expect(throws: ClusterError.self) {
            try ShutdownFacilityStatus(parsing: "The RCSD is not running\n")
        }
        #expect(error?.description == "sdtool -s printed no table heading: The RCSD is not running")
    }

    @Test(arguments: [
        "guest1 SA_libvirtgp.so Idle Unknown TestWorked",
        "guest1 SA_libvirtgp.so Idle Unknown TestWorked InitWorked extra",
        "guest1 SA_libvirtgp.so Idle Unknown TestWorked InitWorked\n------------ -----",
    ])
    func aRowWithoutSixColumnsIsAnError(rows: String) {
        let error = #expect(throws: ClusterError.self) { try ShutdownFacilityStatus(parsing: Self.table(rows)) }
        #expect(error?.code == .malformedOutput)
        #expect(error?.line != nil)
    }

    @Test func aVeryLongLineGivesAShortMessage() {
        let long = String(repeating: "x ", count: 50_000)
        let error = #expect(throws: ClusterError.self) { try ShutdownFacilityStatus(parsing: Self.table(long)) }
        #expect((error?.description.count ?? .max) < 200)
        #expect(throws: ClusterError.self) { try ShutdownFacilityStatus(parsing: long) }
    }
}
