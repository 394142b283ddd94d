import Foundation

/// The journal record of an evacuation (``Evacuation``): what was asked, and where each guest is in it. On disk
/// before each migration starts and after each ends, so that `evacuate --resume` after a crash moves no guest twice.
public struct EvacuationRecord: Sendable, Hashable, Codable {
    /// Where one guest is in the evacuation.
    public enum GuestState: String, Sendable, Hashable, Codable {
        /// Not started yet.
        case pending
        /// Its migration was started (and may have been cut short by a crash: ask libvirt where it runs).
        case started
        /// It runs elsewhere now.
        case moved
        /// Its migration ended and it still runs on the source (failed, refused or aborted).
        case failed
        /// It was not started: the evacuation was stopped, or no host could take it.
        case skipped
    }

    public struct Guest: Sendable, Hashable, Codable {
        public var name: String
        public var uuid: String
        public var state: GuestState
        /// The destination chosen for it, once it was started.
        public var destination: String?
        /// One line on how it ended, when it did.
        public var detail: String?

        public init(name: String, uuid: String, state: GuestState, destination: String? = nil, detail: String? = nil) {
            self.name = name
            self.uuid = uuid
            self.state = state
            self.destination = destination
            self.detail = detail
        }
    }

    public var request: EvacuationRequest
    /// The source host's name (the journal's key).
    public var source: String
    /// Every guest that ran on the source when the evacuation was planned, in plan order.
    public var guests: [Guest]

    public init(request: EvacuationRequest, source: String, guests: [Guest]) {
        self.request = request
        self.source = source
        self.guests = guests
    }

    /// Sets one guest's state.
    public mutating func set(_ name: String, _ state: GuestState, destination: String? = nil, detail: String? = nil) {
        guard let index = self.guests.firstIndex(where: { $0.name == name }) else { return }
        self.guests[index].state = state
        if let destination { self.guests[index].destination = destination }
        if let detail { self.guests[index].detail = detail }
    }
}
