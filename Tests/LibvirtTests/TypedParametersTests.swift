import Testing

@testable import Libvirt

@Suite struct TypedParametersTests {
    @Test func migrationParametersRoundTripThroughLibvirtsTypedParameters() throws {
        let parameters = MigrationParameters(
            migrationURI: "tcp://10.77.0.2",
            destinationName: "renamed",
            bandwidthMiBPerSecond: 120,
            postCopyBandwidthMiBPerSecond: 60,
            parallelConnections: 4,
            compressionMethods: ["xbzrle", "mt"],
            xbzrleCacheBytes: 64 << 20,
            autoConvergeInitial: 20,
            autoConvergeIncrement: 10,
            listenAddress: "10.77.0.2",
            disksToCopy: ["vda", "vdb"],
            disksPort: 49153,
            tlsDestination: "host-b.example",
            graphicsURI: "spice://host-b"
        )
        let builder = try parameters.typedParameters()
        let decoded = builder.withView { MigrationParameters($0) }
        #expect(decoded == parameters)
        #expect(builder.fieldCount == 16)
    }

    @Test func absentParametersAreLeftOutSoLibvirtDefaultsApply() throws {
        let builder = try MigrationParameters().typedParameters()
        #expect(builder.fieldCount == 0)
        #expect(builder.withView { MigrationParameters($0) } == MigrationParameters())
    }

    @Test func parametersUseLibvirtsDocumentedNames() throws {
        let builder = try MigrationParameters(
            migrationURI: "tcp://b",
            destinationName: "n",
            bandwidthMiBPerSecond: 1,
            parallelConnections: 2
        ).typedParameters()
        let names = builder.withView { $0.names }
        #expect(names == ["migrate_uri", "destination_name", "bandwidth", "parallel.connections"])
    }

    @Test func integerFieldsAreReadWhateverTheirCType() throws {
        var builder = TypedParameterBuilder()
        try builder.add("as_ullong", UInt64(7))
        try builder.add("as_int", Int32(8))
        try builder.add("negative", Int32(-1))
        try builder.add("flag", true)
        builder.withView { view in
            #expect(view.uint64("as_ullong") == 7)
            #expect(view.uint64("as_int") == 8)
            #expect(view.int64("as_ullong") == 7)
            #expect(view.uint64("negative") == nil)
            #expect(view.int64("negative") == -1)
            #expect(view.bool("flag") == true)
            #expect(view.uint64("missing") == nil)
            #expect(view.string("as_int") == nil)
        }
    }
}
