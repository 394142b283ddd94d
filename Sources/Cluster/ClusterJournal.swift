import Foundation
import Journal
import Synchronization

/// Writes a cluster operation's progress to the durable journal before the next remote step starts, and
/// reports each step.
///
/// In debug builds only (`KVMMIGRATE_TEST_HOOKS`, set by Package.swift for the debug configuration; a release
/// build has no such code), two test hooks read from the environment let the lab tests stop the tool at a chosen
/// point:
/// - `KVMMIGRATE_TEST_CRASH_AFTER_STEP=N`: after the Nth recorded step the process kills itself (SIGKILL), as a
///   power loss would, to prove that `kvmmigrate recover` finishes an operation from any point;
/// - `KVMMIGRATE_TEST_HOLD_AFTER_STEP=N:FILE`: after the Nth step it creates `FILE.held` and waits (at most
///   two minutes) until `FILE` exists, so a test can cut a node's link in the middle of a prepare or restore.
public final class ClusterJournal: Sendable {
    private let handle: JournalHandle<ClusterOperationRecord>?
    /// The record as the operation knows it: every change lands here first, then on disk. When the disk refuses
    /// (full, read-only), this copy still says what was done on which node, so the restore that follows in this
    /// process undoes exactly that.
    private let current: Mutex<ClusterOperationRecord>
    /// Whether a failed write was already reported (once per operation).
    private let storageWarned = Mutex(false)
    private let onEvent: @Sendable (ClusterEvent) -> Void
    #if KVMMIGRATE_TEST_HOOKS
    private let stepsRecorded = Mutex(0)
    private let crashAfterStep: Int?
    private let holdAfterStep: (step: Int, file: String)?
    #endif
    private let events = Mutex<[ClusterEvent]>([])

    /// - Parameters:
    ///   - handle: The journal entry to keep up to date; `nil` keeps the record in memory only.
    ///   - record: The record to start from when there is no handle.
    public init(
        handle: JournalHandle<ClusterOperationRecord>?,
        record: ClusterOperationRecord,
        onEvent: @escaping @Sendable (ClusterEvent) -> Void = { _ in }
    ) {
        self.handle = handle
        self.current = Mutex(handle?.record ?? record)
        self.onEvent = onEvent
        #if KVMMIGRATE_TEST_HOOKS
        let environment = ProcessInfo.processInfo.environment
        self.crashAfterStep = environment["KVMMIGRATE_TEST_CRASH_AFTER_STEP"].flatMap { Int($0) }
        self.holdAfterStep = environment["KVMMIGRATE_TEST_HOLD_AFTER_STEP"].flatMap { value in
            let parts = value.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let step = Int(parts[0]) else { return nil }
            return (step, String(parts[1]))
        }
        #endif
    }

    /// The record with every change made so far, also those the disk refused.
    public var record: ClusterOperationRecord { self.current.withLock { $0 } }

    /// Every event so far, in order.
    public var history: [ClusterEvent] { self.events.withLock { $0 } }

    /// The operation's id (the journal's), which its lock on the nodes carries (``NodeLock``); `nil` without a journal.
    public var operationID: String? { self.handle?.id }

    /// Changes the record, in memory and then durably (under one lock, so the disk never gets an older copy after a
    /// newer one).
    ///
    /// - Throws: ``ClusterError/Code/journal`` when the disk refused the record; the change is kept in memory
    ///   (``record``) all the same.
    public func update(_ change: (inout ClusterOperationRecord) -> Void) throws(ClusterError) {
        let handle = self.handle
        let failure: JournalError? = self.current.withLock { record in
            change(&record)
            guard let handle else { return nil }
            let copy = record
            do throws(JournalError) {
                try handle.update { $0 = copy }
                return nil
            } catch {
                return error
            }
        }
        if let failure {
            throw ClusterError(.journal, "cannot write the operation journal: \(failure.message)")
        }
    }

    /// Records that a restore step is done on `node`, as ``done(_:on:_:)``, except that a journal the disk refuses does
    /// not stop the restore: the step is done on the node, and a restore is safe to repeat (`kvmmigrate recover` would
    /// run it again from the last record on disk). The first refusal is reported as a warning.
    public func doneRestoring(_ step: String, on node: String, _ message: String) {
        do throws(ClusterError) {
            try self.done(step, on: node, message)
        } catch {
            self.report(ClusterEvent(node: node, step: step, message: message))
            self.warnOnce(about: error)
        }
    }

    /// Records a change that only helps a later `recover` (the phase of a restore), warning once when the disk
    /// refuses it.
    public func updateIfPossible(_ change: (inout ClusterOperationRecord) -> Void) {
        do throws(ClusterError) { try self.update(change) } catch { self.warnOnce(about: error) }
    }

    private func warnOnce(about error: ClusterError) {
        let first = self.storageWarned.withLock { warned in
            defer { warned = true }
            return !warned
        }
        guard first else { return }
        self.report(
            ClusterEvent(
                node: nil,
                step: "journal",
                message: "\(error.message); the restore goes on (it is safe to repeat)",
                warning: true
            )
        )
    }

    /// Records that `step` is done on `node` (durably), reports it, and applies the crash test hook.
    public func done(_ step: String, on node: String, _ message: String) throws(ClusterError) {
        try self.update { $0.markDone(step, on: node) }
        self.report(ClusterEvent(node: node, step: step, message: message))
        #if KVMMIGRATE_TEST_HOOKS
        let count = self.stepsRecorded.withLock { count in
            count += 1
            return count
        }
        if let crashAfterStep = self.crashAfterStep, count == crashAfterStep {
            kill(getpid(), SIGKILL)
        }
        if let hold = self.holdAfterStep, count == hold.step {
            _ = FileManager.default.createFile(atPath: hold.file + ".held", contents: nil)
            for _ in 0..<1200 where !FileManager.default.fileExists(atPath: hold.file) {
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        #endif
    }

    /// Reports an event without recording a step.
    public func report(_ event: ClusterEvent) {
        self.events.withLock { $0.append(event) }
        self.onEvent(event)
    }

    /// Ends the operation as ``finish()`` does; when the journal cannot be closed, says so (warning): the next operation
    /// on this cluster will then ask for `kvmmigrate recover`, which finds the cluster restored.
    public func finishOrWarn() {
        do throws(ClusterError) {
            try self.finish()
        } catch {
            self.report(
                ClusterEvent(
                    node: nil,
                    step: "journal",
                    message: "\(error.message): the next operation on this cluster asks for kvmmigrate recover first",
                    warning: true
                )
            )
        }
    }

    /// Ends the operation: the record leaves the list of unfinished operations.
    public func finish() throws(ClusterError) {
        do throws(JournalError) {
            try self.handle?.finish()
        } catch {
            throw ClusterError(.journal, "cannot close the operation journal: \(error.message)")
        }
    }
}
