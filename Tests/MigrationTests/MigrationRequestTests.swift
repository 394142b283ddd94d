import Libvirt
import Testing

@testable import Migration

@Suite struct MigrationRequestTests {
    private func request(_ change: (inout MigrationRequest) -> Void = { _ in }) -> MigrationRequest {
        var request = MigrationRequest(
            domain: "domain1",
            sourceURI: "qemu+tcp://10.77.0.1/system",
            destinationURI: "qemu+tcp://10.77.0.2/system"
        )
        change(&request)
        return request
    }

    @Test func liveIsTheDefaultAndPeerToPeerIsAddedByTheCall() {
        // The balanced policy may switch to post-copy, which must be enabled when the migration starts.
        #expect(self.request().flags == [.live, .postCopy])
        #expect(self.request { $0.policy = ConvergencePolicy(.lowDowntime) }.flags == [.live, .autoConverge])
    }

    @Test func optionsMapToLibvirtFlags() {
        let request = self.request {
            $0.persistent = true
            $0.undefineSource = true
            $0.compressed = true
            $0.policy.autoConverge = true
            $0.policy.allowPostCopy = false
            $0.parameters.parallelConnections = 4
        }
        #expect(
            request.flags == [.live, .persistOnDestination, .undefineSource, .compressed, .autoConverge, .parallel]
        )
        #expect(self.request { $0.offline = true }.flags == [.offline, .persistOnDestination])
    }

    @Test func aValidRequestPasses() throws {
        try self.request().validate()
        try self.request { $0.parameters.migrationURI = "tcp://10.77.0.2:49152" }.validate()
        try self.request { $0.sourceURI = "qemu:///system" }.validate()
    }

    @Test func theSourceAsDestinationIsRefusedBeforeAnyHostIsAsked() {
        let error = #expect(throws: MigrationError.self) {
            try self.request { $0.destinationURI = "qemu+tcp://10.77.0.1/system" }.validate()
        }
        #expect(error?.code == .sameHost)
        #expect(error?.code.isRefusal == true)
        #expect(error?.message.contains("\n") == false)
    }

    /// libvirt decides what a URI is (a libvirt.conf alias such as `hostb` is one): no check of our own.
    @Test(arguments: ["hostb", "qemu+tcp//10.77.0.2/system", "test:///default"])
    func libvirtURIsAreLeftToLibvirt(destination: String) throws {
        try self.request { $0.destinationURI = destination }.validate()
    }

    @Test func tlsSetsVIR_MIGRATE_TLSAndRefusesTunnelledAndOffline() {
        #expect(self.request { $0.tls = true }.flags.contains(.tls))
        #expect(!self.request { _ in }.flags.contains(.tls))
        #expect(self.request { $0.tunnelled = true }.flags.contains(.tunnelled))
        let both = #expect(throws: MigrationError.self) {
            try self.request {
                $0.tls = true
                $0.tunnelled = true
                $0.policy = ConvergencePolicy(.lowDowntime)
            }.validate()
        }
        #expect(both?.code == .invalidRequest)
        #expect(both?.message.contains("--tls and --tunnelled") == true)
        let offline = #expect(throws: MigrationError.self) {
            try self.request {
                $0.tls = true
                $0.offline = true
            }.validate()
        }
        #expect(offline?.code == .invalidRequest)
    }

    @Test func contradictoryOptionsAreRefused() {
        let tunnelledParallel = #expect(throws: MigrationError.self) {
            try self.request {
                $0.tunnelled = true
                $0.parameters.parallelConnections = 2
            }.validate()
        }
        #expect(tunnelledParallel?.code == .invalidRequest)
        let tunnelledPostCopy = #expect(throws: MigrationError.self) {
            try self.request { $0.tunnelled = true }.validate()
        }
        #expect(tunnelledPostCopy?.code == .invalidRequest)
        #expect(throws: Never.self) {
            try self.request {
                $0.tunnelled = true
                $0.policy = ConvergencePolicy(.lowDowntime)
            }.validate()
        }
        let badMigrationURI = #expect(throws: MigrationError.self) {
            try self.request { $0.parameters.migrationURI = "not a uri" }.validate()
        }
        #expect(badMigrationURI?.code == .invalidURI)
    }

    @Test func hostUUIDIsReadFromCapabilities() {
        let xml = """
            <capabilities>
              <host>
                <uuid>6b3c7a1e-0000-4000-8000-0000000000a1</uuid>
                <cpu><arch>x86_64</arch></cpu>
              </host>
              <guest><os_type>hvm</os_type></guest>
            </capabilities>
            """
        let a = HostIdentity(capabilities: xml, hostname: "hostA")
        #expect(a.uuid == "6b3c7a1e-0000-4000-8000-0000000000a1")
        let sameUUID = HostIdentity(capabilities: xml, hostname: "other-name")
        #expect(a.isSameHost(as: sameUUID))
        let b = HostIdentity(capabilities: xml.replacingOccurrences(of: "a1<", with: "b2<"), hostname: "hostB")
        #expect(!a.isSameHost(as: b))
    }

    @Test func preflightRefusesADestinationThatIsTheSourceHost() async throws {
        // Two URIs, one fake host: test:///default is one in-process host, whatever the URI spelling.
        let request = MigrationRequest(
            domain: "test",
            sourceURI: "test:///default",
            destinationURI: "test:///default?x=1"
        )
        let error = await #expect(throws: MigrationError.self) { try await MigrationPreflight.prepare(request) }
        #expect(error?.code == .sameHost)
    }

    @Test func preflightRefusesAnUnreachableHost() async throws {
        let request = MigrationRequest(
            domain: "test",
            sourceURI: "test:///default",
            destinationURI: "qemu+tcp://127.0.0.1:1/system"
        )
        let error = await #expect(throws: MigrationError.self) { try await MigrationPreflight.prepare(request) }
        #expect(error?.code == .hostUnreachable)
        #expect(error?.message.contains("qemu+tcp://127.0.0.1:1/system") == true)
    }
}
