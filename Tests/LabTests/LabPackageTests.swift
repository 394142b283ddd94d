import Foundation
import Synchronization
import Testing

/// The Debian package (`Fixtures/package`), installed by apt into a clean Debian 12 root made with debootstrap
/// (`Fixtures/debian-root`: no Swift, no project file), and run from inside it against the lab's hosts.
extension LabTests {
    @Suite(.serialized) struct LabPackageTests {
        let lab: Lab
        /// The installed root, shared by the suite's tests: installing takes a while.
        let root: PackageRoot

        init() throws {
            self.lab = try Lab()
            self.root = try PackageRoot.installed(lab: self.lab)
        }

        @Test func theInstalledPackageIsComplete() throws {
            let version = try self.root.inRoot(["kvmmigrate", "--version"])
            #expect(version.exitCode == 0, "\(version.standardError)")
            // Both versions: the package's own, and the libvirt library apt pulled in (9.0.0-4+deb12u2 → 9.0.0).
            let packageVersion = try self.root.packageVersion("kvmmigrate")
            let libvirt = try #require(
                try self.root.packageVersion("libvirt0").split(separator: "-").first.map(String.init)
            )
            #expect(version.standardOutput == "kvmmigrate \(packageVersion) (libvirt \(libvirt))\n")

            let manual = try self.root.inRoot(["man", "-P", "cat", "kvmmigrate"])
            #expect(manual.exitCode == 0, "\(manual.standardError)")
            #expect(manual.standardOutput.contains("KVMMIGRATE(1)"))
            #expect(manual.standardOutput.contains("Live-migrate KVM guests"))
            let subcommand = try self.root.inRoot(["man", "-P", "cat", "kvmmigrate.migrate"])
            #expect(subcommand.exitCode == 0, "\(subcommand.standardError)")
            #expect(subcommand.standardOutput.contains("--undefine-source"))

            let files = try self.root.inRoot([
                "sh", "-c",
                """
                for f in /usr/share/bash-completion/completions/kvmmigrate /usr/share/zsh/vendor-completions/_kvmmigrate \
                    /usr/share/fish/vendor_completions.d/kvmmigrate.fish /etc/kvmmigrate/cluster.yaml.example; do
                    test -s "$f" && echo "$f"
                done
                stat -c 'state %a %U %G' /var/lib/kvmmigrate
                grep -c kvmm-lab /etc/kvmmigrate/cluster.yaml.example || true
                command -v swift || echo 'no swift'
                ldd /usr/bin/kvmmigrate | grep -c 'not found' || true
                """,
            ])
            #expect(
                files.standardOutput.split(separator: "\n") == [
                    "/usr/share/bash-completion/completions/kvmmigrate",
                    "/usr/share/zsh/vendor-completions/_kvmmigrate",
                    "/usr/share/fish/vendor_completions.d/kvmmigrate.fish",
                    "/etc/kvmmigrate/cluster.yaml.example",
                    "state 700 root root",
                    "0",  // the example names nothing of the lab's own paths
                    "no swift",
                    "0",  // every library the binary links is installed
                ],
                "\(files.standardError)"
            )
            // bash's completion, as bash-completion loads it: the subcommands complete.
            let completion = try self.root.inRoot([
                "bash", "-c",
                """
                source /usr/share/bash-completion/completions/kvmmigrate
                COMP_WORDS=(kvmmigrate mig); COMP_CWORD=1; COMP_LINE='kvmmigrate mig'; COMP_POINT=${#COMP_LINE}
                _kvmmigrate kvmmigrate mig kvmmigrate; printf '%s\\n' "${COMPREPLY[@]}"
                """,
            ])
            #expect(completion.standardOutput.split(separator: "\n").contains("migrate"), "\(completion.standardError)")
        }

        @Test func checkAndMigrateThereAndBackFromTheRoot() async throws {
            let guest = try TestGuest(self.lab, name: "packaged", ["fill=16"])
            defer { guest.stop() }

            let check = try self.root.inRoot([
                "kvmmigrate", "check", guest.name, self.lab.destinationURI, "-c", self.lab.sourceURI, "--json",
            ])
            #expect(check.exitCode == 0, "\(check.standardError)")
            #expect(try check.json["would_migrate"] as? Bool == true)
            #expect(try self.virshList(self.lab.sourceURI).contains(guest.name))

            let there = try self.root.inRoot([
                "kvmmigrate", "migrate", guest.name, self.lab.destinationURI, "-c", self.lab.sourceURI, "--quiet",
            ])
            #expect(there.exitCode == 0, "\(there.standardError)")
            #expect(try self.virshList(self.lab.destinationURI).contains(guest.name))
            #expect(try !self.virshList(self.lab.sourceURI).contains(guest.name))

            let back = try self.root.inRoot([
                "kvmmigrate", "migrate", guest.name, self.lab.sourceURI, "-c", self.lab.destinationURI, "--quiet",
            ])
            #expect(back.exitCode == 0, "\(back.standardError)")
            #expect(try self.virshList(self.lab.sourceURI).contains(guest.name))
            #expect(try !self.virshList(self.lab.destinationURI).contains(guest.name))
            try await guest.expectAliveAndIntact(after: guest.heartbeats)
        }

        /// The running domains on a host, as virsh lists them (outside the root).
        private func virshList(_ uri: String) throws -> [String] {
            let result = try run(URL(filePath: "/usr/bin/virsh"), ["-q", "-c", uri, "list", "--name"])
            guard result.exitCode == 0 else { throw LabError("virsh -c \(uri) list: \(result.standardError)") }
            return result.standardOutput.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }
}

/// The Debian 12 root with the package installed (`Fixtures/debian-root`), made once per test process.
///
/// Making it needs the machine's network (the Debian mirror), which the lab's admin namespace the tests run in
/// has not, and the lab's namespaces cannot be left from inside. So `Fixtures/test` builds the package
/// (`Fixtures/package`) and installs it (`Fixtures/debian-root install`) before the tests, and says so with
/// `$KVMMIGRATE_DEBIAN_ROOT`; without it, the test installs `$KVMMIGRATE_DEB` itself, which works where the
/// tests' namespace reaches the mirror. Commands in the root run in the tests' namespace, so they reach the lab.
struct PackageRoot: Sendable {
    let script: URL

    private static let prepared = Mutex<Result<Void, LabError>?>(nil)

    static func installed(lab: Lab) throws -> PackageRoot {
        let root = PackageRoot(script: lab.root.appending(path: "Fixtures/debian-root"))
        try Self.prepared.withLock { prepared in
            if prepared == nil {
                prepared = Result(catching: { try root.install() }).mapError { LabError("\($0)") }
            }
            try prepared?.get()
        }
        return root
    }

    private func install() throws {
        let environment = ProcessInfo.processInfo.environment
        if environment["KVMMIGRATE_DEBIAN_ROOT"] != nil { return }
        guard let package = environment["KVMMIGRATE_DEB"] else {
            throw LabError(
                "Set KVMMIGRATE_DEB to a .deb (Fixtures/package), or run Fixtures/debian-root install DEB outside "
                    + "the lab and set KVMMIGRATE_DEBIAN_ROOT: Fixtures/test does both"
            )
        }
        let installed = try run(URL(filePath: "/bin/bash"), [self.script.path, "install", package])
        guard installed.exitCode == 0 else {
            throw LabError("Fixtures/debian-root install failed: \(installed.standardError)")
        }
    }

    /// Runs `command` inside the root (chroot, clean environment), in the tests' network namespace.
    func inRoot(_ command: [String]) throws -> CommandRun {
        try run(URL(filePath: "/bin/bash"), [self.script.path, "run", "--"] + command)
    }

    /// The installed version of a Debian package in the root.
    func packageVersion(_ name: String) throws -> String {
        let result = try self.inRoot(["dpkg-query", "-W", "-f", "${Version}", name])
        guard result.exitCode == 0 else { throw LabError("dpkg-query \(name): \(result.standardError)") }
        return result.standardOutput
    }
}
