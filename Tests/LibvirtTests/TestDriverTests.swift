import Testing

@testable import Libvirt

/// Tier 2: libvirt's in-process fake hypervisor (`test:///default`, with a running domain `test`). Serialized:
/// every connection to `test:///default` in a process shares one fake host, and one test pauses its domain.
@Suite(.serialized) struct TestDriverTests {
    @Test func missingDomainThrowsNoDomainWithTheFunctionName() throws {
        let connection = try Connection(uri: "test:///default")
        let error = #expect(throws: LibvirtError.self) { try connection.domain(named: "no-such-domain") }
        #expect(error?.code == .noDomain)
        #expect(error?.code.rawValue == 42)
        #expect(error?.function == "virDomainLookupByName")
    }

    @Test func malformedURIFailsToConnect() {
        let error = #expect(throws: LibvirtError.self) { try Connection(uri: "nosuchdriver:///x") }
        #expect(error?.function == "virConnectOpenAuth")
        #expect(error?.message.isEmpty == false)
    }

    @Test func domainIsFoundByNameAndByUUID() throws {
        let connection = try Connection(uri: "test:///default")
        let byName = try connection.domain(named: "test")
        let uuid = try byName.uuid()
        #expect(uuid.count == 36)
        #expect(try connection.domain(uuid: uuid).name == "test")
        #expect(try connection.domain(nameOrUUID: uuid).name == "test")
        #expect(try connection.domain(nameOrUUID: "test").name == "test")
        #expect(try byName.state().state == .running)
        #expect(try byName.xmlDescription().contains("<name>test</name>"))
        #expect(try byName.info().memoryKiB > 0)
    }

    @Test func hostFactsAreReadable() throws {
        let connection = try Connection(uri: "test:///default")
        #expect(try connection.capabilities().contains("<host>"))
        #expect(try !connection.hostname().isEmpty)
        #expect(try connection.libvirtVersion() >= LibvirtVersion(major: 9, minor: 0, release: 0))
        #expect(connection.isAlive)
    }

    @Test func jobStatsAndMigrationErrorsCarryLibvirtsCodes() throws {
        let domain = try Connection(uri: "test:///default").domain(named: "test")
        let statsError = #expect(throws: LibvirtError.self) { try domain.jobStats() }
        #expect(statsError?.code == .notSupported)
        #expect(statsError?.function == "virDomainGetJobStats")
        let migrateError = #expect(throws: LibvirtError.self) {
            try domain.migrate(to: "test:///default", parameters: MigrationParameters(bandwidthMiBPerSecond: 1))
        }
        #expect(migrateError?.function == "virDomainMigrateToURI3")
    }

    @Test func errorCodesMatchLibvirtsNumbers() {
        #expect(LibvirtError.Code.noDomain.rawValue == 42)
        #expect(LibvirtError.Code.notSupported.rawValue == 3)
        #expect(LibvirtError.Code.operationInvalid.rawValue == 55)
        #expect(LibvirtError.Code.operationAborted.rawValue == 78)
        #expect(LibvirtError.Code.argumentUnsupported.rawValue == 74)
        let error: any Error = LibvirtError(code: .operationAborted, message: "aborted", function: "f")
        #expect(LibvirtError.Code.operationAborted ~= error)
        #expect(!(LibvirtError.Code.noDomain ~= error))
    }

    @Test(.timeLimit(.minutes(1)))
    func lifecycleEventsArriveAsAnAsyncStream() async throws {
        let connection = try Connection(uri: "test:///default")
        let domain = try connection.domain(named: "test")
        let events = try connection.lifecycleEvents(for: domain)
        try domain.suspend()
        defer { try? domain.resume() }
        var iterator = events.makeAsyncIterator()
        let event = try #require(await iterator.next())
        #expect(event.domainName == "test")
        #expect(event.kind == .suspended)
        #expect(try domain.state().state == .paused)
        #expect(try domain.state().reasonDescription == "user")
    }

    @Test(arguments: [
        (DomainStateInfo(state: .running, reason: 2), "running (migrated)", true),
        (DomainStateInfo(state: .running, reason: 6), "running (migration canceled)", true),
        (DomainStateInfo(state: .shutOff, reason: 4), "shut off (migrated)", false),
        (DomainStateInfo(state: .paused, reason: 2), "paused (migrating)", true),
        (DomainStateInfo(state: .paused, reason: 13), "paused (post-copy failed)", true),
    ])
    func statesReadLikeVirshDomstateReason(state: DomainStateInfo, text: String, active: Bool) {
        #expect(state.description == text)
        #expect(state.isActive == active)
    }
}
