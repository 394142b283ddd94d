import Foundation
import Synchronization

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
    /// - Throws: ``JournalError`` (``JournalError/Code/storage``) when the record cannot be written (the record on
    ///   disk and ``record`` then keep the previous version), or when the operation was finished.
    public func update(_ change: (inout Record) -> Void) throws(JournalError) {
        try self.state.withLock { (state) throws(JournalError) in
            guard case .active = state.phase else {
                throw JournalError(.storage, "the operation \(self.id) on \(self.key) is no longer active")
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
    /// - Throws: ``JournalError`` (``JournalError/Code/storage``) when the record cannot be moved (the operation
    ///   then stays unfinished and locked; retry or let `kvmmigrate recover` finish it later), when the move cannot
    ///   be made durable (the operation counts as finished; the lock is released), or after ``abandonForTesting()``.
    public func finish() throws(JournalError) {
        try self.state.withLock { (state) throws(JournalError) in
            let descriptor: Int32
            switch state.phase {
            case .active(let held): descriptor = held
            case .finished: return
            case .abandoned:
                throw JournalError(.storage, "the operation \(self.id) on \(self.key) was abandoned, not finished")
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
    private func prune(_ done: String) throws(JournalError) {
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
