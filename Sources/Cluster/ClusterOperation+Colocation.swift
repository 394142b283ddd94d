import Foundation
import Libvirt

extension ClusterOperation {
    /// Whether moving `guest` to the host at `destinationURI` would put it beside another node of its guest
    /// cluster, where one host failure takes both down (and SF's weights on that host count twice). Read-only: the
    /// destination's running domains (a read-only connection, bounded); the topology is the one the checks read.
    ///
    /// - Returns: One line saying which nodes would share the host, or `nil` when none would (or the host could not
    ///   be read: the migration's own checks report that).
    func colocation(
        of guest: ClusterTopology.Guest,
        in topology: ClusterTopology,
        destinationURI: String
    ) async -> String? {
        let answer = await runBlocking(named: "colocation", timeout: .seconds(15)) { () -> Set<String>? in
            guard let connection = try? Connection(uri: destinationURI, readOnly: true),
                let domains = try? connection.allDomains(activeOnly: true)
            else { return nil }
            return Set(domains.map(\.name))
        }
        guard case .success(let running?) = answer else { return nil }
        let beside = topology.guests.filter { $0.domainName != guest.domainName && running.contains($0.domainName) }
            .map(\.nodeName).sorted()
        guard !beside.isEmpty else { return nil }
        let host = self.configuration.hosts.first { $0.uri == destinationURI }?.name ?? destinationURI
        return "\(guest.nodeName) would run on \(host) beside \(beside.joined(separator: ", ")) of its guest cluster: "
            + "one host failure would take down \(beside.count + 1) nodes"
    }
}
