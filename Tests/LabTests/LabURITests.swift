import Foundation
import Libvirt
import Testing

/// libvirt's rules for URIs, not kvmmigrate's (issue 12): without `-c` libvirt's default URI is used, and aliases
/// from libvirt.conf work for `-c` and for DEST_URI, also when the source daemon opens the destination itself.
extension LabTests {
    @Suite(.serialized, .timeLimit(.minutes(5))) struct LabURITests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
        }

        /// Runs `kvmmigrate arguments` with `/etc/libvirt` replaced, in a mount namespace of its own, by a directory
        /// whose libvirt.conf is `configuration`: what a user's libvirt.conf does, and nothing outside changes.
        private func withLibvirtConf(
            _ configuration: String,
            _ arguments: [String],
            environment: [String: String] = [:]
        ) throws -> CommandRun {
            let directory = FileManager.default.temporaryDirectory.appending(path: "kvmm-libvirt-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(at: directory) }
            try configuration.write(to: directory.appending(path: "libvirt.conf"), atomically: true, encoding: .utf8)
            let script = "mount --bind \"$0\" /etc/libvirt && exec \"$@\""
            return try run(
                URL(filePath: "/usr/bin/timeout"),
                ["240", "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, directory.path]
                    + [try self.lab.binary.path] + arguments,
                environment: environment
            )
        }

        /// The `source` and `destination` URIs of a migrate document.
        private func uris(_ result: CommandRun) throws -> (source: String?, destination: String?) {
            let json = try result.json
            return (
                (json["source"] as? [String: Any])?["uri"] as? String,
                (json["destination"] as? [String: Any])?["uri"] as? String
            )
        }

        @Test func withoutConnectLibvirtsDefaultURIIsTheSource() throws {
            let guest = try TestGuest(self.lab, name: "uri1", ["fill=32", "verify=0"])
            defer { guest.stop() }
            let result = try run(
                try self.lab.binary,
                ["migrate", guest.name, self.lab.destinationURI, "--json"],
                environment: ["LIBVIRT_DEFAULT_URI": self.lab.sourceURI]
            )
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(try guest.states().destination?.state == .running)
            #expect(try guest.states().source?.isActive != true)
            // The report names the URI libvirt chose, not an empty one.
            #expect(try self.uris(result).source == self.lab.sourceURI, "\(result.standardOutput)")
        }

        @Test func uriDefaultFromLibvirtConfIsTheSource() throws {
            let guest = try TestGuest(self.lab, name: "uri1", ["fill=32", "verify=0"])
            defer { guest.stop() }
            let result = try self.withLibvirtConf(
                "uri_default = \"\(self.lab.sourceURI)\"\n",
                ["check", guest.name, self.lab.destinationURI, "--json"]
            )
            #expect(result.exitCode == 0, "\(result.standardError)")
            let hosts = (try result.json["checks"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "hosts" }
            #expect(hosts?["status"] as? String == "pass", "\(result.standardError)")
        }

        /// The source daemon opens DEST_URI itself (peer to peer) and knows nothing of this machine's aliases:
        /// kvmmigrate hands it what libvirt here resolves the alias to.
        @Test func aliasesFromLibvirtConfWorkForConnectAndDestination() throws {
            let guest = try TestGuest(self.lab, name: "uri1", ["fill=32", "verify=0"])
            defer { guest.stop() }
            let configuration = """
                uri_aliases = [
                  "laba=\(self.lab.sourceURI)",
                  "labb=\(self.lab.destinationURI)",
                ]

                """
            let check = try self.withLibvirtConf(configuration, ["check", guest.name, "labb", "-c", "laba", "--json"])
            #expect(check.exitCode == 0, "\(check.standardError)")
            let result = try self.withLibvirtConf(
                configuration,
                ["migrate", guest.name, "labb", "-c", "laba", "--json"]
            )
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(try guest.states().destination?.state == .running)
            #expect(try guest.states().source?.isActive != true)
            let uris = try self.uris(result)
            #expect(uris.source == self.lab.sourceURI, "\(result.standardOutput)")
            #expect(uris.destination == self.lab.destinationURI, "\(result.standardOutput)")
        }

        @Test func anAliasLibvirtDoesNotKnowIsOneLineAndChangesNothing() throws {
            let guest = try TestGuest(self.lab, name: "uri1", ["fill=32", "verify=0"])
            defer { guest.stop() }
            let result = try self.withLibvirtConf(
                "uri_aliases = [ \"laba=\(self.lab.sourceURI)\" ]\n",
                ["migrate", guest.name, "nosuchalias", "-c", "laba", "--json"]
            )
            #expect(result.exitCode == 5, "\(result.standardError)")
            let errors = result.standardError.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(errors.count == 1, "\(result.standardError)")
            #expect(errors.first?.contains("nosuchalias") == true, "\(result.standardError)")
            #expect(try guest.states().source?.state == .running)
            #expect(try guest.states().destination == nil)
        }
    }
}
