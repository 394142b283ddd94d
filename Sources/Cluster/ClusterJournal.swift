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
    private let fallback: Mutex<ClusterOperationRecord>
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
        self.fallback = Mutex(handle?.record ?? record)
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

    public var record: ClusterOperationRecord {
        self.handle?.record ?? self.fallback.withLock { $0 }
    }

    /// Every event so far, in order.
    public var history: [ClusterEvent] { self.events.withLock { $0 } }

    /// The operation's id (the journal's), which its lock on the nodes carries (``NodeLock``); `nil` without a journal.
    public var operationID: String? { self.handle?.id }

    /// Changes the record durably.
    public func update(_ change: (inout ClusterOperationRecord) -> Void) throws(ClusterError) {
        if let handle = self.handle {
            do throws(JournalError) {
                try handle.update(change)
            } catch {
                throw ClusterError(.journal, "cannot write the operation journal: \(error.message)")
            }
        } else {
            self.fallback.withLock { change(&$0) }
        }
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

    /// Ends the operation: the record leaves the list of unfinished operations.
    public func finish() throws(ClusterError) {
        do throws(JournalError) {
            try self.handle?.finish()
        } catch {
            throw ClusterError(.journal, "cannot close the operation journal: \(error.message)")
        }
    }
}
