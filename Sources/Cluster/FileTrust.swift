import Foundation

/// Whether kvmmigrate, running as root, may act on what a file says: the cluster configuration names the hosts
/// and nodes to change, and an ssh_config it names can run any command as root (`ProxyCommand`). A file another
/// user could change is refused, by OpenSSH's own rule for its user files: it and its directory belong to root or
/// to the user kvmmigrate runs as, and neither may be written by its group or others (a directory with the sticky
/// bit, such as `/tmp`, may be: others cannot replace a file they do not own there).
public enum FileTrust {
    /// Checks `path` (following symbolic links, as reading it will) and the directory it is in.
    ///
    /// - Parameter what: What the file is, for the message: `the cluster configuration`, `ssh.config`.
    /// - Throws: ``ClusterError`` with ``ClusterError/Code/untrustedFile``, naming the file, the owner or the mode.
    public static func check(_ path: String, what: String) throws(ClusterError) {
        var file = stat()
        guard stat(path, &file) == 0 else {
            throw ClusterError(.malformedFile, "cannot read \(what): \(String(cString: strerror(errno)))", path: path)
        }
        guard file.st_mode & S_IFMT == S_IFREG else {
            throw ClusterError(.untrustedFile, "\(what) is not a regular file", path: path)
        }
        try Self.checkOwnerAndMode(file, what: what, path: path, directory: false)
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent().path
        var directory = stat()
        guard stat(resolved, &directory) == 0 else { return }
        try Self.checkOwnerAndMode(directory, what: "the directory of \(what)", path: resolved, directory: true)
    }

    static func checkOwnerAndMode(_ information: stat, what: String, path: String, directory: Bool) throws(ClusterError)
    {
        guard information.st_uid == 0 || information.st_uid == geteuid() else {
            throw ClusterError(
                .untrustedFile,
                "\(what) belongs to user \(information.st_uid), not to root or this user: another user could change it",
                path: path
            )
        }
        let writable = information.st_mode & (S_IWGRP | S_IWOTH) != 0
        let sticky = directory && information.st_mode & S_ISVTX != 0
        guard !writable || sticky else {
            throw ClusterError(
                .untrustedFile,
                "\(what) may be written by its group or others (mode \(String(information.st_mode & 0o7777, radix: 8)))",
                path: path
            )
        }
    }
}
