import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory of operation records, each a JSON file written atomically and durably.
///
/// kvmmigrate changes every node of a guest cluster before a migration and must restore them afterwards, even when it
/// is killed with `kill -9` or the power fails. Each operation therefore keeps a record here that is on disk before
/// every remote step, so `kvmmigrate recover` can finish the work. The store also keeps two processes from working on
/// the same key (a cluster's name, a domain's UUID) at once.
///
/// The directory holds, per key (sanitised into a file name, see ``fileStem(for:)``):
/// - `<key>.json`: the record of the key's unfinished operation, if any (mode 0600);
/// - `<key>.lock`: the lock file, `flock(2)`ed exclusively by the operation's process for as long as it works on it
///   (never removed);
/// - `done/<finish time>-<key>-<id>.json`: finished operations, the newest ``historyLimit`` kept.
///
/// Whether an operation's process still runs is told by its lock, not by its pid (which the kernel reuses): the kernel
/// drops the lock when the process dies. The pid is recorded for messages.
///
/// Records are pretty-printed JSON with sorted keys and ISO 8601 dates, for operators to read.
public final class JournalStore<Record: Codable & Sendable>: Sendable {
    /// The journal directory.
    public let directory: URL
    /// How many finished operations `done/` keeps.
    public let historyLimit: Int

    /// Opens the journal in `directory`, creating it (and `done/` in it) with mode 0700 when missing.
    ///
    /// - Parameters:
    ///   - directory: The journal directory, e.g. `/var/lib/kvmmigrate/journal`.
    ///   - historyLimit: How many finished operations to keep in `done/`.
    /// - Throws: ``JournalError`` (``JournalError/Code/storage``) when a directory cannot be created.
    public init(directory: URL, historyLimit: Int = 50) throws(JournalError) {
        self.directory = directory.standardizedFileURL
        self.historyLimit = max(0, historyLimit)
        try JournalIO.ensureDirectory(self.directory.path)
        try JournalIO.ensureDirectory(self.doneDirectory.path)
    }

    /// Where finished operations are kept.
    public var doneDirectory: URL { self.directory.appendingPathComponent("done", isDirectory: true) }

    // MARK: - Operations

    /// Begins an operation: takes the lock for `key` and writes the first record durably.
    ///
    /// - Parameters:
    ///   - key: What the operation works on and excludes others from, e.g. the cluster's name or the domain's UUID.
    ///   - record: The first record, on disk before this returns.
    /// - Returns: The handle that holds the lock until ``JournalHandle/finish()``.
    /// - Throws: ``JournalError`` with ``JournalError/Code/operationInProgress`` naming the pid and start time when
    ///   another live handle (in this or another process) holds `key`, or when an unfinished record for `key` was
    ///   left by a process that died (run `kvmmigrate recover`); ``JournalError/Code/storage`` when that record is
    ///   unreadable or a file cannot be written.
    public func begin(key: String, record: Record) throws(JournalError) -> JournalHandle<Record> {
        let paths = try self.paths(for: key)
        guard let descriptor = try JournalIO.lock(paths.lock) else { throw self.busy(key: key, paths: paths) }
        do throws(JournalError) {
            if let left = try self.readRecord(at: paths.record) {
                throw JournalError(
                    .operationInProgress,
                    "an unfinished operation on \(key) (pid \(left.pid), started \(Self.timestamp(left.startedAt)), "
                        + "recorded in \(paths.record)) was left by a process that is no longer running; "
                        + "run `kvmmigrate recover` to finish it"
                )
            }
            let now = Date()
            let file = JournalFile(
                key: key,
                id: UUID().uuidString.lowercased(),
                pid: getpid(),
                startedAt: now,
                updatedAt: now,
                record: record
            )
            try JournalIO.writeDurably(Self.encode(file), to: paths.record, temporary: paths.temporary)
            return JournalHandle(store: self, paths: paths, descriptor: descriptor, file: file)
        } catch {
            JournalIO.unlock(descriptor)
            throw error
        }
    }

    /// The unfinished operations, oldest first: those whose process is gone (``JournalEntry/processRunning`` is
    /// `false`: recover them) and those still running.
    ///
    /// - Throws: ``JournalError`` (``JournalError/Code/storage``) naming every record file that is corrupt or
    ///   truncated, or when the directory cannot be read. Such a file is never skipped: it may be the only trace of
    ///   nodes left changed.
    public func unfinished() throws(JournalError) -> [JournalEntry<Record>] {
        var entries: [JournalEntry<Record>] = []
        var problems: [String] = []
        for name in try JournalIO.contents(of: self.directory.path).sorted() {
            guard name.hasSuffix(".json"), !name.hasPrefix(".") else { continue }
            let stem = String(name.dropLast(".json".count))
            let path = self.directory.appendingPathComponent(name).path
            let lock = self.directory.appendingPathComponent(stem + ".lock").path
            do throws(JournalError) {
                // Read under the probe so a process that finishes meanwhile is not reported as dead.
                let entry = try JournalIO.probe(lock) { (running) throws(JournalError) -> JournalEntry<Record>? in
                    guard let file = try self.readRecord(at: path, stem: stem) else { return nil }
                    return JournalEntry(file: file, processRunning: running, path: URL(fileURLWithPath: path))
                }
                if let entry { entries.append(entry) }
            } catch {
                problems.append(error.message)
            }
        }
        guard problems.isEmpty else {
            throw JournalError(
                .storage,
                problems.joined(separator: "; ")
                    + "; inspect the file, restore the nodes it concerns by hand if needed, then move it out of "
                    + "\(self.directory.path)"
            )
        }
        return entries.sorted { ($0.startedAt, $0.key) < ($1.startedAt, $1.key) }
    }

    /// Takes over an unfinished operation whose process is gone, for recovery.
    ///
    /// The record gets this process's pid and a `resumed_at` time before this returns.
    ///
    /// - Parameter entry: An entry from ``unfinished()``.
    /// - Returns: The handle that holds the operation's lock until ``JournalHandle/finish()``.
    /// - Throws: ``JournalError`` with ``JournalError/Code/operationInProgress`` when the operation's process (or
    ///   another handle) still holds it; ``JournalError/Code/storage`` when the operation was finished or replaced
    ///   since it was listed, or a file cannot be read or written.
    public func resume(_ entry: JournalEntry<Record>) throws(JournalError) -> JournalHandle<Record> {
        let paths = try self.paths(for: entry.key)
        guard let descriptor = try JournalIO.lock(paths.lock) else { throw self.busy(key: entry.key, paths: paths) }
        do throws(JournalError) {
            guard var file = try self.readRecord(at: paths.record) else {
                throw JournalError(
                    .storage,
                    "the operation \(entry.id) on \(entry.key) is no longer unfinished: it was finished since"
                )
            }
            guard file.id == entry.id else {
                throw JournalError(
                    .storage,
                    "the operation \(entry.id) on \(entry.key) was replaced by operation \(file.id) since it was listed"
                )
            }
            let now = Date()
            file.pid = getpid()
            file.resumedAt = now
            file.updatedAt = now
            file.sequence += 1
            try JournalIO.writeDurably(Self.encode(file), to: paths.record, temporary: paths.temporary)
            return JournalHandle(store: self, paths: paths, descriptor: descriptor, file: file)
        } catch {
            JournalIO.unlock(descriptor)
            throw error
        }
    }

    // MARK: - Files

    /// The files of one key.
    struct Paths: Sendable {
        var stem: String
        var record: String
        var temporary: String
        var lock: String
    }

    func paths(for key: String) throws(JournalError) -> Paths {
        guard !key.isEmpty else { throw JournalError(.storage, "a journal key must not be empty") }
        let stem = Self.fileStem(for: key)
        return Paths(
            stem: stem,
            record: self.directory.appendingPathComponent(stem + ".json").path,
            temporary: self.directory.appendingPathComponent("." + stem + ".json.tmp").path,
            lock: self.directory.appendingPathComponent(stem + ".lock").path
        )
    }

    /// The file name (without extension) for a key.
    ///
    /// A key made of ASCII letters, digits, `-`, `_` and `.` (not leading), up to 100 characters, is used as it is
    /// (cluster names, UUIDs). Any other key has its other characters replaced by `_`, is cut to 100 characters, and
    /// gets a hash of the whole key appended, so that two different keys never share a file.
    static func fileStem(for key: String) -> String {
        let limit = 100
        var stem = ""
        for (index, scalar) in key.unicodeScalars.enumerated() {
            let safe =
                scalar.isASCII
                && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_"
                    || (scalar == "." && index > 0))
            stem.unicodeScalars.append(safe ? scalar : "_")
        }
        guard stem != key || stem.count > limit else { return stem }
        // FNV-1a over the UTF-8 bytes: stable across runs and builds, unlike `Hasher`.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return String(stem.prefix(limit)) + "-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Reads and decodes a record file, or returns `nil` when it does not exist.
    ///
    /// - Throws: ``JournalError/Code/storage`` naming the file when it is corrupt, truncated, written by a newer
    ///   format, or does not belong under its name.
    func readRecord(at path: String, stem: String? = nil) throws(JournalError) -> JournalFile<Record>? {
        guard let data = try JournalIO.contentsOfFile(path) else { return nil }
        let file: JournalFile<Record>
        do {
            file = try Self.decoder().decode(JournalFile<Record>.self, from: data)
        } catch {
            throw JournalError(
                .storage,
                "the journal file \(path) is corrupt or truncated (\(data.count) bytes): \(error)"
            )
        }
        guard file.formatVersion <= JournalFile<Record>.currentFormatVersion else {
            throw JournalError(
                .storage,
                "the journal file \(path) has format version \(file.formatVersion), newer than this kvmmigrate reads"
            )
        }
        if let stem, stem != Self.fileStem(for: file.key) {
            throw JournalError(
                .storage,
                "the journal file \(path) holds the key \(file.key), which belongs in another file"
            )
        }
        return file
    }

    /// The error for a key whose lock another handle holds, with what its record says about it.
    private func busy(key: String, paths: Paths) -> JournalError {
        guard let file = try? self.readRecord(at: paths.record) else {
            return JournalError(
                .operationInProgress,
                "another kvmmigrate operation on \(key) is running (it holds \(paths.lock)); wait for it to finish"
            )
        }
        return JournalError(
            .operationInProgress,
            "another kvmmigrate operation on \(key) is running (pid \(file.pid), started "
                + "\(Self.timestamp(file.startedAt)), recorded in \(paths.record)); wait for it to finish, or stop it "
                + "and run `kvmmigrate recover`"
        )
    }

    // MARK: - Coding

    static func encode(_ file: JournalFile<Record>) throws(JournalError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        do {
            var data = try encoder.encode(file)
            data.append(0x0A)
            return data
        } catch {
            throw JournalError(.storage, "could not encode the journal record for \(file.key): \(error)")
        }
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        // Fractional seconds are written; whole seconds are accepted too (a record edited by hand).
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "\(text) is not an ISO 8601 date"
            )
        }
        return decoder
    }

    /// A time for messages, e.g. `2025-03-14T09:26:53Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }

    /// A time for file names that sorts in time order, e.g. `20250314T092653.589793Z`.
    static func fileTimestamp(_ date: Date) -> String {
        let since1970 = date.timeIntervalSince1970
        var seconds = time_t(since1970.rounded(.down))
        let microseconds = min(999_999, Int((since1970 - since1970.rounded(.down)) * 1_000_000))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d%02d%02dT%02d%02d%02d.%06dZ",
            parts.tm_year + 1900,
            parts.tm_mon + 1,
            parts.tm_mday,
            parts.tm_hour,
            parts.tm_min,
            parts.tm_sec,
            Int32(microseconds)
        )
    }
}
