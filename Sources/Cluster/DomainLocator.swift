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

    /// How long a host may take to say whether it runs the domain.
    public static let timeout: Duration = .seconds(30)

    /// Asks every host at once (read-only connections, each on its own thread, each bounded by ``timeout``).
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
            let answer = await runBlocking(named: "locate \(domain)", timeout: Self.timeout) {
                Result { () throws(LibvirtError) -> Bool in
                    do throws(LibvirtError) {
                        let connection = try Connection(uri: host.uri, readOnly: true)
                        return try connection.domain(named: domain).state().isActive
                    } catch  where error.code == .noDomain {
                        return false
                    }
                }
            }
            switch answer {
            case .success(let result): answers.record(result, for: host.name)
            case .failure:
                answers.record(
                    .failure(
                        LibvirtError(
                            code: .operationTimeout,
                            message: "no answer within \(Self.timeout.components.seconds) s",
                            function: "virConnectOpenAuth"
                        )
                    ),
                    for: host.name
                )
            }
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
