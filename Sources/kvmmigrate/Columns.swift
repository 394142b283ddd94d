/// How many terminal columns text takes, and text cut or broken to a number of columns.
///
/// Counted per character (grapheme cluster), as a terminal places them: East Asian wide and fullwidth
/// characters and emoji take 2 columns, combining marks, format and control characters none, everything else
/// (including ✓, ─, │ and the other ambiguous-width symbols, which terminals outside CJK locales draw narrow)
/// takes 1. Bytes and `Character`s are both wrong here: ─ is 3 bytes and 1 column, 中 is 1 `Character` and 2.
enum Columns {
    /// The columns `text` takes on one line.
    static func width(of text: some StringProtocol) -> Int {
        text.reduce(0) { $0 + self.width(of: $1) }
    }

    /// The columns one character takes: its widest scalar (so `e` with a combining accent is 1, a flag or a
    /// decomposed Hangul syllable 2).
    static func width(of character: Character) -> Int {
        character.unicodeScalars.reduce(0) { max($0, self.width(of: $1)) }
    }

    static func width(of scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x20 || (0x7F..<0xA0).contains(value) { return 0 }
        if value < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if (0x1160...0x11FF).contains(value) || value == 0x200B { return 0 }  // Hangul medial jamo, zero width space
        if self.wide.contains(where: { $0.contains(value) }) || scalar.properties.isEmojiPresentation { return 2 }
        return 1
    }

    /// The East Asian Wide (W) and Fullwidth (F) blocks of Unicode's EastAsianWidth.txt, in ranges.
    private static let wide: [ClosedRange<UInt32>] = [
        0x1100...0x115F,  // Hangul Jamo initial consonants
        0x2329...0x232A,  // angle brackets
        0x2E80...0x303E,  // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
        0x3041...0x33FF,  // Hiragana, Katakana, Bopomofo, Hangul compatibility jamo, Kanbun, CJK compatibility
        0x3400...0x4DBF,  // CJK unified ideographs extension A
        0x4E00...0x9FFF,  // CJK unified ideographs
        0xA000...0xA4CF,  // Yi
        0xA960...0xA97F,  // Hangul Jamo extended A
        0xAC00...0xD7A3,  // Hangul syllables
        0xF900...0xFAFF,  // CJK compatibility ideographs
        0xFE10...0xFE19,  // vertical forms
        0xFE30...0xFE6F,  // CJK compatibility forms, small form variants
        0xFF00...0xFF60,  // fullwidth forms
        0xFFE0...0xFFE6,  // fullwidth signs
        0x1F300...0x1F64F,  // pictographs, emoticons
        0x1F900...0x1F9FF,  // supplemental symbols and pictographs
        0x20000...0x2FFFD,  // CJK extensions B and later
        0x30000...0x3FFFD,  // CJK extension G and later
    ]

    /// The longest start of `text` that takes at most `width` columns; a wide character that would stand half
    /// over the edge is left out whole.
    static func cut(_ text: String, to width: Int) -> String {
        var used = 0
        var end = text.startIndex
        for index in text.indices {
            let columns = self.width(of: text[index])
            if used + columns > width { break }
            used += columns
            end = text.index(after: index)
        }
        return end == text.endIndex ? text : String(text[..<end])
    }

    /// `parts` joined by `separator` in at most `width` columns: when they do not fit, the parts at the indices
    /// in `dropOrder` are left out one by one, in that order; when still too wide, the line is cut.
    static func fit(_ parts: [String], separator: String, width: Int, dropOrder: [Int]) -> String {
        var kept = Array(parts.indices)
        var line = parts.joined(separator: separator)
        var drops = dropOrder[...]
        while self.width(of: line) > width, let drop = drops.popFirst() {
            kept.removeAll { $0 == drop }
            line = kept.map { parts[$0] }.joined(separator: separator)
        }
        return self.cut(line, to: width)
    }

    /// `text` broken at spaces into lines of at most `width` columns. A word longer than that stays whole, or
    /// with `breakingWords` is broken into pieces of `width` columns.
    static func wrapped(_ text: String, width: Int, breakingWords: Bool = false) -> [String] {
        guard width > 0, self.width(of: text) > width else { return [text] }
        var lines: [String] = []
        var current = ""
        var currentWidth = 0
        for word in text.split(separator: " ") {
            var word = String(word)
            var wordWidth = self.width(of: word)
            if currentWidth > 0, currentWidth + 1 + wordWidth <= width {
                current += " " + word
                currentWidth += 1 + wordWidth
                continue
            }
            if currentWidth > 0 { lines.append(current) }
            while breakingWords, wordWidth > width {
                let piece = self.cut(word, to: width)
                guard !piece.isEmpty else { break }  // a wide character in a column of one
                lines.append(piece)
                word.removeFirst(piece.count)
                wordWidth = self.width(of: word)
            }
            (current, currentWidth) = (word, wordWidth)
        }
        if currentWidth > 0 || lines.isEmpty { lines.append(current) }
        return lines
    }

    /// Each line of `text` broken to `width` columns, a line's continuation lines indented `hanging` columns
    /// more than the line itself. Lines already narrow enough stay as they are.
    static func wrapped(lines text: String, width: Int, hanging: Int = 2) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard self.width(of: line) > width else { return String(line) }
            let indent = String(line.prefix { $0 == " " })
            let continuation = indent + String(repeating: " ", count: hanging)
            var lines = self.wrapped(String(line.dropFirst(indent.count)), width: width - indent.count)
            guard lines.count > 1 else { return String(line) }
            let first = indent + lines.removeFirst()
            let rest = lines.joined(separator: " ")
            return ([first] + self.wrapped(rest, width: width - continuation.count).map { continuation + $0 })
                .joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
