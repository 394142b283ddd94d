import Cluster
import Foundation
import Libvirt
import Migration

/// What an evacuation is planned from: the guests running on the host to empty, and every host that may take
/// them, as libvirt tells. Read-only connections; every host is read at once, each bounded by a timeout.
public struct EvacuationSurvey: Sendable {
    /// A host that may take guests, as the request or the cluster configuration names it.
    public struct Destination: Sendable, Hashable {
        /// The configured host name, when the configuration has one for this URI.
        public var name: String?
        public var uri: String

        public init(name: String? = nil, uri: String) {
            self.name = name
            self.uri = uri
        }
    }

    /// The source host's name (its hostname, or its configured name).
    public var source: String
    /// The running (or paused) guests on the source, in libvirt's order.
    public var guests: [EvacuationGuest]
    /// Every destination that answered, and those that did not (with `freeMemoryBytes` nil).
    public var candidates: [EvacuationCandidate]
    /// Lines worth telling: a destination that did not answer, one skipped because it is the source.
    public var notes: [String]
    /// The guests the source keeps a persistent definition of (by name): their definition moves with them.
    public var persistent: Set<String>

    public init(
        source: String,
        guests: [EvacuationGuest],
        candidates: [EvacuationCandidate],
        notes: [String] = [],
        persistent: Set<String> = []
    ) {
        self.source = source
        self.guests = guests
        self.candidates = candidates
        self.notes = notes
        self.persistent = persistent
    }

    /// The domains of every cluster node, by domain name, from a topology.
    static func memberships(_ topology: ClusterTopology?) -> [String: ClusterMembership] {
        guard let topology else { return [:] }
        var memberships: [String: ClusterMembership] = [:]
        for guest in topology.guests {
            memberships[guest.domainName] = ClusterMembership(cluster: topology.key, node: guest.nodeName)
        }
        return memberships
    }

    /// Reads the source and every destination.
    ///
    /// - Parameters:
    ///   - sourceURI: The host to empty.
    ///   - sourceName: Its configured name, when it has one.
    ///   - destinations: Where guests may go; one that turns out to be the source host is left out (and noted).
    ///   - topology: The guest cluster, when there is one: which domains are its nodes.
    ///   - timeout: The bound on each host's whole read.
    /// - Throws: ``MigrationError`` with ``MigrationError/Code/hostUnreachable`` when the source does not answer.
    public static func read(
        sourceURI: String,
        sourceName: String?,
        destinations: [Destination],
        topology: ClusterTopology?,
        timeout: Duration = .seconds(30)
    ) async throws(MigrationError) -> EvacuationSurvey {
        let memberships = Self.memberships(topology)
        let source = await runBlocking(named: "survey-source", timeout: timeout) {
            Result { () throws(LibvirtError) -> SourceRead in try SourceRead(uri: sourceURI, memberships: memberships) }
        }
        let read: SourceRead
        switch source {
        case .failure(let timeout):
            throw MigrationError(.hostUnreachable, "the source \(sourceURI) did not answer: \(timeout)")
        case .success(.failure(let error)):
            throw MigrationError(.hostUnreachable, "the source \(sourceURI): \(error.message)")
        case .success(.success(let value)):
            read = value
        }
        let guests = read.guests
        let cpuDefinitions = read.cpuDefinitions
        let answers = ConcurrentResults<Result<DestinationRead, SurveyFailure>>()
        await concurrently(destinations) { destination in
            let answer = await runBlocking(named: "survey-dest", timeout: timeout) {
                Result { () throws(LibvirtError) -> DestinationRead in
                    try DestinationRead(uri: destination.uri, cpuDefinitions: cpuDefinitions, memberships: memberships)
                }
            }
            switch answer {
            case .failure(let timeout):
                answers.record(.failure(SurveyFailure(reason: "did not answer: \(timeout)")), for: destination.uri)
            case .success(.failure(let error)):
                answers.record(.failure(SurveyFailure(reason: error.message)), for: destination.uri)
            case .success(.success(let value)): answers.record(.success(value), for: destination.uri)
            }
        }
        var candidates: [EvacuationCandidate] = []
        var notes: [String] = []
        for destination in destinations {
            switch answers[destination.uri] {
            case .success(let host)?:
                let name = destination.name ?? host.identity.hostname
                if host.identity.isSameHost(as: read.identity) {
                    notes.append("\(name) (\(destination.uri)) is the host being emptied: not a destination")
                    continue
                }
                var unsuitable: [String: String] = [:]
                for guest in guests {
                    if let comparison = host.cpu[guest.name], let onSource = read.cpu[guest.name] {
                        let result = MigrationCheck.cpuResult(source: onSource, destination: comparison)
                        if result.status == .fail { unsuitable[guest.name] = "CPU: \(result.detail)" }
                    }
                    if host.runningNames.contains(guest.name) || host.runningUUIDs.contains(guest.uuid) {
                        unsuitable[guest.name] = "runs a domain of that name or UUID already"
                    }
                }
                candidates.append(
                    EvacuationCandidate(
                        name: name,
                        uri: destination.uri,
                        freeMemoryBytes: host.freeMemory,
                        unsuitable: unsuitable,
                        clusterNodes: host.clusterNodes
                    )
                )
            case .failure(let failure)?:
                let name = destination.name ?? destination.uri
                notes.append("\(name) (\(destination.uri)): \(failure.reason)")
                candidates.append(
                    EvacuationCandidate(
                        name: name,
                        uri: destination.uri,
                        freeMemoryBytes: nil,
                        unsuitable: [:],
                        clusterNodes: [:]
                    )
                )
            case nil:
                break
            }
        }
        return EvacuationSurvey(
            source: sourceName ?? read.identity.hostname,
            guests: guests,
            candidates: candidates,
            notes: notes,
            persistent: read.persistent
        )
    }
}

/// What the source tells: its name and identity, its active guests, and how its own CPU compares with each guest's.
private struct SourceRead: Sendable {
    var identity: HostIdentity
    var guests: [EvacuationGuest]
    /// Guest name → its `<cpu>` element and domain type, for guests whose CPU libvirt can compare.
    var cpuDefinitions: [String: CPUDefinition]
    /// Guest name → the source's comparison of the guest's CPU.
    var cpu: [String: CPUComparison]
    var persistent: Set<String>

    init(uri: String, memberships: [String: ClusterMembership]) throws(LibvirtError) {
        let connection = try Connection(uri: uri, readOnly: true)
        self.identity = HostIdentity(capabilities: try connection.capabilities(), hostname: try connection.hostname())
        self.guests = []
        self.cpuDefinitions = [:]
        self.cpu = [:]
        self.persistent = []
        for domain in try connection.allDomains(activeOnly: true) {
            guard let info = try? domain.info(), let uuid = try? domain.uuid() else { continue }
            let name = domain.name
            if (try? domain.isPersistent()) == true { self.persistent.insert(name) }
            self.guests.append(
                EvacuationGuest(
                    name: name,
                    uuid: uuid,
                    memoryBytes: info.memoryKiB.multipliedReportingOverflow(by: 1024).partialValue,
                    cluster: memberships[name]
                )
            )
            if let xml = try? domain.xmlDescription(), let definition = try? DomainDefinition(xml: xml),
                let cpuXML = definition.cpuXML,
                definition.cpuMode != "host-passthrough", definition.cpuMode != "maximum"
            {
                self.cpuDefinitions[name] = CPUDefinition(xml: cpuXML, type: definition.type)
                self.cpu[name] = try? connection.compareHypervisorCPU(cpuXML, virtualizationType: definition.type)
            }
        }
    }
}

/// What a destination tells: its name and identity, free memory, the guests it runs already, and its CPU
/// comparison for each guest the source compared.
private struct DestinationRead: Sendable {
    var identity: HostIdentity
    var freeMemory: UInt64
    var runningNames: Set<String>
    var runningUUIDs: Set<String>
    var clusterNodes: [String: [String]]
    var cpu: [String: CPUComparison]

    init(
        uri: String,
        cpuDefinitions: [String: CPUDefinition],
        memberships: [String: ClusterMembership]
    ) throws(LibvirtError) {
        let connection = try Connection(uri: uri, readOnly: true)
        self.identity = HostIdentity(capabilities: try connection.capabilities(), hostname: try connection.hostname())
        self.freeMemory = try connection.freeMemory()
        self.runningNames = []
        self.runningUUIDs = []
        self.clusterNodes = [:]
        for domain in try connection.allDomains(activeOnly: true) {
            let name = domain.name
            self.runningNames.insert(name)
            if let uuid = try? domain.uuid() { self.runningUUIDs.insert(uuid) }
            if let membership = memberships[name] {
                self.clusterNodes[membership.cluster, default: []].append(membership.node)
            }
        }
        self.cpu = [:]
        for (name, definition) in cpuDefinitions {
            self.cpu[name] = try? connection.compareHypervisorCPU(definition.xml, virtualizationType: definition.type)
        }
    }
}

/// Why a destination could not be read.
private struct SurveyFailure: Error {
    var reason: String
}

/// A guest's `<cpu>` element and its domain type (`kvm`, `qemu`), as libvirt's CPU comparison takes them.
private struct CPUDefinition: Sendable {
    var xml: String
    var type: String
}

extension EvacuationSurvey {
    /// Waits until none of `guests` has a job running on the source: a migration whose kvmmigrate died goes on in
    /// the source's libvirt daemon, and where its guest ends up is known only once it ends. Read-only; each check
    /// bounded; gives up after `timeout` (the guest's own migration then refuses, naming the job).
    ///
    /// - Returns: One line per guest that had a job, saying how long it was waited for.
    public static func waitForMigrationJobs(
        sourceURI: String,
        guests: [String],
        timeout: Duration = .seconds(600)
    ) async -> [String] {
        guard !guests.isEmpty else { return [] }
        // One connection for the whole wait; without one, nothing can be waited for.
        let opened = await runBlocking(named: "job-wait", timeout: .seconds(30)) {
            try? Connection(uri: sourceURI, readOnly: true)
        }
        guard case .success(let connection?) = opened else { return [] }
        var lines: [String] = []
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        for guest in guests {
            let started = clock.now
            var waited = false
            while clock.now < deadline {
                let active = await runBlocking(named: "job-wait", timeout: .seconds(30)) { () -> Bool? in
                    guard let domain = try? connection.domain(named: guest),
                        let statistics = try? domain.jobStats()
                    else { return nil }
                    return statistics.type == .bounded || statistics.type == .unbounded
                }
                guard case .success(true) = active else { break }
                waited = true
                try? await Task.sleep(for: .milliseconds(500))
            }
            if waited {
                let seconds = Double((clock.now - started) / .milliseconds(1)) / 1000
                lines.append(
                    "\(guest): waited \(String(format: "%.1f", seconds)) s for the migration job that a stopped "
                        + "kvmmigrate left running"
                )
            }
        }
        return lines
    }
}
