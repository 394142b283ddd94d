import Libvirt

/// Where the guest runs after the migration, as both daemons report it.
public struct DomainLocation: Sendable, Hashable {
    /// The domain's state on the source, or `nil` when the source no longer knows it.
    public var sourceState: DomainStateInfo?
    /// The domain's state on the destination, or `nil` when the destination does not know it.
    public var destinationState: DomainStateInfo?
    /// Set when a daemon could not be asked.
    public var problem: String?
    /// Whether the source's daemon answered: when it did not, ``sourceState`` is `nil` because nobody knows.
    public var sourceAnswered: Bool
    /// Whether the destination's daemon answered: when it did not, ``destinationState`` is `nil` because nobody
    /// knows.
    public var destinationAnswered: Bool

    public init(
        sourceState: DomainStateInfo?,
        destinationState: DomainStateInfo?,
        problem: String? = nil,
        sourceAnswered: Bool = true,
        destinationAnswered: Bool = true
    ) {
        self.sourceState = sourceState
        self.destinationState = destinationState
        self.problem = problem
        self.sourceAnswered = sourceAnswered
        self.destinationAnswered = destinationAnswered
    }

    /// Where the guest's one running copy is.
    public var summary: Summary {
        if self.sourceState?.isPostCopyFailed == true || self.destinationState?.isPostCopyFailed == true {
            return .postCopyBroken
        }
        let onSource = self.sourceState?.isActive ?? false
        let onDestination = self.destinationState?.isActive ?? false
        switch (onSource, onDestination) {
        case (true, false): return .source
        case (false, true): return .destination
        case (true, true): return .both
        case (false, false): return self.problem == nil ? .nowhere : .unknown
        }
    }

    public enum Summary: String, Sendable, Hashable, Codable {
        case source, destination, both, nowhere, unknown
        /// A post-copy migration broke: the guest runs on the destination with part of its memory still on the
        /// source. Neither copy may be stopped; the migration must be resumed.
        case postCopyBroken = "post_copy_broken"
    }
}
