import Cluster
import Foundation
import Testing

/// The PRIMECLUSTER steps around real migrations, checked on the nodes themselves: their files, `cfset -a`
/// and `sdtool -s` (the lab's nodes run the emulator of `Fixtures/primecluster`).
extension LabTests {
    @Suite(.serialized) struct LabClusterTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        /// `kvmmigrate migrate domain1 hostB --cluster --json` (from wherever the guest is).
        private func migrate(
            to destination: String? = nil,
            from source: String? = nil,
            _ extra: [String] = [],
            environment: [String: String] = [:]
        ) throws -> CommandRun {
            let hooked = environment.keys.contains { $0.hasPrefix("KVMMIGRATE_TEST_") }
            return try run(
                hooked ? self.lab.testHooksBinary : self.lab.binary,
                [
                    "migrate", self.lab.domain, destination ?? self.lab.destinationURI, "-c",
                    source ?? self.lab.sourceURI,
                    "--cluster", "--persistent", "--undefine-source", "--json",
                ] + extra,
                environment: environment
            )
        }

        private func kvmmigrate(_ arguments: [String]) throws -> CommandRun {
            try run(self.lab.binary, arguments)
        }

        @Test func clusterAwareMigrationThereAndBack() throws {
            let there = try self.migrate()
            #expect(there.exitCode == 0, "\(there.standardError)")
            let report = try there.json
            #expect(report["running_on"] as? String == "destination")
            let cluster = try #require(report["cluster"] as? [String: Any])
            #expect(cluster["healthy"] as? Bool == true)
            #expect((cluster["host"] as? [String: Any])?["name"] as? String == "hostB")
            #expect(cluster["guest_node"] as? String == "guest1")
            let steps = (cluster["steps"] as? [[String: Any]] ?? []).map { $0["step"] as? String ?? "" }
            for step in [
                "sf-stopped", "timeout-written", "timeout-loaded", "timeout-restored", "agents-pointed", "sf-started",
                "verified",
            ] {
                #expect(steps.contains(step), "no \(step) in \(steps)")
            }
            // hostB runs guest2: the move put both nodes on one host, and the report says so as a warning.
            let colocation = (cluster["steps"] as? [[String: Any]] ?? []).first {
                $0["step"] as? String == "colocation"
            }
            #expect(colocation?["warning"] as? Bool == true)
            #expect((colocation?["message"] as? String)?.contains("guest1 would run on hostB beside guest2") == true)
            try self.lab.expectRestored(pointingAt: "10.77.0.2")
            // The other guest's lines are untouched.
            #expect(try self.lab.agentHosts(on: "guest1", for: "guest2") == ["10.77.0.2", "10.77.0.2"])

            let back = try self.migrate(to: self.lab.sourceURI, from: self.lab.destinationURI)
            #expect(back.exitCode == 0, "\(back.standardError)")
            let backSteps = ((try back.json["cluster"] as? [String: Any])?["steps"] as? [[String: Any]] ?? [])
            #expect(!backSteps.contains { $0["step"] as? String == "colocation" }, "hostA runs no other node")
            try self.lab.expectRestored(pointingAt: "10.77.0.1")
        }

        @Test func statusShowsEveryNodeAndAgent() throws {
            let result = try self.kvmmigrate(["cluster", "status", "--json"])
            #expect(result.exitCode == 0, "\(result.standardError)")
            let document = try result.json
            #expect(document["healthy"] as? Bool == true)
            let nodes = try #require(document["nodes"] as? [[String: Any]])
            #expect(nodes.map { $0["name"] as? String } == ["guest1", "guest2"])
            for node in nodes {
                #expect(node["cluster_timeout_seconds"] as? Int == 10)
                #expect((node["agents"] as? [Any])?.count == 4)
                #expect((node["cf_node_states"] as? [String: String]) == ["guest1": "UP", "guest2": "UP"])
            }
        }

        @Test func failedMigrationStillRestoresPointingAtTheSource() throws {
            // The destination refuses: it cannot listen for the data on an address that is not its own.
            let result = try self.migrate(["--migrate-uri", "tcp://10.77.0.99", "--skip-checks"])
            #expect(result.exitCode == 4, "\(result.standardError)")
            let report = try result.json
            #expect(report["outcome"] as? String == "failed")
            #expect(report["running_on"] as? String == "source")
            #expect((report["cluster"] as? [String: Any])?["healthy"] as? Bool == true)
            try self.lab.expectRestored(pointingAt: "10.77.0.1")
        }

        @Test func interruptedMigrationStillRestores() async throws {
            let domain = try self.lab.source().domain(named: self.lab.domain)
            let command = try RunningCommand(
                try self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster",
                    "--bandwidth", "1", "--json",
                ]
            )
            var started = false
            for _ in 0..<600 {
                if let stats = try? domain.jobStats(), stats.type.isActive, (stats.dataProcessed ?? 0) > 0 {
                    started = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(started)
            command.signal(SIGINT)
            let result = command.wait()
            #expect(result.exitCode == 3, "\(result.standardError)")
            #expect(try (result.json["cluster"] as? [String: Any])?["healthy"] as? Bool == true)
            try self.lab.expectUnchanged()
            try self.lab.expectRestored(pointingAt: "10.77.0.1")
        }

        /// Two nodes: 6 prepare steps (SF stopped, timeout written, timeout loaded) and 8 restore steps
        /// (timeout restored, reloaded, agents pointed, SF started), each on both nodes.
        @Test(arguments: 1...14)
        func killedAfterEachRemoteStepThenRecover(step: Int) throws {
            let crashed = try self.migrate(environment: ["KVMMIGRATE_TEST_CRASH_AFTER_STEP": "\(step)"])
            #expect(crashed.exitCode == SIGKILL, "step \(step): \(crashed.standardError)")
            let host = try self.lab.addressOfHost(running: self.lab.domain)
            #expect(host == (step <= 6 ? "10.77.0.1" : "10.77.0.2"))

            let recovered = try self.kvmmigrate(["recover", "--json"])
            #expect(recovered.exitCode == 0, "step \(step): \(recovered.standardError)")
            #expect((try recovered.json["recovered"] as? [Any])?.count == 1)
            try self.lab.expectRestored(pointingAt: host)
            let again = try self.kvmmigrate(["recover"])
            #expect(again.exitCode == 0)
            #expect(again.standardError.contains("Nothing to recover"))
        }

        /// The kill -9 hook is compiled out of the binary users run: asked to die after the first step, it migrates.
        @Test(.enabled(if: ProcessInfo.processInfo.environment["KVMMIGRATE_BINARY"] != nil))
        func theReleaseBinaryHasNoTestHooks() throws {
            let result = try run(
                self.lab.binary,
                ["migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster", "--json"],
                environment: ["KVMMIGRATE_TEST_CRASH_AFTER_STEP": "1"]
            )
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(try self.lab.addressOfHost(running: self.lab.domain) == "10.77.0.2")
            try self.lab.expectRestored(pointingAt: "10.77.0.2")
        }

        @Test func anUnfinishedOperationBlocksTheNextMigration() throws {
            let crashed = try self.migrate(environment: ["KVMMIGRATE_TEST_CRASH_AFTER_STEP": "3"])
            #expect(crashed.exitCode == SIGKILL)
            let refused = try self.migrate()
            #expect(refused.exitCode == 2, "\(refused.standardError)")
            #expect(refused.standardError.contains("recover"))
            try self.lab.expectUnchanged()
            #expect(try self.kvmmigrate(["recover"]).exitCode == 0)
            try self.lab.expectRestored(pointingAt: "10.77.0.1")
        }

        /// Stops the tool after `step`, cuts guest2's link, lets it go on.
        private func migrateCuttingGuest2(afterStep step: Int) async throws -> CommandRun {
            try await self.lab.migrateHolding(
                afterStep: step,
                meanwhile: { try self.lab.link("guest2", up: false) },
                after: { try self.lab.link("guest2", up: true) }
            )
        }

        @Test func nodeUnreachableDuringPrepare() async throws {
            // After both nodes stopped SF, guest2 disappears: the prepare fails, nothing migrates, guest1 is
            // undone, guest2 stays prepared until recover.
            let result = try await self.migrateCuttingGuest2(afterStep: 2)
            #expect(result.exitCode == 6, "\(result.standardError)")
            #expect(result.standardError.contains("the migration did not start"))
            #expect(result.standardError.contains("guest2"))
            try self.lab.expectUnchanged()
            let recovered = try self.kvmmigrate(["recover"])
            #expect(recovered.exitCode == 0, "\(recovered.standardError)")
            try self.lab.expectRestored(pointingAt: "10.77.0.1")
        }

        @Test func nodeUnreachableDuringRestore() async throws {
            // After both nodes restored the timeout in cluster.config, guest2 disappears: guest1 is restored,
            // guest2 is reported still prepared; recover finishes it once it answers.
            let result = try await self.migrateCuttingGuest2(afterStep: 8)
            #expect(result.exitCode == 6, "\(result.standardError)")
            #expect(result.standardError.contains("guest2"))
            #expect(result.standardError.contains("kvmmigrate recover"))
            #expect(try self.lab.addressOfHost(running: self.lab.domain) == "10.77.0.2")
            let recovered = try self.kvmmigrate(["recover"])
            #expect(recovered.exitCode == 0, "\(recovered.standardError)")
            try self.lab.expectRestored(pointingAt: "10.77.0.2")
        }

        /// Stops the tool after `step`, freezes guest2 (its processes stopped: the link stays, TCP connects, ssh
        /// gets no answer), lets it go on, and continues guest2 when the tool has ended. Returns the run and how
        /// long the tool took after it was let go.
        private func migrateFreezingGuest2(afterStep step: Int) async throws -> (CommandRun, Duration) {
            var released = ContinuousClock.now
            let result = try await self.lab.migrateHolding(
                afterStep: step,
                meanwhile: {
                    try self.lab.freeze("guest2", true)
                    released = .now
                },
                after: { try self.lab.freeze("guest2", false) }
            )
            return (result, ContinuousClock.now - released)
        }

        /// A node frozen during the prepare (issue 9): the migration does not start, within the ssh bounds, and the
        /// rest is as with a cut link.
        @Test func nodeFrozenDuringPrepare() async throws {
            defer { try? self.lab.freeze("guest2", false) }
            let (result, elapsed) = try await self.migrateFreezingGuest2(afterStep: 2)
            #expect(result.exitCode == 6, "\(result.standardError)")
            #expect(result.standardError.contains("the migration did not start"), "\(result.standardError)")
            #expect(result.standardError.contains("guest2"))
            #expect(elapsed < .seconds(150), "took \(elapsed)")
            try self.lab.expectUnchanged()
            let recovered = try self.kvmmigrate(["recover"])
            #expect(recovered.exitCode == 0, "\(recovered.standardError)")
            try self.lab.expectRestored(pointingAt: "10.77.0.1")
        }

        /// A node frozen during the restore: guest1 restored, guest2 named for `recover`, within the ssh bounds.
        @Test func nodeFrozenDuringRestore() async throws {
            defer { try? self.lab.freeze("guest2", false) }
            let (result, elapsed) = try await self.migrateFreezingGuest2(afterStep: 8)
            #expect(result.exitCode == 6, "\(result.standardError)")
            #expect(result.standardError.contains("guest2"))
            #expect(result.standardError.contains("kvmmigrate recover"), "\(result.standardError)")
            #expect(elapsed < .seconds(150), "took \(elapsed)")
            #expect(try self.lab.addressOfHost(running: self.lab.domain) == "10.77.0.2")
            let recovered = try self.kvmmigrate(["recover"])
            #expect(recovered.exitCode == 0, "\(recovered.standardError)")
            try self.lab.expectRestored(pointingAt: "10.77.0.2")
        }

        /// The guest dies while the cluster is prepared: it runs nowhere, so the agents cannot be pointed anywhere,
        /// yet the restore still puts the CF timeout back and starts SF (issue 9: the cluster must be able to fence).
        @Test func aGuestThatDiesWhilePreparedStillGetsTheClusterRestored() async throws {
            defer { try? self.lab.resetAll() }
            let result = try await self.lab.migrateHolding(
                afterStep: 6,
                meanwhile: { try self.lab.source().domain(named: self.lab.domain).destroy() }
            )

            #expect(result.exitCode != 0, "\(result.standardError)")
            #expect(result.standardError.contains("runs on none of the configured hosts"), "\(result.standardError)")
            #expect(result.standardError.contains("SF started"), "\(result.standardError)")
            for node in self.lab.nodes {
                let config = try self.lab.shell(on: node, "cat /etc/default/cluster.config")
                #expect(config.contains("CLUSTER_TIMEOUT \"10\""), "\(node): \(config)")
                #expect(try self.lab.shell(on: node, "/opt/SMAW/bin/cfset -a").contains("CLUSTER_TIMEOUT VALUE: 10"))
                #expect(try self.lab.shutdownFacility(on: node) != nil, "\(node): SF not running")
                // Not pointed anywhere: as before the migration.
                #expect(try self.lab.agentHosts(on: node, for: "guest1") == ["10.77.0.1", "10.77.0.1"])
            }
        }

        @Test func verifyCatchesAStaleAgentLine() throws {
            // guest2 (domain2) runs on hostB; tell guest1's panic agent it is on hostA, as a missed after-step would.
            try self.lab.shell(
                on: "guest1",
                "sed -i 's/^guest2 domain2 10.77.0.2 /guest2 domain2 10.77.0.1 /' /etc/opt/SMAW/SMAWsf/SA_libvirtgp.cfg"
                    + " && /opt/SMAW/bin/sdtool -r"
            )
            // As an operator would: wait until sdtool -s on guest1 has tested the stale line.
            for _ in 0..<30 {
                if try self.lab.shutdownFacility(on: "guest1")?.row(for: "guest2", agent: "SA_libvirtgp")?.testState
                    .rawValue
                    == "TestFailed"
                {
                    break
                }
                Thread.sleep(forTimeInterval: 1)
            }
            let verify = try self.kvmmigrate(["cluster", "verify", "--timeout", "20", "--json"])
            #expect(verify.exitCode == 6, "\(verify.standardError)")
            let problems = try #require(try verify.json["problems"] as? [String: [String]])
            #expect(
                problems["guest1"]?.contains { $0.contains("guest2 SA_libvirtgp") && $0.contains("TestFailed") }
                    == true,
                "\(problems)"
            )
            #expect(verify.standardError.contains("TestFailed"))

            let restore = try self.kvmmigrate(["cluster", "restore", "domain2"])
            #expect(restore.exitCode == 0, "\(restore.standardError)")
            #expect(try self.lab.agentHosts(on: "guest1", for: "guest2") == ["10.77.0.2", "10.77.0.2"])
            #expect(try self.kvmmigrate(["cluster", "verify", "--timeout", "30"]).exitCode == 0)
        }

        @Test func prepareAndRestoreByHand() throws {
            let prepare = try self.kvmmigrate(["cluster", "prepare", self.lab.domain])
            #expect(prepare.exitCode == 0, "\(prepare.standardError)")
            for node in self.lab.nodes {
                #expect(try self.lab.shell(on: node, "/opt/SMAW/bin/cfset -a").contains("CLUSTER_TIMEOUT VALUE: 600"))
                #expect(try self.lab.shutdownFacility(on: node) == nil)
            }
            #expect(try self.kvmmigrate(["cluster", "status"]).exitCode == 6)
            let restore = try self.kvmmigrate(["cluster", "restore", self.lab.domain, "--host", "hostA"])
            #expect(restore.exitCode == 0, "\(restore.standardError)")
            try self.lab.expectRestored(pointingAt: "10.77.0.1")
        }

        @Test func delegateToSfkvmmigrate() throws {
            let result = try self.migrate(["--delegate"])
            #expect(result.exitCode == 0, "\(result.standardError)")
            let steps = ((try result.json["cluster"] as? [String: Any])?["steps"] as? [[String: Any]] ?? [])
                .map { $0["step"] as? String ?? "" }
            #expect(steps.contains("sfkvmmigrate-p") && steps.contains("sfkvmmigrate-u"), "\(steps)")
            try self.lab.expectRestored(pointingAt: "10.77.0.2")
        }
    }
}
