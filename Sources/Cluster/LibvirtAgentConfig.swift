/// The configuration of a libvirt shutdown agent: `SA_libvirtgp.cfg` (panic) or `SA_libvirtgr.cfg` (reset), in
/// `/etc/opt/SMAW/SMAWsf/`. Both files have the same format.
///
/// One line per guest [I: the field order is kept in ``ClusterFormat``]: `CFName domain host-ip user password`,
/// separated by blanks, for example `guest1 domain1 10.20.30.40 sfuser D0860AB04E1B8FA3`. `host-ip` is the host
/// OS that runs the guest now, `user` the host account the agent logs in with, `password` that account's password
/// encrypted with `sfcipher -c`. Comment lines (`#`) and blank lines are kept.
///
/// Passwords are ``Secret``s: ``description``, `dump` and errors never show them, and ``maskedRendering`` shows
/// the file with them masked. ``rendered`` gives back the parsed bytes exactly, and an edit changes only the
/// fields it is about.
public struct LibvirtAgentConfig: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The line of one guest.
    public struct Entry: Sendable, Hashable {
        /// The guest's CF node name.
        public var nodeName: String

        /// The guest's libvirt domain name.
        public var domainName: String

        /// The address of the host OS that runs the guest: `host-ip`.
        public var hostAddress: String

        /// The host account the agent logs in with.
        public var userName: String

        /// The account's encrypted password.
        public var password: Secret

        public init(nodeName: String, domainName: String, hostAddress: String, userName: String, password: Secret) {
            self.nodeName = nodeName
            self.domainName = domainName
            self.hostAddress = hostAddress
            self.userName = userName
            self.password = password
        }
    }

    private var table: AgentFieldTable

    private static let layout = ClusterFormat.libvirtAgentLayout

    /// Parses the text of `SA_libvirtgp.cfg` or `SA_libvirtgr.cfg`.
    ///
    /// - Parameters:
    ///   - text: The file's text.
    ///   - fileName: The file's name for error messages.
    /// - Throws: ``ClusterError`` with `.malformedFile` for a line without exactly five fields (the message gives
    ///   the line number and field count, never a field); `.duplicateKey` for a CF node name on two lines.
    public init(parsing text: String, fileName: String = "SA_libvirtgp.cfg") throws(ClusterError) {
        self.table = try AgentFieldTable(parsing: text, layout: Self.layout, fileName: fileName)
    }

    /// The guests, in file order.
    public var entries: [Entry] {
        let layout = Self.layout
        return self.table.rows.map { fields in
            Entry(
                nodeName: fields[layout.index(of: "CFName")],
                domainName: fields[layout.index(of: "domain")],
                hostAddress: fields[layout.index(of: "host-ip")],
                userName: fields[layout.index(of: "user")],
                password: Secret(fields[layout.passwordIndex])
            )
        }
    }

    /// The line of a guest, or `nil` if the file doesn't list it.
    public func entry(for nodeName: String) -> Entry? {
        self.entries.first { $0.nodeName == nodeName }
    }

    /// Returns the file with a guest's host address set; only that field of that line changes, and setting the
    /// address the line already has changes nothing.
    ///
    /// - Throws: ``ClusterError`` with `.unknownNode` if the file doesn't list the guest; `.invalidValue` for an
    ///   empty address or one with blanks.
    public func settingHostAddress(
        _ hostAddress: String,
        for nodeName: String
    ) throws(ClusterError)
        -> LibvirtAgentConfig
    {
        var copy = self
        copy.table = try self.table.setting(["host-ip": hostAddress], forKey: nodeName)
        return copy
    }

    /// The file's text: exactly what was parsed, with any edits. It holds the passwords; don't show it.
    public var rendered: String {
        self.table.rendered
    }

    /// The file's text with every password replaced by `********`, for showing a diff.
    public var maskedRendering: String {
        self.table.maskedRendering
    }

    /// The masked rendering.
    public var description: String {
        self.table.maskedRendering
    }

    /// The masked rendering.
    public var debugDescription: String {
        self.table.maskedRendering
    }

    /// The entries, whose passwords are ``Secret``s, so that `dump` shows no password.
    public var customMirror: Mirror {
        Mirror(self, children: ["entries": self.entries], displayStyle: .struct)
    }
}
