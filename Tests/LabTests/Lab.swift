import Foundation
import Libvirt
import Testing

extension Tag {
    /// Tests that need the lab of `Fixtures/lab` (real libvirtd, QEMU and sshd in network namespaces).
    @Tag static var lab: Self
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only inside the lab: `KVMMIGRATE_LAB_SOURCE` names a libvirt URI that answers.
    /// `Fixtures/lab/lab run -- swift test` sets it; `Fixtures/test` fails when a lab test was skipped.
    static var requiresLab: Self {
        .enabled("Needs the lab: run the tests with Fixtures/test (or Fixtures/lab/lab run -- swift test)") {
            guard let uri = ProcessInfo.processInfo.environment["KVMMIGRATE_LAB_SOURCE"] else { return false }
            return (try? Connection(uri: uri, readOnly: true))?.isAlive ?? false
        }
    }
}

/// Every lab suite is nested here: the suites share one lab and one guest, so they must run one after
/// another (`.serialized` orders the tests of a suite and of the suites nested in it).
@Suite(.requiresLab, .tags(.lab), .serialized)
struct LabTests {}

/// The lab as the tests see it: two hosts, a guest, and the `kvmmigrate` binary under test.
struct Lab {
    let sourceURI: String
    let destinationURI: String
    let domain: String
    let root: URL

    init() throws {
        let environment = ProcessInfo.processInfo.environment
        self.sourceURI = try #require(environment["KVMMIGRATE_LAB_SOURCE"])
        self.destinationURI = try #require(environment["KVMMIGRATE_LAB_DESTINATION"])
        self.domain = environment["KVMMIGRATE_LAB_DOMAIN"] ?? "domain1"
        self.root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// The `kvmmigrate` executable under test: `$KVMMIGRATE_BINARY` (`Fixtures/test` sets it to the release
    /// build, what users run), else the one built beside the test bundle.
    var binary: URL {
        get throws {
            if let path = ProcessInfo.processInfo.environment["KVMMIGRATE_BINARY"] { return URL(filePath: path) }
            return try self.testHooksBinary
        }
    }

    /// The debug `kvmmigrate` built beside the test bundle: the only build with the test hooks
    /// (`KVMMIGRATE_TEST_CRASH_AFTER_STEP`, `KVMMIGRATE_TEST_HOLD_AFTER_STEP`), which release builds leave out.
    var testHooksBinary: URL {
        get throws {
            let bundle = URL(filePath: CommandLine.arguments[0]).deletingLastPathComponent()
            for candidate in [bundle, bundle.deletingLastPathComponent()] {
                let url = candidate.appending(path: "kvmmigrate")
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
            throw LabError("kvmmigrate binary not found next to \(bundle.path); build it first")
        }
    }

    func source() throws -> Connection { try Connection(uri: self.sourceURI) }
    func destination() throws -> Connection { try Connection(uri: self.destinationURI) }

    /// The domain's state on a host, or `nil` when that host does not know it.
    func state(of name: String, on connection: Connection) -> DomainStateInfo? {
        try? connection.domain(named: name).state()
    }

    /// Puts the guest back on the source, running, with nothing on the destination: the state every test
    /// starts from. Uses libvirt directly, not the tool under test.
    func reset() throws {
        let source = try self.source()
        let destination = try self.destination()
        if let state = self.state(of: self.domain, on: destination), state.isActive {
            if self.state(of: self.domain, on: source)?.isActive ?? false {
                try destination.domain(named: self.domain).destroy()
            } else {
                try destination.domain(named: self.domain).migrate(
                    to: self.sourceURI,
                    flags: [.live, .persistOnDestination, .undefineSource]
                )
            }
        }
        if let leftover = try? destination.domain(named: self.domain), !((try? leftover.isActive()) ?? false) {
            try? leftover.undefine()
        }
        if !(self.state(of: self.domain, on: source)?.isActive ?? false) {
            try source.domain(named: self.domain).start()
        }
        #expect(self.state(of: self.domain, on: source)?.state == .running)
        #expect(self.state(of: self.domain, on: destination) == nil)
    }

    /// Expects what "nothing changed" means here: the guest still runs on the source, and the destination
    /// does not know it.
    func expectUnchanged(sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(
            self.state(of: self.domain, on: try self.source())?.state == .running,
            sourceLocation: sourceLocation
        )
        #expect(self.state(of: self.domain, on: try self.destination()) == nil, sourceLocation: sourceLocation)
    }
}

struct LabError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
