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
}
