import Cluster
import Foundation
import Testing

/// The state directory (the migration locks and the cluster's operation journal) on a disk that is read-only or
/// full (issue 9): refused with nothing changed when that is known before the first change; when the disk fills
/// during the operation, the prepare is undone or the restore finished all the same, from what the process knows.
extension LabTests {
    @Suite(.serialized) struct LabStateDirectoryTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        /// A 256 KiB tmpfs, mounted for one test in the admin namespace the tests run in, and a cluster configuration
        /// whose journal is on it. `migrate` uses it for both the locks (`KVMMIGRATE_STATE_DIR`) and the journal.
        final class SmallDisk {
            let path: String
            let configuration: String

            init(lab: Lab) throws {
                self.path =
                    FileManager.default.temporaryDirectory.appending(path: "kvmm-disk-\(UUID().uuidString)").path
                try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: false)
                try Self.shell("mount -t tmpfs -o size=256k,mode=0700 kvmm-small-disk '\(self.path)'")
                let journal = "\(self.path)/journal"
                self.configuration = try lab.clusterConfiguration { text in
                    text.replacingOccurrences(of: "journal: /run/kvmm-lab/journal", with: "journal: \(journal)")
                }
            }

            deinit {
                _ = try? Self.shell("umount '\(self.path)'; rmdir '\(self.path)'")
            }

            var environment: [String: String] {
                ["KVMMIGRATE_STATE_DIR": "\(self.path)/state", "KVMMIGRATE_CLUSTER_CONFIG": self.configuration]
            }

            func readOnly() throws { try Self.shell("mount -o remount,ro '\(self.path)'") }

            /// Fills what is left with one file (dd stops at ENOSPC).
            func fill() throws {
                try Self.shell("dd if=/dev/zero of='\(self.path)/fill' bs=4k 2>/dev/null || true; sync")
                let free = try Self.shell("df --output=avail '\(self.path)' | tail -n 1")
                #expect(free.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "still free: \(free)")
            }

            func free() throws { try Self.shell("rm -f '\(self.path)/fill'") }

            /// The journal's unfinished records (`*.json` directly in the journal directory).
            func unfinishedRecords() throws -> [String] {
                try Self.shell("ls '\(self.path)/journal' 2>/dev/null | grep '[.]json$' || true")
                    .split(separator: "\n").map(String.init)
            }

            @discardableResult
            static func shell(_ command: String) throws -> String {
                let result = try run(URL(filePath: "/bin/sh"), ["-c", command])
                guard result.exitCode == 0 else { throw LabError("\(command): \(result.standardError)") }
                return result.standardOutput
            }
        }

        private func migrate(_ disk: SmallDisk, binary: URL? = nil, extra: [String: String] = [:]) throws -> CommandRun
        {
            try run(
                binary ?? self.lab.binary,
                ["migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster", "--json"],
                environment: disk.environment.merging(extra) { $1 }
            )
        }

        /// Nothing changed: node files byte for byte, CF at 10 s, SF healthy, the guest on the source.
        private func expectNothingChanged(since files: [String: String]) throws {
            #expect(try self.lab.nodeFiles() == files)
            try self.lab.expectRestored(pointingAt: "10.77.0.1")
            #expect(try self.lab.addressOfHost(running: self.lab.domain) == "10.77.0.1")
        }

        private func errorMessage(_ result: CommandRun) throws -> String {
            let error = try #require(try result.json["error"] as? [String: Any])
            return error["message"] as? String ?? ""
        }

        @Test func aReadOnlyStateDirectoryRefusesWithNothingChanged() throws {
            let disk = try SmallDisk(lab: self.lab)
            try disk.readOnly()
            let files = try self.lab.nodeFiles()
            let result = try self.migrate(disk)
            #expect(result.exitCode == 2, "\(result.standardError)")
            let message = try self.errorMessage(result)
            #expect(message.contains("Read-only file system") && !message.contains("\n"), "\(message)")
            #expect(!message.contains("NSCocoaErrorDomain"), "\(message)")
            try self.expectNothingChanged(since: files)
        }

        @Test func aFullStateDirectoryRefusesWithNothingChanged() throws {
            let disk = try SmallDisk(lab: self.lab)
            try SmallDisk.shell("mkdir -m 0700 '\(disk.path)/state' '\(disk.path)/journal'")
            try disk.fill()
            let files = try self.lab.nodeFiles()
            let result = try self.migrate(disk)
            #expect(result.exitCode == 2, "\(result.standardError)")
            let message = try self.errorMessage(result)
            #expect(message.contains("No space left on device"), "\(message)")
            try self.expectNothingChanged(since: files)
        }

        /// The disk fills after SF was stopped on both nodes: the migration does not start and the prepare is undone
        /// on both nodes from what the process knows, though the journal could not record it.
        @Test func aDiskThatFillsDuringThePrepareStillGetsThePrepareUndone() async throws {
            let disk = try SmallDisk(lab: self.lab)
            let files = try self.lab.nodeFiles()
            let result = try await self.lab.migrateHolding(afterStep: 2, environment: disk.environment) {
                try disk.fill()
            }
            #expect(result.exitCode == 2, "\(result.standardError)")
            #expect(result.standardError.contains("the migration did not start"), "\(result.standardError)")
            #expect(result.standardError.contains("No space left on device"), "\(result.standardError)")
            try self.expectNothingChanged(since: files)
            // Nothing is left for recover: the record went to done/ (a rename needs no free space).
            #expect(try disk.unfinishedRecords() == [])
            try disk.free()
            let recover = try run(self.lab.binary, ["recover"], environment: disk.environment)
            #expect(recover.exitCode == 0, "\(recover.standardError)")
        }

        /// The disk fills during the restore: the restore goes on (a warning says the journal missed it), the guest
        /// runs on the destination and the cluster points there.
        @Test func aDiskThatFillsDuringTheRestoreStillGetsTheRestoreDone() async throws {
            defer { try? self.lab.resetAll() }
            let disk = try SmallDisk(lab: self.lab)
            let result = try await self.lab.migrateHolding(afterStep: 8, environment: disk.environment) {
                try disk.fill()
            }
            #expect(result.exitCode == 0, "\(result.standardError)")
            // The warning is among the cluster's steps in the report.
            let cluster = try #require(try result.json["cluster"] as? [String: Any])
            let warnings = (cluster["steps"] as? [[String: Any]] ?? []).filter { $0["step"] as? String == "journal" }
            let warning = warnings.first?["message"] as? String ?? ""
            #expect(warnings.count == 1 && warnings.first?["warning"] as? Bool == true, "\(warnings)")
            #expect(
                warning.contains("No space left on device") && warning.contains("the restore goes on"),
                "\(warning)"
            )
            #expect(try self.lab.addressOfHost(running: self.lab.domain) == "10.77.0.2")
            try self.lab.expectRestored(pointingAt: "10.77.0.2")
            #expect(try disk.unfinishedRecords() == [])
        }
    }
}
