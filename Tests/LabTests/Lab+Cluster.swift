import Cluster
import Foundation
import Testing

/// What the cluster tests need from the lab: commands on the nodes, links, a full reset.
extension Lab {
    var labScript: URL { self.root.appending(path: "Fixtures/lab/lab") }

    /// Runs a cluster migration (`migrate --cluster --json` from the source to the destination, with the debug
    /// binary's test hooks) that holds after remote step `step`, runs `meanwhile`, lets it go on, and returns how
    /// it ended; `after` runs once it has ended, even when waiting failed. `environment` is added to the tool's.
    func migrateHolding(
        afterStep step: Int,
        environment: [String: String] = [:],
        timeLimit: Duration? = nil,
        meanwhile: () throws -> Void,
        after: () throws -> Void = {},
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CommandRun {
        let marker = FileManager.default.temporaryDirectory.appending(path: "kvmm-hold-\(UUID().uuidString)").path
        defer {
            try? FileManager.default.removeItem(atPath: marker)
            try? FileManager.default.removeItem(atPath: marker + ".held")
        }
        let command = try RunningCommand(
            try self.testHooksBinary,
            ["migrate", self.domain, self.destinationURI, "-c", self.sourceURI, "--cluster", "--json"],
            environment: environment.merging(["KVMMIGRATE_TEST_HOLD_AFTER_STEP": "\(step):\(marker)"]) { $1 }
        )
        for _ in 0..<1200 where !FileManager.default.fileExists(atPath: marker + ".held") {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(
            FileManager.default.fileExists(atPath: marker + ".held"),
            "the migration never reached step \(step)",
            sourceLocation: sourceLocation
        )
        try meanwhile()
        _ = FileManager.default.createFile(atPath: marker, contents: nil)
        let result: CommandRun
        do { result = try command.wait(timeLimit: timeLimit) } catch {
            try after()
            throw error
        }
        try after()
        return result
    }

    /// Runs a shell command inside a node's (or host's) namespaces, as an operator logged in there would.
    @discardableResult
    func shell(on node: String, _ command: String) throws -> String {
        let result = try run(
            URL(filePath: "/bin/bash"),
            [self.labScript.path, "exec", node, "--", "sh", "-c", command]
        )
        guard result.exitCode == 0 else {
            throw LabError("on \(node): \(command): exit \(result.exitCode): \(result.standardError)")
        }
        return result.standardOutput
    }

    /// Domains at home, the cluster seeded anew and healthy, no journal. With `hostFailover`, every node's
    /// rcsd.cfg also lists SA_vmchkhost, with its SA_vmchkhost.cfg (the host OS failover function).
    func resetAll(hostFailover: Bool = false) throws {
        try self.reset()  // move the guest home through libvirt first: a restart would cost a guest boot
        let result = try run(
            URL(filePath: "/bin/bash"),
            [self.labScript.path, "reset"],
            environment: ["PCLEMU_HOST_FAILOVER": hostFailover ? "1" : "0"]
        )
        guard result.exitCode == 0 else { throw LabError("lab reset: \(result.standardError)") }
    }

    /// Every file the cluster steps may edit, on every node, byte for byte.
    func nodeFiles() throws -> [String: String] {
        var files: [String: String] = [:]
        for node in self.nodes {
            for path in [
                "/etc/default/cluster.config", "/etc/opt/SMAW/SMAWsf/rcsd.cfg", "/etc/opt/SMAW/SMAWsf/SA_libvirtgp.cfg",
                "/etc/opt/SMAW/SMAWsf/SA_libvirtgr.cfg", "/etc/opt/SMAW/SMAWsf/SA_vmchkhost.cfg",
            ] {
                files["\(node):\(path)"] = try self.shell(on: node, "cat \(path) 2>/dev/null || echo MISSING")
            }
        }
        return files
    }

    /// A cluster configuration made from the lab's (`Fixtures/cluster.yaml`) with `change` applied to its text,
    /// in a private directory of the lab's state (a tmpfs: `lab down` takes it away, nothing is left in /tmp).
    func clusterConfiguration(_ change: (String) -> String) throws -> String {
        let text = try String(contentsOf: self.root.appending(path: "Fixtures/cluster.yaml"), encoding: .utf8)
        let state = ProcessInfo.processInfo.environment["KVMMIGRATE_LAB_STATE"] ?? "/run/kvmm-lab"
        let directory = URL(filePath: state).appending(path: "test-configs/\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        let path = directory.appending(path: "cluster.yaml").path
        try change(text).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The host CF node name and address that `node`'s SA_vmchkhost.cfg gives for `guest`.
    func hostCheckHost(on node: String, for guest: String) throws -> [String] {
        let line = try self.shell(on: node, "grep '^\(guest) ' /etc/opt/SMAW/SMAWsf/SA_vmchkhost.cfg")
        return line.split(separator: " ").dropFirst().prefix(2).map(String.init)
    }

    /// Takes a node's link down or up.
    func link(_ node: String, up: Bool) throws {
        let result = try run(URL(filePath: "/bin/bash"), [self.labScript.path, "link", node, up ? "up" : "down"])
        guard result.exitCode == 0 else { throw LabError("lab link: \(result.standardError)") }
    }

    /// Stops (SIGSTOP) or continues every process of a node or host (`lab freeze`): it keeps its link and the
    /// kernel still takes TCP connections, but nothing answers.
    func freeze(_ name: String, _ frozen: Bool) throws {
        let result = try run(URL(filePath: "/bin/bash"), [self.labScript.path, "freeze", name, frozen ? "on" : "off"])
        guard result.exitCode == 0 else { throw LabError("lab freeze: \(result.standardError)") }
    }

    /// The guest cluster's nodes, as `lab up --nodes N` made them: guest1 … guestN.
    var nodes: [String] {
        let state = ProcessInfo.processInfo.environment["KVMMIGRATE_LAB_STATE"] ?? "/run/kvmm-lab"
        let text = (try? String(contentsOfFile: "\(state)/nodes-count", encoding: .utf8)) ?? "2"
        let count = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 2
        return (1...max(1, count)).map { "guest\($0)" }
    }

    /// `sdtool -s` on a node, parsed; `nil` when SF is not running there.
    func shutdownFacility(on node: String) throws -> ShutdownFacilityStatus? {
        let output = try self.shell(on: node, "/opt/SMAW/bin/sdtool -s 2>/dev/null || true")
        return output.isEmpty ? nil : try ShutdownFacilityStatus(parsing: output)
    }

    /// The host address the node's libvirt agent files give for `guest`, in both files.
    func agentHosts(on node: String, for guest: String) throws -> [String] {
        try ["SA_libvirtgp.cfg", "SA_libvirtgr.cfg"].map { file in
            let line = try self.shell(on: node, "grep '^\(guest) ' /etc/opt/SMAW/SMAWsf/\(file)")
            return String(line.split(separator: " ")[2])
        }
    }

    /// Expects what a healthy, restored cluster looks like on every node, with `domain1`'s agents pointing at
    /// `address`: CF timeout 10 in the file and in CF, the file's other lines kept, SF running with every row
    /// TestWorked and InitWorked.
    func expectRestored(pointingAt address: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for node in self.nodes {
            let config = try self.shell(on: node, "cat /etc/default/cluster.config")
            #expect(config.contains("CLUSTER_TIMEOUT \"10\""), "\(node): \(config)", sourceLocation: sourceLocation)
            #expect(config.contains("CFCP \"cfcp\"") && config.hasPrefix("#"), sourceLocation: sourceLocation)
            let loaded = try self.shell(on: node, "/opt/SMAW/bin/cfset -a")
            #expect(
                loaded.contains("KEY: CLUSTER_TIMEOUT VALUE: 10"),
                "\(node): \(loaded)",
                sourceLocation: sourceLocation
            )
            #expect(try self.agentHosts(on: node, for: "guest1") == [address, address], sourceLocation: sourceLocation)
            let modes = try self.shell(on: node, "stat -c '%U %a' /etc/opt/SMAW/SMAWsf/SA_libvirtgp.cfg")
            #expect(modes.trimmingCharacters(in: .whitespacesAndNewlines) == "root 600", sourceLocation: sourceLocation)
        }
        // Rows settle a few seconds after SF starts: wait as an operator would, then check every row.
        var tables: [ShutdownFacilityStatus?] = []
        for _ in 0..<30 {
            tables = try self.nodes.map { try self.shutdownFacility(on: $0) }
            if tables.allSatisfy({ $0?.isHealthy ?? false }) { break }
            Thread.sleep(forTimeInterval: 1)
        }
        for (node, table) in zip(self.nodes, tables) {
            #expect(
                table?.isHealthy == true,
                "\(node): \(table?.problems ?? ["SF not running"])",
                sourceLocation: sourceLocation
            )
        }
    }

    /// Where libvirt says `domain` runs: `10.77.0.1` or `10.77.0.2`.
    func addressOfHost(running domain: String) throws -> String {
        if self.state(of: domain, on: try self.source())?.isActive ?? false { return "10.77.0.1" }
        if self.state(of: domain, on: try self.destination())?.isActive ?? false { return "10.77.0.2" }
        throw LabError("\(domain) runs nowhere")
    }
}
