/// The file edits of the prepare and the restore, as pure functions of a file's text: what the steps write
/// on each node, computed from what the node has and what the journal recorded.
public enum ClusterEdits {
    /// `cluster.config` prepared for a migration: `CLUSTER_TIMEOUT` set to `timeout`, every other line kept.
    public static func prepared(clusterConfig text: String, timeout: Int) throws(ClusterError) -> String {
        try ClusterConfigFile(parsing: text).settingClusterTimeout(timeout).rendered
    }

    /// `cluster.config` restored: `CLUSTER_TIMEOUT` back to `before`, or its line removed when the journal
    /// recorded none, so the file is byte for byte what it was.
    public static func restored(clusterConfig text: String, before: Int?) throws(ClusterError) -> String {
        let file = try ClusterConfigFile(parsing: text)
        guard let before else { return file.removingValue(for: ClusterFormat.clusterTimeoutKey).rendered }
        return try file.settingClusterTimeout(before).rendered
    }

    /// `SA_libvirtgp.cfg` or `SA_libvirtgr.cfg` with `guest`'s host address set to `address`; unchanged when
    /// the file has no line for `guest`.
    public static func pointed(
        libvirtAgentConfig text: String,
        fileName: String,
        guest: String,
        address: String
    ) throws(ClusterError) -> String {
        let file = try LibvirtAgentConfig(parsing: text, fileName: fileName)
        guard file.entry(for: guest) != nil else { return text }
        return try file.settingHostAddress(address, for: guest).rendered
    }

    /// `SA_vmchkhost.cfg` with `guest`'s host CF node name and address set; unchanged without a line for it.
    public static func pointed(
        hostCheckConfig text: String,
        guest: String,
        hostName: String,
        address: String
    )
        throws(ClusterError) -> String
    {
        let file = try VMCheckHostConfig(parsing: text)
        guard file.entry(for: guest) != nil else { return text }
        return try file.settingHost(hostName, address: address, for: guest).rendered
    }

    /// `rcsd.cfg` with `guest`'s SF weight set.
    public static func weighted(daemonConfig text: String, guest: String, weight: Int) throws(ClusterError) -> String {
        try ShutdownDaemonConfig(parsing: text).settingWeight(weight, for: guest).rendered
    }
}
