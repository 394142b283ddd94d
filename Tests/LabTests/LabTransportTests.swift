import Foundation
import Libvirt
import Testing

/// libvirt's transports and QEMU's migration channel (issue 12): `qemu+ssh://` and `qemu+tls://` for the source and
/// the destination (the source daemon opens the destination itself, peer to peer), `--tls`, `--tunnelled`, and
/// `check --tls`. Each test moves a guest of its own from hostA to hostB; where it ends up is asked of libvirt on
/// both hosts over the lab's plain TCP URIs.
extension LabTests {
    @Suite(.serialized, .timeLimit(.minutes(5))) struct LabTransportTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
        }

        /// hostA's and hostB's lab addresses, from the lab's `qemu+tcp://ADDRESS/system` URIs.
        private var addresses: (source: String, destination: String) {
            get throws {
                (
                    try #require(URLComponents(string: self.lab.sourceURI)?.host),
                    try #require(URLComponents(string: self.lab.destinationURI)?.host)
                )
            }
        }

        private func guest(_ name: String) throws -> TestGuest {
            try TestGuest(self.lab, name: name, ["fill=32", "verify=0"])
        }

        /// Runs `kvmmigrate arguments` to its end.
        private func kvmmigrate(_ arguments: [String]) throws -> CommandRun {
            try run(try self.lab.binary, arguments)
        }

        /// The `check --json` document's `checks`, by name: (status, detail).
        private func checks(_ result: CommandRun) throws -> [String: (status: String, detail: String)] {
            let checks = try #require(try result.json["checks"] as? [[String: Any]], "\(result.standardOutput)")
            return checks.reduce(into: [:]) {
                $0[$1["name"] as? String ?? ""] = ($1["status"] as? String ?? "", $1["detail"] as? String ?? "")
            }
        }

        /// Expects the guest to run on hostB and to be gone from hostA.
        private func expectMoved(_ guest: TestGuest, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let states = try guest.states()
            #expect(states.destination?.state == .running, sourceLocation: sourceLocation)
            #expect(states.source?.isActive != true, sourceLocation: sourceLocation)
        }

        /// `check`, then `migrate`, of a new guest from `source` to `destination` (both given by the test).
        private func checkAndMigrate(_ name: String, from source: String, to destination: String) throws {
            let guest = try self.guest(name)
            defer { guest.stop() }
            let check = try self.kvmmigrate(["check", guest.name, destination, "-c", source, "--json"])
            #expect(check.exitCode == 0, "\(check.standardError)")
            #expect(try self.checks(check)["hosts"]?.status == "pass", "\(check.standardOutput)")
            #expect(try guest.states().source?.state == .running, "check changed nothing")

            let migrate = try self.kvmmigrate(["migrate", guest.name, destination, "-c", source, "--json"])
            #expect(migrate.exitCode == 0, "\(migrate.standardError)")
            #expect(try migrate.json["outcome"] as? String == "completed", "\(migrate.standardOutput)")
            try self.expectMoved(guest)
        }

        // MARK: - libvirt's transports

        /// Over ssh (libvirt runs `ssh` and, on the far side, `virt-ssh-helper`): from admin to hostA, and from
        /// hostA's libvirtd to hostB.
        @Test func checkAndMigrateOverSSH() throws {
            try self.checkAndMigrate("tr-ssh", from: "qemu+ssh://root@hostA/system", to: "qemu+ssh://root@hostB/system")
        }

        /// The same by address: the hosts' certificates and known hosts name them both ways.
        @Test func checkAndMigrateOverSSHByAddress() throws {
            let (source, destination) = try self.addresses
            try self.checkAndMigrate(
                "tr-ssh-ip",
                from: "qemu+ssh://root@\(source)/system",
                to: "qemu+ssh://root@\(destination)/system"
            )
        }

        /// Over TLS, with the lab CA's certificates at libvirt's default paths (admin's and each host's /etc/pki).
        @Test func checkAndMigrateOverTLS() throws {
            // The destination by name, the source by address: the certificates name both.
            let (source, _) = try self.addresses
            try self.checkAndMigrate(
                "tr-tls",
                from: "qemu+tls://\(source)/system",
                to: "qemu+tls://hostB/system"
            )
        }

        // MARK: - QEMU's migration channel

        /// `--tls` over the plain TCP URIs: the guest moves, and what goes over the wire to the destination QEMU's
        /// migration port starts with a TLS handshake record, not QEMU's migration stream (magic `QEVM`).
        @Test func migrateWithTLSEncryptsTheMigrationStream() async throws {
            let guest = try self.guest("tr-qemutls")
            defer { guest.stop() }
            let sniffer = try RunningCommand(
                URL(filePath: "/bin/bash"),
                [
                    self.lab.labScript.path, "exec", "hostB", "--", "python3", "-c", Self.firstMigrationBytes, "60",
                    try self.addresses.destination,
                ]
            )
            try await Task.sleep(for: .seconds(2))  // the sniffer is listening (it ends by itself)

            let migrate = try self.kvmmigrate([
                "migrate", guest.name, self.lab.destinationURI, "-c", self.lab.sourceURI, "--tls", "--json",
            ])
            #expect(migrate.exitCode == 0, "\(migrate.standardError)")
            try self.expectMoved(guest)

            let sniffed = sniffer.wait()
            #expect(sniffed.exitCode == 0, "no migration data seen: \(sniffed.standardError)")
            let firstBytes = sniffed.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            // 16 03: a TLS handshake record (the source QEMU's ClientHello); 5145564d would be "QEVM" in clear.
            #expect(firstBytes.hasPrefix("1603"), "first bytes to the migration port: \(firstBytes)")
            #expect(!firstBytes.hasPrefix("5145564d"), "the migration stream went in clear")
        }

        /// The control run for the sniffer: without `--tls` the destination QEMU's port gets QEMU's stream in clear.
        @Test func migrateWithoutTLSSendsTheStreamInClear() async throws {
            let guest = try self.guest("tr-clear")
            defer { guest.stop() }
            let sniffer = try RunningCommand(
                URL(filePath: "/bin/bash"),
                [
                    self.lab.labScript.path, "exec", "hostB", "--", "python3", "-c", Self.firstMigrationBytes, "60",
                    try self.addresses.destination,
                ]
            )
            try await Task.sleep(for: .seconds(2))
            let migrate = try self.kvmmigrate([
                "migrate", guest.name, self.lab.destinationURI, "-c", self.lab.sourceURI, "--json",
            ])
            #expect(migrate.exitCode == 0, "\(migrate.standardError)")
            let sniffed = sniffer.wait()
            #expect(sniffed.standardOutput.hasPrefix("5145564d"), "\(sniffed.standardOutput) \(sniffed.standardError)")
        }

        @Test func migrateTunnelled() throws {
            let guest = try self.guest("tr-tunnel")
            defer { guest.stop() }
            let migrate = try self.kvmmigrate([
                "migrate", guest.name, self.lab.destinationURI, "-c", self.lab.sourceURI, "--tunnelled", "--json",
            ])
            #expect(migrate.exitCode == 0, "\(migrate.standardError)")
            #expect(try migrate.json["outcome"] as? String == "completed", "\(migrate.standardOutput)")
            try self.expectMoved(guest)
        }

        @Test func tlsWithTunnelledIsAUsageErrorAndChangesNothing() throws {
            let guest = try self.guest("tr-both")
            defer { guest.stop() }
            let result = try self.kvmmigrate([
                "migrate", guest.name, self.lab.destinationURI, "-c", self.lab.sourceURI, "--tls", "--tunnelled",
                "--json",
            ])
            #expect(result.exitCode == 64, "\(result.standardError)")
            // One error line (ArgumentParser adds its usage hint to a usage error, as for every other one).
            let errors = result.standardError.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(errors.count == 1, "\(result.standardError)")
            #expect(
                errors.first?.contains("--tls and --tunnelled cannot be combined") == true,
                "\(result.standardError)"
            )
            #expect((try result.json["error"] as? [String: Any])?["code"] as? String == "usage-error")
            let states = try guest.states()
            #expect(states.source?.state == .running)
            #expect(states.destination == nil)
        }

        // MARK: - check --tls

        @Test func checkWithTLSPassesItsTLSRowInTheLab() throws {
            let guest = try self.guest("tr-checktls")
            defer { guest.stop() }
            let result = try self.kvmmigrate([
                "check", guest.name, self.lab.destinationURI, "-c", self.lab.sourceURI, "--tls", "--json",
            ])
            #expect(result.exitCode == 0, "\(result.standardError)")
            let tls = try #require(try self.checks(result)["tls"], "\(result.standardOutput)")
            #expect(tls.status == "pass", "\(tls.detail)")
        }

        /// Where TLS cannot be had (here: no client certificate, libvirt's /etc/pki hidden in a mount namespace
        /// of the check's own), `check --tls` warns and says why; nothing else changes.
        @Test func checkWithTLSWarnsWithoutCertificates() throws {
            let guest = try self.guest("tr-notls")
            defer { guest.stop() }
            let empty = FileManager.default.temporaryDirectory.appending(path: "kvmm-nopki-\(UUID())")
            try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(at: empty) }
            let script = "mount --bind \"$0\" /etc/pki && exec \"$@\""
            let result = try run(
                URL(filePath: "/usr/bin/timeout"),
                ["120", "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, empty.path]
                    + [try self.lab.binary.path, "check", guest.name, self.lab.destinationURI, "-c"]
                    + [self.lab.sourceURI, "--tls", "--json"]
            )
            let tls = try #require(try self.checks(result)["tls"], "\(result.standardOutput) \(result.standardError)")
            #expect(tls.status == "warn", "\(tls.detail)")
            #expect(tls.detail.contains("TLS not confirmed"), "\(tls.detail)")
            #expect(result.exitCode != 2, "a warning, not a refusal: \(result.standardError)")
            #expect(try guest.states().source?.state == .running)
        }

        /// Prints, in hex, the first 8 bytes of TCP payload sent to address `argv[2]` on a QEMU migration port
        /// (49152-49215, libvirt's default range) seen on this namespace's eth0, and exits 0; exits 1 after `argv[1]`
        /// seconds without any.
        static let firstMigrationBytes = """
            import socket, struct, sys, time
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
            s.bind(("eth0", 0))
            s.settimeout(0.5)
            end = time.time() + float(sys.argv[1])
            to = socket.inet_aton(sys.argv[2])
            while time.time() < end:
                try:
                    frame = s.recv(65600)
                except socket.timeout:
                    continue
                ip = frame[14:]
                if len(ip) < 20 or ip[9] != 6 or ip[16:20] != to:
                    continue
                ihl = (ip[0] & 15) * 4
                total = struct.unpack("!H", ip[2:4])[0]
                tcp = ip[ihl:total]
                port = struct.unpack("!H", tcp[2:4])[0]
                data = tcp[(tcp[12] >> 4) * 4:]
                if 49152 <= port <= 49215 and data:
                    print(data[:8].hex(), flush=True)
                    sys.exit(0)
            sys.exit(1)
            """
    }
}
