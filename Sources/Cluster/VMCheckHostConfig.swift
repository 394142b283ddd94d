/// The configuration of the host check agent, `/etc/opt/SMAW/SMAWsf/SA_vmchkhost.cfg`, used with the host OS
/// failover function: it asks the host cluster whether the host that ran a guest is down.
///
/// One line per guest [I: the field order is kept in ``ClusterFormat``]:
/// `guest-CFName host-CFName host-ip user password`, separated by blanks. Comment lines (`#`) and blank lines are
/// kept. After a migration the guest's host CF node name and address must be the destination's.
///
/// Passwords are ``Secret``s: ``description``, `dump` and errors never show them, and ``maskedRendering`` shows
/// the file with them masked. ``rendered`` gives back the parsed bytes exactly, and an edit changes only the
/// fields it is about.
public struct VMCheckHostConfig: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The line of one guest.
    public struct Entry: Sendable, Hashable {
        /// The guest's CF node name.
        public var guestNodeName: String

        /// The CF node name of the host OS that runs the guest.
        public var hostNodeName: String

        /// The address of the host OS that runs the guest.
        public var hostAddress: String

        /// The host account the agent logs in with.
        public var userName: String

        /// The account's encrypted password.
        public var password: Secret

        public init(
            guestNodeName: String,
            hostNodeName: String,
            hostAddress: String,
            userName: String,
            password: Secret
        ) {
            self.guestNodeName = guestNodeName
            self.hostNodeName = hostNodeName
            self.hostAddress = hostAddress
            self.userName = userName
            self.password = password
        }
    }

    private var table: AgentFieldTable

    private static let layout = ClusterFormat.hostCheckAgentLayout

    /// Parses the text of `SA_vmchkhost.cfg`.
    ///
    /// - Throws: ``ClusterError`` with `.malformedFile` for a line without exactly five fields (the message gives
    ///   the line number and field count, never a field); `.duplicateKey` for a guest on two lines.
    public init(parsing text: String) throws(ClusterError) {
        self.table = try AgentFieldTable(parsing: text, layout: Self.layout, fileName: "SA_vmchkhost.cfg")
    }

    /// The guests, in file order.
    public var entries: [Entry] {
        let layout = Self.layout
        return self.table.rows.map { fields in
            Entry(
                guestNodeName: fields[layout.index(of: "guest-CFName")],
                hostNodeName: fields[layout.index(of: "host-CFName")],
                hostAddress: fields[layout.index(of: "host-ip")],
                userName: fields[layout.index(of: "user")],
                password: Secret(fields[layout.passwordIndex])
            )
        }
    }

    /// The line of a guest, or `nil` if the file doesn't list it.
    public func entry(for guestNodeName: String) -> Entry? {
        self.entries.first { $0.guestNodeName == guestNodeName }
    }

    /// Returns the file with the host of a guest set: its CF node name and address. Only those two fields of
    /// that line change, and setting the host the line already has changes nothing.
    ///
    /// - Parameters:
    ///   - hostNodeName: The CF node name of the host OS that now runs the guest.
    ///   - hostAddress: That host OS's address.
    ///   - guestNodeName: The guest's CF node name.
    /// - Throws: ``ClusterError`` with `.unknownNode` if the file doesn't list the guest; `.invalidValue` for an
    ///   empty name or address, or one with blanks.
    public func settingHost(
        _ hostNodeName: String,
        address hostAddress: String,
        for guestNodeName: String
    )
        throws(ClusterError) -> VMCheckHostConfig
    {
        var copy = self
        copy.table = try self.table.setting(
            ["host-CFName": hostNodeName, "host-ip": hostAddress],
            forKey: guestNodeName
        )
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
