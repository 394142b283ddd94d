import Testing

@testable import Cluster

@Suite struct TextLineTests {
    @Test(arguments: [
        ("", [TextLine]()),
        ("a", [TextLine(content: "a", terminator: "")]),
        ("a\n", [TextLine(content: "a", terminator: "\n")]),
        ("a\r\nb", [TextLine(content: "a", terminator: "\r\n"), TextLine(content: "b", terminator: "")]),
        ("\n\n", [TextLine(content: "", terminator: "\n"), TextLine(content: "", terminator: "\n")]),
        ("a\rb\n", [TextLine(content: "a\rb", terminator: "\n")]),
        ("\r\n", [TextLine(content: "", terminator: "\r\n")]),
    ])
    func splitsAtLineTerminators(text: String, lines: [TextLine]) {
        #expect(TextLine.split(text) == lines)
        #expect(TextLine.join(lines) == text)
    }

    @Test(arguments: ["", " ", "a", " a ", "a\tb  c", "\ta b\t", "x\u{0301} y"])
    func fieldLinesRenderTheSameText(content: String) {
        #expect(FieldLine(content).rendered == content)
        #expect(FieldLine(content).separators.count == FieldLine(content).fields.count + 1)
    }

    @Test func excerptsShortenLongText() {
        #expect(excerpt("short") == "short")
        #expect(excerpt(String(repeating: "x", count: 100)) == String(repeating: "x", count: 60) + "…")
    }

    /// What a node prints reaches the operator's terminal: an escape sequence, a NUL, a carriage return or a
    /// right-to-left override must not act there (issue 9: bad bytes in every command's output).
    @Test func controlAndFormatCharactersAreShownNotSent() {
        #expect(excerpt("\u{1B}[2Jcleared") == "\\u{1B}[2Jcleared")
        #expect(excerpt("a\0b\rc\td") == "a\\u{0}b\\u{D}c\\u{9}d")
        #expect(excerpt("abc\u{202E}fed") == "abc\\u{202E}fed")
        #expect(excerpt("Grüße \u{FFFD} ✓") == "Grüße \u{FFFD} ✓")
        #expect(excerpt(String(repeating: "\u{7}", count: 100)).count == 60 * 5 + 1)
    }

    @Test func aRemoteCommandsFirstLineIsPrintableAndBounded() {
        #expect(RemoteResult.firstLine(of: "\n  \u{1B}]0;owned\u{7} rest  \nsecond") == "\\u{1B}]0;owned\\u{7} rest")
        #expect(RemoteResult.firstLine(of: String(repeating: "y", count: 500))?.count == 201)
        #expect(RemoteResult.firstLine(of: " \n \t ") == nil)
    }
}
