import Libvirt

/// Finds on which configured host a domain runs, by asking each host's libvirt daemon: the restore points
/// the SF agents at the host libvirt names, never at one assumed from the migration's outcome.
public enum DomainLocator {
    /// Where a domain was found.
    public enum Location: Sendable {
        case host(ClusterConfiguration.Host)
        case nowhere
        case several([ClusterConfiguration.Host])
    }

    /// Asks every host at once (read-only connections, each on its own thread).
    ///
    /// - Throws: ``ClusterError`` with ``ClusterError/Code/domainLocation`` when a host that might run it does
    ///   not answer, so the answer would be a guess.
    public static func locate(
        _ domain: String,
        among hosts: [ClusterConfiguration.Host]
    ) async throws(ClusterError)
        -> Location
    {
        // Each host's answer, or why it gave none: one host's failure must not hide the others.
        let answers = ConcurrentResults<Result<Bool, LibvirtError>>()
        await concurrently(hosts) { host in
            let answer = await runBlocking(named: "locate \(domain)") {
                Result { () throws(LibvirtError) -> Bool in
                    do throws(LibvirtError) {
                        let connection = try Connection(uri: host.uri, readOnly: true)
                        return try connection.domain(named: domain).state().isActive
                    } catch  where error.code == .noDomain {
                        return false
                    }
                }
            }
            answers.record(answer, for: host.name)
        }
        var running: [ClusterConfiguration.Host] = []
        var unreachable: [String] = []
        for host in hosts {
            switch answers[host.name] {
            case .success(true): running.append(host)
            case .success(false): break
            case .failure(let error): unreachable.append("\(host.name) (\(host.uri)): \(error.message)")
            case nil: unreachable.append("\(host.name) (\(host.uri)): no answer")
            }
        }
        if running.count == 1 { return .host(running[0]) }
        if running.count > 1 { return .several(running) }
        guard unreachable.isEmpty else {
            throw ClusterError(
                .domainLocation,
                "cannot tell where '\(domain)' runs: " + unreachable.joined(separator: "; ")
            )
        }
        return .nowhere
    }
}
