import Foundation
import Libvirt

/// Brings a migration that ended badly — a host stopped answering, the link between the hosts broke, post-copy
/// failed — to a state where the guest runs on exactly one host, and says what it did.
///
/// It asks both daemons (reconnecting as they come back) for the domain's state and reason, and the source for a
/// migration job it may still run; a ``RecoveryPlanner`` decides from that what to do (wait, resume a broken
/// post-copy migration, destroy an unfinished or stale copy, resume a copy paused for a switch-over, or stop), and
/// this type does it over libvirt, one step at a time, asking both daemons again after each.
public struct MigrationRecovery: Sendable {
    public let prepared: PreparedMigration
    /// How long to wait for a host that does not answer, and for a broken post-copy link to come back.
    public var reconnectTimeout: Duration
    /// Called with one line for each thing worth telling the operator while it waits or acts.
    public var onNotice: @Sendable (String) -> Void

    public init(
        _ prepared: PreparedMigration,
        reconnectTimeout: Duration = .seconds(120),
        onNotice: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.prepared = prepared
        self.reconnectTimeout = reconnectTimeout
        self.onNotice = onNotice
    }

    /// What the recovery found and did.
    public struct Outcome: Sendable, Hashable {
        public var location: DomainLocation
        /// What was done, one line each, in order.
        public var actions: [String]
        /// Set when a broken post-copy migration was resumed and finished.
        public var resumedPostCopy: Bool
        /// Set when the source's libvirt finished the migration after this tool's call to it had failed.
        public var finishedBySource: Bool
        /// Set when a post-copy migration is still broken: the command that resumes it.
        public var resumeCommand: String?
    }

    /// Whether a location needs recovery at all.
    public static func needsRecovery(_ location: DomainLocation) -> Bool {
        if location.problem != nil { return true }
        if location.sourceState?.isPostCopyFailed == true || location.destinationState?.isPostCopyFailed == true {
            return true
        }
        if location.sourceState?.isPausedForMigration == true || location.destinationState?.isPausedForMigration == true
        {
            return true
        }
        return location.summary != .source && location.summary != .destination
    }

    /// The command an operator runs to resume a broken post-copy migration of this domain.
    public var resumeCommand: String {
        "kvmmigrate migrate \(self.prepared.domainName) \(self.prepared.request.destinationURI) "
            + "-c \(self.prepared.request.sourceURI) --postcopy-resume"
    }

    /// Resumes a broken post-copy migration (`kvmmigrate migrate --postcopy-resume`) and reports where the guest
    /// runs afterwards.
    public func resume() async -> MigrationReport {
        let clock = ContinuousClock()
        let start = clock.now
        let startedAt = Date()
        let outcome = await self.settle(from: await LiveMigration.locate(self.prepared, reconnect: true))
        let prepared = self.prepared
        let request = prepared.request
        let resumed = outcome.location.summary == .destination
        return MigrationReport(
            outcome: resumed ? .completed : .failed,
            domainName: prepared.domainName,
            domainUUID: prepared.domainUUID,
            sourceURI: request.sourceURI,
            destinationURI: request.destinationURI,
            sourceHostname: prepared.sourceHostname,
            destinationHostname: prepared.destinationHostname,
            startedAt: startedAt,
            totalTime: clock.now - start,
            completedStatistics: nil,
            memoryPassesSeen: nil,
            location: outcome.location,
            errorMessage: resumed ? nil : "the post-copy migration could not be resumed",
            abortReason: nil,
            recoveryActions: outcome.actions,
            resumeCommand: outcome.resumeCommand
        )
    }

    /// Settles the migration, starting from `location` (as ``LiveMigration/locate(_:reconnect:)`` found it).
    ///
    /// A ``RecoveryPlanner`` decides each step; this carries it out over libvirt, locates the domain again and
    /// asks for the next one, until the planner finishes or gives up.
    public func settle(from location: DomainLocation) async -> Outcome {
        let clock = ContinuousClock()
        var planner = RecoveryPlanner(
            reconnectTimeout: self.reconnectTimeout,
            resumeCommand: self.resumeCommand,
            now: clock.now
        )
        var location = location
        while true {
            let processed = planner.needsSourceJob(in: location) ? await self.sourceJobProgress() : nil
            let result: RecoveryPlanner.ActionResult
            switch planner.next(location: location, sourceJobProcessed: processed, now: clock.now) {
            case .finish(let outcome), .giveUp(let outcome):
                return outcome
            case .waitForSourceJob(let notice), .waitForHost(let notice):
                if let notice { self.onNotice(notice) }
                result = .done
            case .resumePostCopy(let deadline):
                result = .postCopyResume(await self.resumePostCopy(until: deadline))
            case .destroyDestinationCopy:
                result = await self.perform(.destroy, onDestination: true).map { .failed($0) } ?? .done
            case .destroySourceCopy:
                result = await self.perform(.destroy, onDestination: false).map { .failed($0) } ?? .done
            case .resumeSourceCopy:
                result = await self.perform(.resume, onDestination: false).map { .failed($0) } ?? .done
            }
            switch planner.record(result) {
            case .locate(let pause):
                if pause > .zero { try? await Task.sleep(for: pause) }
                location = await LiveMigration.locate(self.prepared, reconnect: true)
            case .finish:
                continue  // The planner finishes on the location it has.
            }
        }
    }

    /// Resumes a broken post-copy migration: once the destination answers again, pauses it on the source if QEMU
    /// has not noticed the break yet, then restarts it with `VIR_MIGRATE_POSTCOPY_RESUME`, retrying while the link
    /// is down or libvirt is still tearing down the broken attempt.
    func resumePostCopy(until deadline: ContinuousClock.Instant) async -> RecoveryPlanner.PostCopyResume {
        let prepared = self.prepared
        let request = prepared.request
        var messagesSaid: Set<String> = []
        while ContinuousClock.now < deadline {
            do throws(LibvirtError) {
                let inPostCopy = try await runBlocking(named: "post-copy state") { () throws(LibvirtError) in
                    try self.sourceDomainInPostCopy() != nil
                }
                guard inPostCopy else {
                    return .nothingToResume  // libvirt finished or ended the migration itself.
                }
                // Pause the source's stream only once the destination answers again: the pause closes the stream,
                // and the destination's QEMU learns of it only if that close reaches it. A close sent into a dead
                // link is lost, and the destination then waits for its stream as long as TCP lets it, refusing the
                // resume ("QEMU reports migration is still running") all that while.
                _ = try await Connection.open(
                    uri: request.destinationURI,
                    readOnly: true,
                    timeout: Self.destinationProbeTimeout
                ).get()
                let resumed = try await runBlocking(named: "resume post-copy") { () throws(LibvirtError) -> Bool in
                    guard let domain = try self.sourceDomainInPostCopy() else { return false }
                    // Also when libvirt already marked post-copy failed: libvirt notices the lost peer daemon long
                    // before QEMU's TCP stream times out. When QEMU has paused already, libvirt refuses: fine.
                    try? domain.pausePostCopy()
                    try domain.migrate(
                        to: request.destinationURI,
                        parameters: request.parameters,
                        flags: request.flags.union([.postCopy, .postCopyResume])
                    )
                    return true
                }
                return resumed ? .resumed : .nothingToResume
            } catch {
                // Say the first reason, and each new one once: an operator watching a long wait sees what blocks
                // it.
                if messagesSaid.isEmpty {
                    self.onNotice(
                        "post-copy broke: the guest's memory is split between the hosts; resuming it when the link "
                            + "is back (\(error.message))"
                    )
                } else if !messagesSaid.contains(error.message) {
                    self.onNotice("post-copy not resumed yet: \(error.message)")
                }
                messagesSaid.insert(error.message)
                try? await Task.sleep(for: .seconds(2))
            }
        }
        return .gaveUp
    }

    /// How long to wait for the destination's daemon to answer before each attempt to resume post-copy.
    static let destinationProbeTimeout: Duration = .seconds(10)

    /// The source's copy of the domain while it is in post-copy (running or broken); `nil` when the source no longer
    /// has it or it left post-copy. Blocking: call it off the cooperative pool.
    private func sourceDomainInPostCopy() throws(LibvirtError) -> Domain? {
        let domain: Domain
        do throws(LibvirtError) {
            domain = try self.sourceConnection().domain(uuid: self.prepared.domainUUID)
        } catch  where error.code == .noDomain {
            return nil
        }
        let state = try domain.state()
        return state.isPostCopyFailed || state.isPostCopy ? domain : nil
    }

    /// The data sent so far when the source still has a migration job for the domain (the tool's call ended,
    /// libvirt's did not), or `nil`.
    private func sourceJobProgress() async -> UInt64? {
        let uuid = self.prepared.domainUUID
        return await runBlocking(named: "source job") {
            guard let connection = try? self.sourceConnection(),
                let statistics = try? connection.domain(uuid: uuid).jobStats(),
                statistics.type.isActive, statistics.isOutgoingMigration
            else { return nil }
            return statistics.dataProcessed ?? statistics.memoryProcessed ?? 0
        }
    }

    /// The migration's own connection to the source while it lives; a new one once the link broke it.
    ///
    /// Blocking: call it off the cooperative pool.
    private func sourceConnection() throws(LibvirtError) -> Connection {
        self.prepared.source.isAlive ? self.prepared.source : try Connection(uri: self.prepared.request.sourceURI)
    }

    /// What recovery may do to one copy of the guest.
    private enum CopyAction: String { case destroy, resume }

    /// Destroys or resumes the copy on the destination or the source, over a new read-write connection;
    /// returns libvirt's message when it fails.
    private func perform(_ action: CopyAction, onDestination: Bool) async -> String? {
        let uuid = self.prepared.domainUUID
        return await runBlocking(named: "\(action.rawValue) copy") {
            do throws(LibvirtError) {
                // The migration's connection to the destination is read-only: acting there needs a new one.
                let connection =
                    onDestination
                    ? try Connection(uri: self.prepared.request.destinationURI) : try self.sourceConnection()
                let domain = try connection.domain(uuid: uuid)
                switch action {
                case .destroy: try domain.destroy()
                case .resume: try domain.resume()
                }
                return nil
            } catch {
                return error.message
            }
        }
    }
}
