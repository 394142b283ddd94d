import Foundation
import Libvirt
import Testing

/// `kvmmigrate verify` against the lab: each check made to fail for real (a plain `virsh migrate`, a forgotten
/// after-step, a definition left on the source, nodes that disagree, a node's clock, SA_vmchkhost), then repaired
/// with `--fix`; and a verification without `--fix` changes nothing on any node.
extension LabTests {
    @Suite(.serialized) struct LabVerifyTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.resetAll()
        }

        /// `kvmmigrate verify ARGUMENTS --json`.
        private func verify(_ arguments: [String]) throws -> CommandRun {
            try run(self.lab.binary, ["verify"] + arguments + ["--json"])
        }

        /// The checks of a verification's document: `subject check` → (outcome, detail).
        private func checks(_ result: CommandRun, key: String = "checks") throws -> [String: (String, String)] {
            let document = try result.json
            let checks = try #require(document[key] as? [[String: Any]], "\(result.standardOutput)")
            var found: [String: (String, String)] = [:]
            for check in checks {
                let subject = check["subject"] as? String ?? "cluster"
                let name = check["check"] as? String ?? ""
                found["\(subject) \(name)"] = (check["outcome"] as? String ?? "", check["detail"] as? String ?? "")
            }
            return found
        }

        /// A plain `virsh migrate` of a node's domain, as an operator would type it (no cluster steps).
        private func virshMigrate(_ domain: String, from source: String, to destination: String) throws {
            let result = try run(
                URL(filePath: "/usr/bin/virsh"),
                ["-c", source, "migrate", "--live", "--persistent", "--undefinesource", domain, destination]
            )
            #expect(result.exitCode == 0, "virsh migrate: \(result.standardError)")
        }

        /// What failed or warned, for messages.
        private func notPassing(_ checks: [String: (String, String)]) -> [String] {
            checks.filter { $0.value.0 != "pass" }.map { "\($0.key): \($0.value.0) \($0.value.1)" }.sorted()
        }

        @Test func aHealthyClusterPassesEveryCheck() throws {
            let result = try self.verify(["--all"])
            #expect(result.exitCode == 0, "\(result.standardError)")
            let checks = try self.checks(result)
            #expect(self.notPassing(checks).isEmpty, "\(self.notPassing(checks))")
            for name in [
                "domain1 placement", "domain1 definition", "domain1 SA_libvirtgp", "domain1 SA_libvirtgr",
                "domain2 placement", "guest1 CF timeout", "guest1 CF nodes", "guest1 SF", "guest1 SF tested",
                "guest1 clock", "guest2 clock", "cluster rcsd.cfg", "cluster SA_libvirtgp.cfg", "cluster clocks",
            ] {
                #expect(checks[name]?.0 == "pass", "\(name): \(String(describing: checks[name]))")
            }
        }

        @Test func aPlainVirshMigrateIsCaughtAtOnceAndFixed() throws {
            try self.virshMigrate(self.lab.domain, from: self.lab.sourceURI, to: self.lab.destinationURI)
            let filesBefore = try self.lab.nodeFiles()
            // SF has not re-tested yet (every 10 minutes): its rows still say TestWorked about the old host.
            for node in self.lab.nodes {
                #expect(try self.lab.shutdownFacility(on: node)?.isHealthy == true)
            }

            let audited = try self.lab.nodes.map { try self.lab.audit(on: $0).count }
            let found = try self.verify([self.lab.domain])
            #expect(found.exitCode == 6, "\(found.standardError)")
            let checks = try self.checks(found)
            #expect(checks["domain1 placement"]?.0 == "pass")
            #expect(checks["domain1 placement"]?.1.contains("hostB") == true)
            for agent in ["SA_libvirtgp", "SA_libvirtgr"] {
                let check = checks["domain1 \(agent)"]
                #expect(check?.0 == "fail", "\(agent): \(String(describing: check))")
                #expect(check?.1.contains("10.77.0.1") == true && check?.1.contains("hostB") == true)
            }
            // Changes nothing: every node file byte for byte, SF's table, and what ran on the nodes: one read-only
            // script per node (and a second, short clock read when the first round trip was slow), no SF or CF
            // command that changes state, no file written.
            #expect(try self.lab.nodeFiles() == filesBefore)
            for (node, before) in zip(self.lab.nodes, audited) {
                let ran = try self.lab.audit(on: node).dropFirst(before)
                #expect(
                    ran.count == 1 || (ran.count == 2 && ran.last?.hasSuffix("'date' '-u' '+%s.%N'") == true),
                    "\(node): \(ran)"
                )
                for line in ran {
                    for change in ["sdtool -e", "sdtool -b", "sdtool -r", "cfset -r", "mv ", "cat >", "sfkvmmigrate"] {
                        #expect(!line.contains(change), "\(node) ran \(change): \(line)")
                    }
                }
            }
            for node in self.lab.nodes {
                #expect(try self.lab.shutdownFacility(on: node)?.isHealthy == true)
            }

            // cluster status and cluster verify say so too, at once (they used to call this cluster healthy).
            for command in [["cluster", "status"], ["cluster", "verify", "--timeout", "10"]] {
                let result = try run(try self.lab.binary, command + ["--json"])
                #expect(result.exitCode == 6, "\(command): \(result.standardError)")
                let document = try result.json
                #expect(document["healthy"] as? Bool == false)
                let failures = document["verification_failures"] as? [String] ?? []
                #expect(failures.contains { $0.contains("SA_libvirtgp") && $0.contains("hostB") }, "\(failures)")
            }

            let fixed = try self.verify([self.lab.domain, "--fix"])
            #expect(fixed.exitCode == 0, "\(fixed.standardError)")
            let after = try self.checks(fixed)
            #expect(self.notPassing(after).isEmpty, "\(self.notPassing(after))")
            #expect(try self.checks(fixed, key: "before")["domain1 SA_libvirtgp"]?.0 == "fail")
            let repairs = try #require(try fixed.json["repairs"] as? [String])
            #expect(repairs.contains { $0.contains("guest1") && $0.contains("hostB") }, "\(repairs)")
            for node in self.lab.nodes {
                #expect(try self.lab.agentHosts(on: node, for: "guest1") == ["10.77.0.2", "10.77.0.2"])
                #expect(try self.lab.agentHosts(on: node, for: "guest2") == ["10.77.0.2", "10.77.0.2"])
                #expect(try self.lab.shutdownFacility(on: node)?.isHealthy == true)
            }
        }

        @Test func aForgottenAfterStepIsCaught() throws {
            // sfkvmmigrate -p without its -u: CF timeout 600 in the file and in CF, SF stopped, on every node.
            try self.lab.shell(on: "guest1", "/opt/SMAW/SMAWsf/bin/sfkvmmigrate -p domain1 -g")
            let prepared = try self.verify(["--all"])
            #expect(prepared.exitCode == 6, "\(prepared.standardError)")
            let checks = try self.checks(prepared)
            for node in self.lab.nodes {
                #expect(checks["\(node) CF timeout"]?.0 == "fail")
                #expect(checks["\(node) CF timeout"]?.1.contains("600 s") == true)
                #expect(checks["\(node) CF timeout"]?.1.contains("after-step") == true)
                #expect(checks["\(node) SF"]?.0 == "fail")
            }

            // --fix cannot know the timeout before: it changes nothing on these nodes (not even SF, which the
            // after-step starts only once the timeout is back), and says what it needs.
            let refused = try self.verify(["--all", "--fix"])
            #expect(refused.exitCode == 6)
            #expect(try self.checks(refused)["guest1 CF timeout"]?.1.contains("--cf-timeout") == true)
            #expect(try self.lab.shutdownFacility(on: "guest1") == nil)
            for node in self.lab.nodes {
                let config = try self.lab.shell(on: node, "cat /etc/default/cluster.config")
                #expect(config.contains("CLUSTER_TIMEOUT \"600\""), "\(node): \(config)")
            }

            // With the timeout before given, the restore's edit and load, and SF started: everything passes.
            let fixed = try self.verify(["--all", "--fix", "--cf-timeout", "10"])
            #expect(fixed.exitCode == 0, "\(fixed.standardError)")
            #expect(self.notPassing(try self.checks(fixed)).isEmpty)
            for node in self.lab.nodes {
                #expect(try self.lab.shell(on: node, "/opt/SMAW/bin/cfset -a").contains("CLUSTER_TIMEOUT VALUE: 10"))
                let config = try self.lab.shell(on: node, "cat /etc/default/cluster.config")
                #expect(config.contains("CLUSTER_TIMEOUT \"10\"") && config.contains("CFCP \"cfcp\""), "\(config)")
                #expect(try self.lab.shutdownFacility(on: node)?.isHealthy == true)
            }
        }

        @Test func aDefinitionLeftOnTheSourceIsAWarningAtTheEndOfMigrate() throws {
            // --persistent without --undefine-source: the source keeps a definition.
            let result = try run(
                try self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--cluster",
                    "--persistent", "--json",
                ]
            )
            #expect(result.exitCode == 0, "\(result.standardError)")
            let verification = try #require(try result.json["verification"] as? [String: Any])
            #expect(verification["outcome"] as? String == "warn")
            let checks = try #require(verification["checks"] as? [[String: Any]])
            let definition = try #require(checks.first { $0["check"] as? String == "definition" })
            #expect(definition["outcome"] as? String == "warn")
            #expect((definition["detail"] as? String)?.contains("hostA") == true)
            #expect(checks.filter { $0["outcome"] as? String != "pass" }.count == 1)
            #expect(result.standardError.contains("warn  domain1 (guest1): definition"))
            #expect(result.standardError.contains("(kvmmigrate verify): 21 passed, 1 warned, 0 failed"))
            let alone = try self.checks(try self.verify([self.lab.domain]))
            #expect(alone["domain1 definition"]?.0 == "warn")
        }

        @Test func nodesThatDisagreeAreNamed() throws {
            // guest2's copy of SA_libvirtgr.cfg points guest1 at hostB; guest1's copy, at hostA, where it runs.
            try self.lab.shell(
                on: "guest2",
                "sed -i 's/^guest1 domain1 10.77.0.1 /guest1 domain1 10.77.0.2 /' /etc/opt/SMAW/SMAWsf/SA_libvirtgr.cfg"
            )
            let found = try self.verify(["--all"])
            #expect(found.exitCode == 6)
            let checks = try self.checks(found)
            #expect(checks["domain1 SA_libvirtgr"]?.0 == "fail")
            #expect(checks["domain1 SA_libvirtgr"]?.1.contains("on guest2") == true)
            #expect(checks["domain1 SA_libvirtgr"]?.1.contains("guest1,") == false)
            #expect(checks["domain1 SA_libvirtgp"]?.0 == "pass")
            #expect(checks["cluster SA_libvirtgr.cfg"]?.0 == "fail")

            let fixed = try self.verify(["--all", "--fix"])
            #expect(fixed.exitCode == 0, "\(fixed.standardError)")
            let files = try self.lab.nodeFiles()
            #expect(
                files["guest1:/etc/opt/SMAW/SMAWsf/SA_libvirtgr.cfg"]
                    == files["guest2:/etc/opt/SMAW/SMAWsf/SA_libvirtgr.cfg"]
            )
            #expect(try self.lab.agentHosts(on: "guest2", for: "guest1") == ["10.77.0.1", "10.77.0.1"])
        }

        @Test func aNodeClockOffIsMeasured() throws {
            try self.lab.clock("guest2", offset: "+5")
            defer { try? self.lab.clock("guest2", offset: "0") }
            let found = try self.verify(["--all"])
            #expect(found.exitCode == 6)
            let checks = try self.checks(found)
            #expect(checks["guest2 clock"]?.0 == "fail")
            // "+4.996 s from this host (measured to 0.905 s)…": within 0.1 s of the offset set.
            let measured = checks["guest2 clock"]?.1.split(separator: " ").first.flatMap { Double($0) }
            #expect(abs((measured ?? 0) - 5) < 0.1, "\(String(describing: checks["guest2 clock"]))")
            #expect(checks["guest1 clock"]?.0 == "pass")
            #expect(checks["cluster clocks"]?.0 == "fail")
            // A tolerance above the offset passes it.
            let tolerant = try self.verify(["--all", "--clock-tolerance", "10"])
            let tolerantChecks = try self.checks(tolerant)
            #expect(tolerant.exitCode == 0, "\(self.notPassing(tolerantChecks))")
            // Without a guest agent, --fix cannot set a node's clock: it says so by still failing.
            #expect(try self.verify(["--all", "--fix"]).exitCode == 6)
            try self.lab.clock("guest2", offset: "0")
            #expect(try self.verify(["--all"]).exitCode == 0)
        }

        @Test func aStaleHostCheckAgentInHostFailoverModeIsFixed() throws {
            try self.lab.resetAll(hostFailover: true)
            defer { try? self.lab.resetAll() }
            try self.virshMigrate(self.lab.domain, from: self.lab.sourceURI, to: self.lab.destinationURI)
            let found = try self.verify([self.lab.domain])
            #expect(found.exitCode == 6)
            let checks = try self.checks(found)
            #expect(checks["domain1 SA_vmchkhost"]?.0 == "fail")
            #expect(checks["domain1 SA_vmchkhost"]?.1.contains("hostA 10.77.0.1") == true)

            let fixed = try self.verify([self.lab.domain, "--fix"])
            #expect(fixed.exitCode == 0, "\(fixed.standardError)")
            for node in self.lab.nodes {
                #expect(try self.lab.hostCheckHost(on: node, for: "guest1") == ["hostB", "10.77.0.2"])
            }
        }

        @Test func aDomainRunningNowhereIsAPlacementFailure() throws {
            try self.lab.source().domain(named: self.lab.domain).destroy()
            let result = try self.verify([self.lab.domain])
            #expect(result.exitCode == 7)
            #expect(try self.checks(result)["domain1 placement"]?.0 == "fail")
        }

        @Test func aPausedLeftoverCopyIsAPlacementFailure() throws {
            // What a failed migration can leave: a paused copy on the destination beside the running one.
            let xml = try self.lab.source().domain(named: self.lab.domain).xmlDescription(migratable: true)
            let leftover = try self.lab.destination().createDomain(xml: xml, startPaused: true)
            defer { try? leftover.destroy() }
            let result = try self.verify([self.lab.domain])
            #expect(result.exitCode == 7, "\(result.standardError)")
            let placement = try self.checks(result)["domain1 placement"]
            #expect(placement?.0 == "fail")
            #expect(placement?.1.contains("paused copy on hostB") == true, "\(String(describing: placement))")
        }

        @Test func agentFilesFixedByHandButNotReReadAreNamed() throws {
            // After a plain virsh migrate, an operator points the agent lines at hostB by hand, on every node, and
            // forgets `sdtool -r`: the files are right, SF still runs what it read before (and its last test
            // was about hostA).
            try self.virshMigrate(self.lab.domain, from: self.lab.sourceURI, to: self.lab.destinationURI)
            Thread.sleep(forTimeInterval: 1.1)  // the files' change must fall in a later second than the last test
            for node in self.lab.nodes {
                for file in ["SA_libvirtgp.cfg", "SA_libvirtgr.cfg"] {
                    try self.lab.shell(
                        on: node,
                        "sed -i 's/^guest1 domain1 10.77.0.1 /guest1 domain1 10.77.0.2 /' /etc/opt/SMAW/SMAWsf/\(file)"
                    )
                }
            }
            let found = try self.verify([self.lab.domain])
            #expect(found.exitCode == 0, "\(found.standardError)")
            let checks = try self.checks(found)
            #expect(checks["domain1 SA_libvirtgp"]?.0 == "pass")
            for node in self.lab.nodes {
                #expect(checks["\(node) SF tested"]?.0 == "warn", "\(String(describing: checks["\(node) SF tested"]))")
                #expect(checks["\(node) SF tested"]?.1.contains("before SA_libvirtg") == true)
            }
            let fixed = try self.verify([self.lab.domain, "--fix"])
            #expect(fixed.exitCode == 0)
            let after = try self.checks(fixed)
            #expect(self.notPassing(after).isEmpty, "\(self.notPassing(after))")
            let repairs = try #require(try fixed.json["repairs"] as? [String])
            #expect(repairs.allSatisfy { $0.contains("sdtool -r") }, "\(repairs)")
        }

        @Test func aPlainMigrateEndsVerifiedOnItsTwoHosts() throws {
            let result = try run(
                try self.lab.binary,
                [
                    "migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--persistent",
                    "--undefine-source", "--json",
                ]
            )
            #expect(result.exitCode == 0, "\(result.standardError)")
            let verification = try #require(try result.json["verification"] as? [String: Any])
            let checks = try #require(verification["checks"] as? [[String: Any]])
            #expect(checks.map { $0["check"] as? String } == ["placement", "definition"])
            #expect(checks.allSatisfy { $0["outcome"] as? String == "pass" })
        }

        @Test func aGuestClockOffIsReadThroughItsAgentAndSetByFix() throws {
            // The Linux test guest with a QEMU guest agent, its clock set 30 s behind at boot.
            let guest = try TestGuest(
                self.lab,
                name: "timed",
                ["fill=32", "clockoffset=-30"],
                options: ["--linux", "--agent"]
            )
            defer { guest.stop() }
            let hosts = ["-c", self.lab.sourceURI, "-c", self.lab.destinationURI]
            let found = try self.verify(["timed"] + hosts)
            #expect(found.exitCode == 6, "\(found.standardError)")
            let checks = try self.checks(found)
            #expect(checks["timed placement"]?.0 == "pass")
            let clock = try #require(checks["timed guest clock"], "\(checks)")
            #expect(clock.0 == "fail")
            let measured = clock.1.split(separator: " ").first.flatMap { Double($0) } ?? 0
            #expect(abs(measured + 30) < 2, "\(clock.1)")

            let fixed = try self.verify(["timed", "--fix"] + hosts)
            #expect(fixed.exitCode == 0, "\(fixed.standardError)")
            #expect(try self.checks(fixed)["timed guest clock"]?.0 == "pass")
            #expect(guest.serialLog.contains("guest-set-time from the RTC"))
        }

        @Test func badInputChangesNothing() throws {
            let none = try run(try self.lab.binary, ["verify"])
            #expect(none.exitCode == 64)
            #expect(none.standardError.contains("--all"))
            let tolerance = try run(try self.lab.binary, ["verify", "--all", "--clock-tolerance", "-1"])
            #expect(tolerance.exitCode == 64)
            for arguments in [
                ["--cf-timeout", "10"], ["--fix", "--cf-timeout", "600"], ["--fix", "--cf-timeout", "x"],
            ] {
                let result = try run(try self.lab.binary, ["verify", "--all"] + arguments)
                #expect(result.exitCode == 64, "\(arguments): \(result.standardError)")
            }
        }
    }
}

extension Lab {
    /// Every ssh session on `node` so far, one line each (`TIME USER COMMAND`; `Fixtures/lab/ssh-audit`).
    func audit(on node: String) throws -> [String] {
        let state = ProcessInfo.processInfo.environment["KVMMIGRATE_LAB_STATE"] ?? "/run/kvmm-lab"
        let text = try String(contentsOfFile: "\(state)/nodes/\(node)/ssh-audit.log", encoding: .utf8)
        return text.split(separator: "\n").map(String.init)
    }

    /// Sets a node's clock offset (`lab clock NODE SECONDS`): its `date` and its SF log run that far off.
    func clock(_ node: String, offset: String) throws {
        let result = try run(URL(filePath: "/bin/bash"), [self.labScript.path, "clock", node, offset])
        guard result.exitCode == 0 else { throw LabError("lab clock: \(result.standardError)") }
    }
}
