import Cluster
import Testing

@Suite struct LibvirtAgentConfigTests {
    static let password1 = "D0860AB04E1B8FA3"
    static let password2 = "7F3C21E9A0B4D5C6"
    static let example = """
        # CFName domain host-ip user password
        guest1 domain1 10.20.30.40 sfuser \(password1)
        guest2\tdomain2   10.20.30.41\tsfuser  \(password2)

        """

    // MARK: - Reading

    @Test func readsTheSpecExample() throws {
        let config = try LibvirtAgentConfig(parsing: "guest1 domain1 10.20.30.40 sfuser D0860AB04E1B8FA3\n")
        let entry = try #require(config.entry(for: "guest1"))
        #expect(entry.domainName == "domain1")
        #expect(entry.hostAddress == "10.20.30.40")
        #expect(entry.userName == "sfuser")
        #expect(entry.password.revealedValue == "D0860AB04E1B8FA3")
    }

    @Test func readsTabsAndRunsOfBlanks() throws {
        let config = try LibvirtAgentConfig(parsing: Self.example)
        #expect(config.entries.map(\.nodeName) == ["guest1", "guest2"])
        #expect(config.entry(for: "guest2")?.hostAddress == "10.20.30.41")
        #expect(config.entry(for: "guest3") == nil)
    }

    // MARK: - Round trip

    @Test(arguments: [
        example,
        "",
        "# only a comment",
        "guest1 domain1 10.20.30.40 sfuser \(password1)",
        "  guest1  domain1  10.20.30.40  sfuser  \(password1)  \r\n\r\n",
        "\t#\tindented comment\nguest1 domain1 10.20.30.40 sfuser \(password1)\n\n",
    ])
    func unchangedFileRendersTheSameBytes(text: String) throws {
        #expect(Array(try LibvirtAgentConfig(parsing: text).rendered.utf8) == Array(text.utf8))
    }

    // MARK: - Editing

    @Test func settingTheHostAddressChangesOnlyThatField() throws {
        let edited = try LibvirtAgentConfig(parsing: Self.example).settingHostAddress("10.20.30.99", for: "guest2")
        #expect(changedLineNumbers(Self.example, edited.rendered) == [3])
        #expect(edited.rendered.contains("guest2\tdomain2   10.20.30.99\tsfuser  \(Self.password2)\n"))
        #expect(edited.entry(for: "guest2")?.hostAddress == "10.20.30.99")
        #expect(edited.entry(for: "guest2")?.password == Secret(Self.password2))
    }

    @Test func settingTheHostAddressTwiceGivesTheSameText() throws {
        let once = try LibvirtAgentConfig(parsing: Self.example).settingHostAddress("10.20.30.99", for: "guest1")
        let twice = try once.settingHostAddress("10.20.30.99", for: "guest1")
        #expect(twice.rendered == once.rendered)
        #expect(try once.settingHostAddress("10.20.30.40", for: "guest1").rendered == Self.example)
    }

    @Test func settingTheCurrentAddressChangesNothing() throws {
        let config = try LibvirtAgentConfig(parsing: Self.example)
        #expect(try config.settingHostAddress("10.20.30.40", for: "guest1").rendered == Self.example)
    }

    @Test func editingKeepsCRLF() throws {
        let text = "guest1 domain1 10.20.30.40 sfuser \(Self.password1)\r\nguest2 domain2 10.20.30.41 sfuser x\r\n"
        let edited = try LibvirtAgentConfig(parsing: text).settingHostAddress("10.0.0.1", for: "guest1")
        #expect(
            edited.rendered
                == "guest1 domain1 10.0.0.1 sfuser \(Self.password1)\r\nguest2 domain2 10.20.30.41 sfuser x\r\n"
        )
    }

    @Test(arguments: ["", "10.0.0.1 extra", "10.0.0.1\n", "\t"])
    func invalidAddressesAreRejected(address: String) throws {
        let config = try LibvirtAgentConfig(parsing: Self.example)
        let error = #expect(throws: ClusterError.self) { try config.settingHostAddress(address, for: "guest1") }
        #expect(error?.code == .invalidValue)
    }

    @Test func anUnknownGuestIsAnError() throws {
        let config = try LibvirtAgentConfig(parsing: Self.example, fileName: "SA_libvirtgr.cfg")
        let error = #expect(throws: ClusterError.self) { try config.settingHostAddress("10.0.0.1", for: "guest9") }
        #expect(error?.code == .unknownNode)
        #expect(error?.description.contains("SA_libvirtgr.cfg") == true)
    }

    // MARK: - Malformed input

    @Test(arguments: [
        "guest1 domain1 10.20.30.40 sfuser",
        "guest1 domain1 10.20.30.40 sfuser D0860AB04E1B8FA3 extra",
        "D0860AB04E1B8FA3",
        "guest1 domain1 10.20.30.40 sfuser D0860AB04E1B8FA3 # a trailing comment",
        "guest1,domain1,10.20.30.40,sfuser,D0860AB04E1B8FA3",
    ])
    func aMalformedLineNeverShowsItsPassword(line: String) {
        let error = #expect(throws: ClusterError.self) {
            try LibvirtAgentConfig(parsing: "# head\n\(line)\n")
        }
        #expect(error?.code == .malformedFile)
        #expect(error?.line == 2)
        #expect(error?.description.contains("expected 5 fields") == true)
        #expect(error.map(everythingShown)?.contains("D0860AB04E1B8FA3") == false)
    }

    @Test func aDuplicateGuestNamesTheGuestButNotThePassword() {
        let error = #expect(throws: ClusterError.self) {
            try LibvirtAgentConfig(
                parsing: "guest1 d 10.0.0.1 u \(Self.password1)\nguest1 d 10.0.0.2 u \(Self.password2)\n"
            )
        }
        #expect(error?.code == .duplicateKey)
        #expect(error?.description == "line 2: guest1 is listed twice (first on line 1)")
    }

    @Test func aVeryLongLineGivesAShortMessage() {
        let long = String(repeating: "p", count: 100_000)
        let error = #expect(throws: ClusterError.self) { try LibvirtAgentConfig(parsing: "guest1 \(long)") }
        #expect((error?.description.count ?? .max) < 200)
    }

    // MARK: - Secrets

    @Test func passwordsAreNeverShown() throws {
        let config = try LibvirtAgentConfig(parsing: Self.example)
        for shown in [everythingShown(config), everythingShown(config.entries), everythingShown(config.entries[0])] {
            #expect(!shown.contains(Self.password1))
            #expect(!shown.contains(Self.password2))
        }
        #expect(everythingShown(config).contains("guest2"))
    }

    @Test func theMaskedRenderingHidesPasswordsAndKeepsTheRest() throws {
        let config = try LibvirtAgentConfig(parsing: Self.example)
        #expect(
            config.maskedRendering == """
                # CFName domain host-ip user password
                guest1 domain1 10.20.30.40 sfuser ********
                guest2\tdomain2   10.20.30.41\tsfuser  ********

                """
        )
        #expect(config.rendered.contains(Self.password1))
    }

    @Test func theMaskedRenderingHidesACommentedOutEntryToo() throws {
        let config = try LibvirtAgentConfig(
            parsing: "#guest1 domain1 10.0.0.1 sfuser OLDSECRET\n# guest2 domain2 10.0.0.2 sfuser OLDSECRET2\n"
        )
        #expect(
            config.maskedRendering
                == "#guest1 domain1 10.0.0.1 sfuser ********\n# guest2 domain2 10.0.0.2 sfuser ********\n"
        )
        #expect(!everythingShown(config).contains("OLDSECRET"))
    }
}
