import Foundation
import Testing

@testable import Cluster

#if canImport(Glibc)
import Glibc
#endif

/// kvmmigrate runs as root: a configuration (or the ssh_config it names) another user could change is refused.
@Suite struct FileTrustTests {
    /// A private directory with one file in it, removed at the end.
    private final class Place {
        let directory: URL
        let file: URL

        init(_ text: String = "hosts: [{name: a, uri: 'qemu+tcp://a/system', address: 192.0.2.1}]\n") throws {
            self.directory = FileManager.default.temporaryDirectory.appending(path: "FileTrustTests-\(UUID())")
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: false)
            chmod(self.directory.path, 0o700)
            self.file = self.directory.appending(path: "cluster.yaml")
            try text.write(to: self.file, atomically: false, encoding: .utf8)
            chmod(self.file.path, 0o644)
        }

        deinit { try? FileManager.default.removeItem(at: self.directory) }
    }

    private func refusal(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        do {
            try FileTrust.check(path, what: "the cluster configuration")
            return nil
        } catch {
            #expect(error.code == .untrustedFile, "\(error.message)", sourceLocation: sourceLocation)
            return error.message
        }
    }

    @Test func aFileOfRootOrThisUserThatOnlyItMayWriteIsTrusted() throws {
        let place = try Place()
        #expect(self.refusal(place.file.path) == nil)
        chmod(place.file.path, 0o600)
        #expect(self.refusal(place.file.path) == nil)
    }

    @Test(arguments: [0o666, 0o664, 0o646, 0o620] as [mode_t])
    func aFileOthersMayWriteIsRefused(mode: mode_t) throws {
        let place = try Place()
        chmod(place.file.path, mode)
        #expect(self.refusal(place.file.path)?.contains("may be written by its group or others") == true)
    }

    @Test func aDirectoryOthersMayWriteIsRefusedUnlessSticky() throws {
        let place = try Place()
        chmod(place.directory.path, 0o777)
        #expect(self.refusal(place.file.path)?.contains("the directory of") == true)
        chmod(place.directory.path, 0o1777)
        #expect(self.refusal(place.file.path) == nil)
    }

    @Test(.enabled(if: geteuid() == 0)) func aFileOfAnotherUserIsRefused() throws {
        let place = try Place()
        #expect(chown(place.file.path, 65534, 65534) == 0)
        #expect(self.refusal(place.file.path)?.contains("belongs to user 65534") == true)
    }

    /// A link is judged by what it points to, as reading it would: there, the directory others may write.
    @Test func aLinkIsJudgedByItsTarget() throws {
        let trusted = try Place()
        let open = try Place()
        chmod(open.directory.path, 0o777)
        let link = trusted.directory.appending(path: "link.yaml")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: open.file)
        #expect(self.refusal(link.path)?.contains("the directory of") == true)
        chmod(open.directory.path, 0o700)
        #expect(self.refusal(link.path) == nil)
    }

    @Test func aDirectoryIsNoConfiguration() throws {
        let place = try Place()
        #expect(self.refusal(place.directory.path)?.contains("not a regular file") == true)
    }

    /// `ssh.config` runs its ProxyCommand as root: the configuration that names an open one is refused.
    @Test func theSSHConfigTheConfigurationNamesIsCheckedToo() throws {
        let ssh = try Place("Host *\n  ProxyCommand nc %h %p\n")
        chmod(ssh.file.path, 0o666)
        let place = try Place(
            "ssh: {config: '\(ssh.file.path)'}\nhosts: [{name: a, uri: 'qemu+tcp://a/system', address: 192.0.2.1}]\n"
        )
        #expect(throws: ClusterError.self) { try ClusterConfiguration(contentsOf: place.file.path) }
        do {
            _ = try ClusterConfiguration(contentsOf: place.file.path)
        } catch {
            #expect(error.code == .untrustedFile)
            #expect(error.message.contains("ssh.config"), "\(error.message)")
        }
        chmod(ssh.file.path, 0o644)
        _ = try ClusterConfiguration(contentsOf: place.file.path)
    }
}
