/// Where PRIMECLUSTER's commands are on a node. [I: the `/opt/SMAW/bin` paths follow the SMAW package layout
/// that `sfkvmmigrate`'s documented path `/opt/SMAW/SMAWsf/bin/sfkvmmigrate` shows; ssh sessions run without
/// root's login PATH, so the tool always uses absolute paths.]
public enum ClusterCommands {
    /// The shutdown facility's control: `-b` start, `-e` stop, `-s` state, `-r` re-read. [C for the options]
    public static let shutdownTool = "/opt/SMAW/bin/sdtool"
    /// CF configuration: `-r` load `cluster.config`, `-a` show what CF uses. [C for the options]
    public static let clusterSet = "/opt/SMAW/bin/cfset"
    /// CF state: `-n` the node table. [C for the option]
    public static let clusterTool = "/opt/SMAW/bin/cftool"
    /// Fujitsu's own migration helper, used by `--delegate`. [C]
    public static let kvmMigrationHelper = "/opt/SMAW/SMAWsf/bin/sfkvmmigrate"
}
