/// The shared core of the shutdown agents' files: one line per guest, blank-separated fields in the order of a
/// ``FieldLayout``, the first field a key, one field a password; comment and blank lines kept.
///
/// Errors about a line name its number and field count, and for a well-formed line its key, but never a field's
/// text, since a misaligned line may put the password anywhere. ``description``, `dump` and reflection show the
/// masked rendering, never the password.
struct AgentFieldTable: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private enum Line: Sendable, Hashable {
        /// A comment or blank line, kept as it is.
        case verbatim(TextLine)
        case entry(FieldLine, terminator: String)
    }

    let layout: FieldLayout

    /// The file's name for messages, for example `SA_libvirtgp.cfg`.
    let fileName: String

    private var lines: [Line]

    /// Parses a file's text.
    ///
    /// - Throws: ``ClusterError`` with `.malformedFile` for a line with the wrong number of fields;
    ///   `.duplicateKey` for a key on two lines.
    init(parsing text: String, layout: FieldLayout, fileName: String) throws(ClusterError) {
        self.layout = layout
        self.fileName = fileName
        var lines: [Line] = []
        var lineNumbers: [String: Int] = [:]
        for (offset, textLine) in TextLine.split(text).enumerated() {
            let lineNumber = offset + 1
            if textLine.isBlank || ClusterFormat.isShutdownFacilityComment(textLine.content) {
                lines.append(.verbatim(textLine))
                continue
            }
            let fieldLine = FieldLine(textLine.content)
            guard fieldLine.fields.count == layout.fieldNames.count else {
                // Only the count: any field of a misaligned line may be the password.
                throw ClusterError(
                    .malformedFile,
                    "expected \(layout.fieldNames.count) fields (\(layout.summary)), found \(fieldLine.fields.count)",
                    line: lineNumber
                )
            }
            let key = fieldLine.fields[0]
            if let first = lineNumbers[key] {
                throw ClusterError(
                    .duplicateKey,
                    "\(excerpt(key)) is listed twice (first on line \(first))",
                    line: lineNumber
                )
            }
            lineNumbers[key] = lineNumber
            lines.append(.entry(fieldLine, terminator: textLine.terminator))
        }
        self.lines = lines
    }

    /// The fields of every entry line, in file order.
    var rows: [[String]] {
        self.lines.compactMap { line in
            guard case .entry(let fieldLine, _) = line else { return nil }
            return fieldLine.fields
        }
    }

    /// The text: exactly what was parsed, with any edits.
    var rendered: String {
        TextLine.join(
            self.lines.map { line in
                switch line {
                case .verbatim(let textLine): textLine
                case .entry(let fieldLine, let terminator):
                    TextLine(content: fieldLine.rendered, terminator: terminator)
                }
            }
        )
    }

    /// The text with every password replaced by ``Secret/masked``, for showing a diff.
    ///
    /// A comment line with as many words as an entry line (a commented-out entry) has its password word masked
    /// too. Other comments, such as a heading naming the fields, are shown as they are.
    var maskedRendering: String {
        TextLine.join(
            self.lines.map { line in
                switch line {
                case .verbatim(let textLine):
                    TextLine(content: self.maskingCommentedEntry(textLine.content), terminator: textLine.terminator)
                case .entry(let fieldLine, let terminator):
                    TextLine(content: self.masking(fieldLine).rendered, terminator: terminator)
                }
            }
        )
    }

    private func masking(_ fieldLine: FieldLine) -> FieldLine {
        var fieldLine = fieldLine
        fieldLine.fields[self.layout.passwordIndex] = Secret.masked
        return fieldLine
    }

    private func maskingCommentedEntry(_ content: String) -> String {
        guard let hash = content.firstIndex(of: "#") else { return content }
        let fieldLine = FieldLine(String(content[content.index(after: hash)...]))
        // A heading comment that names the fields has no password to hide.
        guard fieldLine.fields.count == self.layout.fieldNames.count, fieldLine.fields != self.layout.fieldNames
        else { return content }
        return String(content[...hash]) + self.masking(fieldLine).rendered
    }

    /// Returns the table with fields of the line with a key set; the other fields and all blanks stay.
    ///
    /// Setting the values a line already has changes nothing.
    ///
    /// - Parameters:
    ///   - values: New values by field name (names from the layout).
    ///   - key: The first field of the line to change.
    /// - Throws: ``ClusterError`` with `.unknownNode` if no line has the key; `.invalidValue` for an empty value
    ///   or one with blanks or a line break.
    func setting(_ values: [String: String], forKey key: String) throws(ClusterError) -> AgentFieldTable {
        for (fieldName, value) in values.sorted(by: { $0.key < $1.key }) {
            guard !value.isEmpty, !value.unicodeScalars.contains(where: TextLine.isBlank),
                !value.contains(where: \.isNewline)
            else {
                // The password is never set through here, so the value can be shown.
                throw ClusterError(.invalidValue, "\(excerpt(value)) is not a valid \(fieldName) for \(excerpt(key))")
            }
        }
        guard
            let index = self.lines.firstIndex(where: {
                guard case .entry(let fieldLine, _) = $0 else { return false }
                return fieldLine.fields[0] == key
            }),
            case .entry(var fieldLine, let terminator) = self.lines[index]
        else {
            throw ClusterError(.unknownNode, "\(excerpt(key)) is not listed in \(self.fileName)")
        }
        for (fieldName, value) in values {
            fieldLine.fields[self.layout.index(of: fieldName)] = value
        }
        var copy = self
        copy.lines[index] = .entry(fieldLine, terminator: terminator)
        return copy
    }

    var description: String {
        self.maskedRendering
    }

    var debugDescription: String {
        self.maskedRendering
    }

    var customMirror: Mirror {
        Mirror(self, children: ["fileName": self.fileName, "maskedRendering": self.maskedRendering])
    }
}
