import Foundation
import Libvirt

extension ClusterOperation {
    /// Whether moving `domain` to the host at `destinationURI` would put its node beside another node of its guest
    /// cluster, where one host failure takes both down (and SF's weights on that host count twice). Read-only: the
    /// cluster's topology over ssh and the destination's running domains (a read-only connection, bounded).
    ///
    /// - Returns: One line saying which nodes would share the host, or `nil` when none would (or the cluster or the
    ///   host could not be read: the cluster's own checks report that).
    public func colocation(domain: String, destinationURI: String) async -> String? {
        guard let topology = try? await ClusterTopology.discover(self.configuration, logger: self.logger),
            let guest = topology.guest(forDomain: domain)
        else { return nil }
        let answer = await runBlocking(named: "colocation", timeout: .seconds(15)) { () -> Set<String>? in
            guard let connection = try? Connection(uri: destinationURI, readOnly: true),
                let domains = try? connection.allDomains(activeOnly: true)
            else { return nil }
            return Set(domains.map(\.name))
        }
        guard case .success(let running?) = answer else { return nil }
        let beside = topology.guests.filter { $0.domainName != domain && running.contains($0.domainName) }
            .map(\.nodeName).sorted()
        guard !beside.isEmpty else { return nil }
        let host = self.configuration.hosts.first { $0.uri == destinationURI }?.name ?? destinationURI
        return "\(guest.nodeName) would run on \(host) beside \(beside.joined(separator: ", ")) of its guest cluster: "
            + "one host failure would take down \(beside.count + 1) nodes"
    }
}
