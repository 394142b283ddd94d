internal import CLibvirt

/// A domain lifecycle change (`VIR_DOMAIN_EVENT_ID_LIFECYCLE`).
public struct LifecycleEvent: Sendable, Hashable {
    public var domainName: String
    /// What happened (`virDomainEventType`).
    public var kind: LifecycleEventKind
    /// The raw event-specific detail, for example `VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED`.
    public var detail: Int32

    public init(domainName: String, kind: LifecycleEventKind, detail: Int32) {
        self.domainName = domainName
        self.kind = kind
        self.detail = detail
    }
}

/// A lifecycle event type (`virDomainEventType`): an open set.
public struct LifecycleEventKind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    private init(_ type: virDomainEventType) { self.rawValue = Int32(type.rawValue) }

    /// The corresponding C value is `VIR_DOMAIN_EVENT_DEFINED`.
    public static var defined: Self { Self(VIR_DOMAIN_EVENT_DEFINED) }
    /// The corresponding C value is `VIR_DOMAIN_EVENT_UNDEFINED`.
    public static var undefined: Self { Self(VIR_DOMAIN_EVENT_UNDEFINED) }
    /// The corresponding C value is `VIR_DOMAIN_EVENT_STARTED`.
    public static var started: Self { Self(VIR_DOMAIN_EVENT_STARTED) }
    /// The corresponding C value is `VIR_DOMAIN_EVENT_SUSPENDED`.
    public static var suspended: Self { Self(VIR_DOMAIN_EVENT_SUSPENDED) }
    /// The corresponding C value is `VIR_DOMAIN_EVENT_RESUMED`.
    public static var resumed: Self { Self(VIR_DOMAIN_EVENT_RESUMED) }
    /// The corresponding C value is `VIR_DOMAIN_EVENT_STOPPED`.
    public static var stopped: Self { Self(VIR_DOMAIN_EVENT_STOPPED) }

    public var description: String {
        switch self {
        case .defined: "defined"
        case .undefined: "undefined"
        case .started: "started"
        case .suspended: "suspended"
        case .resumed: "resumed"
        case .stopped: "stopped"
        default: "event \(self.rawValue)"
        }
    }
}

/// A new memory pass of a migration began (`VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION`).
public struct MigrationIterationEvent: Sendable, Hashable {
    public var domainName: String
    /// The pass that began, counting from 1.
    public var iteration: Int
}

/// A domain job ended (`VIR_DOMAIN_EVENT_ID_JOB_COMPLETED`), with its final statistics.
public struct JobCompletedEvent: Sendable, Hashable {
    public var domainName: String
    /// The final statistics; ``JobStats/downtime`` is the real downtime.
    public var statistics: JobStats
}

/// Owns the continuation that a C callback feeds: retained once for libvirt, released by libvirt's `freecb`.
private final class EventSink<Element: Sendable>: Sendable {
    let continuation: AsyncStream<Element>.Continuation
    init(_ continuation: AsyncStream<Element>.Continuation) { self.continuation = continuation }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> EventSink {
        Unmanaged<EventSink>.fromOpaque(opaque!).takeUnretainedValue()
    }
}

private func domainName(_ domain: virDomainPtr?) -> String {
    domain.flatMap { virDomainGetName($0) }.map { String(cString: $0) } ?? ""
}

extension Connection {
    /// Registers one event callback and bridges it into an `AsyncStream`.
    ///
    /// Stopping iteration (or cancelling the iterating task) deregisters the callback; the stream keeps the
    /// connection open until then.
    private func eventStream<Element: Sendable>(
        of: Element.Type,
        bufferSize: Int,
        register: (UnsafeMutableRawPointer, @escaping virFreeCallback) -> Int32
    ) throws(LibvirtError) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: Element.self,
            bufferingPolicy: .bufferingNewest(bufferSize)
        )
        let sink = Unmanaged.passRetained(EventSink(continuation))
        let callbackID = register(sink.toOpaque()) { opaque in
            Unmanaged<AnyObject>.fromOpaque(opaque!).release()
        }
        guard callbackID >= 0 else {
            let error = LibvirtError.last("virConnectDomainEventRegisterAny")
            sink.release()  // libvirt does not call freecb when registration fails
            continuation.finish()
            throw error
        }
        continuation.onTermination = { _ in
            virConnectDomainEventDeregisterAny(self.pointer, callbackID)
        }
        return stream
    }

    /// Lifecycle events of `domain` (or of all domains), delivered from libvirt's event-loop thread.
    ///
    /// The corresponding C function is `virConnectDomainEventRegisterAny` with `VIR_DOMAIN_EVENT_ID_LIFECYCLE`.
    public func lifecycleEvents(
        for domain: Domain? = nil,
        bufferSize: Int = 64
    )
        throws(LibvirtError) -> AsyncStream<LifecycleEvent>
    {
        try self.eventStream(of: LifecycleEvent.self, bufferSize: bufferSize) { opaque, free in
            clibvirt_register_lifecycle(
                self.pointer,
                domain?.pointer,
                { _, domain, event, detail, opaque in
                    EventSink<LifecycleEvent>.from(opaque).continuation.yield(
                        LifecycleEvent(
                            domainName: domainName(domain),
                            kind: LifecycleEventKind(rawValue: event),
                            detail: detail
                        )
                    )
                    return 0
                },
                opaque,
                free
            )
        }
    }

    /// Migration-iteration events of `domain`: one each time a new memory pass begins.
    ///
    /// The corresponding C function is `virConnectDomainEventRegisterAny` with
    /// `VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION`.
    public func migrationIterationEvents(
        for domain: Domain? = nil,
        bufferSize: Int = 64
    )
        throws(LibvirtError) -> AsyncStream<MigrationIterationEvent>
    {
        try self.eventStream(of: MigrationIterationEvent.self, bufferSize: bufferSize) { opaque, free in
            clibvirt_register_migration_iteration(
                self.pointer,
                domain?.pointer,
                { _, domain, iteration, opaque in
                    EventSink<MigrationIterationEvent>.from(opaque).continuation.yield(
                        MigrationIterationEvent(domainName: domainName(domain), iteration: Int(iteration))
                    )
                },
                opaque,
                free
            )
        }
    }

    /// Job-completed events of `domain`, carrying the job's final statistics (the real downtime).
    ///
    /// The corresponding C function is `virConnectDomainEventRegisterAny` with
    /// `VIR_DOMAIN_EVENT_ID_JOB_COMPLETED`.
    public func jobCompletedEvents(
        for domain: Domain? = nil,
        bufferSize: Int = 16
    )
        throws(LibvirtError) -> AsyncStream<JobCompletedEvent>
    {
        try self.eventStream(of: JobCompletedEvent.self, bufferSize: bufferSize) { opaque, free in
            clibvirt_register_job_completed(
                self.pointer,
                domain?.pointer,
                { _, domain, parameters, count, opaque in
                    // The parameters belong to libvirt and are valid only during the callback: decode now.
                    let statistics = JobStats(type: .completed, TypedParameters(parameters, count: count))
                    EventSink<JobCompletedEvent>.from(opaque).continuation.yield(
                        JobCompletedEvent(domainName: domainName(domain), statistics: statistics)
                    )
                },
                opaque,
                free
            )
        }
    }
}

extension LifecycleEvent {
    /// The guest was paused for the final stop-and-copy phase of a migration
    /// (`VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED`).
    public var isPausedForSwitchOver: Bool {
        self.kind == .suspended && self.detail == Int32(VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED.rawValue)
    }

    /// The migration switched to post-copy (`VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY`).
    public var isPostCopyStarted: Bool {
        self.kind == .suspended && self.detail == Int32(VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY.rawValue)
    }

    /// The guest left this host for the migration's destination (`VIR_DOMAIN_EVENT_STOPPED_MIGRATED`).
    public var isMigratedAway: Bool {
        self.kind == .stopped && self.detail == Int32(VIR_DOMAIN_EVENT_STOPPED_MIGRATED.rawValue)
    }

    /// The guest resumed here after a migration was cancelled or failed (`VIR_DOMAIN_EVENT_RESUMED_MIGRATED`
    /// is the destination's resume; on the source a cancelled migration resumes with
    /// `VIR_DOMAIN_EVENT_RESUMED_UNPAUSED` or `VIR_DOMAIN_EVENT_RESUMED_MIGRATED`).
    public var isResumed: Bool { self.kind == .resumed }
}
