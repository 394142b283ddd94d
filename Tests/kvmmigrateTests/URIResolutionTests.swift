import Testing

@testable import kvmmigrate

/// Which URIs kvmmigrate asks libvirt to resolve: libvirt's default and libvirt.conf aliases, nothing else.
@Suite struct URIResolutionTests {
    /// `qemu+tcp//host/system` (a colon missing) is no URI: libvirt, asked, says so.
    @Test(arguments: ["", "hostb", "lab-b", "host.b", "qemu+tcp//10.77.0.2/system"])
    func theDefaultAndAliasesAreResolvedByLibvirt(uri: String) {
        #expect(URIResolution.needsResolving(uri))
    }

    @Test(arguments: [
        "qemu:///system", "qemu+tcp://10.77.0.2/system", "qemu+ssh://root@hostb/system?keyfile=/k", "test:///default",
    ])
    func anyOtherURIIsLeftAsGiven(uri: String) async throws {
        #expect(!URIResolution.needsResolving(uri))
        #expect(try await URIResolution.resolve(uri, role: "destination") == uri)
    }

    @Test func noConnectMeansLibvirtsDefault() throws {
        let migrate = try #require(
            try KVMMigrate.parseAsRoot(["migrate", "d", "qemu+tcp://b/system"]) as? KVMMigrate.Migrate
        )
        #expect(migrate.connection.sourceURI == nil)
        #expect(migrate.request(policy: .balanced).sourceURI == "")
    }
}
