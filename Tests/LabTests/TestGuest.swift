import Foundation
import Libvirt
import Testing

/// A guest of its own for one test, started with `lab guest start`: memfill under KVM dirtying memory as its
/// command line says, checking its own pages and telling over its serial log (see Fixtures/guest/memfill.S).
struct TestGuest {
    let lab: Lab
    let name: String

    /// Starts `name` on the source host with the memfill command line `commandLine` and waits until it has
    /// filled its memory. `options` go to `lab guest start` (`--linux`, `--agent`).
    init(
        _ lab: Lab,
        name: String,
        _ commandLine: [String],
        memoryMiB: Int = 256,
        options: [String] = [],
        host: String = "hostA"
    ) throws {
        self.lab = lab
        self.name = name
        self.stop()
        let result = try run(
            URL(filePath: "/bin/bash"),
            [lab.labScript.path, "guest", "start", name, "--host", host, "--memory", "\(memoryMiB)"] + options
                + ["--"] + commandLine,
            timeLimit: .seconds(240)
        )
        guard result.exitCode == 0 else { throw LabError("lab guest start \(name): \(result.standardError)") }
    }

    /// Destroys the guest on every host.
    func stop() {
        _ = try? run(
            URL(filePath: "/bin/bash"),
            [self.lab.labScript.path, "guest", "stop", self.name],
            timeLimit: .seconds(60)
        )
    }

    /// What the guest wrote to its serial port so far (both hosts append to the same file).
    var serialLog: String {
        let state = ProcessInfo.processInfo.environment["KVMMIGRATE_LAB_STATE"] ?? "/run/kvmm-lab"
        return (try? String(contentsOfFile: "\(state)/guest/\(self.name).serial", encoding: .utf8)) ?? ""
    }

    /// The number of heartbeat lines (`memfill: ok …`) so far.
    var heartbeats: Int { self.serialLog.split(separator: "\n").filter { $0.hasPrefix("memfill: ok") }.count }

    /// Lines where the guest says it found its memory corrupted.
    var corruptionReports: [Substring] {
        self.serialLog.split(separator: "\n").filter { $0.hasPrefix("memfill: FAIL corrupt") }
    }

    /// Waits until the guest has written `count` more heartbeats than `after` (it runs and checks its memory
    /// wherever it is), then expects that it never reported corrupted memory.
    func expectAliveAndIntact(
        after: Int,
        count: Int = 2,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        for _ in 0..<150 where self.heartbeats < after + count {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(self.heartbeats >= after + count, "the guest stopped telling it runs", sourceLocation: sourceLocation)
        #expect(self.corruptionReports.isEmpty, "\(self.corruptionReports)", sourceLocation: sourceLocation)
    }

    /// The guest's state on each host (`nil` where the host does not know it).
    func states() throws -> (source: DomainStateInfo?, destination: DomainStateInfo?) {
        (
            self.lab.state(of: self.name, on: try self.lab.source()),
            self.lab.state(of: self.name, on: try self.lab.destination())
        )
    }

    /// Runs `kvmmigrate migrate` of this guest from the source to the destination with `arguments` and `--json`.
    func migrate(_ arguments: [String]) throws -> RunningCommand {
        try RunningCommand(
            try self.lab.binary,
            ["migrate", self.name, self.lab.destinationURI, "-c", self.lab.sourceURI, "--json"] + arguments
        )
    }
}

extension CommandRun {
    /// The `steps` of a migrate document, as (kind, detail).
    var policySteps: [(kind: String, detail: String)] {
        get throws {
            let steps = try #require(try self.json["steps"] as? [[String: Any]])
            return steps.map { ($0["kind"] as? String ?? "", $0["detail"] as? String ?? "") }
        }
    }
}
