import Cluster
import Testing

@Suite struct ShutdownDaemonConfigTests {
    static let guests = """
        # rcsd.cfg of the guest cluster
        guest1,weight=1,admIP=10.0.0.11:agent=SA_libvirtgp,timeout=35:agent=SA_libvirtgr,timeout=35
        guest2,admIP=10.0.0.12:agent=SA_libvirtgp,timeout=35:agent=SA_libvirtgr,timeout=35

        guest3:agent=SA_libvirtgp,timeout=35

        """

    // MARK: - Reading

    @Test func readsTheManualExample() throws {
        let config = try ShutdownDaemonConfig(
            parsing: "node1,weight=2,admIP=fuji2:agent=SA_mmbp,timeout=20:agent=SA_mmbr,timeout=20\n"
        )
        let entry = try #require(config.entry(for: "node1"))
        #expect(entry.weight == 2)
        #expect(entry.administrativeAddress == "fuji2")
        #expect(entry.agents.map(\.name) == ["SA_mmbp", "SA_mmbr"])
        #expect(entry.agents.map(\.timeout) == [20, 20])
        #expect(entry.otherAttributes.isEmpty)
    }

    @Test func readsGuestsWithDefaults() throws {
        let config = try ShutdownDaemonConfig(parsing: Self.guests)
        #expect(config.entries.map(\.nodeName) == ["guest1", "guest2", "guest3"])
        let guest2 = try #require(config.entry(for: "guest2"))
        #expect(guest2.weight == 1)
        #expect(guest2.administrativeAddress == "10.0.0.12")
        let guest3 = try #require(config.entry(for: "guest3"))
        #expect(guest3.administrativeAddress == nil)
        #expect(guest3.agents == [.init(name: "SA_libvirtgp", timeout: 35, otherAttributes: [])])
        #expect(config.entry(for: "guest4") == nil)
    }

    @Test func readsTheHostCheckAgentAndAgentNamesCompareWithoutSo() throws {
        let config = try ShutdownDaemonConfig(
            parsing:
                "guest1,weight=1,admIP=10.0.0.11:agent=SA_libvirtgp,timeout=35:agent=SA_libvirtgr,timeout=35"
                + ":agent=SA_vmchkhost,timeout=35"
        )
        let entry = try #require(config.entry(for: "guest1"))
        #expect(entry.agents.count == 3)
        #expect(entry.agent(named: "SA_vmchkhost.so")?.timeout == 35)
        #expect(entry.agent(named: "SA_other") == nil)
    }

    @Test func keepsUnknownAttributes() throws {
        let text = "node1,weight=2,zone=a,admIP=fuji2:agent=SA_mmbp,timeout=20,retry=3\n"
        let config = try ShutdownDaemonConfig(parsing: text)
        let entry = try #require(config.entry(for: "node1"))
        #expect(entry.otherAttributes == [.init(key: "zone", value: "a")])
        #expect(entry.agents[0].otherAttributes == [.init(key: "retry", value: "3")])
        #expect(config.rendered == text)
    }

    @Test func anIPv6AdministrativeAddressKeepsItsColons() throws {
        let text = "node1,admIP=fe80::1:2:agent=SA_mmbp,timeout=20\n"
        let config = try ShutdownDaemonConfig(parsing: text)
        #expect(config.entry(for: "node1")?.administrativeAddress == "fe80::1:2")
        #expect(config.entry(for: "node1")?.agents.map(\.name) == ["SA_mmbp"])
        #expect(
            try config.settingWeight(3, for: "node1").rendered
                == "node1,weight=3,admIP=fe80::1:2:agent=SA_mmbp,timeout=20\n"
        )
    }

    // MARK: - Round trip

    @Test(arguments: [
        guests,
        "",
        "# only\n#comments",
        "guest1:agent=SA_libvirtgp,timeout=35",
        "  guest1 , weight = 2 ,admIP=10.0.0.11 : agent=SA_libvirtgp , timeout=35\t\n",
        "guest1,weight=1:agent=SA_libvirtgp,timeout=35\r\nguest2:agent=SA_libvirtgp,timeout=35\r\n",
        "\t# indented comment\n\nguest1:agent=SA_libvirtgp,timeout=35\n\n\n",
    ])
    func unchangedFileRendersTheSameBytes(text: String) throws {
        #expect(Array(try ShutdownDaemonConfig(parsing: text).rendered.utf8) == Array(text.utf8))
    }

    @Test func blanksAroundSeparatorsDoNotChangeTheMeaning() throws {
        let config = try ShutdownDaemonConfig(
            parsing: "  guest1 , weight = 2 ,admIP=10.0.0.11 : agent=SA_libvirtgp , timeout=35\t\n"
        )
        let entry = try #require(config.entry(for: "guest1"))
        #expect(entry.weight == 2)
        #expect(entry.administrativeAddress == "10.0.0.11")
        #expect(entry.agents == [.init(name: "SA_libvirtgp", timeout: 35, otherAttributes: [])])
    }

    // MARK: - Weight

    @Test func settingAnExistingWeightChangesOnlyItsValue() throws {
        let edited = try ShutdownDaemonConfig(parsing: Self.guests).settingWeight(5, for: "guest1")
        #expect(edited.entry(for: "guest1")?.weight == 5)
        #expect(changedLineNumbers(Self.guests, edited.rendered) == [2])
        #expect(edited.rendered.contains("guest1,weight=5,admIP=10.0.0.11:agent=SA_libvirtgp,timeout=35:"))
    }

    @Test func settingAnAbsentWeightInsertsItAfterTheName() throws {
        let config = try ShutdownDaemonConfig(parsing: Self.guests)
        let edited = try config.settingWeight(2, for: "guest2").settingWeight(4, for: "guest3")
        #expect(changedLineNumbers(Self.guests, edited.rendered) == [3, 5])
        #expect(edited.rendered.contains("\nguest2,weight=2,admIP=10.0.0.12:agent=SA_libvirtgp,timeout=35:agent="))
        #expect(edited.rendered.contains("\nguest3,weight=4:agent=SA_libvirtgp,timeout=35\n"))
    }

    @Test func settingTheCurrentWeightChangesNothing() throws {
        let config = try ShutdownDaemonConfig(parsing: Self.guests)
        #expect(try config.settingWeight(1, for: "guest1").rendered == Self.guests)
        #expect(try config.settingWeight(1, for: "guest2").rendered == Self.guests)
    }

    @Test func settingTheWeightTwiceGivesTheSameText() throws {
        let once = try ShutdownDaemonConfig(parsing: Self.guests).settingWeight(3, for: "guest2")
        #expect(try once.settingWeight(3, for: "guest2").rendered == once.rendered)
    }

    @Test func editingKeepsSpacingAndLineEndings() throws {
        let text =
            "guest1 , weight = 2 ,admIP=10.0.0.11:agent=SA_libvirtgp,timeout=35\r\n"
            + "guest2:agent=SA_libvirtgp,timeout=35\r\n"
        let edited = try ShutdownDaemonConfig(parsing: text).settingWeight(7, for: "guest1")
        #expect(
            edited.rendered
                == "guest1 , weight = 7 ,admIP=10.0.0.11:agent=SA_libvirtgp,timeout=35\r\n"
                + "guest2:agent=SA_libvirtgp,timeout=35\r\n"
        )
    }

    @Test func weightEditsAreChecked() throws {
        let config = try ShutdownDaemonConfig(parsing: Self.guests)
        #expect(throws: ClusterError.self) { try config.settingWeight(0, for: "guest1") }
        let unknown = #expect(throws: ClusterError.self) { try config.settingWeight(2, for: "guest9") }
        #expect(unknown?.code == .unknownNode)
    }

    // MARK: - Agents

    @Test func addingAnAgentAppendsItToThatNodeOnly() throws {
        let edited = try ShutdownDaemonConfig(parsing: Self.guests).addingAgent(
            "SA_vmchkhost",
            timeout: 35,
            for: "guest1"
        )
        #expect(changedLineNumbers(Self.guests, edited.rendered) == [2])
        #expect(
            edited.rendered.contains(
                "guest1,weight=1,admIP=10.0.0.11:agent=SA_libvirtgp,timeout=35:agent=SA_libvirtgr,timeout=35"
                    + ":agent=SA_vmchkhost,timeout=35\n"
            )
        )
        #expect(
            edited.entry(for: "guest1")?.agents.last == .init(name: "SA_vmchkhost", timeout: 35, otherAttributes: [])
        )
    }

    @Test func addingAnAgentTwiceGivesTheSameText() throws {
        let once = try ShutdownDaemonConfig(parsing: Self.guests).addingAgent(
            "SA_vmchkhost",
            timeout: 35,
            for: "guest3"
        )
        let twice = try once.addingAgent("SA_vmchkhost", timeout: 35, for: "guest3")
        #expect(twice.rendered == once.rendered)
        #expect(twice.entry(for: "guest3")?.agents.count == 2)
    }

    @Test func addingAPresentAgentSetsItsTimeoutInPlace() throws {
        let config = try ShutdownDaemonConfig(parsing: Self.guests)
        #expect(try config.addingAgent("SA_libvirtgp.so", timeout: 35, for: "guest1").rendered == Self.guests)
        let edited = try config.addingAgent("SA_libvirtgp", timeout: 60, for: "guest1")
        #expect(changedLineNumbers(Self.guests, edited.rendered) == [2])
        #expect(edited.entry(for: "guest1")?.agents.map(\.timeout) == [60, 35])
    }

    @Test func removingAnAgentTouchesOnlyThatNode() throws {
        let config = try ShutdownDaemonConfig(parsing: Self.guests)
        let edited = try config.removingAgent("SA_libvirtgr.so", for: "guest2")
        #expect(changedLineNumbers(Self.guests, edited.rendered) == [3])
        #expect(edited.rendered.contains("\nguest2,admIP=10.0.0.12:agent=SA_libvirtgp,timeout=35\n"))
        #expect(try edited.removingAgent("SA_libvirtgr", for: "guest2").rendered == edited.rendered)
    }

    @Test func addingThenRemovingGivesBackTheFile() throws {
        let config = try ShutdownDaemonConfig(parsing: Self.guests)
        let restored = try config.addingAgent("SA_vmchkhost", timeout: 35, for: "guest1")
            .removingAgent("SA_vmchkhost", for: "guest1")
        #expect(restored.rendered == Self.guests)
    }

    @Test func agentEditsAreChecked() throws {
        let config = try ShutdownDaemonConfig(parsing: Self.guests)
        let lastAgent = #expect(throws: ClusterError.self) { try config.removingAgent("SA_libvirtgp", for: "guest3") }
        #expect(lastAgent?.code == .invalidValue)
        for name in ["", "SA x", "SA:x", "SA,x", "SA=x"] {
            let error = #expect(throws: ClusterError.self) { try config.addingAgent(name, timeout: 35, for: "guest1") }
            #expect(error?.code == .invalidValue)
        }
        #expect(throws: ClusterError.self) { try config.addingAgent("SA_vmchkhost", timeout: 0, for: "guest1") }
        let unknown = #expect(throws: ClusterError.self) { try config.removingAgent("SA_libvirtgp", for: "nobody") }
        #expect(unknown?.code == .unknownNode)
    }

    // MARK: - Malformed input

    @Test(arguments: [
        ("guest1", ClusterError.Code.malformedFile),
        ("guest1,weight=1", .malformedFile),
        (":agent=SA_libvirtgp,timeout=35", .malformedFile),
        ("weight=1:agent=SA_libvirtgp,timeout=35", .malformedFile),
        ("guest1,heavy:agent=SA_libvirtgp,timeout=35", .malformedFile),
        ("guest1,weight=abc:agent=SA_libvirtgp,timeout=35", .malformedFile),
        ("guest1,weight=0:agent=SA_libvirtgp,timeout=35", .malformedFile),
        ("guest1,weight=1,weight=2:agent=SA_libvirtgp,timeout=35", .malformedFile),
        ("guest1:agent=SA_libvirtgp", .malformedFile),
        ("guest1:agent=SA_libvirtgp,timeout=", .malformedFile),
        ("guest1:timeout=35", .malformedFile),
        ("guest1:agent=,timeout=35", .malformedFile),
        ("guest1:agent=SA_libvirtgp,timeout=35,agent=SA_libvirtgr,timeout=35", .malformedFile),
        ("guest one:agent=SA_libvirtgp,timeout=35", .malformedFile),
        ("guest1:agent=SA_libvirtgp,timeout=35\nguest1:agent=SA_libvirtgr,timeout=35", .duplicateKey),
    ])
    func malformedLinesAreErrors(text: String, code: ClusterError.Code) {
        let error = #expect(throws: ClusterError.self) { try ShutdownDaemonConfig(parsing: "# head\n" + text) }
        #expect(error?.code == code)
        #expect(error?.line == (code == .duplicateKey ? 3 : 2))
    }

    @Test func aVeryLongLineGivesAShortMessage() {
        let long = String(repeating: "n", count: 100_000)
        let error = #expect(throws: ClusterError.self) { try ShutdownDaemonConfig(parsing: long) }
        #expect((error?.description.count ?? .max) < 200)
    }
}
