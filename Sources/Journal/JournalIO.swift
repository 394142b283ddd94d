import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX file operations under ``JournalStore``: durable atomic replacement, directory `fsync`, and `flock` lock
/// files.
///
/// Foundation's `Data.write(to:options: .atomic)` renames a temporary file over the target but does not `fsync` the
/// directory, so after a power failure the rename itself can be lost; these functions `fsync` the file before the
/// `rename(2)` and the directory after it.
///
/// Every descriptor is opened with `O_CLOEXEC`. For a lock file this matters: a child process (the `ssh` of a remote
/// step) that inherited the descriptor would keep the lock after kvmmigrate is killed, and the dead operation would
/// look as if it were still running.
enum JournalIO {
    /// The permissions of every journal file: the records name clusters, hosts and what was changed on them.
    static let fileMode: mode_t = 0o600
    /// The permissions of the journal directories this code creates.
    static let directoryMode: mode_t = 0o700
    /// How often an exclusive lock is tried before the key counts as taken, and the pause in between.
    ///
    /// ``JournalStore/unfinished()`` probes lock files with a shared lock held for microseconds; a few retries keep
    /// such a probe from making a concurrent `begin` or `resume` fail.
    static let lockAttempts = 5
    static let lockRetryPause: Duration = .milliseconds(10)

    // MARK: - Errors

    /// A ``JournalError/Code/storage`` error: what failed, the file, and `strerror` of the `errno`.
    static func failure(_ what: String, _ path: String, errno code: Int32) -> JournalError {
        JournalError(.storage, "\(what) \(path): \(String(cString: strerror(code)))")
    }

    // MARK: - Directories

    /// Creates the directory (and missing parents) with mode 0700, or does nothing when it exists.
    ///
    /// An existing directory keeps its permissions: the operator may have chosen them.
    static func ensureDirectory(_ path: String) throws(JournalError) {
        var information = stat()
        if lstat(path, &information) == 0 {
            try Self.checkTrusted(directory: path, information)
            return
        }
        // mkdir(2) one level at a time, parents first, so that the error is the system's own words
        // ("Read-only file system", "No space left on device") and names the directory that failed. A parent
        // created here is checked like the directory (mode 0700); an existing parent is the operator's.
        let parent = (path as NSString).deletingLastPathComponent
        var parentInformation = stat()
        if !parent.isEmpty, parent != path, lstat(parent, &parentInformation) != 0 {
            try Self.ensureDirectory(parent)
        }
        guard mkdir(path, Self.directoryMode) == 0 || errno == EEXIST else {
            throw Self.failure("could not create the journal directory", path, errno: errno)
        }
        // The umask may have narrowed or the attributes been ignored; set the mode explicitly.
        guard chmod(path, Self.directoryMode) == 0 else {
            throw Self.failure("could not set the permissions of", path, errno: errno)
        }
    }

    /// Refuses a journal directory that another user could change: a symbolic link (it could be pointed elsewhere),
    /// a directory owned by someone other than this user or root, or one that its group or others may write. kvmmigrate
    /// runs as root, and what it reads there decides what it does to hosts and nodes.
    static func checkTrusted(directory path: String, _ information: stat) throws(JournalError) {
        switch information.st_mode & S_IFMT {
        case S_IFDIR: break
        case S_IFLNK:
            throw JournalError(.storage, "the journal path \(path) is a symbolic link: give the directory itself")
        default: throw JournalError(.storage, "the journal path \(path) exists and is not a directory")
        }
        guard information.st_uid == geteuid() || information.st_uid == 0 else {
            throw JournalError(
                .storage,
                "the journal directory \(path) belongs to user \(information.st_uid), not to this user or root"
            )
        }
        guard information.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
            throw JournalError(
                .storage,
                "the journal directory \(path) may be written by its group or others (mode "
                    + "\(String(information.st_mode & 0o7777, radix: 8))): make it 0700"
            )
        }
    }

    /// The names in a directory (without `.` and `..`).
    static func contents(of path: String) throws(JournalError) -> [String] {
        guard let directory = opendir(path) else {
            throw Self.failure("could not list the journal directory", path, errno: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Makes renames and unlinks in the directory durable (`fsync(2)` on the directory).
    static func syncDirectory(_ path: String) throws(JournalError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure("could not open the journal directory", path, errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw Self.failure("could not fsync the journal directory", path, errno: errno)
        }
    }

    // MARK: - Files

    /// Replaces the file at `path` by `data` so that after a crash or power failure it holds either the old or the
    /// new content, never a mix, and the new content once this returns.
    ///
    /// Writes `temporary` (same directory, mode 0600), `fsync`s it, `rename`s it over `path`, then `fsync`s the
    /// directory.
    static func writeDurably(_ data: Data, to path: String, temporary: String) throws(JournalError) {
        // A leftover temporary file (a crash) goes first; then the file is made anew, and never through a link.
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, Self.fileMode)
        guard descriptor >= 0 else { throw Self.failure("could not create the journal file", temporary, errno: errno) }
        do throws(JournalError) {
            // The umask may have narrowed the mode: set it exactly.
            guard fchmod(descriptor, Self.fileMode) == 0 else {
                throw Self.failure("could not set the permissions of", temporary, errno: errno)
            }
            try Self.writeAll(data, to: descriptor, path: temporary)
            guard fsync(descriptor) == 0 else { throw Self.failure("could not fsync", temporary, errno: errno) }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        // close(2) after a successful fsync cannot lose data; its error is not worth failing over.
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw Self.failure("could not rename \(temporary) to", path, errno: code)
        }
        try Self.syncDirectory((path as NSString).deletingLastPathComponent)
    }

    private static func writeAll(_ data: Data, to descriptor: Int32, path: String) throws(JournalError) {
        let failure: Int32? = data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
        if let failure { throw Self.failure("could not write", path, errno: failure) }
    }

    /// The whole content of a file, or `nil` when it does not exist.
    static func contentsOfFile(_ path: String) throws(JournalError) -> Data? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw Self.failure("could not open the journal file", path, errno: errno)
        }
        defer { close(descriptor) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.failure("could not read the journal file", path, errno: errno)
            }
            if count == 0 { return data }
            data.append(contentsOf: chunk[0..<count])
        }
    }

    /// Renames a file (atomic within one file system); the caller `fsync`s the directories involved.
    static func move(_ source: String, to destination: String) throws(JournalError) {
        guard rename(source, destination) == 0 else {
            throw Self.failure("could not move \(source) to", destination, errno: errno)
        }
    }

    /// Removes a file; one that is already gone is not an error (another process may have pruned it).
    static func remove(_ path: String) throws(JournalError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw Self.failure("could not remove the journal file", path, errno: errno)
        }
    }

    // MARK: - Locks

    /// Opens the lock file at `path` (creating it with mode 0600) and takes an exclusive `flock(2)` without waiting.
    ///
    /// The lock belongs to the open file description, not the process, so a second call for the same file fails
    /// even in the same process; and the kernel drops it when the descriptor is closed, which happens when the
    /// process dies in any way, `kill -9` included.
    ///
    /// Lock files are never removed: unlinking one while another process waits to open it would let two processes
    /// lock two different files of the same name.
    ///
    /// - Returns: The descriptor that holds the lock (release it with ``unlock(_:)``), or `nil` when another open
    ///   file description holds the lock.
    static func lock(_ path: String) throws(JournalError) -> Int32? {
        let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, Self.fileMode)
        guard descriptor >= 0 else { throw Self.failure("could not open the lock file", path, errno: errno) }
        for attempt in 1...Self.lockAttempts {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return descriptor }
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else {
                close(descriptor)
                throw Self.failure("could not lock", path, errno: code)
            }
            if attempt < Self.lockAttempts { Self.pause(Self.lockRetryPause) }
        }
        close(descriptor)
        return nil
    }

    /// Releases a lock taken by ``lock(_:)`` (closing its descriptor).
    static func unlock(_ descriptor: Int32) {
        close(descriptor)
    }

    /// Runs `body` while holding a shared lock on `path` if that can be had at once.
    ///
    /// - Returns: `body(false)` while the shared lock is held, so the owner cannot come back meanwhile; or
    ///   `body(true)` when another open file description holds the exclusive lock, that is, when the operation's
    ///   process is still running.
    static func probe<Result>(
        _ path: String,
        _ body: (_ held: Bool) throws(JournalError) -> Result
    ) throws(JournalError) -> Result {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            // No lock file: nobody can hold the lock (the file is created before it is locked).
            if errno == ENOENT { return try body(false) }
            throw Self.failure("could not open the lock file", path, errno: errno)
        }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_SH | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else { throw Self.failure("could not probe the lock", path, errno: code) }
            return try body(true)
        }
        return try body(false)
    }

    private static func pause(_ duration: Duration) {
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
