internal import CLibvirt

/// A domain's state (`virDomainState`): an open set, because libvirt may add states.
public struct DomainState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    private init(_ state: virDomainState) { self.rawValue = Int32(state.rawValue) }

    /// The corresponding C value is `VIR_DOMAIN_NOSTATE`.
    public static var noState: Self { Self(VIR_DOMAIN_NOSTATE) }
    /// The corresponding C value is `VIR_DOMAIN_RUNNING`.
    public static var running: Self { Self(VIR_DOMAIN_RUNNING) }
    /// The corresponding C value is `VIR_DOMAIN_BLOCKED`.
    public static var blocked: Self { Self(VIR_DOMAIN_BLOCKED) }
    /// The corresponding C value is `VIR_DOMAIN_PAUSED`.
    public static var paused: Self { Self(VIR_DOMAIN_PAUSED) }
    /// The corresponding C value is `VIR_DOMAIN_SHUTDOWN` (shutting down).
    public static var shuttingDown: Self { Self(VIR_DOMAIN_SHUTDOWN) }
    /// The corresponding C value is `VIR_DOMAIN_SHUTOFF`.
    public static var shutOff: Self { Self(VIR_DOMAIN_SHUTOFF) }
    /// The corresponding C value is `VIR_DOMAIN_CRASHED`.
    public static var crashed: Self { Self(VIR_DOMAIN_CRASHED) }
    /// The corresponding C value is `VIR_DOMAIN_PMSUSPENDED`.
    public static var suspendedByGuest: Self { Self(VIR_DOMAIN_PMSUSPENDED) }

    public var description: String {
        switch self {
        case .noState: "no state"
        case .running: "running"
        case .blocked: "blocked"
        case .paused: "paused"
        case .shuttingDown: "shutting down"
        case .shutOff: "shut off"
        case .crashed: "crashed"
        case .suspendedByGuest: "pmsuspended"
        default: "state \(self.rawValue)"
        }
    }
}

/// A domain's state together with the reason libvirt gives for it.
public struct DomainStateInfo: Sendable, Hashable, CustomStringConvertible {
    public var state: DomainState
    /// The raw reason, whose meaning depends on ``state`` (`virDomainRunningReason`, `virDomainPausedReason`,
    /// `virDomainShutoffReason`, …).
    public var reason: Int32

    public init(state: DomainState, reason: Int32) {
        self.state = state
        self.reason = reason
    }

    /// Whether the guest's CPUs may run here: running, or paused (which a resume would undo).
    public var isActive: Bool { self.state != .shutOff && self.state != .crashed && self.state != .noState }

    /// The reason in words, as `virsh domstate --reason` spells it.
    public var reasonDescription: String {
        let names: [String]
        switch self.state {
        case .running:
            names = [
                "unknown", "booted", "migrated", "restored", "from snapshot", "unpaused", "migration canceled",
                "save canceled", "event wakeup", "crashed", "post-copy", "post-copy failed",
            ]
        case .paused:
            names = [
                "unknown", "user", "migrating", "saving", "dumping", "I/O error", "watchdog", "from snapshot",
                "shutting down", "creating snapshot", "crashed", "starting up", "post-copy", "post-copy failed",
            ]
        case .shutOff:
            names = [
                "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot",
                "daemon",
            ]
        default:
            names = ["unknown"]
        }
        return self.reason >= 0 && Int(self.reason) < names.count ? names[Int(self.reason)] : "reason \(self.reason)"
    }

    /// Running after a post-copy migration broke (`VIR_DOMAIN_RUNNING_POSTCOPY_FAILED`) or paused for the same
    /// reason (`VIR_DOMAIN_PAUSED_POSTCOPY_FAILED`).
    public var isPostCopyFailed: Bool {
        (self.state == .running && self.reason == Int32(VIR_DOMAIN_RUNNING_POSTCOPY_FAILED.rawValue))
            || (self.state == .paused && self.reason == Int32(VIR_DOMAIN_PAUSED_POSTCOPY_FAILED.rawValue))
    }

    /// In post-copy: running on the destination (`VIR_DOMAIN_RUNNING_POSTCOPY`) or paused on the source
    /// (`VIR_DOMAIN_PAUSED_POSTCOPY`).
    public var isPostCopy: Bool {
        (self.state == .running && self.reason == Int32(VIR_DOMAIN_RUNNING_POSTCOPY.rawValue))
            || (self.state == .paused && self.reason == Int32(VIR_DOMAIN_PAUSED_POSTCOPY.rawValue))
    }

    /// Paused because a migration is under way (`VIR_DOMAIN_PAUSED_MIGRATION`) or in post-copy
    /// (`VIR_DOMAIN_PAUSED_POSTCOPY`).
    public var isPausedForMigration: Bool {
        self.state == .paused
            && (self.reason == Int32(VIR_DOMAIN_PAUSED_MIGRATION.rawValue)
                || self.reason == Int32(VIR_DOMAIN_PAUSED_POSTCOPY.rawValue))
    }

    public var description: String { "\(self.state) (\(self.reasonDescription))" }
}
