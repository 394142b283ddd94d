import Foundation

/// What a lost terminal or reader does to kvmmigrate: nothing that stops an operation.
///
/// When the operator's ssh session to the admin host drops, the terminal sends SIGHUP; when the reader of a pipe
/// exits (`| head`, `| tee log` then Ctrl-C), a write raises SIGPIPE. Either would end the process by default, in
/// the middle of a migration or with the guest cluster prepared. Both are ignored for the whole process, as
/// `nohup` would: the operation goes on to its end, restore included, and writes that fail (EPIPE, EIO on a
/// terminal that hung up, ENOSPC) are dropped (``writeStandardError(_:)``). SIGINT and SIGTERM still abort
/// (``SignalWatcher``).
enum Hangup {
    /// Ignores SIGHUP and SIGPIPE. Programs kvmmigrate starts (ssh) inherit that; ssh ignores SIGPIPE itself anyway.
    static func ignore() {
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Writes all of `bytes` to `descriptor`, retrying when interrupted, and drops what cannot be written: output
    /// that fails must never stop an operation (`FileHandle.write` traps on EPIPE, EIO and ENOSPC).
    ///
    /// - Returns: Whether everything was written.
    @discardableResult
    static func write(_ bytes: [UInt8], to descriptor: Int32) -> Bool {
        var offset = 0
        var waits = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 {
                offset += written
                continue
            }
            if written < 0 && errno == EINTR { continue }
            // A non-blocking descriptor that is full: wait a little, a few times, then drop the rest.
            if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waits < 50 {
                waits += 1
                var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&poller, 1, 20)
                continue
            }
            return false
        }
        return true
    }
}
