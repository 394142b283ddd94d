import ArgumentParser
import Libvirt
import Testing

@testable import kvmmigrate

@Suite struct VersionTests {
    /// `--version` names kvmmigrate's version and the libvirt library's, and is still ArgumentParser's own
    /// request: exit status 0, wherever it stands on the command line.
    @Test(arguments: [["--version"], ["migrate", "--version"], ["cluster", "status", "--version"]])
    func versionNamesKvmmigrateAndLibvirt(arguments: [String]) throws {
        let error = try #require(#expect(throws: (any Error).self) { try KVMMigrate.parseAsRoot(arguments) })
        #expect(KVMMigrate.exitCode(for: error) == .success)
        let library = libvirtLibraryVersion
        #expect(library.major > 0)
        #expect(KVMMigrate.fullMessage(for: error) == "kvmmigrate \(KVMMigrate.version) (libvirt \(library))")
    }

    @Test func theVersionIsSemantic() {
        #expect(KVMMigrate.version.split(separator: ".").count == 3)
        #expect(KVMMigrate.version.split(separator: ".").allSatisfy { Int($0) != nil })
    }
}
