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
    /// - Throws: ``MigrationError`` (``MigrationError/Code/journal``) when a directory cannot be created.
    public init(directory: URL, historyLimit: Int = 50) throws(MigrationError) {
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
    /// - Throws: ``MigrationError`` with ``MigrationError/Code/operationInProgress`` naming the pid and start time when
    ///   another live handle (in this or another process) holds `key`, or when an unfinished record for `key` was
    ///   left by a process that died (run `kvmmigrate recover`); ``MigrationError/Code/journal`` when that record is
    ///   unreadable or a file cannot be written.
    public func begin(key: String, record: Record) throws(MigrationError) -> JournalHandle<Record> {
        let paths = try self.paths(for: key)
        guard let descriptor = try JournalIO.lock(paths.lock) else { throw self.busy(key: key, paths: paths) }
        do throws(MigrationError) {
            if let left = try self.readRecord(at: paths.record) {
                throw MigrationError(
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
    /// - Throws: ``MigrationError`` (``MigrationError/Code/journal``) naming every record file that is corrupt or
    ///   truncated, or when the directory cannot be read. Such a file is never skipped: it may be the only trace of
    ///   nodes left changed.
    public func unfinished() throws(MigrationError) -> [JournalEntry<Record>] {
        var entries: [JournalEntry<Record>] = []
        var problems: [String] = []
        for name in try JournalIO.contents(of: self.directory.path).sorted() {
            guard name.hasSuffix(".json"), !name.hasPrefix(".") else { continue }
            let stem = String(name.dropLast(".json".count))
            let path = self.directory.appendingPathComponent(name).path
            let lock = self.directory.appendingPathComponent(stem + ".lock").path
            do throws(MigrationError) {
                // Read under the probe so a process that finishes meanwhile is not reported as dead.
                let entry = try JournalIO.probe(lock) { (running) throws(MigrationError) -> JournalEntry<Record>? in
                    guard let file = try self.readRecord(at: path, stem: stem) else { return nil }
                    return JournalEntry(file: file, processRunning: running, path: URL(fileURLWithPath: path))
                }
                if let entry { entries.append(entry) }
            } catch {
                problems.append(error.message)
            }
        }
        guard problems.isEmpty else {
            throw MigrationError(
                .journal,
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
    /// - Throws: ``MigrationError`` with ``MigrationError/Code/operationInProgress`` when the operation's process (or
    ///   another handle) still holds it; ``MigrationError/Code/journal`` when the operation was finished or replaced
    ///   since it was listed, or a file cannot be read or written.
    public func resume(_ entry: JournalEntry<Record>) throws(MigrationError) -> JournalHandle<Record> {
        let paths = try self.paths(for: entry.key)
        guard let descriptor = try JournalIO.lock(paths.lock) else { throw self.busy(key: entry.key, paths: paths) }
        do throws(MigrationError) {
            guard var file = try self.readRecord(at: paths.record) else {
                throw MigrationError(
                    .journal,
                    "the operation \(entry.id) on \(entry.key) is no longer unfinished: it was finished since"
                )
            }
            guard file.id == entry.id else {
                throw MigrationError(
                    .journal,
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

    func paths(for key: String) throws(MigrationError) -> Paths {
        guard !key.isEmpty else { throw MigrationError(.journal, "a journal key must not be empty") }
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
    /// - Throws: ``MigrationError/Code/journal`` naming the file when it is corrupt, truncated, written by a newer
    ///   format, or does not belong under its name.
    func readRecord(at path: String, stem: String? = nil) throws(MigrationError) -> JournalFile<Record>? {
        guard let data = try JournalIO.contentsOfFile(path) else { return nil }
        let file: JournalFile<Record>
        do {
            file = try Self.decoder().decode(JournalFile<Record>.self, from: data)
        } catch {
            throw MigrationError(
                .journal,
                "the journal file \(path) is corrupt or truncated (\(data.count) bytes): \(error)"
            )
        }
        guard file.formatVersion <= JournalFile<Record>.currentFormatVersion else {
            throw MigrationError(
                .journal,
                "the journal file \(path) has format version \(file.formatVersion), newer than this kvmmigrate reads"
            )
        }
        if let stem, stem != Self.fileStem(for: file.key) {
            throw MigrationError(
                .journal,
                "the journal file \(path) holds the key \(file.key), which belongs in another file"
            )
        }
        return file
    }

    /// The error for a key whose lock another handle holds, with what its record says about it.
    private func busy(key: String, paths: Paths) -> MigrationError {
        guard let file = try? self.readRecord(at: paths.record) else {
            return MigrationError(
                .operationInProgress,
                "another kvmmigrate operation on \(key) is running (it holds \(paths.lock)); wait for it to finish"
            )
        }
        return MigrationError(
            .operationInProgress,
            "another kvmmigrate operation on \(key) is running (pid \(file.pid), started "
                + "\(Self.timestamp(file.startedAt)), recorded in \(paths.record)); wait for it to finish, or stop it "
                + "and run `kvmmigrate recover`"
        )
    }

    // MARK: - Coding

    static func encode(_ file: JournalFile<Record>) throws(MigrationError) -> Data {
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
            throw MigrationError(.journal, "could not encode the journal record for \(file.key): \(error)")
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

// MARK: - Entries

/// An unfinished operation as ``JournalStore/unfinished()`` found it.
public struct JournalEntry<Record: Codable & Sendable>: Sendable {
    /// What the operation works on (the key given to ``JournalStore/begin(key:record:)``).
    public var key: String
    /// The operation's identifier (a UUID), kept when it is resumed.
    public var id: String
    /// The process that last worked on it.
    public var pid: Int32
    /// Whether that process still holds the operation's lock; if not, the operation needs `kvmmigrate recover`.
    public var processRunning: Bool
    /// When the operation began.
    public var startedAt: Date
    /// When its record was last written.
    public var updatedAt: Date
    /// The operation's record, as last written.
    public var record: Record
    /// The record file.
    public var path: URL

    init(file: JournalFile<Record>, processRunning: Bool, path: URL) {
        self.key = file.key
        self.id = file.id
        self.pid = file.pid
        self.processRunning = processRunning
        self.startedAt = file.startedAt
        self.updatedAt = file.updatedAt
        self.record = file.record
        self.path = path
    }
}

/// What a record file holds: the caller's record and what the store keeps about it.
struct JournalFile<Record: Codable & Sendable>: Codable, Sendable {
    static var currentFormatVersion: Int { 1 }

    var formatVersion = Self.currentFormatVersion
    var key: String
    var id: String
    var pid: Int32
    var startedAt: Date
    var updatedAt: Date
    /// When the operation was last taken over by `kvmmigrate recover`.
    var resumedAt: Date?
    /// When the operation finished (only in `done/`).
    var finishedAt: Date?
    /// How many times the record was written, counting from 0.
    var sequence = 0
    var record: Record

    init(key: String, id: String, pid: Int32, startedAt: Date, updatedAt: Date, record: Record) {
        self.key = key
        self.id = id
        self.pid = pid
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.record = record
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case key
        case id
        case pid
        case startedAt = "started_at"
        case updatedAt = "updated_at"
        case resumedAt = "resumed_at"
        case finishedAt = "finished_at"
        case sequence
        case record
    }
}

// MARK: - Handles

/// The running operation's handle: every update is on disk (`fsync` of the file and its directory) before it returns.
///
/// The handle holds the key's lock until ``finish()``. A handle dropped without finishing releases the lock and leaves
/// the record unfinished, as a crash would: `kvmmigrate recover` then finds it.
public final class JournalHandle<Record: Codable & Sendable>: Sendable {
    /// What the operation works on.
    public let key: String
    /// The operation's identifier (a UUID).
    public let id: String
    /// The record file while the operation runs.
    public let path: URL

    private let store: JournalStore<Record>
    private let paths: JournalStore<Record>.Paths
    private let state: Mutex<State>

    private struct State: Sendable {
        var file: JournalFile<Record>
        var phase: Phase
    }

    private enum Phase: Sendable {
        /// The lock is held through this descriptor.
        case active(descriptor: Int32)
        /// The record is in `done/` and the lock released.
        case finished
        /// The lock was released without finishing (``abandonForTesting()``).
        case abandoned
    }

    init(store: JournalStore<Record>, paths: JournalStore<Record>.Paths, descriptor: Int32, file: JournalFile<Record>) {
        self.key = file.key
        self.id = file.id
        self.path = URL(fileURLWithPath: paths.record)
        self.store = store
        self.paths = paths
        self.state = Mutex(State(file: file, phase: .active(descriptor: descriptor)))
    }

    deinit {
        // Like a crash: the lock goes, the record stays unfinished.
        self.state.withLock { state in
            if case .active(let descriptor) = state.phase { JournalIO.unlock(descriptor) }
        }
    }

    /// The record as last written.
    public var record: Record { self.state.withLock { $0.file.record } }

    /// Changes the record and writes it durably before returning.
    ///
    /// - Parameter change: Changes the record; it runs under the handle's lock, so it must not call back into the
    ///   handle.
    /// - Throws: ``MigrationError`` (``MigrationError/Code/journal``) when the record cannot be written (the record on
    ///   disk and ``record`` then keep the previous version), or when the operation was finished.
    public func update(_ change: (inout Record) -> Void) throws(MigrationError) {
        try self.state.withLock { (state) throws(MigrationError) in
            guard case .active = state.phase else {
                throw MigrationError(.journal, "the operation \(self.id) on \(self.key) is no longer active")
            }
            var file = state.file
            change(&file.record)
            file.updatedAt = Date()
            file.sequence += 1
            try JournalIO.writeDurably(
                JournalStore<Record>.encode(file),
                to: self.paths.record,
                temporary: self.paths.temporary
            )
            state.file = file
        }
    }

    /// Ends the operation: its record moves to `done/` (the newest ``JournalStore/historyLimit`` are kept) and the
    /// lock is released. Finishing again does nothing.
    ///
    /// The move is the commit point. Stamping `finished_at` into the moved record and pruning old ones come after it
    /// and only affect history, so their failures are ignored.
    ///
    /// - Throws: ``MigrationError`` (``MigrationError/Code/journal``) when the record cannot be moved (the operation
    ///   then stays unfinished and locked; retry or let `kvmmigrate recover` finish it later), when the move cannot
    ///   be made durable (the operation counts as finished; the lock is released), or after ``abandonForTesting()``.
    public func finish() throws(MigrationError) {
        try self.state.withLock { (state) throws(MigrationError) in
            let descriptor: Int32
            switch state.phase {
            case .active(let held): descriptor = held
            case .finished: return
            case .abandoned:
                throw MigrationError(.journal, "the operation \(self.id) on \(self.key) was abandoned, not finished")
            }
            let done = self.store.doneDirectory.path
            let finishedAt = Date()
            let name = "\(JournalStore<Record>.fileTimestamp(finishedAt))-\(self.paths.stem)-\(self.id.prefix(8)).json"
            let destination = (done as NSString).appendingPathComponent(name)
            try JournalIO.ensureDirectory(done)
            try JournalIO.move(self.paths.record, to: destination)
            state.phase = .finished
            defer { JournalIO.unlock(descriptor) }
            try JournalIO.syncDirectory(done)
            try JournalIO.syncDirectory(self.store.directory.path)

            var file = state.file
            file.finishedAt = finishedAt
            file.updatedAt = finishedAt
            file.sequence += 1
            if let data = try? JournalStore<Record>.encode(file) {
                let temporary = (done as NSString).appendingPathComponent("." + name + ".tmp")
                if (try? JournalIO.writeDurably(data, to: destination, temporary: temporary)) != nil {
                    state.file = file
                }
            }
            try? self.prune(done)
        }
    }

    /// Deletes the oldest finished records beyond the history limit.
    private func prune(_ done: String) throws(MigrationError) {
        let names = try JournalIO.contents(of: done).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
        for name in names.dropLast(self.store.historyLimit) {
            try JournalIO.remove((done as NSString).appendingPathComponent(name))
        }
        try JournalIO.syncDirectory(done)
    }

    /// Releases the lock without finishing, as if the process had been killed: the record stays unfinished.
    func abandonForTesting() {
        self.state.withLock { state in
            if case .active(let descriptor) = state.phase {
                JournalIO.unlock(descriptor)
                state.phase = .abandoned
            }
        }
    }
}
