/// A line's content as blank-separated fields, keeping the exact blanks between them.
///
/// `separators` has one more element than `fields`: the blanks before the first field, between each pair, and
/// after the last. Changing one field and rendering keeps every other byte of the line.
struct FieldLine: Sendable, Hashable {
    /// The fields, without blanks.
    var fields: [String]

    /// The blanks around the fields; `separators.count == fields.count + 1`.
    var separators: [String]

    /// Splits a line's content (without its terminator) into fields and separators.
    init(_ content: String) {
        var fields: [String] = []
        var separators: [String] = []
        var current = String.UnicodeScalarView()
        var inField = false
        for scalar in content.unicodeScalars {
            let blank = TextLine.isBlank(scalar)
            if blank == inField {
                // The scalar starts a new run: close the current one.
                if inField {
                    fields.append(String(current))
                } else {
                    separators.append(String(current))
                }
                current = String.UnicodeScalarView()
                inField.toggle()
            }
            current.append(scalar)
        }
        if inField {
            fields.append(String(current))
            separators.append("")
        } else {
            separators.append(String(current))
        }
        self.fields = fields
        self.separators = separators
    }

    /// The content again, with any edited fields.
    var rendered: String {
        var text = self.separators[0]
        for (field, separator) in zip(self.fields, self.separators.dropFirst()) {
            text += field
            text += separator
        }
        return text
    }
}
