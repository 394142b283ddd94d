import Cluster
import Foundation
import Testing

@Suite struct ClusterConfigFileTests {
    static let example = """
        # CF configuration
        CFCP "cfcp"
        CFSH 'cfsh'

        CLUSTER_TIMEOUT "10"
        # end

        """

    // MARK: - Reading

    @Test func readsPairsInBothQuoteStyles() throws {
        let file = try ClusterConfigFile(parsing: Self.example)
        #expect(file.value(for: "CFCP") == "cfcp")
        #expect(file.value(for: "CFSH") == "cfsh")
        #expect(file.value(for: "MISSING") == nil)
        #expect(file.pairs.map(\.name) == ["CFCP", "CFSH", "CLUSTER_TIMEOUT"])
        #expect(file.clusterTimeout == 10)
    }

    @Test func timeoutIsTenWhenAbsent() throws {
        #expect(try ClusterConfigFile(parsing: "CFCP \"cfcp\"\n").clusterTimeout == 10)
        #expect(try ClusterConfigFile(parsing: "").clusterTimeout == 10)
    }

    @Test func readsThePreparedTimeout() throws {
        #expect(try ClusterConfigFile(parsing: "CLUSTER_TIMEOUT \"600\"\n").clusterTimeout == 600)
        #expect(try ClusterConfigFile(parsing: "\tCLUSTER_TIMEOUT\t'600'  ").clusterTimeout == 600)
    }

    @Test func valuesMayHoldBlanksAndTheOtherQuote() throws {
        let file = try ClusterConfigFile(parsing: "A \"it's here\"\nB '\"quoted\"'\nC \"\"\n")
        #expect(file.value(for: "A") == "it's here")
        #expect(file.value(for: "B") == "\"quoted\"")
        #expect(file.value(for: "C") == "")
    }

    // MARK: - Round trip

    @Test(arguments: [
        example,
        "",
        "\n\n",
        "# only a comment",
        "CLUSTER_TIMEOUT \"600\"",
        "CLUSTER_TIMEOUT '600'\n",
        "   CFCP    \"cfcp\"   \n\tCFSH\t'cfsh'\t\n",
        "# comment\r\nCLUSTER_TIMEOUT \"600\"\r\nCFCP 'cfcp'\r\n",
        "CFCP \"cfcp\"\r\nCFSH \"cfsh\"\n# mixed line endings, no final newline",
        "#\n#CLUSTER_TIMEOUT \"5\"\n   \n",
        "A \"\u{00E9}t\u{00E9} caf\u{0065}\u{0301}\"\n",
    ])
    func unchangedFileRendersTheSameBytes(text: String) throws {
        let file = try ClusterConfigFile(parsing: text)
        #expect(Array(file.rendered.utf8) == Array(text.utf8))
    }

    // MARK: - Editing

    @Test func settingTheTimeoutReplacesOnlyItsValue() throws {
        let file = try ClusterConfigFile(parsing: Self.example)
        let prepared = try file.settingClusterTimeout(600)
        #expect(prepared.clusterTimeout == 600)
        #expect(prepared.rendered == Self.example.replacingOccurrences(of: "\"10\"", with: "\"600\""))
        #expect(changedLineNumbers(Self.example, prepared.rendered) == [5])
    }

    @Test func settingKeepsTheQuoteStyleAndSpacing() throws {
        let text = "CFCP \"cfcp\"\n  CLUSTER_TIMEOUT\t\t'10'  \r\n"
        let prepared = try ClusterConfigFile(parsing: text).settingClusterTimeout(600)
        #expect(prepared.rendered == "CFCP \"cfcp\"\n  CLUSTER_TIMEOUT\t\t'600'  \r\n")
    }

    @Test func settingTwiceGivesTheSameText() throws {
        let once = try ClusterConfigFile(parsing: Self.example).settingClusterTimeout(600)
        let twice = try once.settingClusterTimeout(600)
        #expect(twice.rendered == once.rendered)
        #expect(twice == once)
    }

    @Test func restoringTheOriginalValueGivesBackTheOriginalFile() throws {
        let original = try ClusterConfigFile(parsing: Self.example)
        let restored = try original.settingClusterTimeout(600).settingClusterTimeout(original.clusterTimeout)
        #expect(restored.rendered == Self.example)
    }

    @Test func settingTheSameValueChangesNothing() throws {
        let file = try ClusterConfigFile(parsing: Self.example)
        #expect(try file.settingClusterTimeout(10).rendered == Self.example)
    }

    @Test func settingAnAbsentNameAppendsOneLine() throws {
        let text = "# CF\nCFCP \"cfcp\"\n"
        let prepared = try ClusterConfigFile(parsing: text).settingClusterTimeout(600)
        #expect(prepared.rendered == text + "CLUSTER_TIMEOUT \"600\"\n")
        let again = try prepared.settingClusterTimeout(900)
        #expect(again.rendered == text + "CLUSTER_TIMEOUT \"900\"\n")
        #expect(again.rendered.components(separatedBy: "CLUSTER_TIMEOUT").count == 2)
    }

    @Test(arguments: [
        ("CFCP \"cfcp\"", "CFCP \"cfcp\"\nCLUSTER_TIMEOUT \"600\""),
        ("CFCP \"cfcp\"\r\n", "CFCP \"cfcp\"\r\nCLUSTER_TIMEOUT \"600\"\r\n"),
        ("# no pairs\r\n# at all", "# no pairs\r\n# at all\r\nCLUSTER_TIMEOUT \"600\""),
        ("", "CLUSTER_TIMEOUT \"600\"\n"),
    ])
    func appendingFollowsTheFileLineEndings(text: String, expected: String) throws {
        #expect(try ClusterConfigFile(parsing: text).settingClusterTimeout(600).rendered == expected)
    }

    @Test func aValueWithTheLineQuoteSwitchesQuotes() throws {
        let file = try ClusterConfigFile(parsing: "NOTE 'plain'\n")
        #expect(try file.settingValue("it's", for: "NOTE").rendered == "NOTE \"it's\"\n")
        #expect(try file.settingValue("it's", for: "NOTE").value(for: "NOTE") == "it's")
    }

    @Test(arguments: [
        ("NOTE", "both ' and \""),
        ("NOTE", "two\nlines"),
        ("", "x"),
        ("TWO WORDS", "x"),
        ("#COMMENT", "x"),
        ("CLUSTER_TIMEOUT", "ten"),
        ("CLUSTER_TIMEOUT", "0"),
    ])
    func invalidEditsAreRejected(name: String, value: String) throws {
        let file = try ClusterConfigFile(parsing: "NOTE 'plain'\n")
        let error = #expect(throws: ClusterError.self) { try file.settingValue(value, for: name) }
        #expect(error?.code == .invalidValue)
    }

    // MARK: - Limits and malformed input

    @Test func aDuplicatedNameIsAnError() throws {
        let text = "# c\nCLUSTER_TIMEOUT \"600\"\nCFCP \"cfcp\"\nCLUSTER_TIMEOUT \"10\"\n"
        let error = try #require(#expect(throws: ClusterError.self) { try ClusterConfigFile(parsing: text) })
        #expect(error.code == .duplicateKey)
        #expect(error.line == 4)
        #expect(
            error.located(node: "guest2", path: "/etc/default/cluster.config").description
                == "guest2: /etc/default/cluster.config line 4: duplicate key CLUSTER_TIMEOUT (first on line 2)"
        )
    }

    @Test func aHundredPairsAreAllowedButNotMore() throws {
        let hundred = (1...100).map { "KEY\($0) \"\($0)\"\n" }.joined()
        let file = try ClusterConfigFile(parsing: hundred)
        #expect(file.pairs.count == 100)
        let full = #expect(throws: ClusterError.self) { try file.settingClusterTimeout(600) }
        #expect(full?.code == .malformedFile)
        let tooMany = #expect(throws: ClusterError.self) { try ClusterConfigFile(parsing: hundred + "KEY101 \"x\"\n") }
        #expect(tooMany?.code == .malformedFile)
        #expect(tooMany?.line == 101)
    }

    @Test(arguments: [
        ("CLUSTER_TIMEOUT 600", 1),
        ("CLUSTER_TIMEOUT \"600", 1),
        ("\"600\"", 1),
        ("CLUSTER_TIMEOUT\"600\"", 1),
        ("CLUSTER_TIMEOUT \"600\" # trailing comment", 1),
        ("# ok\n  # indented comments are not comments", 2),
        ("CFCP \"cfcp\"\nCLUSTER_TIMEOUT \"ten\"", 2),
        ("CLUSTER_TIMEOUT \"-5\"", 1),
        ("CLUSTER_TIMEOUT", 1),
    ])
    func malformedLinesAreErrorsWithTheirLineNumber(text: String, line: Int) {
        let error = #expect(throws: ClusterError.self) { try ClusterConfigFile(parsing: text) }
        #expect(error?.code == .malformedFile)
        #expect(error?.line == line)
    }

    @Test func aVeryLongLineParsesAndAMalformedOneGivesAShortMessage() throws {
        let long = String(repeating: "x", count: 100_000)
        #expect(try ClusterConfigFile(parsing: "LONG \"\(long)\"\n").value(for: "LONG") == long)
        let error = #expect(throws: ClusterError.self) { try ClusterConfigFile(parsing: "LONG \(long)\n") }
        #expect((error?.description.count ?? .max) < 200)
    }
}

@Suite struct ClusterConfigFileRemovalTests {
    @Test func removingAnAddedTimeoutGivesBackTheOriginalBytes() throws {
        let original = "# CF settings\nCFCP \"cfcp\"\nCFSH 'cfsh'\n"
        let file = try ClusterConfigFile(parsing: original)
        let prepared = try file.settingClusterTimeout(600)
        #expect(prepared.clusterTimeout == 600)
        let restored = prepared.removingValue(for: "CLUSTER_TIMEOUT")
        #expect(restored.rendered == original)
        #expect(restored.clusterTimeout == 10)
        #expect(file.removingValue(for: "CLUSTER_TIMEOUT").rendered == original)
    }

    /// Found by the fuzz target cluster-config: the added line had given the file a final line break that
    /// removing it left behind (and a stray CR ending the file had become part of a CRLF).
    @Test(arguments: [
        "CFCP \"cfcp\"", "CFCP \"cfcp\"\r\n# no final line break", "# only a comment", "CFCP \"cfcp\"\n\r", "\r",
    ])
    func removingAnAddedTimeoutKeepsAFileWithoutAFinalLineBreak(original: String) throws {
        let prepared = try ClusterEdits.prepared(clusterConfig: original, timeout: 600)
        #expect(try ClusterConfigFile(parsing: prepared).clusterTimeout == 600)
        #expect(!prepared.hasSuffix("\n"))
        #expect(Array(try ClusterEdits.restored(clusterConfig: prepared, before: nil).utf8) == Array(original.utf8))
    }
}
