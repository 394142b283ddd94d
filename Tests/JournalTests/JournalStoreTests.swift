import Foundation
import Testing

@testable import Journal

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a cluster operation might record: enough structure to see that records round-trip.
private struct TestRecord: Codable, Sendable, Equatable {
    var phase: String
    var restored: [String] = []
    var changedAt: Date?
}

/// A fresh journal directory under the temporary directory, removed when the test ends.
private final class TemporaryDirectory {
    let url: URL

    init() {
        self.url = FileManager.default.temporaryDirectory
            .appendingPathComponent("JournalStoreTests-\(UUID().uuidString)", isDirectory: true)
    }

    /// The journal directory itself, one level down so the store has to create it.
    var journal: URL { self.url.appendingPathComponent("journal", isDirectory: true) }

    func store(historyLimit: Int = 50) throws -> JournalStore<TestRecord> {
        try JournalStore(directory: self.journal, historyLimit: historyLimit)
    }

    deinit { try? FileManager.default.removeItem(at: self.url) }
}

private func permissions(_ url: URL) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
    return try #require(attributes[.posixPermissions] as? NSNumber).intValue & 0o777
}

private func doneFiles(_ store: JournalStore<TestRecord>) throws -> [URL] {
    try FileManager.default.contentsOfDirectory(atPath: store.doneDirectory.path)
        .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        .sorted()
        .map { store.doneDirectory.appendingPathComponent($0) }
}

private func decodeFile(_ url: URL) throws -> JournalFile<TestRecord> {
    try JournalStore<TestRecord>.decoder().decode(JournalFile<TestRecord>.self, from: Data(contentsOf: url))
}

/// Runs `body`, expecting a ``JournalError`` with `code`, and returns it.
private func expectFailure(
    _ code: JournalError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> JournalError? {
    do {
        try body()
        Issue.record("expected a \(code) error, got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as JournalError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a JournalError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

@Suite struct JournalStoreTests {
    // MARK: - Trust: nothing another user could change

    @Test func aDirectoryOthersMayWriteIsRefused() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.journal, withIntermediateDirectories: true)
        for mode: mode_t in [0o777, 0o720, 0o702] {
            chmod(directory.journal.path, mode)
            let error = expectFailure(.storage) { _ = try directory.store() }
            #expect(error?.message.contains("make it 0700") == true, "\(error?.message ?? "")")
        }
        chmod(directory.journal.path, 0o755)
        _ = try directory.store()
    }

    @Test func aSymbolicLinkForTheDirectoryIsRefused() throws {
        let directory = TemporaryDirectory()
        let real = directory.url.appendingPathComponent("real", isDirectory: true)
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: directory.journal, withDestinationURL: real)
        let error = expectFailure(.storage) { _ = try directory.store() }
        #expect(error?.message.contains("symbolic link") == true)
    }

    @Test(.enabled(if: geteuid() == 0)) func aDirectoryOfAnotherUserIsRefused() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(at: directory.journal, withIntermediateDirectories: true)
        chmod(directory.journal.path, 0o700)
        #expect(chown(directory.journal.path, 65534, 65534) == 0)
        let error = expectFailure(.storage) { _ = try directory.store() }
        #expect(error?.message.contains("belongs to user 65534") == true)
    }

    /// A link planted where a lock or a record will be is never followed: the file it points to stays as it was.
    @Test func aPlantedLinkIsNeverFollowed() throws {
        let directory = TemporaryDirectory()
        let store = try directory.store()
        let victim = directory.url.appendingPathComponent("victim")
        try Data("precious\n".utf8).write(to: victim)
        let handle = try store.begin(key: "cluster-a", record: TestRecord(phase: "prepared"))
        let lock = handle.path.deletingPathExtension().appendingPathExtension("lock")
        try handle.finish()
        // The next begin of the key opens the same lock path.
        try? FileManager.default.removeItem(at: lock)
        try FileManager.default.createSymbolicLink(at: lock, withDestinationURL: victim)
        _ = expectFailure(.storage) { _ = try store.begin(key: "cluster-a", record: TestRecord(phase: "x")) }
        #expect(try Data(contentsOf: victim) == Data("precious\n".utf8))
    }

    // MARK: - Round trip and durability

    @Test func beginUpdateFinishRoundTrip() throws {
        let directory = TemporaryDirectory()
        let store = try directory.store()
        let handle = try store.begin(key: "cluster-a", record: TestRecord(phase: "prepared"))
        #expect(handle.record == TestRecord(phase: "prepared"))
        #expect(handle.key == "cluster-a")
        #expect(FileManager.default.fileExists(atPath: handle.path.path))

        try handle.update { $0.phase = "migrating" }
        try handle.update { $0.restored.append("node-a") }
        #expect(handle.record == TestRecord(phase: "migrating", restored: ["node-a"]))

        try handle.finish()
        try handle.finish()  // Finishing again does nothing.
        #expect(try store.unfinished().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: handle.path.path))

        let done = try doneFiles(store)
        try #require(done.count == 1)
        let file = try decodeFile(done[0])
        #expect(file.record == TestRecord(phase: "migrating", restored: ["node-a"]))
        #expect(file.id == handle.id)
        #expect(file.key == "cluster-a")
        #expect(file.pid == getpid())
        #expect(file.finishedAt != nil)
        #expect(done[0].lastPathComponent.contains("-cluster-a-"))

        // The key is free again.
        try store.begin(key: "cluster-a", record: TestRecord(phase: "again")).finish()
    }

    @Test func everyUpdateIsReadableFromAFreshStore() throws {
        let directory = TemporaryDirectory()
        let handle = try directory.store().begin(key: "cluster-a", record: TestRecord(phase: "step-0"))
        let changedAt = Date(timeIntervalSince1970: 1_700_000_000)
        for step in 1...5 {
            try handle.update {
                $0.phase = "step-\(step)"
                $0.restored.append("node-\(step)")
                $0.changedAt = changedAt
            }
            // What a process started after a crash would see.
            let entries = try directory.store().unfinished()
            try #require(entries.count == 1)
            #expect(entries[0].record == handle.record)
            #expect(entries[0].record.phase == "step-\(step)")
            #expect(entries[0].record.changedAt == changedAt)
            #expect(entries[0].processRunning)
            #expect(entries[0].pid == getpid())
            #expect(entries[0].id == handle.id)
            #expect(entries[0].path.standardizedFileURL == handle.path.standardizedFileURL)
            #expect(entries[0].updatedAt >= entries[0].startedAt)
        }
        try handle.finish()
    }

    @Test func concurrentUpdatesAreAllKept() async throws {
        let directory = TemporaryDirectory()
        let handle = try directory.store().begin(key: "cluster-a", record: TestRecord(phase: "prepared"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask { try handle.update { $0.restored.append("node-\(index)") } }
            }
            try await group.waitForAll()
        }
        #expect(handle.record.restored.count == 20)
        #expect(Set(handle.record.restored).count == 20)
        #expect(try directory.store().unfinished().map(\.record) == [handle.record])
        #expect(try decodeFile(handle.path).sequence == 20)
        try handle.finish()
    }

    @Test func updateAfterFinishFails() throws {
        let directory = TemporaryDirectory()
        let handle = try directory.store().begin(key: "cluster-a", record: TestRecord(phase: "prepared"))
        try handle.finish()
        _ = expectFailure(.storage) { try handle.update { $0.phase = "late" } }
        #expect(handle.record.phase == "prepared")
    }

    // MARK: - Locking

    @Test func secondBeginForTheSameKeyFailsWhileTheFirstHandleLives() throws {
        let directory = TemporaryDirectory()
        let first = try directory.store().begin(key: "cluster-a", record: TestRecord(phase: "prepared"))
        // Same store, and a second store over the same directory (a second open file description either way).
        for store in [try directory.store(), try directory.store()] {
            let error = expectFailure(.operationInProgress) {
                _ = try store.begin(key: "cluster-a", record: TestRecord(phase: "other"))
            }
            #expect(error?.message.contains("pid \(getpid())") == true)
            #expect(error?.message.contains("cluster-a") == true)
        }
        // The refused begin left the first operation's record alone.
        #expect(try directory.store().unfinished().map(\.record) == [TestRecord(phase: "prepared")])
        try first.finish()
        try directory.store().begin(key: "cluster-a", record: TestRecord(phase: "next")).finish()
    }

    @Test func aDifferentKeyDoesNotConflict() throws {
        let directory = TemporaryDirectory()
        let store = try directory.store()
        let cluster = try store.begin(key: "cluster-a", record: TestRecord(phase: "a"))
        let domain = try store.begin(key: "6f1c7a52-1b7e-4c8e-9a53-2d1f0c4b8e11", record: TestRecord(phase: "b"))
        #expect(try store.unfinished().map(\.key).sorted() == ["6f1c7a52-1b7e-4c8e-9a53-2d1f0c4b8e11", "cluster-a"])
        try cluster.finish()
        try domain.finish()
    }

    @Test func concurrentBeginsForOneKeyLetExactlyOneWin() async throws {
        let directory = TemporaryDirectory()
        let journal = directory.journal
        _ = try directory.store()
        let outcomes = await withTaskGroup(of: Result<JournalHandle<TestRecord>, JournalError>.self) { group in
            for index in 0..<8 {
                group.addTask {
                    do throws(JournalError) {
                        let store = try JournalStore<TestRecord>(directory: journal)
                        return .success(try store.begin(key: "cluster-a", record: TestRecord(phase: "\(index)")))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var outcomes: [Result<JournalHandle<TestRecord>, JournalError>] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        for case .failure(let error) in outcomes { #expect(error.code == .operationInProgress, "\(error.message)") }
        for winner in winners { try winner.finish() }
    }

    // MARK: - Crash and recovery

    @Test func anAbandonedOperationMustBeRecoveredBeforeANewOneBegins() throws {
        let directory = TemporaryDirectory()
        let store = try directory.store()
        let crashed = try store.begin(key: "cluster-a", record: TestRecord(phase: "prepared"))
        try crashed.update { $0.phase = "nodes-changed" }
        crashed.abandonForTesting()  // As if kill -9: the lock goes, the record stays.

        let error = expectFailure(.operationInProgress) {
            _ = try store.begin(key: "cluster-a", record: TestRecord(phase: "new"))
        }
        #expect(error?.message.contains("kvmmigrate recover") == true)
        #expect(error?.message.contains("pid \(getpid())") == true)
        #expect(error?.message.contains("no longer running") == true)

        let entries = try settled(directory.store())
        try #require(entries.count == 1)
        let entry = entries[0]
        #expect(!entry.processRunning)
        #expect(entry.key == "cluster-a")
        #expect(entry.id == crashed.id)
        #expect(entry.record.phase == "nodes-changed")

        let recovery = try directory.store().resume(entry)
        #expect(recovery.id == crashed.id)
        #expect(recovery.record.phase == "nodes-changed")
        // Taken over: now listed as running, and neither begin nor a second resume gets it.
        #expect(try store.unfinished().map(\.processRunning) == [true])
        _ = expectFailure(.operationInProgress) { _ = try store.resume(entry) }
        _ = expectFailure(.operationInProgress) {
            _ = try store.begin(key: "cluster-a", record: TestRecord(phase: "new"))
        }
        #expect(try decodeFile(entry.path).resumedAt != nil)

        try recovery.update { $0.restored = ["node-a", "node-b"] }
        try recovery.finish()
        #expect(try store.unfinished().isEmpty)
        #expect(try doneFiles(store).count == 1)
        try store.begin(key: "cluster-a", record: TestRecord(phase: "new")).finish()
    }

    /// The lock of a real other process, killed with SIGKILL: it holds the key's lock file as kvmmigrate would.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/flock")))
    func aLockHeldByAnotherProcessIsReleasedWhenItIsKilled() throws {
        let directory = TemporaryDirectory()
        let store = try directory.store()
        try store.begin(key: "cluster-a", record: TestRecord(phase: "nodes-changed")).abandonForTesting()
        let lock = store.directory.appendingPathComponent("cluster-a.lock").path

        // One process that holds the lock on its descriptor 9 (flock(1) on a descriptor locks and exits; the shell
        // then becomes `sleep`, keeping the descriptor), so SIGKILL leaves no child that still holds it.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 9>>\"$0\" && /usr/bin/flock --exclusive --nonblock 9 && exec sleep 60", lock]
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer {
            if holder.isRunning { kill(holder.processIdentifier, SIGKILL) }
            holder.waitUntilExit()
        }
        // Wait until the child has the lock.
        let deadline = Date().addingTimeInterval(10)
        while try !JournalIO.probe(lock, { $0 }) {
            try #require(holder.isRunning && Date() < deadline, "flock(1) did not take the lock")
            usleep(10_000)
        }

        let entries = try store.unfinished()
        #expect(entries.map(\.processRunning) == [true])
        _ = expectFailure(.operationInProgress) { _ = try store.resume(entries[0]) }
        _ = expectFailure(.operationInProgress) {
            _ = try store.begin(key: "cluster-a", record: TestRecord(phase: "new"))
        }

        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        #expect(try settled(store).map(\.processRunning) == [false])
        try store.resume(entries[0]).finish()
        #expect(try store.unfinished().isEmpty)
    }

    @Test func aDroppedHandleLeavesItsOperationUnfinished() throws {
        let directory = TemporaryDirectory()
        let store = try directory.store()
        do {
            let handle = try store.begin(key: "cluster-a", record: TestRecord(phase: "prepared"))
            try handle.update { $0.phase = "nodes-changed" }
        }
        let entries = try settled(store)
        #expect(entries.map(\.processRunning) == [false])
        #expect(entries.map(\.record.phase) == ["nodes-changed"])
    }

    @Test func resumeFailsWhileTheOperationsProcessRuns() throws {
        let directory = TemporaryDirectory()
        let store = try directory.store()
        let running = try store.begin(key: "cluster-a", record: TestRecord(phase: "prepared"))
        let entries = try store.unfinished()
        #expect(entries.map(\.processRunning) == [true])
        let error = expectFailure(.operationInProgress) { _ = try store.resume(entries[0]) }
        #expect(error?.message.contains("pid \(getpid())") == true)
        try running.finish()
        // Finished since it was listed.
        _ = expectFailure(.storage) { _ = try store.resume(entries[0]) }
    }

    @Test func unfinishedListsOldestFirst() throws {
        let directory = TemporaryDirectory()
        let store = try directory.store()
        for key in ["zeta", "alpha", "mid"] {
            try store.begin(key: key, record: TestRecord(phase: key)).abandonForTesting()
            usleep(3_000)  // Start times are recorded to the millisecond.
        }
        let entries = try store.unfinished()
        #expect(entries.map(\.key) == ["zeta", "alpha", "mid"])
        #expect(entries.allSatisfy { !$0.processRunning })
    }

    // MARK: - History

    @Test func finishKeepsAtMostTheHistoryLimit() throws {
        let directory = TemporaryDirectory()
        let store = try directory.store(historyLimit: 3)
        for index in 0..<6 {
            try store.begin(key: "op-\(index)", record: TestRecord(phase: "\(index)")).finish()
        }
        let done = try doneFiles(store)
        #expect(try done.map { try decodeFile($0).record.phase } == ["3", "4", "5"])
        #expect(try store.unfinished().isEmpty)
    }

    // MARK: - Corrupt files

    @Test(arguments: ["", "{\n  \"format_version\" : 1,\n  \"id\" : \"", "not json", "{\"format_version\": 1}"])
    func aCorruptRecordIsReportedByName(content: String) throws {
        let directory = TemporaryDirectory()
        let store = try directory.store()
        try store.begin(key: "healthy", record: TestRecord(phase: "ok")).abandonForTesting()
        let corrupt = store.directory.appendingPathComponent("cluster-a.json")
        try Data(content.utf8).write(to: corrupt)

        let listing = expectFailure(.storage) { _ = try store.unfinished() }
        #expect(listing?.message.contains(corrupt.path) == true)
        #expect(listing?.message.contains("corrupt or truncated") == true)
        // Not silently dropped, and not replaced by a new operation either.
        let begin = expectFailure(.storage) { _ = try store.begin(key: "cluster-a", record: TestRecord(phase: "x")) }
        #expect(begin?.message.contains(corrupt.path) == true)
        #expect(FileManager.default.fileExists(atPath: corrupt.path))
    }

    @Test func aRecordFromANewerFormatIsRefused() throws {
        let directory = TemporaryDirectory()
        let store = try directory.store()
        let handle = try store.begin(key: "cluster-a", record: TestRecord(phase: "ok"))
        handle.abandonForTesting()
        var text = try String(contentsOf: handle.path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"format_version\" : 1", with: "\"format_version\" : 99")
        try Data(text.utf8).write(to: handle.path)
        let error = expectFailure(.storage) { _ = try store.unfinished() }
        #expect(error?.message.contains("format version 99") == true)
    }

    // MARK: - Files

    @Test func filesAre0600AndDirectories0700() throws {
        let directory = TemporaryDirectory()
        let store = try directory.store()
        #expect(try permissions(store.directory) == 0o700)
        #expect(try permissions(store.doneDirectory) == 0o700)
        let handle = try store.begin(key: "cluster-a", record: TestRecord(phase: "prepared"))
        try handle.update { $0.phase = "migrating" }
        #expect(try permissions(handle.path) == 0o600)
        #expect(try permissions(store.directory.appendingPathComponent("cluster-a.lock")) == 0o600)
        try handle.finish()
        #expect(try permissions(try #require(try doneFiles(store).first)) == 0o600)
        // No temporary file is left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: store.directory.path)
        #expect(names.filter { $0.hasPrefix(".") }.isEmpty, "\(names)")
    }

    @Test func recordsArePrettySortedISO8601JSON() throws {
        let directory = TemporaryDirectory()
        let handle = try directory.store().begin(
            key: "cluster-a",
            record: TestRecord(phase: "prepared", changedAt: Date(timeIntervalSince1970: 0))
        )
        let text = try String(contentsOf: handle.path, encoding: .utf8)
        #expect(text.hasPrefix("{\n  \"format_version\" : 1,\n  \"id\" : "))
        #expect(text.contains("\"changedAt\" : \"1970-01-01T00:00:00.000Z\""))
        #expect(text.contains("\"key\" : \"cluster-a\""))
        #expect(text.contains("\"started_at\" : \"20"))
        let keys = ["format_version", "id", "key", "pid", "record", "sequence", "started_at", "updated_at"]
        let positions = keys.map { text.range(of: "\n  \"\($0)\" :")?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        try handle.finish()
    }

    @Test func keysAreSanitisedIntoDistinctFileNames() throws {
        let directory = TemporaryDirectory()
        let store = try directory.store()
        let keys = ["a/b", "a_b", "../escape", ".hidden", "ünï cödé", String(repeating: "x", count: 300)]
        let handles = try keys.map { try store.begin(key: $0, record: TestRecord(phase: $0)) }
        // Every file stays in the journal directory, and no two keys share one.
        let names = try FileManager.default.contentsOfDirectory(atPath: store.directory.path)
        #expect(names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.count == keys.count)
        #expect(names.allSatisfy { !$0.hasPrefix(".") && !$0.contains("/") })
        #expect(try store.unfinished().map(\.key).sorted() == keys.sorted())
        #expect(JournalStore<TestRecord>.fileStem(for: "cluster-a") == "cluster-a")
        #expect(JournalStore<TestRecord>.fileStem(for: "a/b") != JournalStore<TestRecord>.fileStem(for: "a_b"))
        for handle in handles { try handle.finish() }
        _ = expectFailure(.storage) { _ = try store.begin(key: "", record: TestRecord(phase: "")) }
    }
}

/// The unfinished entries once no lock is held by a process in the middle of starting: tests running in
/// parallel fork children, and until a child execs it holds a copy of every descriptor (`O_CLOEXEC` closes
/// them only at the exec), so a lock just released can look held for an instant.
private func settled<Record>(_ store: JournalStore<Record>) throws -> [JournalEntry<Record>] {
    var entries = try store.unfinished()
    for _ in 0..<100 where entries.contains(where: \.processRunning) {
        Thread.sleep(forTimeInterval: 0.02)
        entries = try store.unfinished()
    }
    return entries
}
