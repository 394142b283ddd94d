import Foundation
import Libvirt
import Migration
import Testing

@testable import kvmmigrate

@Suite struct ColumnsTests {
    @Test(arguments: [
        ("abc", 3), ("✓ done", 6), ("───", 3), ("a │ b", 5), ("…", 1), ("中文", 4), ("ｶﾀｶﾅ", 4), ("カタカナ", 8),
        ("한국", 4), ("e\u{301}", 1), ("🇩🇪", 2), ("\u{1B}", 0), ("a\u{200B}b", 2), ("", 0),
    ])
    func widthCountsColumnsNotBytesOrCharacters(_ text: String, _ columns: Int) {
        #expect(Columns.width(of: text) == columns, "\(text)")
    }

    @Test func cutKeepsWholeCharactersWithinTheWidth() {
        #expect(Columns.cut("a─b─c", to: 3) == "a─b")
        #expect(Columns.cut("中文字", to: 5) == "中文")  // the third would stand half over the edge
        #expect(Columns.cut("中文字", to: 6) == "中文字")
        #expect(Columns.cut("e\u{301}x", to: 1) == "e\u{301}")
        #expect(Columns.cut("short", to: 80) == "short")
        #expect(Columns.cut("abc", to: 0) == "")
    }

    @Test func fitLeavesOutPartsInOrderBeforeCutting() {
        let parts = ["phase", "amounts amounts", "rate", "dirty", "99%", "00:01.0"]
        let all = parts.joined(separator: " | ")
        #expect(Columns.fit(parts, separator: " | ", width: 200, dropOrder: [3, 2, 1]) == all)
        #expect(
            Columns.fit(parts, separator: " | ", width: 46, dropOrder: [3, 2, 1])
                == "phase | amounts amounts | rate | 99% | 00:01.0"
        )
        #expect(
            Columns.fit(parts, separator: " | ", width: 45, dropOrder: [3, 2, 1])
                == "phase | amounts amounts | 99% | 00:01.0"
        )
        #expect(Columns.fit(parts, separator: " | ", width: 24, dropOrder: [3, 2, 1]) == "phase | 99% | 00:01.0")
        #expect(Columns.fit(parts, separator: " | ", width: 8, dropOrder: [3, 2, 1]) == "phase | ")
    }

    @Test(arguments: [10, 17, 24, 40])
    func wrappingBreaksAtSpacesWithinTheWidth(_ width: Int) {
        let text = "the destination 中文 host answers ✓ but qemu+tcp://10.77.0.2/system-with-a-long-path does not"
        let lines = Columns.wrapped(text, width: width, breakingWords: true)
        for line in lines { #expect(Columns.width(of: line) <= width, "\(line)") }
        #expect(lines.joined().filter { $0 != " " } == text.filter { $0 != " " })
        // Without breaking words, only a word longer than the width overflows.
        for line in Columns.wrapped(text, width: width) where Columns.width(of: line) > width {
            #expect(!line.contains(" "), "\(line)")
        }
    }

    @Test func wrappedLinesContinueUnderTheirIndent() {
        let text = "  ✓ guest1: a message long enough to need a second line on a narrow terminal"
        let lines = Columns.wrapped(lines: text, width: 40).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { Columns.width(of: $0) <= 40 })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("    ") && !$0.hasPrefix("     ") })
    }
}
