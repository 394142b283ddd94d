import Cluster
import Testing

@Suite struct CFSetOutputTests {
    @Test func readsTheOneLineFormOfTheManual() throws {
        let output = try CFSetOutput(
            parsing:
                "From cfset configuration in CF module: KEY: CFCP VALUE: cfcp KEY: CFSH VALUE: cfsh "
                + "KEY: CLUSTER_TIMEOUT VALUE: 600\n"
        )
        #expect(output.values == ["CFCP": "cfcp", "CFSH": "cfsh", "CLUSTER_TIMEOUT": "600"])
        #expect(output.pairs.map(\.name) == ["CFCP", "CFSH", "CLUSTER_TIMEOUT"])
        #expect(output.clusterTimeout == 600)
    }

    @Test(arguments: [
        "From cfset configuration in CF module:\nKEY: CFCP VALUE: cfcp\nKEY: CFSH VALUE: cfsh\n"
            + "KEY: CLUSTER_TIMEOUT VALUE: 600\n",
        "From cfset configuration in CF module:\r\nKEY: CFCP\tVALUE: cfcp\r\nKEY:   CFSH   VALUE:   cfsh\r\n\r\n"
            + "KEY: CLUSTER_TIMEOUT VALUE: 600\r\n\r\n",
        "KEY: CFCP\nVALUE: cfcp\nKEY: CFSH\nVALUE: cfsh\nKEY: CLUSTER_TIMEOUT\nVALUE: 600",
        "KEY:CFCP VALUE:cfcp KEY:CFSH VALUE:cfsh KEY:CLUSTER_TIMEOUT VALUE:600",
    ])
    func toleratesLinesAndSpacing(text: String) throws {
        let output = try CFSetOutput(parsing: text)
        #expect(output.values == ["CFCP": "cfcp", "CFSH": "cfsh", "CLUSTER_TIMEOUT": "600"])
        #expect(output.clusterTimeout == 600)
    }

    @Test func timeoutIsTenWhenNotPrinted() throws {
        let output = try CFSetOutput(parsing: "From cfset configuration in CF module: KEY: CFCP VALUE: cfcp")
        #expect(output.clusterTimeout == 10)
        #expect(output.value(for: "CLUSTER_TIMEOUT") == nil)
    }

    @Test func valuesMayBeEmptyOrHaveSeveralWords() throws {
        let output = try CFSetOutput(parsing: "KEY: EMPTY VALUE: KEY: NOTE VALUE: two   words\n")
        #expect(output.value(for: "EMPTY") == "")
        #expect(output.value(for: "NOTE") == "two words")
    }

    @Test(arguments: ["", "\n  \n", "cfset: cannot open /dev/cf: No such device\n"])
    func outputWithoutPairsIsAnError(text: String) {
        let error = #expect(throws: ClusterError.self) { try CFSetOutput(parsing: text) }
        #expect(error?.code == .malformedOutput)
    }

    @Test func theErrorQuotesWhatCfsetPrintedInstead() {
        let error = #expect(throws: ClusterError.self) {
            try CFSetOutput(parsing: "cfset: cannot open /dev/cf: No such device\n")
        }
        #expect(error?.description.contains("cannot open /dev/cf") == true)
    }

    @Test(arguments: [
        "KEY: CFCP",
        "KEY: CFCP KEY: CFSH VALUE: cfsh",
        "KEY: VALUE: cfcp",
        "KEY: TWO WORDS VALUE: x",
        "KEY: CLUSTER_TIMEOUT VALUE: soon",
    ])
    func malformedPairsAreErrors(text: String) {
        let error = #expect(throws: ClusterError.self) { try CFSetOutput(parsing: text) }
        #expect(error?.code == .malformedOutput)
    }

    @Test func aKeyPrintedTwiceIsAnError() {
        let error = #expect(throws: ClusterError.self) {
            try CFSetOutput(parsing: "KEY: CLUSTER_TIMEOUT VALUE: 600 KEY: CLUSTER_TIMEOUT VALUE: 10")
        }
        #expect(error?.code == .duplicateKey)
    }

    @Test func aVeryLongValueIsKept() throws {
        let long = String(repeating: "v", count: 100_000)
        #expect(try CFSetOutput(parsing: "KEY: LONG VALUE: \(long)").value(for: "LONG") == long)
    }
}
