import Foundation
import Libvirt
import Testing

/// `kvmmigrate check` (and `migrate --dry-run`): pass and fail for real, and nothing ever changes.
extension LabTests {
    @Suite(.serialized) struct LabCheckTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.reset()
        }

        private func check(_ domain: String? = nil, _ extra: [String] = []) throws -> (CommandRun, [String: String]) {
            let result = try run(
                self.lab.binary,
                ["check", domain ?? self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--json"]
                    + extra
            )
            let checks = (try result.json["checks"] as? [[String: Any]] ?? []).reduce(into: [String: String]()) {
                $0[$1["name"] as? String ?? ""] = $1["status"] as? String
            }
            return (result, checks)
        }

        @Test func theLabGuestPassesEveryCheck() throws {
            let (result, checks) = try self.check(nil, ["--cluster"])
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(try result.json["would_migrate"] as? Bool == true)
            for name in [
                "hosts", "domain", "destination-name", "migration-address", "destination-memory", "storage", "cluster",
            ] {
                #expect(checks[name] == "pass", "\(name): \(result.standardError)")
            }
            #expect(!checks.values.contains("fail"))
            // hostB runs guest2 already: a warning, not a refusal.
            #expect(checks["cluster-colocation"] == "warn", "\(result.standardError)")
            let colocation = (try result.json["checks"] as? [[String: Any]] ?? []).first {
                $0["name"] as? String == "cluster-colocation"
            }
            #expect(
                (colocation?["detail"] as? String)?.contains("beside guest2") == true,
                "\(String(describing: colocation))"
            )
            try self.lab.expectUnchanged()
        }

        @Test func aNameClashFails() throws {
            let destination = try self.lab.destination()
            let xml = try self.lab.source().domain(named: self.lab.domain).xmlDescription()
                .split(separator: "\n").filter { !$0.contains("<uuid>") }.joined(separator: "\n")
            let impostor = try destination.createDomain(xml: xml)
            defer { try? impostor.destroy() }
            let (result, checks) = try self.check()
            #expect(result.exitCode == 2)
            #expect(checks["destination-name"] == "fail")
            #expect(result.standardError.contains("The migration would be refused"))
        }

        @Test func tooLittleMemoryOnTheDestinationFailsAndMigrateRefusesIt() throws {
            // A guest half a GiB larger than what the destination has free (QEMU maps guest memory lazily, so it
            // starts on the source all the same).
            let free = try self.lab.destination().freeMemory() >> 20
            let guest = try TestGuest(self.lab, name: "big", ["fill=8"], memoryMiB: Int(free) + 512)
            defer { guest.stop() }
            let (result, checks) = try self.check("big")
            #expect(result.exitCode == 2, "\(result.standardError)")
            #expect(checks["destination-memory"] == "fail")
            #expect(result.standardError.contains("MiB free"))
            let migrate = try guest.migrate([]).wait()
            #expect(migrate.exitCode == 2, "\(migrate.standardError)")
            #expect(migrate.standardError.contains("destination-memory"))
            let states = try guest.states()
            #expect(states.source?.state == .running)
            #expect(states.destination == nil)
        }

        @Test func anUnreachableMigrationAddressFailsAndMigrateRefusesIt() throws {
            let (result, checks) = try self.check(nil, ["--migrate-uri", "tcp://10.77.0.99"])
            #expect(result.exitCode == 2)
            #expect(checks["migration-address"] == "fail")
            let migrate = try run(
                self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--migrate-uri",
                    "tcp://10.77.0.99",
                ]
            )
            #expect(migrate.exitCode == 2, "\(migrate.standardError)")
            #expect(migrate.standardError.contains("migration-address"))
            try self.lab.expectUnchanged()
        }

        @Test func aDiskOnlyTheSourceSeesFailsUnlessCopied() throws {
            // hostA's /var/lib/libvirt is its own: an image there is storage hostB does not see.
            let image = "/var/lib/libvirt/images/lab-disk.img"
            try self.lab.shell(on: "hostA", "mkdir -p /var/lib/libvirt/images && truncate -s 8M \(image)")
            let source = try self.lab.source()
            var xml = try source.domain(named: self.lab.domain).xmlDescription()
                .split(separator: "\n").filter { !$0.contains("<uuid>") }
                .map { $0.contains("<name>") ? "  <name>lab-disk</name>" : String($0) }.joined(separator: "\n")
                .replacingOccurrences(of: "\(self.lab.domain).serial", with: "lab-disk.serial")
            xml = xml.replacingOccurrences(
                of: "<devices>",
                with: """
                    <devices><disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/>\
                    <source file='\(image)'/><target dev='vdb' bus='virtio'/></disk>
                    """
            )
            let guest = try source.createDomain(xml: xml)
            defer {
                try? guest.destroy()
                _ = try? self.lab.shell(on: "hostA", "rm -f \(image)")
            }
            let (refused, checks) = try self.check("lab-disk")
            #expect(refused.exitCode == 2, "\(refused.standardError)")
            #expect(checks["storage"] == "fail")
            #expect(refused.standardError.contains("vdb (\(image))"))
            let (copied, copiedChecks) = try self.check("lab-disk", ["--copy-storage-all"])
            #expect(copiedChecks["storage"] == "pass", "\(copied.standardError)")
        }

        @Test func dryRunIsTheSameCheckAndChangesNothing() throws {
            let result = try run(
                self.lab.binary,
                ["migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--dry-run", "--json"]
            )
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(try result.json["command"] as? String == "check")
            try self.lab.expectUnchanged()
        }
    }
}
