import Cluster
import Foundation
import Libvirt
import Testing

extension LabTests {
    /// `kvmmigrate evacuate` against the lab's three hosts and its four-node guest cluster (`lab up --nodes 4`:
    /// domain1 and domain4 on hostA, domain2 on hostB, domain3 on hostC), with plain guests beside them.
    /// `Fixtures/test` runs this suite in a lab of its own after the others.
    @Suite(.serialized) struct LabEvacuationTests {
        let lab: Lab
        /// Host name → libvirt URI.
        let hosts: [String: String]

        init() throws {
            self.lab = try Lab()
            let environment = ProcessInfo.processInfo.environment
            self.hosts = [
                "hostA": self.lab.sourceURI,
                "hostB": self.lab.destinationURI,
                "hostC": try #require(environment["KVMMIGRATE_LAB_THIRD"], "the lab has no hostC: lab up again"),
            ]
            guard self.lab.nodes.count >= 4 else {
                throw LabError("the evacuation tests need the four-node cluster: Fixtures/lab/lab up --nodes 4")
            }
            try self.lab.resetAll()
        }

        /// Where each domain runs: host name → active domain names, as libvirt says on every host.
        func placement() throws -> [String: Set<String>] {
            var placement: [String: Set<String>] = [:]
            for (name, uri) in self.hosts {
                let connection = try Connection(uri: uri, readOnly: true)
                placement[name] = Set(try connection.allDomains(activeOnly: true).map(\.name))
            }
            return placement
        }

        /// The one host `domain` runs on (nil: none, or several).
        func host(of domain: String) throws -> String? {
            let hosts = try self.placement().filter { $0.value.contains(domain) }.map(\.key)
            return hosts.count == 1 ? hosts[0] : nil
        }

        func evacuate(_ arguments: [String]) throws -> CommandRun {
            try run(try self.lab.binary, ["evacuate", self.lab.sourceURI, "--json"] + arguments)
        }

        func plainGuest(_ name: String, host: String = "hostA") throws -> TestGuest {
            try TestGuest(self.lab, name: name, ["fill=96", "verify=0"], host: host)
        }

        /// Expects the cluster healthy and pointing right: on every node, each guest's agents name the host libvirt
        /// runs its domain on, SF runs with every row TestWorked/InitWorked, CF's timeout is back to 10 s; and
        /// `kvmmigrate verify --all` passes.
        func expectClusterHealthy(sourceLocation: SourceLocation = #_sourceLocation) throws {
            let addresses = ["hostA": "10.77.0.1", "hostB": "10.77.0.2", "hostC": "10.77.0.3"]
            for (index, node) in self.lab.nodes.enumerated() {
                let host = try #require(try self.host(of: "domain\(index + 1)"), sourceLocation: sourceLocation)
                for other in self.lab.nodes {
                    #expect(
                        try self.lab.agentHosts(on: other, for: node) == [addresses[host]!, addresses[host]!],
                        "\(other)'s agents for \(node) (domain\(index + 1) runs on \(host))",
                        sourceLocation: sourceLocation
                    )
                }
            }
            var healthy = false
            for _ in 0..<30 {
                healthy = try self.lab.nodes.allSatisfy { try self.lab.shutdownFacility(on: $0)?.isHealthy == true }
                if healthy { break }
                Thread.sleep(forTimeInterval: 1)
            }
            #expect(healthy, "SF healthy on every node", sourceLocation: sourceLocation)
            for node in self.lab.nodes {
                let loaded = try self.lab.shell(on: node, "/opt/SMAW/bin/cfset -a | grep CLUSTER_TIMEOUT")
                #expect(loaded.contains("10"), "\(node): \(loaded)", sourceLocation: sourceLocation)
            }
            let verified = try run(try self.lab.binary, ["verify", "--all", "--json"])
            #expect(verified.exitCode == 0, "\(verified.standardError)", sourceLocation: sourceLocation)
        }

        /// On every node, the cluster steps' SF stops (the prepare) and starts (the restore), as the nodes' ssh audit
        /// logged them since `before`, alternate: no cluster operation began before the previous one ended.
        func expectOneClusterOperationAtATime(
            since before: [String: Int],
            operations: Int,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            for node in self.lab.nodes {
                let steps = try self.lab.audit(on: node).dropFirst(before[node] ?? 0).compactMap { line -> String? in
                    // The prepare stops SF (`sdtool -e`); the restore starts it (`sdtool -b`, or `-r` when it runs).
                    if line.hasSuffix("'/opt/SMAW/bin/sdtool' '-e'") { return "prepare" }
                    if line.contains("exec /opt/SMAW/bin/sdtool -b") { return "restore" }
                    return nil
                }
                let expected = Array(repeating: ["prepare", "restore"], count: operations).flatMap { $0 }
                #expect(steps == expected, "\(node): \(steps)", sourceLocation: sourceLocation)
            }
        }

        func auditCounts() throws -> [String: Int] {
            Dictionary(uniqueKeysWithValues: try self.lab.nodes.map { ($0, try self.lab.audit(on: $0).count) })
        }

        func guests(_ result: CommandRun) throws -> [String: [String: Any]] {
            let guests = try #require(try result.json["guests"] as? [[String: Any]])
            return Dictionary(uniqueKeysWithValues: guests.map { ($0["name"] as? String ?? "", $0) })
        }

        // MARK: - Evacuations

        func evacuateEverything(maxParallel: Int, plain: [String]) throws {
            let guests = try plain.map { try self.plainGuest($0) }
            defer { for guest in guests { guest.stop() } }
            let before = try self.auditCounts()

            let result = try self.evacuate(["--max-parallel", "\(maxParallel)", "--allow-colocation"])
            #expect(result.exitCode == 0, "\(result.standardError)")
            let document = try self.guests(result)
            #expect(Set(document.keys) == Set(["domain1", "domain4"] + plain))
            for (name, guest) in document {
                #expect(guest["result"] as? String == "migrated", "\(name): \(guest)")
                #expect((guest["downtime_milliseconds"] as? Int).map { $0 > 0 } == true, "\(name)")
            }
            // Nothing runs on hostA any more; every guest runs on exactly one other host.
            #expect(try self.placement()["hostA"] == [])
            for name in ["domain1", "domain4"] + plain {
                let host = try self.host(of: name)
                #expect(host == "hostB" || host == "hostC", "\(name) runs on \(host ?? "none or several")")
            }
            // Anti-affinity: the two nodes leaving hostA go to different hosts.
            #expect(try self.host(of: "domain1") != self.host(of: "domain4"))
            // The definitions moved along: hostA keeps none of the cluster's domains.
            let hostA = try Connection(uri: self.lab.sourceURI, readOnly: true)
            #expect((try? hostA.domain(named: "domain1")) == nil)
            try self.expectClusterHealthy()
            try self.expectOneClusterOperationAtATime(since: before, operations: 2)
            for guest in guests { try guest.expectAliveAndIntactSync() }
        }

        @Test func evacuatesHostAOneAtATime() throws {
            try self.evacuateEverything(maxParallel: 1, plain: ["plain1"])
        }

        @Test func evacuatesHostATwoAtATime() throws {
            try self.evacuateEverything(maxParallel: 2, plain: ["plain1", "plain2"])
        }

        /// An evacuation as an auditor and a monitoring system see it: one operation in the system log with its
        /// plan, each guest's end and the outcome; in the metrics file, each guest under its own `domain` label,
        /// started, succeeded and counted as a cluster operation once.
        @Test func anEvacuationIsAuditedAndCountedGuestByGuest() throws {
            let directory = FileManager.default.temporaryDirectory.appending(path: "kvmm-lab-evacuation-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appending(path: "kvmmigrate.prom").path
            let before = try self.auditCounts()

            let (result, records) = try self.lab.audited([
                "evacuate", self.lab.sourceURI, "--json", "--allow-colocation", "--metrics-file", path,
            ])
            #expect(result.exitCode == 0, "\(result.standardError)")
            let moved = ["domain1", "domain4"]
            #expect(Set(try self.guests(result).keys) == Set(moved))
            #expect(try self.placement()["hostA"] == [])

            let operation = try auditedOperation(records)
            #expect(operation.first?.hasPrefix("start ") == true, "\(operation)")
            #expect(operation.first?.contains("evacuate") == true, "\(operation)")
            #expect(operation.contains { $0.contains("step=planned") }, "\(operation)")
            for guest in moved {
                #expect(
                    operation.contains {
                        $0.contains("step=guest_finished") && $0.contains("guest=\(guest)") && $0.contains("moved=true")
                    },
                    "\(guest): \(operation)"
                )
            }
            let outcome = operation.last ?? ""
            #expect(outcome.hasPrefix("outcome "), "\(outcome)")
            #expect(outcome.contains("exit_code=0") && outcome.contains("moved=2"), "\(outcome)")

            let samples = try PrometheusFile.parse(path)
            for guest in moved {
                let domain = ["domain": guest]
                #expect(PrometheusFile.value(samples, "kvmmigrate_migrations_started_total", domain) == 1, "\(guest)")
                #expect(PrometheusFile.value(samples, "kvmmigrate_migrations_succeeded_total", domain) == 1, "\(guest)")
                #expect(PrometheusFile.value(samples, "kvmmigrate_cluster_operations_total", domain) == 1, "\(guest)")
                #expect(PrometheusFile.value(samples, "kvmmigrate_migration_in_progress", domain) == 0, "\(guest)")
                #expect((PrometheusFile.value(samples, "kvmmigrate_migration_downtime_seconds", domain) ?? 0) > 0)
            }
            #expect(!samples.contains { $0.name == "kvmmigrate_migrations_failed_total" && $0.value > 0 })
            try self.expectClusterHealthy()
            try self.expectOneClusterOperationAtATime(since: before, operations: 2)
        }

        @Test func aNodeGoesWhereItsClusterHasTheFewestNodes() throws {
            // hostB runs domain2 only; hostA runs two nodes, hostC one: domain2 goes to hostC, beside guest3.
            let dryRun = try run(
                try self.lab.binary,
                ["evacuate", self.lab.destinationURI, "--dry-run", "--allow-colocation", "--json"]
            )
            #expect(dryRun.exitCode == 0, "\(dryRun.standardError)")
            let plan = try #require(try dryRun.json["plan"] as? [String: Any])
            let placements = try #require(plan["placements"] as? [[String: Any]])
            #expect(placements.count == 1)
            #expect(placements.first?["destination"] as? String == "hostC")
            #expect(placements.first?["colocated_with"] as? [String] == ["guest3"])
            let checks = try #require(
                (try dryRun.json["checks"] as? [[String: Any]])?.first?["checks"] as? [[String: Any]]
            )
            let colocation = checks.first { $0["name"] as? String == "cluster-colocation" }
            #expect(colocation?["status"] as? String == "warn")
            #expect((colocation?["detail"] as? String)?.contains("would run on hostC beside guest3") == true)
            #expect(try self.host(of: "domain2") == "hostB", "a dry run moves nothing")

            let result = try run(
                try self.lab.binary,
                ["evacuate", self.lab.destinationURI, "--allow-colocation", "--json"]
            )
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(try self.host(of: "domain2") == "hostC")
            try self.expectClusterHealthy()
        }

        @Test func colocationNeedsConsentAndNothingMovesWithoutIt() throws {
            let files = try self.lab.nodeFiles()
            let result = try self.evacuate([])
            #expect(result.exitCode == 2)
            #expect(result.standardError.contains("--allow-colocation"), "\(result.standardError)")
            #expect(try result.json["status"] as? String == "refused")
            #expect(try self.placement()["hostA"] == ["domain1", "domain4"])
            #expect(try self.lab.nodeFiles() == files)
        }

        @Test func ctrlCAbortsWhatRunsStartsNothingAndRestoresTheCluster() async throws {
            let guest = try self.plainGuest("plain1")
            defer { guest.stop() }
            // One at a time, slowly: domain1 (a cluster node, first in the plan) is migrating when SIGINT comes.
            let running = try RunningCommand(
                try self.lab.binary,
                [
                    "evacuate", self.lab.sourceURI, "--json", "--max-parallel", "1", "--bandwidth", "8",
                    "--allow-colocation",
                ]
            )
            try await self.waitForMigrationJob("domain1")
            running.signal(SIGINT)
            let result = running.wait()
            #expect(result.exitCode == 3, "\(result.standardError)")
            let guests = try self.guests(result)
            #expect(guests["domain1"]?["result"] as? String == "aborted")
            #expect(guests["domain4"]?["result"] as? String == "not_started")
            #expect(guests["plain1"]?["result"] as? String == "not_started")
            #expect(try self.placement()["hostA"] == ["domain1", "domain4", "plain1"])
            try self.expectClusterHealthy()
        }

        @Test func killedMidWayThenResumeFinishesWithoutMovingAnyGuestTwice() async throws {
            let guest = try self.plainGuest("plain1")
            defer { guest.stop() }
            let running = try RunningCommand(
                try self.lab.binary,
                ["evacuate", self.lab.sourceURI, "--max-parallel", "1", "--bandwidth", "16", "--allow-colocation"]
            )
            // domain1 moved; kill -9 while domain4's migration (inside its cluster operation) runs.
            try await self.waitForMigrationJob("domain4")
            running.signal(SIGKILL)
            _ = running.wait()

            let refused = try self.evacuate(["--allow-colocation"])
            #expect(refused.exitCode == 2, "an evacuation cut short must be resumed, not started anew")
            #expect(refused.standardError.contains("--resume"), "\(refused.standardError)")

            let resumed = try self.evacuate(["--resume"])
            #expect(resumed.exitCode == 0, "\(resumed.standardError)")
            let guests = try self.guests(resumed)
            #expect(guests["domain1"]?["result"] as? String == "moved_before")
            #expect(try self.placement()["hostA"] == [])
            try self.expectClusterHealthy()
            let again = try self.evacuate(["--resume"])
            #expect(again.exitCode == 2, "nothing left to resume")
        }

        @Test func aGuestWhoseMigrationFailsDoesNotStopTheOthers() throws {
            // broken1's kernel exists only in hostA's own /var: QEMU on the destination cannot start it.
            let broken = try self.hostOnlyGuest("broken1")
            defer { broken.stop() }
            let result = try self.evacuate(["--allow-colocation"])
            #expect(result.exitCode == 4, "\(result.standardError)")
            let guests = try self.guests(result)
            #expect(guests["broken1"]?["result"] as? String == "migration_failed")
            #expect(guests["domain1"]?["result"] as? String == "migrated")
            #expect(guests["domain4"]?["result"] as? String == "migrated")
            #expect(try self.placement()["hostA"] == ["broken1"])
            #expect(result.standardError.contains("broken1"))
            try self.expectClusterHealthy()
        }

        // MARK: - Helpers

        /// Waits until libvirt shows a migration job of `domain` on hostA.
        func waitForMigrationJob(_ domain: String) async throws {
            let connection = try Connection(uri: self.lab.sourceURI, readOnly: true)
            for _ in 0..<600 {
                if let stats = try? connection.domain(named: domain).jobStats(),
                    stats.type == .unbounded || stats.type == .bounded
                {
                    try await Task.sleep(for: .milliseconds(500))
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw LabError("no migration job of \(domain) on hostA within 60 s")
        }

        /// A transient guest on hostA whose kernel is in hostA's private /var, where no other host sees it.
        func hostOnlyGuest(_ name: String) throws -> TestGuest {
            let guest = try self.plainGuest(name)
            let state = ProcessInfo.processInfo.environment["KVMMIGRATE_LAB_STATE"] ?? "/run/kvmm-lab"
            let xml = try String(contentsOfFile: "\(state)/domains/\(name).xml", encoding: .utf8)
            let kernel = "/var/lib/libvirt/kvmm-host-only/memfill.elf"
            let moved = xml.replacingOccurrences(of: "\(state)/guest/memfill.elf", with: kernel)
            #expect(moved != xml, "the guest's XML names its kernel")
            guest.stop()
            try moved.write(toFile: "\(state)/domains/\(name)-host-only.xml", atomically: true, encoding: .utf8)
            try self.lab.shell(
                on: "hostA",
                "mkdir -p /var/lib/libvirt/kvmm-host-only && cp \(state)/guest/memfill.elf \(kernel) && "
                    + "chmod 0644 \(kernel) && virsh -q -c qemu:///system create \(state)/domains/\(name)-host-only.xml"
            )
            return guest
        }
    }
}

extension TestGuest {
    /// As ``expectAliveAndIntact(after:count:sourceLocation:)`` from now, for synchronous tests.
    func expectAliveAndIntactSync(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let start = self.heartbeats
        for _ in 0..<150 where self.heartbeats < start + 1 { Thread.sleep(forTimeInterval: 0.2) }
        #expect(self.heartbeats >= start + 1, "\(self.name) stopped telling it runs", sourceLocation: sourceLocation)
        #expect(self.corruptionReports.isEmpty, "\(self.corruptionReports)", sourceLocation: sourceLocation)
    }
}
