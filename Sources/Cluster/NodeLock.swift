import Foundation
import Logging

/// The lock an operation holds on the guest cluster's nodes themselves, so that two kvmmigrate processes with
/// different configurations, or on different admin hosts, never prepare one guest cluster at once: the local
/// journal's lock only excludes this machine's processes.
///
/// On each node it is one file, ``path``, created atomically (`set -C`: `O_EXCL`) by root in `/run` (writable by
/// root only; gone when the node restarts, as the prepare's effect on SF is), holding one line: the operation's id,
/// the admin host, its pid and the time. It is taken on every node before the first change, or on none, and let
/// go when the restore has finished (by the operation, a restore by hand, or `recover`), and only by the operation
/// whose id it carries. An operation left unfinished keeps it, so others stay out until `recover` has run.
public enum NodeLock {
    /// The lock file on each node.
    public static let path = "/run/kvmmigrate.lock"

    /// Takes the lock: created when absent, kept when it is this operation's already (a retry, a resumed
    /// operation); refused with what it says when another operation holds it. Prints `taken`, or `held LINE`.
    static let takeScript = """
        id=$1 line=$2 lock=\(path)
        if (set -C; printf '%s\\n' "$line" > "$lock") 2>/dev/null; then echo taken; exit 0; fi
        IFS= read -r held < "$lock" || held=
        case $held in "$id "*) echo taken; exit 0 ;; esac
        printf 'held %s\\n' "$held"
        exit 3
        """

    /// Lets the lock go when it is this operation's. Prints `released` or `kept LINE` (another's, or none).
    static let releaseScript = """
        id=$1 lock=\(path)
        IFS= read -r held < "$lock" 2>/dev/null || { echo released; exit 0; }
        case $held in "$id "*) rm -f "$lock"; echo released ;; *) printf 'kept %s\\n' "$held" ;; esac
        """

    /// The line the lock holds: `ID ADMIN-HOST PID TIME`.
    static func line(id: String, now: Date = Date()) -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: " ").first.map(String.init) ?? "unknown"
        return "\(id) \(host) \(getpid()) \(now.formatted(.iso8601))"
    }

    /// Takes the lock on every node, or on none.
    ///
    /// - Throws: ``ClusterError`` (``ClusterError/Code/journal``) naming the node and the operation that holds it,
    ///   after letting go of what this call took; or the node's own error when one cannot be asked.
    public static func take(on nodes: [ClusterNode], id: String, logger: Logger) async throws(ClusterError) {
        let line = Self.line(id: id)
        let results = ConcurrentResults<Result<String, ClusterError>>()
        await concurrently(nodes) { node in
            do throws(ClusterError) {
                let result = try await node.run(["sh", "-c", Self.takeScript, "sh", id, line], logger: logger)
                let answer = RemoteResult.firstLine(of: result.standardOutput) ?? ""
                if result.succeeded && answer == "taken" {
                    results.record(.success(answer), for: node)
                } else if answer.hasPrefix("held ") {
                    results.record(.failure(Self.held(String(answer.dropFirst(5)), node: node.name)), for: node)
                } else {
                    results.record(
                        .failure(
                            ClusterError(
                                .remoteCommandFailed,
                                "cannot take the lock \(Self.path)" + RemoteCommand.suffix(result.standardError),
                                node: node.name
                            )
                        ),
                        for: node
                    )
                }
            } catch {
                results.record(.failure(error), for: node)
            }
        }
        let failures = results.inOrder(of: nodes).compactMap { node, result -> ClusterError? in
            if case .failure(let error) = result { return error }
            return nil
        }
        guard let first = failures.first else { return }
        await Self.release(on: nodes, id: id, logger: logger)
        throw first
    }

    /// Lets go of the lock on every node where this operation holds it. Never throws: a node that does not answer
    /// keeps it, and says so in the log (`recover` or a restore by hand lets it go later).
    public static func release(on nodes: [ClusterNode], id: String, logger: Logger) async {
        await concurrently(nodes) { node in
            do throws(ClusterError) {
                _ = try await node.run(["sh", "-c", Self.releaseScript, "sh", id], logger: logger)
            } catch {
                logger.warning(
                    "Could not let go of the node lock",
                    metadata: ["node": "\(node.name)", "error": "\(error.message)"]
                )
            }
        }
    }

    /// The refusal when `held` (the lock's line) is another operation's.
    static func held(_ held: String, node: String) -> ClusterError {
        let fields = held.split(separator: " ", maxSplits: 3).map(String.init)
        let owner =
            fields.count >= 4
            ? "operation \(fields[0]) of kvmmigrate pid \(fields[2]) on \(fields[1]), since \(fields[3])"
            : "'\(held)'"
        return ClusterError(
            .journal,
            "the guest cluster is locked by another kvmmigrate (\(owner)): let it finish, or run `kvmmigrate recover` "
                + "on that admin host; remove \(Self.path) on the node only if that operation is gone for good",
            node: node
        )
    }
}
