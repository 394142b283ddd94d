import Cluster
import Logging

/// One audit record as one line of text: the message, then `operation=…` and the other metadata as `key=value` in
/// key order, so that a record reads the same every time and `grep operation=…` finds a run.
///
/// A value is quoted (`"…"`, with `\"` and `\\`) when it holds a blank, a quote, a backslash, a control character or
/// `=`, or is empty.
/// Control and format characters (an escape sequence, a newline, a right-to-left override) are shown as `\u{1B}`,
/// so a hostile domain name or node message cannot forge a second record. Any password in a URI is replaced by
/// `***` (``Redaction``). Values are cut at 400 characters.
public enum AuditLine {
    public static func render(_ message: String, _ metadata: Logger.Metadata) -> String {
        var line = Self.printable(message)
        let keys = metadata.keys.sorted { left, right in
            left == "operation" ? right != "operation" : right == "operation" ? false : left < right
        }
        for key in keys {
            guard let value = metadata[key] else { continue }
            line += " " + Self.printable(key) + "=" + Self.value("\(value)")
        }
        return line
    }

    /// A value as it appears after `=`.
    static func value(_ text: String) -> String {
        // Quotes and backslashes are escaped before control characters are shown, so that `\u{A}` is a newline
        // and `\\u{A}` is text.
        let escaped = Redaction.uris(text).replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
        let clean = Self.printable(escaped, limit: 400)
        let needsQuotes = clean.isEmpty || clean.contains { $0 == " " || $0 == "\"" || $0 == "\\" || $0 == "=" }
        return needsQuotes ? "\"" + clean + "\"" : clean
    }

    /// Control and format characters shown as `\u{…}` (Cluster's `printable`), at most `limit` characters, then `…`.
    static func printable(_ text: String, limit: Int = 400) -> String {
        Cluster.printable(text, limit: limit)
    }
}
