import Foundation
import Journal

/// One migration of a domain at a time, across processes: a journal entry keyed by the domain's UUID, held for
/// the life of the migration. It is also where `kvmmigrate status` finds the migrations this machine runs.
///
/// A record left by a process that died is taken over silently: a plain migration leaves nothing to recover
/// (libvirt ends the job), unlike the cluster operation, which has its own journal.
public final class MigrationLock: Sendable {
    private let handle: JournalHandle<MigrationRecord>

    /// The default directory: `$KVMMIGRATE_STATE_DIR/migrations` or `/var/lib/kvmmigrate/migrations`.
    public static var defaultDirectory: URL {
        let base = ProcessInfo.processInfo.environment["KVMMIGRATE_STATE_DIR"] ?? "/var/lib/kvmmigrate"
        return URL(filePath: base).appending(path: "migrations")
    }

    /// Takes the lock for `record.domainUUID`.
    ///
    /// - Throws: ``MigrationError`` with ``MigrationError/Code/operationInProgress`` naming the process that
    ///   migrates the domain now.
    public init(record: MigrationRecord, directory: URL = MigrationLock.defaultDirectory) throws(MigrationError) {
        let stale: JournalEntry<MigrationRecord>?
        let store: JournalStore<MigrationRecord>
        do throws(JournalError) {
            store = try JournalStore<MigrationRecord>(directory: directory)
            stale = try store.unfinished().first(where: { $0.key == record.domainUUID })
        } catch {
            throw MigrationError(.journal, error.message)
        }
        if let stale, stale.processRunning {
            throw MigrationError(
                .operationInProgress,
                "\(record.domain) is being migrated already by kvmmigrate (pid \(stale.pid), to "
                    + "\(stale.record.destinationURI), since \(stale.startedAt.formatted(.iso8601)))"
            )
        }
        do throws(JournalError) {
            if let stale { try store.resume(stale).finish() }
            self.handle = try store.begin(key: record.domainUUID, record: record)
        } catch  where error.code == .operationInProgress {
            throw MigrationError(.operationInProgress, "\(record.domain) is being migrated already: \(error.message)")
        } catch {
            throw MigrationError(.journal, error.message)
        }
    }

    /// Records the cluster step under way.
    public func note(clusterStep: String) {
        try? self.handle.update { $0.clusterStep = clusterStep }
    }

    /// Records the last step of the convergence policy.
    public func note(policyStep: String) {
        try? self.handle.update { $0.policyStep = policyStep }
    }

    /// Releases the lock.
    public func release() {
        try? self.handle.finish()
    }

    /// The migrations running now, as this machine's kvmmigrate processes recorded them.
    public static func running(in directory: URL = MigrationLock.defaultDirectory) -> [JournalEntry<MigrationRecord>] {
        guard let store = try? JournalStore<MigrationRecord>(directory: directory) else { return [] }
        return ((try? store.unfinished()) ?? []).filter(\.processRunning)
    }
}
