/// One line of a text file: its content and the line terminator that followed it.
///
/// Splitting a text into lines and joining them again gives back the same bytes, whatever the line endings
/// (`\n`, `\r\n`, or none on the last line). Every file type in this module keeps the lines it doesn't edit as
/// `TextLine`s, which is how an unchanged file renders byte for byte.
struct TextLine: Sendable, Hashable {
    /// The line without its terminator.
    var content: String

    /// `"\n"`, `"\r\n"`, or `""` for a last line without one.
    var terminator: String

    /// The line as it appears in the file.
    var text: String {
        self.content + self.terminator
    }

    /// Splits a text into lines. An empty text has no lines; a final terminator doesn't start another line.
    static func split(_ text: String) -> [TextLine] {
        var lines: [TextLine] = []
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var index = start
        while index < scalars.endIndex {
            guard scalars[index] == "\n" else {
                index = scalars.index(after: index)
                continue
            }
            var contentEnd = index
            var terminator = "\n"
            if contentEnd > start, scalars[scalars.index(before: contentEnd)] == "\r" {
                contentEnd = scalars.index(before: contentEnd)
                terminator = "\r\n"
            }
            lines.append(TextLine(content: String(scalars[start..<contentEnd]), terminator: terminator))
            index = scalars.index(after: index)
            start = index
        }
        if start < scalars.endIndex {
            lines.append(TextLine(content: String(scalars[start...]), terminator: ""))
        }
        return lines
    }

    /// Joins lines back into a text.
    static func join(_ lines: [TextLine]) -> String {
        var text = ""
        for line in lines {
            text += line.content
            text += line.terminator
        }
        return text
    }

    /// The terminator a line added to these lines should get: the first one the file uses, else `"\n"`.
    static func newline(of lines: [TextLine]) -> String {
        lines.first { !$0.terminator.isEmpty }?.terminator ?? "\n"
    }

    /// Whether a scalar separates fields: space, tab, and the carriage return, vertical tab and form feed that a
    /// file edited on another system may carry.
    static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\u{0B}" || scalar == "\u{0C}"
    }

    /// Whether the content is empty or only blanks.
    var isBlank: Bool {
        self.content.unicodeScalars.allSatisfy(TextLine.isBlank)
    }

    /// The content's blank-separated words.
    var words: [String] {
        FieldLine(self.content).fields
    }
}

/// Shortens text quoted in an error message, so that a hostile very long line can't flood the terminal, and makes it
/// safe to print (``printable(_:limit:)``).
///
/// Only for text that can't hold a password.
func excerpt(_ text: String, limit: Int = 60) -> String {
    printable(text, limit: limit)
}

/// Text from a node made safe for one line of a terminal or a log: control and format characters (an escape
/// sequence, a NUL, a carriage return, a right-to-left override, a line separator) are shown as `\u{1B}`, and at most
/// `limit` characters are kept, then `…`. Ordinary text, also non-ASCII, is unchanged. The audit trail's records
/// use it too.
public func printable(_ text: some StringProtocol, limit: Int) -> String {
    var result = ""
    var count = 0
    for scalar in text.unicodeScalars {
        guard count < limit else { return result + "…" }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse:
            result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        default:
            result.unicodeScalars.append(scalar)
        }
        count += 1
    }
    return result
}
