import Foundation
import Migration

/// What `kvmmigrate evacuate` was asked: empty one host, where to, how many at once. Kept in the evacuation's journal
/// record, so that `evacuate --resume` carries on with the same choices.
public struct EvacuationRequest: Sendable, Hashable, Codable {
    /// The host to empty, as this tool (and its peers) reach it.
    public var sourceURI: String
    /// Where guests may go (`--to`, in order); empty: every configured host but the source.
    public var destinationURIs: [String]
    /// At most this many migrations at once (`--max-parallel`).
    public var maxParallel: Int
    /// At most this many migrations into one destination at once (`--max-incoming`).
    public var maxIncomingPerDestination: Int
    /// The link's total bandwidth, divided among the migrations in flight (`--bandwidth`, MiB/s).
    public var bandwidthMiBPerSecond: UInt64?
    /// Place two nodes of one guest cluster on one host when there is no other way (`--allow-colocation`).
    public var allowColocation: Bool
    /// Start nothing new after a guest failed (`--stop-on-error`).
    public var stopOnError: Bool

    /// The bounds the command line checks: `--max-parallel` and `--max-incoming`.
    public static let concurrencyRange = 1...16

    public init(
        sourceURI: String,
        destinationURIs: [String] = [],
        maxParallel: Int = 2,
        maxIncomingPerDestination: Int = 2,
        bandwidthMiBPerSecond: UInt64? = nil,
        allowColocation: Bool = false,
        stopOnError: Bool = false
    ) {
        self.sourceURI = sourceURI
        self.destinationURIs = destinationURIs
        self.maxParallel = maxParallel
        self.maxIncomingPerDestination = maxIncomingPerDestination
        self.bandwidthMiBPerSecond = bandwidthMiBPerSecond
        self.allowColocation = allowColocation
        self.stopOnError = stopOnError
    }

    /// What a command line must refuse before anything is asked of a host.
    ///
    /// - Throws: ``MigrationError`` with ``MigrationError/Code/invalidRequest``.
    public func validate() throws(MigrationError) {
        for (name, value) in [("--max-parallel", self.maxParallel), ("--max-incoming", self.maxIncomingPerDestination)]
        where !Self.concurrencyRange.contains(value) {
            throw MigrationError(
                .invalidRequest,
                "\(name) must be \(Self.concurrencyRange.lowerBound) to \(Self.concurrencyRange.upperBound), not \(value)"
            )
        }
        if let bandwidth = self.bandwidthMiBPerSecond, !(1...1_048_576).contains(bandwidth) {
            throw MigrationError(.invalidRequest, "--bandwidth must be 1 to 1048576 MiB/s, not \(bandwidth)")
        }
        if self.destinationURIs.contains(self.sourceURI) {
            throw MigrationError(.invalidRequest, "--to names the host being emptied (\(self.sourceURI))")
        }
        if Set(self.destinationURIs).count != self.destinationURIs.count {
            throw MigrationError(.invalidRequest, "--to names a host twice")
        }
    }
}
