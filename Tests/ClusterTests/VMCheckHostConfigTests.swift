import Cluster
import Testing

@Suite struct VMCheckHostConfigTests {
    static let example = """
        # guest-CFName host-CFName host-ip user password
        guest1 host1 10.20.30.40 sfuser D0860AB04E1B8FA3
        guest2  host2  10.20.30.41  sfuser  7F3C21E9A0B4D5C6
        """

    @Test func readsGuestsAndTheirHosts() throws {
        let config = try VMCheckHostConfig(parsing: Self.example)
        let entry = try #require(config.entry(for: "guest2"))
        #expect(entry.hostNodeName == "host2")
        #expect(entry.hostAddress == "10.20.30.41")
        #expect(entry.userName == "sfuser")
        #expect(entry.password.revealedValue == "7F3C21E9A0B4D5C6")
        #expect(config.entries.map(\.guestNodeName) == ["guest1", "guest2"])
    }

    @Test(arguments: [example, "", "guest1 host1 10.20.30.40 sfuser pw\r\n\r\n", "\n# c\n\n"])
    func unchangedFileRendersTheSameBytes(text: String) throws {
        #expect(Array(try VMCheckHostConfig(parsing: text).rendered.utf8) == Array(text.utf8))
    }

    @Test func settingTheHostChangesOnlyItsTwoFields() throws {
        let edited = try VMCheckHostConfig(parsing: Self.example).settingHost(
            "host3",
            address: "10.20.30.42",
            for: "guest2"
        )
        #expect(changedLineNumbers(Self.example, edited.rendered) == [3])
        #expect(edited.rendered.hasSuffix("\nguest2  host3  10.20.30.42  sfuser  7F3C21E9A0B4D5C6"))
        #expect(edited.entry(for: "guest2")?.hostNodeName == "host3")
        #expect(edited.entry(for: "guest1") == (try VMCheckHostConfig(parsing: Self.example)).entry(for: "guest1"))
    }

    @Test func settingTheHostTwiceGivesTheSameText() throws {
        let once = try VMCheckHostConfig(parsing: Self.example).settingHost("host3", address: "10.0.0.3", for: "guest1")
        #expect(try once.settingHost("host3", address: "10.0.0.3", for: "guest1").rendered == once.rendered)
        #expect(try once.settingHost("host1", address: "10.20.30.40", for: "guest1").rendered == Self.example)
    }

    @Test func editsAreChecked() throws {
        let config = try VMCheckHostConfig(parsing: Self.example)
        let unknown = #expect(throws: ClusterError.self) {
            try config.settingHost("host3", address: "10.0.0.3", for: "guest9")
        }
        #expect(unknown?.code == .unknownNode)
        let blank = #expect(throws: ClusterError.self) {
            try config.settingHost("host 3", address: "10.0.0.3", for: "guest1")
        }
        #expect(blank?.code == .invalidValue)
    }

    @Test func malformedLinesNeverShowThePassword() {
        let error = #expect(throws: ClusterError.self) {
            try VMCheckHostConfig(parsing: "guest1 host1 10.20.30.40 D0860AB04E1B8FA3\n")
        }
        #expect(error?.code == .malformedFile)
        #expect(
            error?.description == "line 1: expected 5 fields (guest-CFName host-CFName host-ip user password), found 4"
        )
    }

    @Test func passwordsAreNeverShownAndMaskedInTheRendering() throws {
        let config = try VMCheckHostConfig(parsing: Self.example)
        #expect(!everythingShown(config).contains("D0860AB04E1B8FA3"))
        #expect(!everythingShown(config.entries).contains("7F3C21E9A0B4D5C6"))
        #expect(config.maskedRendering.hasSuffix("\nguest2  host2  10.20.30.41  sfuser  ********"))
        #expect(!config.maskedRendering.contains("D0860AB04E1B8FA3"))
    }
}
