import Foundation
import Libvirt
import Testing

/// Real live migrations between the lab's two libvirt hosts, checked from libvirt's side.
extension LabTests {
    @Suite(.serialized) struct LabMigrationTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.reset()
        }

        @Test func liveMigrationThereAndBack() throws {
            let source = try self.lab.source()
            let destination = try self.lab.destination()
            let uuid = try source.domain(named: self.lab.domain).uuid()

            let there = try run(
                self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI,
                    "--persistent", "--json",
                ]
            )
            #expect(there.exitCode == 0, "\(there.standardError)")
            let report = try there.json
            #expect(report["outcome"] as? String == "completed")
            #expect(report["running_on"] as? String == "destination")
            #expect(try destination.domain(named: self.lab.domain).state().state == .running)
            #expect(try destination.domain(named: self.lab.domain).uuid() == uuid)
            #expect(try destination.domain(named: self.lab.domain).isPersistent())
            let left = try #require(self.lab.state(of: self.lab.domain, on: source))
            #expect(left.state == .shutOff)
            #expect(left.reasonDescription == "migrated")

            // The report's downtime is the completed job's, as virsh shows it afterwards.
            let jobInfo = try virsh([
                "-c", self.lab.sourceURI, "domjobinfo", self.lab.domain, "--completed", "--keep-completed",
            ])
            let virshDowntime = try #require(
                Self.milliseconds(of: "Total downtime", in: jobInfo),
                "\(jobInfo)"
            )
            #expect(report["downtime_milliseconds"] as? Int == virshDowntime)
            #expect((report["data_transferred_bytes"] as? Int ?? 0) > 0)
            #expect((report["memory_passes"] as? Int ?? 0) >= 1)
            #expect(report["setup_time_milliseconds"] as? Int != nil)

            let back = try run(
                self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.sourceURI, "-c", self.lab.destinationURI,
                    "--persistent",
                    "--undefine-source", "--json",
                ]
            )
            #expect(back.exitCode == 0, "\(back.standardError)")
            #expect(try back.json["running_on"] as? String == "destination")
            #expect(try source.domain(named: self.lab.domain).state().state == .running)
            #expect(try source.domain(named: self.lab.domain).uuid() == uuid)
            #expect(self.lab.state(of: self.lab.domain, on: destination) == nil)
        }

        @Test func plainOutputEndsWithAReport() throws {
            let result = try run(
                self.lab.binary,
                ["migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI]
            )
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(result.standardOutput.isEmpty)
            #expect(result.standardError.contains("Migrated \(self.lab.domain) from hostA to hostB."))
            #expect(result.standardError.contains("downtime"))
            #expect(result.standardError.contains("running on       hostB"))
        }

        @Test func interruptAbortsAndTheGuestKeepsRunningOnTheSource() async throws {
            let source = try self.lab.source()
            let domain = try source.domain(named: self.lab.domain)
            // 1 MiB/s leaves time to interrupt mid-way.
            let command = try RunningCommand(
                try self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI,
                    "--bandwidth", "1", "--json",
                ]
            )
            var sawData = false
            for _ in 0..<200 {
                if let stats = try? domain.jobStats(), stats.type.isActive, (stats.dataProcessed ?? 0) > 0 {
                    sawData = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(sawData, "the migration job never started sending")
            command.signal(SIGINT)
            let result = command.wait()
            #expect(result.exitCode == 3, "\(result.standardError)")
            let report = try result.json
            #expect(report["outcome"] as? String == "aborted")
            #expect(report["running_on"] as? String == "source")
            #expect(report["abort_reason"] as? String == "SIGINT")
            #expect(result.standardError.contains("aborting the migration"))
            try self.lab.expectUnchanged()
        }

        @Test func sigtermAbortsToo() async throws {
            let domain = try self.lab.source().domain(named: self.lab.domain)
            let command = try RunningCommand(
                try self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI,
                    "--bandwidth", "1", "-q",
                ]
            )
            for _ in 0..<200 {
                if let stats = try? domain.jobStats(), stats.type.isActive { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            command.signal(SIGTERM)
            let result = command.wait()
            #expect(result.exitCode == 3, "\(result.standardError)")
            #expect(result.standardError.contains("aborted (SIGTERM)"))
            try self.lab.expectUnchanged()
        }

        /// `Total downtime:   37 ms` → 37.
        static func milliseconds(of label: String, in text: String) -> Int? {
            for line in text.split(separator: "\n") where line.hasPrefix(label + ":") {
                let fields = line.dropFirst(label.count + 1).split(separator: " ")
                if fields.count >= 2, fields[1] == "ms" { return Int(fields[0]) }
            }
            return nil
        }
    }
}

/// Runs virsh (the operator's tool) and returns its standard output.
func virsh(_ arguments: [String]) throws -> String {
    let result = try run(URL(filePath: "/usr/bin/virsh"), arguments)
    guard result.exitCode == 0 else {
        throw LabError("virsh \(arguments.joined(separator: " ")): \(result.standardError)")
    }
    return result.standardOutput
}
