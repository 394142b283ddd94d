/// What an audit record never holds: passwords.
///
/// kvmmigrate takes no secret on its command line (the SF agents' passwords are in the cluster configuration, which
/// is never audited), but a libvirt URI may carry one (`qemu+ssh://root:pw@host/system`), and an option whose name
/// says password or secret might one day.
public enum Redaction {
    /// `text` with the password of every `scheme://user:password@host` replaced by `***`.
    public static func uris(_ text: String) -> String {
        guard text.contains("://") else { return text }
        var result = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            result += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            // The authority ends at the first '/', '?', '#' or blank; its userinfo at its last '@'.
            let end = rest.firstIndex { "/?# \t\"".contains($0) } ?? rest.endIndex
            let authority = rest[..<end]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                result += authority[...colon] + "***" + authority[at...]
            } else {
                result += authority
            }
            rest = rest[end...]
        }
        return result + rest
    }

    /// Command-line arguments as an audit record may show them: URI passwords replaced, and the value of any option
    /// whose name holds `password`, `passwd` or `secret` replaced by `***`.
    public static func arguments(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var hideNext = false
        for argument in arguments {
            if hideNext {
                result.append("***")
                hideNext = false
                continue
            }
            let lowered = argument.lowercased()
            let secret =
                argument.hasPrefix("-")
                && ["password", "passwd", "secret"].contains { lowered.contains($0) }
            if secret, let equals = argument.firstIndex(of: "=") {
                result.append(argument[...equals] + "***")
            } else {
                result.append(Self.uris(argument))
                hideNext = secret
            }
        }
        return result
    }
}
