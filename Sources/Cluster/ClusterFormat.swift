/// Paths, limits and layouts of the PRIMECLUSTER files and command outputs this module reads and writes.
///
/// Everything a parser assumes about a format that wasn't read in a manual page is kept here, marked **[I]**
/// (inferred), so that it can be corrected in one place once the real files are seen. Facts marked **[C]** are
/// confirmed in Fujitsu's manuals (see `../shared/primecluster.md`, beside the repository).
public enum ClusterFormat {
    // MARK: - CF configuration

    /// The CF configuration file that `cfset -r` loads. [C]
    public static let clusterConfigPath = "/etc/default/cluster.config"

    /// The CF interconnect timeout, in seconds, when `CLUSTER_TIMEOUT` is not set. [C]
    public static let defaultClusterTimeout = 10

    /// The name of the CF timeout key, in `cluster.config` and in `cfset -a` output. [C]
    public static let clusterTimeoutKey = "CLUSTER_TIMEOUT"

    /// The most `NAME "VALUE"` pairs `cluster.config` may hold. [C]
    public static let maximumClusterConfigPairs = 100

    // MARK: - Shutdown facility

    /// The shutdown daemon's configuration, identical on all nodes. [C]
    public static let shutdownDaemonConfigPath = "/etc/opt/SMAW/SMAWsf/rcsd.cfg"

    /// The configuration of the libvirt panic agent, `SA_libvirtgp`. [I: the path follows the SMAWsf convention]
    public static let libvirtPanicAgentConfigPath = "/etc/opt/SMAW/SMAWsf/SA_libvirtgp.cfg"

    /// The configuration of the libvirt reset agent, `SA_libvirtgr`. [I: the path follows the SMAWsf convention]
    public static let libvirtResetAgentConfigPath = "/etc/opt/SMAW/SMAWsf/SA_libvirtgr.cfg"

    /// The configuration of the host check agent, `SA_vmchkhost`. [I: the path follows the SMAWsf convention]
    public static let hostCheckAgentConfigPath = "/etc/opt/SMAW/SMAWsf/SA_vmchkhost.cfg"

    /// The SF node weight when `rcsd.cfg` gives none. [C]
    public static let defaultShutdownWeight = 1

    /// The suffix `sdtool -s` may print after an agent name (`SA_libvirtgp.so`); names compare without it. [C]
    public static let agentLibrarySuffix = ".so"

    /// An agent's name without the ``agentLibrarySuffix``: `SA_libvirtgp.so` → `SA_libvirtgp`.
    public static func baseAgentName(_ name: String) -> String {
        name.hasSuffix(Self.agentLibrarySuffix) ? String(name.dropLast(Self.agentLibrarySuffix.count)) : name
    }

    // MARK: - Inferred layouts [I]

    /// The fields of a line of `SA_libvirtgp.cfg` and `SA_libvirtgr.cfg`, in order. [I]
    ///
    /// `CFName domain host-ip user password`, separated by blanks; `password` is encrypted with `sfcipher -c`.
    static let libvirtAgentLayout = FieldLayout(
        fieldNames: ["CFName", "domain", "host-ip", "user", "password"],
        passwordField: "password"
    )

    /// The fields of a line of `SA_vmchkhost.cfg`, in order. [I]
    static let hostCheckAgentLayout = FieldLayout(
        fieldNames: ["guest-CFName", "host-CFName", "host-ip", "user", "password"],
        passwordField: "password"
    )

    /// The column headings of `cftool -n`. [I: the layout; the node states are confirmed]
    ///
    /// The parser finds its columns by these names, so a changed column order needs no change here.
    static let nodeTableColumns = (node: "Node", number: "Number", state: "State", os: "Os", cpu: "Cpu")

    /// The heading words of `sdtool -s`, separated by any whitespace. [C]
    static let shutdownStatusHeading = [
        "Cluster", "Host", "Agent", "SA", "State", "Shut", "State", "Test", "State",
        "Init", "State",
    ]

    /// Whether a line starts a comment in the shutdown facility's files: `#` as the first non-blank character.
    /// [I: `rcsd.cfg` and the agent files are only known to use `#` comments, not where they may start]
    static func isShutdownFacilityComment(_ content: String) -> Bool {
        content.unicodeScalars.first { !TextLine.isBlank($0) } == "#"
    }
}

/// The names and order of the blank-separated fields of a line in one of the agent files.
struct FieldLayout: Sendable, Hashable {
    /// The field names, in the order they appear on a line.
    let fieldNames: [String]

    /// The index of the field that holds a password.
    let passwordIndex: Int

    init(fieldNames: [String], passwordField: String) {
        self.fieldNames = fieldNames
        self.passwordIndex = fieldNames.firstIndex(of: passwordField)!
    }

    /// The index of a field, by the name given in ``fieldNames``.
    func index(of fieldName: String) -> Int {
        guard let index = self.fieldNames.firstIndex(of: fieldName) else {
            preconditionFailure("No field named \(fieldName) in \(self.fieldNames)")
        }
        return index
    }

    /// The fields as a user reads them in an error message, for example `CFName domain host-ip user password`.
    var summary: String {
        self.fieldNames.joined(separator: " ")
    }
}
