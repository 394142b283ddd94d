import Foundation
import Libvirt

/// Brings a migration that ended badly — a host stopped answering, the link between the hosts broke, post-copy
/// failed — to a state where the guest runs on exactly one host, and says what it did.
///
/// It asks both daemons (reconnecting as they come back) for the domain's state and reason, then:
/// - post-copy broke (either side says "post-copy failed"): the guest's memory is split between the hosts, so
///   nothing may be destroyed; the post-copy migration is resumed (`VIR_MIGRATE_POSTCOPY_RESUME`) once the link
///   is back, or the command that resumes it is reported;
/// - the source runs and the destination holds an unfinished incoming copy: that copy is destroyed;
/// - the destination runs the migrated guest and the source still holds its paused copy: the source's copy is
///   destroyed;
/// - the source's copy is paused for a switch-over that never happened and the destination has none: it is
///   resumed.
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

    /// Settles the migration, starting from `location` (as ``LiveMigration/locate(_:)`` found it).
    public func settle(from location: DomainLocation) async -> Outcome {
        let clock = ContinuousClock()
        var deadline = clock.now + self.reconnectTimeout
        var lastProcessed: UInt64?
        var location = location
        var actions: [String] = []
        var resumed = false
        var waitingSaid = false
        var jobSaid = false
        // Set when libvirt ended the migration by itself while this tool waited (its call had failed).
        var libvirtEnded = false
        var postCopyBroken = false
        // Each pass acts at most once; a handful of actions is all a migration can need.
        while actions.count < 6 {
            guard Self.needsRecovery(location) else { break }
            let source = location.sourceState
            let destination = location.destinationState
            if let source, !source.isPostCopyFailed, let processed = await self.sourceJobProgress() {
                // The tool lost its call, not the source its migration: let libvirt finish it first, for as long
                // as data moves (and the reconnect timeout after it stops).
                if processed != lastProcessed {
                    lastProcessed = processed
                    deadline = max(deadline, clock.now + self.reconnectTimeout)
                }
                guard clock.now < deadline else { break }
                if !jobSaid {
                    jobSaid = true
                    self.onNotice("the migration still runs on the source; waiting for libvirt to end it")
                }
                try? await Task.sleep(for: .seconds(1))
                location = await LiveMigration.locate(self.prepared, reconnect: true)
                continue
            }
            if source?.isPostCopyFailed == true || destination?.isPostCopyFailed == true {
                postCopyBroken = true
                switch await self.resumePostCopy(until: deadline) {
                case .resumed:
                    actions.append("resumed the broken post-copy migration once the link was back (POSTCOPY_RESUME)")
                    resumed = true
                    postCopyBroken = false
                case .nothingToResume:
                    postCopyBroken = false
                    libvirtEnded = true
                    try? await Task.sleep(for: .seconds(1))
                case .gaveUp:
                    break
                }
                if postCopyBroken { break }
            } else if let problem = location.problem {
                guard clock.now < deadline else { break }
                if !waitingSaid {
                    waitingSaid = true
                    self.onNotice(
                        "\(problem); waiting up to \(self.reconnectTimeout.wholeMilliseconds / 1000) s for the host to answer"
                    )
                }
                try? await Task.sleep(for: .seconds(2))
            } else if let source, let destination, source.isActive, destination.isActive {
                if source.state == .running, destination.state == .paused {
                    if let message = await self.perform(.destroy, onDestination: true) {
                        actions.append("could not remove the unfinished copy on the destination: \(message)")
                        break
                    }
                    actions.append(
                        "removed the unfinished incoming copy on the destination; the guest runs on the source"
                    )
                } else if source.state == .paused, source.isPausedForMigration,
                    destination.state == .running, !destination.isPostCopy
                {
                    if let message = await self.perform(.destroy, onDestination: false) {
                        actions.append("could not remove the stale copy on the source: \(message)")
                        break
                    }
                    actions.append("removed the stale paused copy on the source; the guest runs on the destination")
                } else {
                    break  // Two running copies, or states this tool must not guess about: the operator decides.
                }
            } else if let source, source.isPausedForMigration, destination == nil {
                if let message = await self.perform(.resume, onDestination: false) {
                    actions.append("could not resume the guest on the source: \(message)")
                    break
                }
                actions.append("resumed the guest on the source, paused for a switch-over that did not happen")
            } else {
                break
            }
            location = await LiveMigration.locate(self.prepared, reconnect: true)
        }
        if jobSaid || libvirtEnded {
            switch location.summary {
            case .destination: actions.append("libvirt finished the migration after the link came back")
            case .source: actions.append("libvirt ended the migration; the guest runs on the source")
            default: break
            }
        }
        return Outcome(
            location: location,
            actions: actions,
            resumedPostCopy: resumed,
            finishedBySource: (jobSaid || libvirtEnded) && location.summary == .destination,
            resumeCommand: postCopyBroken ? self.resumeCommand : nil
        )
    }

    /// Resumes a broken post-copy migration: pauses it on the source if QEMU has not noticed the break yet, then
    /// restarts it with `VIR_MIGRATE_POSTCOPY_RESUME`, retrying while the link is down or libvirt is still
    /// tearing down the broken attempt.
    func resumePostCopy(until deadline: ContinuousClock.Instant) async -> ResumeResult {
        let prepared = self.prepared
        let request = prepared.request
        var said = false
        while ContinuousClock.now < deadline {
            let result: Result<Bool, LibvirtError> = await runOnDedicatedThread(named: "resume post-copy") {
                do throws(LibvirtError) {
                    let source = try self.sourceConnection()
                    let domain: Domain
                    do throws(LibvirtError) {
                        domain = try source.domain(uuid: prepared.domainUUID)
                    } catch  where error.code == .noDomain {
                        return .success(false)  // Gone from the source: libvirt finished the migration itself.
                    }
                    let state = try domain.state()
                    guard state.isPostCopyFailed || state.isPostCopy else { return .success(false) }
                    if !state.isPostCopyFailed {
                        // QEMU may still believe the stream alive: pause it so it can be resumed.
                        try? domain.pausePostCopy()
                    }
                    try domain.migrate(
                        to: request.destinationURI,
                        parameters: request.parameters,
                        flags: request.flags.union([.postCopy, .postCopyResume])
                    )
                    return .success(true)
                } catch {
                    return .failure(error)
                }
            }
            switch result {
            case .success(let resumed):
                return resumed ? .resumed : .nothingToResume
            case .failure(let error):
                if !said {
                    said = true
                    self.onNotice(
                        "post-copy broke: the guest's memory is split between the hosts; resuming it when the link "
                            + "is back (\(error.message))"
                    )
                }
                try? await Task.sleep(for: .seconds(2))
            }
        }
        return .gaveUp
    }

    enum ResumeResult { case resumed, nothingToResume, gaveUp }

    /// The data sent so far when the source still has a migration job for the domain (the tool's call ended,
    /// libvirt's did not), or `nil`.
    private func sourceJobProgress() async -> UInt64? {
        let uuid = self.prepared.domainUUID
        return await runOnDedicatedThread(named: "source job") {
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
        return await runOnDedicatedThread(named: "\(action.rawValue) copy") {
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
