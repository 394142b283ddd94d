import Cluster
import Foundation
import Logging

/// Everything verification needs from one node, read in one ssh round trip: its clock, CF's node table and
/// loaded timeout, `cluster.config`, SF's table, the SF configuration files (their text and when they last
/// changed) and the SF log's latest test results.
public struct NodeSnapshot: Sendable {
    public var node: String
    /// Why the node could not be asked, when it could not.
    public var unreachable: String?
    /// What went wrong reading parts of it.
    public var errors: [String] = []
    /// Whether the node answered the whole script (its files and tables are then what the node has).
    public var answered = false
    /// Whether `sdtool -s` was read: ``shutdownFacility`` is then the table, or `nil` for SF not running.
    public var shutdownFacilityRead = false
    public var clock: NodeClock?
    public var nodeTable: NodeTable?
    /// The CF timeout CF uses now (`cfset -a`).
    public var clusterTimeoutInUse: Int?
    /// The CF timeout in `cluster.config` (10 when absent).
    public var clusterTimeoutConfigured: Int?
    /// SF's table; `nil` when SF is not running.
    public var shutdownFacility: ShutdownFacilityStatus?
    /// The SF configuration files by path; a path missing here does not exist on the node. Held in memory only:
    /// the agent files carry (encrypted) passwords, so their text is never printed.
    public var files: [String: String] = [:]
    /// When each file last changed, by the node's clock (seconds since the epoch).
    public var modified: [String: Double] = [:]
    /// The SF log's latest test results.
    public var testLog: ShutdownFacilityLog = ShutdownFacilityLog(results: [])

    public init(node: String) {
        self.node = node
    }

    /// The SF configuration files every node must hold identically.
    public static let sharedFiles = [
        ClusterFormat.shutdownDaemonConfigPath,
        ClusterFormat.libvirtPanicAgentConfigPath,
        ClusterFormat.libvirtResetAgentConfigPath,
        ClusterFormat.hostCheckAgentConfigPath,
    ]

    /// The commands of the snapshot script, in order; each output ends at a marker line with its exit status.
    static var commands: [String] {
        let files = Self.sharedFiles
        return [
            "date -u +%s.%N",
            "date +%z",
            "\(ClusterCommands.clusterTool) -n 2>&1",
            "\(ClusterCommands.clusterSet) -a 2>&1",
            "cat \(ClusterFormat.clusterConfigPath) 2>/dev/null",
            "\(ClusterCommands.shutdownTool) -s 2>/dev/null",
        ] + files.map { "cat \($0) 2>/dev/null" } + [
            "stat -c '%Y %n' \(files.joined(separator: " ")) 2>/dev/null",
            "tail -n 5000 \(ShutdownFacilityLog.path) 2>/dev/null | grep -E ': (TestWorked|TestFailed)' | tail -n 500",
            "date -u +%s.%N",
        ]
    }

    /// Reads the snapshot. Never throws: what could not be read is in ``unreachable`` or ``errors``.
    public static func read(_ node: ClusterNode, timeout: Duration, logger: Logger) async -> NodeSnapshot {
        var snapshot = NodeSnapshot(node: node.name)
        let script = Self.commands.map { "\($0); echo \"\(NodeStatus.marker) $?\"" }.joined(separator: "; ")
        let sent = Date()
        let output: String
        do throws(ClusterError) {
            output = try await node.run(["sh", "-c", script], timeout: timeout, logger: logger).standardOutput
        } catch  where error.code == .nodeUnreachable {
            snapshot.unreachable = error.message
            return snapshot
        } catch {
            snapshot.errors.append(error.description)
            return snapshot
        }
        snapshot.parse(output, sent: sent.timeIntervalSince1970, received: Date().timeIntervalSince1970)
        return snapshot
    }

    /// Measures the node's clock again in a round trip of its own, over the connection the snapshot opened: the
    /// snapshot's round trip includes opening the ssh session, which widens its error bound. Keeps the narrower.
    public mutating func remeasureClock(_ node: ClusterNode, timeout: Duration, logger: Logger) async {
        let sent = Date().timeIntervalSince1970
        guard
            let result = try? await node.run(["date", "-u", "+%s.%N"], timeout: timeout, logger: logger),
            result.succeeded,
            let time = Double(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return }
        let clock = NodeClock(nodeStart: time, nodeEnd: time, sent: sent, received: Date().timeIntervalSince1970)
        if clock.uncertainty < self.clock?.uncertainty ?? .infinity { self.clock = clock }
    }

    /// Fills the snapshot from the script's output; `sent` and `received` are this host's clock around the call.
    mutating func parse(_ output: String, sent: Double, received: Double) {
        let sections = NodeStatus.sections(of: output)
        guard sections.count == Self.commands.count else {
            self.errors.append("unexpected answer to the verification commands")
            return
        }
        self.answered = true
        func text(_ index: Int) -> String? { sections[index].status == 0 ? sections[index].output : nil }
        let first = text(0).flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let last = text(sections.count - 1).flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if let first, let last {
            self.clock = NodeClock(nodeStart: first, nodeEnd: last, sent: sent, received: received)
        } else {
            self.errors.append("date: the node's clock could not be read")
        }
        let zone = text(1).flatMap { NodeClock.zoneOffset($0) } ?? 0
        if let output = text(2), let table = try? NodeTable(parsing: output) {
            self.nodeTable = table
        } else {
            self.errors.append("cftool -n: \(Self.firstLine(sections[2].output) ?? "no output")")
        }
        if let output = text(3), let loaded = try? CFSetOutput(parsing: output) {
            self.clusterTimeoutInUse = loaded.clusterTimeout
        } else {
            self.errors.append("cfset -a: \(Self.firstLine(sections[3].output) ?? "no output")")
        }
        if let output = text(4) {
            self.clusterTimeoutConfigured = (try? ClusterConfigFile(parsing: output))?.clusterTimeout
            if self.clusterTimeoutConfigured == nil {
                self.errors.append("\(ClusterFormat.clusterConfigPath) is malformed")
            }
        } else {
            self.errors.append("\(ClusterFormat.clusterConfigPath) cannot be read")
        }
        if let output = text(5), !output.isEmpty {
            do throws(ClusterError) {
                self.shutdownFacility = try ShutdownFacilityStatus(parsing: output)
                self.shutdownFacilityRead = true
            } catch {
                self.errors.append("sdtool -s: \(error.message)")
            }
        } else {
            // `sdtool -s` fails with nothing on standard output when SF is not running.
            self.shutdownFacilityRead = true
        }
        for (offset, path) in Self.sharedFiles.enumerated() {
            if let output = text(6 + offset) { self.files[path] = output }
        }
        let statIndex = 6 + Self.sharedFiles.count
        for line in sections[statIndex].output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2, let seconds = Double(parts[0]) { self.modified[String(parts[1])] = seconds }
        }
        self.testLog = ShutdownFacilityLog(parsing: sections[statIndex + 1].output, zoneOffset: zone)
    }

    static func firstLine(_ text: String) -> String? {
        text.split(separator: "\n").first.map(String.init)
    }
}

/// A node's clock against this host's, measured over one round trip.
///
/// The node reads its clock at the start (`nodeStart`) and at the end (`nodeEnd`) of the command; this host reads
/// its own just before sending (`sent`) and just after the answer (`received`). The node's end happened between
/// `sent + (nodeEnd - nodeStart)` and `received`, so the offset lies between `nodeEnd - received` and
/// `nodeStart - sent`. Nearly all of that interval is on the way out (ssh opens a session and starts a shell
/// before the node's first read), while the answer's way back is one message: the estimate is the interval's
/// low end, and its width bounds the error.
public struct NodeClock: Sendable, Hashable {
    /// Node clock minus this host's, in seconds: the measurement's low end.
    public var offset: Double
    /// How far above ``offset`` the true offset may be, in seconds.
    public var uncertainty: Double

    /// Whether the node's clock is off by more than `tolerance` whatever the true offset in the interval.
    public func isOff(by tolerance: Double) -> Bool {
        self.offset > tolerance || self.offset + self.uncertainty < -tolerance
    }

    /// Whether the measurement decides the check: the whole interval is within `tolerance`, or beyond it.
    public func decides(_ tolerance: Double) -> Bool {
        self.isOff(by: tolerance) || (self.offset >= -tolerance && self.offset + self.uncertainty <= tolerance)
    }

    public init(offset: Double, uncertainty: Double) {
        self.offset = offset
        self.uncertainty = uncertainty
    }

    public init(nodeStart: Double, nodeEnd: Double, sent: Double, received: Double) {
        let onNode = max(0, nodeEnd - nodeStart)
        self.offset = nodeEnd - received
        self.uncertainty = max(0, (received - sent) - onNode)
    }

    /// A node's time on this host's clock.
    public func local(_ nodeTime: Double) -> Double { nodeTime - self.offset }

    /// `date +%z` (`+0900`, `-0130`) as seconds east of UTC.
    static func zoneOffset(_ text: String) -> Int? {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard value.count == 5, let sign = value.first, sign == "+" || sign == "-",
            value.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }),
            let hours = Int(value.dropFirst().prefix(2)), let minutes = Int(value.suffix(2)), hours < 24, minutes < 60
        else { return nil }
        return (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
    }
}
