import Foundation

/// Which characters the text for people may use: ✓ ✗ │ ─ … → and the like when the locale's character set is
/// UTF-8, ASCII stand-ins (`ok`, `FAIL`, `|`, `-`, `...`, `->`) otherwise.
///
/// The one place that decides. Printers write what they mean with the Unicode characters; everything written to
/// standard error passes through ``text(_:)`` (``Output/write(_:)``), which also covers the characters that
/// the library targets put in their messages (`—` in an error, `→` in a policy's summary). Text that must fit a
/// width is passed through ``text(_:)`` before it is cut, as a stand-in can be wider than its character.
struct Glyphs: Sendable, Hashable {
    /// Whether the locale's character set is UTF-8: the characters are written as they are.
    var unicode: Bool

    /// The choice for this process, from its environment.
    static let current = Glyphs(unicode: Self.localeIsUTF8(ProcessInfo.processInfo.environment))

    /// Whether the C library's character set for `environment` is UTF-8: the locale named by `LC_ALL`, else
    /// `LC_CTYPE`, else `LANG` (the first that is set and not empty, as `setlocale(LC_CTYPE, "")` picks it),
    /// asked for its `nl_langinfo(CODESET)`. `C`/`POSIX`, no variable at all, or a locale that is not installed
    /// (which `setlocale` would refuse, leaving the C locale) are not UTF-8.
    static func localeIsUTF8(_ environment: [String: String]) -> Bool {
        let name = ["LC_ALL", "LC_CTYPE", "LANG"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? "C"
        // newlocale, unlike setlocale, changes nothing process-wide and can be asked from any thread.
        guard let locale = newlocale(Int32(1) << LC_CTYPE, name, nil) else { return false }
        defer { freelocale(locale) }
        guard let codeset = nl_langinfo_l(nl_item(CODESET), locale) else { return false }
        return Self.isUTF8(codeset: String(cString: codeset))
    }

    /// Whether `codeset` (an `nl_langinfo(CODESET)` answer: `UTF-8`, `ANSI_X3.4-1968`, `ISO-8859-1`) is UTF-8.
    static func isUTF8(codeset: String) -> Bool {
        codeset.uppercased().filter { $0 != "-" && $0 != "_" } == "UTF8"
    }

    /// The ASCII stand-in of each character the program's text uses; any other non-ASCII character becomes `?`.
    static let standIns: [Unicode.Scalar: String] = [
        "✓": "ok", "✗": "FAIL", "│": "|", "─": "-", "…": "...", "→": "->", "↳": "->", "—": "-", "–": "-",
        "±": "+/-", "×": "x", "·": "-", "‘": "'", "’": "'", "“": "\"", "”": "\"", "\u{00A0}": " ",
    ]

    /// `text` as this choice may write it: unchanged with UTF-8, else with ASCII stand-ins.
    func text(_ text: String) -> String {
        guard !self.unicode, !text.utf8.allSatisfy({ $0 < 0x80 }) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                result.unicodeScalars.append(scalar)
            } else if let standIn = Self.standIns[scalar] {
                result += standIn
            } else if scalar.properties.generalCategory != .nonspacingMark,
                scalar.properties.generalCategory != .enclosingMark
            {
                result += "?"
            }
        }
        return result
    }
}
