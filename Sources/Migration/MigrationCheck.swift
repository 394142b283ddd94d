import Foundation
import Libvirt

/// The dry run: every check that tells, before anything changes, whether a migration can work. Touches
/// nothing on any host.
public enum MigrationCheck {
    /// The memory the destination must have free beyond the guest's own, for QEMU's overhead.
    static let memoryHeadroomBytes: UInt64 = 64 << 20

    /// The request's own rules, as a check.
    public static func request(_ request: MigrationRequest) -> CheckResult {
        do throws(MigrationError) {
            try request.validate()
            return CheckResult("request", .pass, "options are consistent")
        } catch {
            return CheckResult("request", .fail, error.message)
        }
    }

    /// The checks when the pre-flight (``MigrationPreflight/prepare(_:resumingPostCopy:)``) failed: the one it
    /// failed, then every later one skipped.
    public static func failedPreflight(_ error: MigrationError) -> [CheckResult] {
        [CheckResult(Self.name(for: error.code), .fail, error.message)]
            + ["migration-address", "cpu", "destination-memory", "storage", "disk-cache"].map {
                CheckResult($0, .skipped, "not checked: \(error.code)")
            }
    }

    /// What the pre-flight established (hosts, domain, destination name), then the checks beyond it.
    ///
    /// - Parameter copyStorage: The migration copies non-shared disks (`--copy-storage-all`).
    public static func afterPreflight(_ prepared: PreparedMigration, copyStorage: Bool) async -> [CheckResult] {
        [
            CheckResult(
                "hosts",
                .pass,
                "source \(prepared.sourceHostname) and destination \(prepared.destinationHostname) answer; they are "
                    + "different hosts"
            ),
            CheckResult("domain", .pass, "\(prepared.domainName) is \(prepared.initialState)"),
            CheckResult(
                "destination-name",
                .pass,
                "no active domain named \(prepared.request.destinationName) or with its UUID there"
            ),
        ] + (await Self.checks(for: prepared, copyStorage: copyStorage))
    }

    /// The checks beyond the pre-flight's, on a migration that passed it, over its open connections.
    public static func checks(for prepared: PreparedMigration, copyStorage: Bool) async -> [CheckResult] {
        let address = await Self.migrationAddress(prepared.request)
        let tls = prepared.request.tls ? [await Self.tls(prepared)] : []
        let facts = await runBlocking(named: "check") { Self.hostChecks(prepared, copyStorage: copyStorage) }
        return [address] + tls + facts
    }

    /// Whether these results would let the migration start.
    public static func wouldMigrate(_ results: [CheckResult]) -> Bool {
        !results.contains { $0.status == .fail }
    }

    static func name(for code: MigrationError.Code) -> String {
        switch code {
        case .domainNotFound, .domainNotRunning: "domain"
        case .destinationHasDomain: "destination-name"
        case .operationInProgress: "domain"
        case .invalidURI, .hostUnreachable, .sameHost: "hosts"
        default: "request"
        }
    }

    /// The destination's version, CPU, free memory, and the guest's storage.
    static func hostChecks(_ prepared: PreparedMigration, copyStorage: Bool) -> [CheckResult] {
        var results: [CheckResult] = []
        let source = prepared.source
        let destination = prepared.destination
        if let sourceVersion = try? source.libvirtVersion(), let destinationVersion = try? destination.libvirtVersion()
        {
            results.append(
                destinationVersion >= sourceVersion
                    ? CheckResult(
                        "destination-version",
                        .pass,
                        "libvirt \(destinationVersion) (source \(sourceVersion))"
                    )
                    : CheckResult(
                        "destination-version",
                        .warn,
                        "destination libvirt \(destinationVersion) is older than the source's \(sourceVersion)"
                    )
            )
        }
        let definition: DomainDefinition
        do throws(MigrationError) {
            let xml: String
            do throws(LibvirtError) { xml = try prepared.domain.xmlDescription(migratable: true) } catch {
                throw MigrationError(.hostUnreachable, "cannot read the domain XML: \(error.message)")
            }
            definition = try DomainDefinition(xml: xml)
        } catch {
            return results + [CheckResult("cpu", .fail, error.message)]
        }
        // libvirt refuses the CPU comparison on a read-only connection; it changes nothing all the same.
        let comparing = (try? Connection(uri: prepared.request.destinationURI)) ?? destination
        results.append(Self.cpu(definition, source: source, destination: comparing))
        results.append(Self.memory(prepared, destination: destination))
        results += Self.storage(definition, copyStorage: copyStorage) { destination.hasStorageVolume(atPath: $0) }
        return results
    }

    static func cpu(_ definition: DomainDefinition, source: Connection, destination: Connection) -> CheckResult {
        guard let xml = definition.cpuXML else {
            return CheckResult("cpu", .pass, "the guest uses the hypervisor's default CPU model")
        }
        if definition.cpuMode == "host-passthrough" || definition.cpuMode == "maximum" {
            return CheckResult(
                "cpu",
                .warn,
                "CPU mode \(definition.cpuMode!): safe only between hosts with identical CPUs"
            )
        }
        let onDestination: CPUComparison
        do throws(LibvirtError) {
            onDestination = try destination.compareHypervisorCPU(xml, virtualizationType: definition.type)
        } catch {
            return CheckResult("cpu", .warn, "libvirt could not compare the CPU: \(error.message)")
        }
        guard onDestination == .incompatible else {
            return CheckResult("cpu", .pass, "the destination can run the guest's CPU")
        }
        // The guest runs on the source: if libvirt calls its CPU incompatible there too, the comparison says
        // nothing about the destination (a host that lacks some features of the model, as nested hosts do).
        let onSource = (try? source.compareHypervisorCPU(xml, virtualizationType: definition.type)) ?? .incompatible
        return Self.cpuResult(source: onSource, destination: onDestination)
    }

    public static func cpuResult(source: CPUComparison, destination: CPUComparison) -> CheckResult {
        switch (source, destination) {
        case (_, .identical), (_, .superset):
            return CheckResult("cpu", .pass, "the destination can run the guest's CPU")
        case (.incompatible, .incompatible):
            return CheckResult(
                "cpu",
                .warn,
                "libvirt finds the guest's CPU model incompatible with both hosts, though it runs on the source: "
                    + "the comparison cannot tell"
            )
        default:
            return CheckResult("cpu", .fail, "the source can run the guest's CPU model, the destination cannot")
        }
    }

    static func memory(_ prepared: PreparedMigration, destination: Connection) -> CheckResult {
        let needed = prepared.memoryKiB * 1024
        guard let free = try? destination.freeMemory() else {
            return CheckResult("destination-memory", .warn, "the destination does not say how much memory is free")
        }
        return Self.memoryResult(needed: needed, free: free)
    }

    static func memoryResult(needed: UInt64, free: UInt64) -> CheckResult {
        let mib = { (bytes: UInt64) in "\(bytes >> 20) MiB" }
        if free < needed {
            return CheckResult(
                "destination-memory",
                .fail,
                "the guest needs \(mib(needed)), the destination has \(mib(free)) free"
            )
        }
        if free < needed + Self.memoryHeadroomBytes {
            return CheckResult(
                "destination-memory",
                .warn,
                "the guest needs \(mib(needed)) and the destination has only \(mib(free)) free: little room for QEMU"
            )
        }
        return CheckResult("destination-memory", .pass, "\(mib(free)) free for a \(mib(needed)) guest")
    }

    /// - Parameter destinationSees: Whether the destination has a storage volume at a path.
    static func storage(
        _ definition: DomainDefinition,
        copyStorage: Bool,
        destinationSees: (String) -> Bool
    ) -> [CheckResult] {
        let disks = definition.disks.filter { $0.device == "disk" || $0.device == "lun" }
        guard !disks.isEmpty else {
            return [
                CheckResult("storage", .pass, "no disks to move"),
                CheckResult("disk-cache", .pass, "no disks"),
            ]
        }
        var notShared: [String] = []
        var unsafeCache: [String] = []
        for disk in disks where disk.type != "network" {
            let seen = disk.path.map(destinationSees) ?? false
            if !seen { notShared.append("\(disk.target) (\(disk.path ?? "no path"))") }
            // libvirt refuses to migrate a writable disk on shared storage unless its cache is off.
            if seen, !disk.readOnly, !disk.shareable, let cache = disk.cacheMode, cache != "none", cache != "directsync"
            {
                unsafeCache.append("\(disk.target) cache=\(cache)")
            }
        }
        var results: [CheckResult] = []
        if notShared.isEmpty {
            results.append(
                CheckResult("storage", .pass, "every disk is on storage the destination sees at the same path")
            )
        } else if copyStorage {
            results.append(
                CheckResult("storage", .pass, "copied to the destination: \(notShared.joined(separator: ", "))")
            )
        } else {
            results.append(
                CheckResult(
                    "storage",
                    .fail,
                    "the destination does not see \(notShared.joined(separator: ", ")): use --copy-storage-all or shared storage"
                )
            )
        }
        results.append(
            unsafeCache.isEmpty
                ? CheckResult("disk-cache", .pass, "cache modes are safe for migration")
                : CheckResult(
                    "disk-cache",
                    .fail,
                    "libvirt refuses these as unsafe: \(unsafeCache.joined(separator: ", ")) (use cache=none)"
                )
        )
        return results
    }

    /// Whether this machine reaches the address the migration data goes to. Runs from here, not from the source.
    static func migrationAddress(_ request: MigrationRequest) async -> CheckResult {
        let uri = request.parameters.migrationURI ?? request.destinationURI
        guard let host = URL(string: uri)?.host, !host.isEmpty else {
            return CheckResult("migration-address", .pass, "the destination chooses its own migration address")
        }
        let port = URL(string: uri)?.port ?? (request.parameters.migrationURI == nil ? 16509 : 49152)
        let reachable = await runBlocking(named: "probe \(host)") { Self.probe(host: host, port: port) }
        switch reachable {
        case .answered:
            return CheckResult("migration-address", .pass, "\(host) answers")
        case .refused:
            return CheckResult("migration-address", .pass, "\(host) answers (nothing listens on \(port) yet)")
        case .unreachable(let why):
            return CheckResult("migration-address", .fail, "\(host) cannot be reached from here: \(why)")
        }
    }

    /// How long the TLS check waits for each host's libvirtd.
    static let tlsTimeout: Duration = .seconds(10)

    /// With `--tls`: whether each host's libvirtd takes a TLS connection from here (`qemu+tls://HOST/system`,
    /// read-only, for the host of the source and destination URIs), which shows that the host has a certificate
    /// its CA signs and that this machine trusts that CA. QEMU's migration certificates (`migrate_tls_x509_cert_dir`
    /// in qemu.conf, `/etc/pki/qemu` by default) are not visible through libvirt's API: libvirt checks them on both
    /// hosts when the migration starts, and fails it there (the guest stays on the source). A host whose libvirtd
    /// does not take TLS may still have QEMU's certificates, so that is a warning, not a failure.
    static func tls(_ prepared: PreparedMigration) async -> CheckResult {
        let hosts = [
            ("source", Self.host(of: prepared.request.sourceURI) ?? prepared.sourceHostname),
            ("destination", Self.host(of: prepared.request.destinationURI) ?? prepared.destinationHostname),
        ]
        var problems: [String] = []
        for (role, host) in hosts {
            let uri = "qemu+tls://\(Self.bracketed(host))/system"
            switch await Connection.open(uri: uri, readOnly: true, timeout: Self.tlsTimeout) {
            case .success: continue
            case .failure(let error) where error.code == .operationTimeout:
                problems.append("\(role) \(host): no answer on libvirt's TLS port within 10 s")
            case .failure(let error): problems.append("\(role) \(host): \(error.message)")
            }
        }
        if problems.isEmpty {
            return CheckResult(
                "tls",
                .pass,
                "both libvirtds take TLS connections from here (\(hosts.map(\.1).joined(separator: ", "))); QEMU's "
                    + "migration certificates are checked by libvirt when the migration starts"
            )
        }
        return CheckResult(
            "tls",
            .warn,
            "TLS not confirmed: " + problems.joined(separator: "; ")
                + " (libvirt checks QEMU's migration certificates when the migration starts)"
        )
    }

    /// The host part of a libvirt URI (`qemu+tcp://hostB/system`: `hostB`), or `nil` for a local one.
    static func host(of uri: String) -> String? {
        guard let host = URLComponents(string: uri)?.host, !host.isEmpty else { return nil }
        // Foundation keeps an IPv6 address's brackets on some platforms and drops them on others.
        return host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// An IPv6 address in brackets, as a URI wants it.
    static func bracketed(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }

    enum Probe {
        case answered
        case refused
        case unreachable(String)
    }

    /// A TCP connect with a 3 s timeout: "refused" still proves the address is reachable.
    static func probe(host: String, port: Int) -> Probe {
        var hints = addrinfo(
            ai_flags: 0,
            ai_family: AF_UNSPEC,
            ai_socktype: Int32(SOCK_STREAM.rawValue),
            ai_protocol: 0,
            ai_addrlen: 0,
            ai_addr: nil,
            ai_canonname: nil,
            ai_next: nil
        )
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let address = list else {
            return .unreachable("the name does not resolve")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
        guard fd >= 0 else { return .unreachable("no socket") }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return .answered }
        guard errno == EINPROGRESS else {
            return errno == ECONNREFUSED ? .refused : .unreachable(String(cString: strerror(errno)))
        }
        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&descriptor, 1, 3000) > 0 else { return .unreachable("no answer within 3 s") }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        switch error {
        case 0: return .answered
        case ECONNREFUSED: return .refused
        default: return .unreachable(String(cString: strerror(error)))
        }
    }
}
