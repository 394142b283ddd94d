import ArgumentParser
import Foundation
import Libvirt
import Migration

extension KVMMigrate {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the migrations running on a host: progress, phase, and the kvmmigrate step that runs them."
        )

        @OptionGroup(title: "Connection") var connection: ConnectionOptions
        @Argument(help: "Only this domain (name or UUID).") var domain: String?
        @OptionGroup(title: "Output") var output: OutputOptions

        func run() async throws {
            let uri = self.connection.sourceURI
            let domain = self.domain
            let host: String
            let statuses: [MigrationStatus]
            do throws(MigrationError) {
                (host, statuses) = try await withHost(uri, readOnly: true, named: "status") {
                    connection throws(MigrationError) in
                    (connection.uri, try MigrationStatus.list(on: connection, domain: domain))
                }
            } catch {
                if self.output.json { print(JSONOutput.encode(StatusFailure(error: error))) }
                ProgressDisplay.write("Error: \(error.message)\n")
                throw error.exitCode
            }
            let document = MigrationStatusDocument(host: host, statuses)
            if self.output.json { print(JSONOutput.encode(document)) }
            ProgressDisplay.write(document.text + "\n")
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Abort a running migration: the guest keeps running on the source.",
            discussion: """
                The kvmmigrate process that runs the migration sees it end as aborted, prints its report and, with \
                --cluster, still restores the cluster. -c names the source host (default: the source recorded \
                by a kvmmigrate on this machine that migrates DOMAIN, else qemu:///system).
                """
        )

        @Option(
            name: [.customShort("c"), .customLong("connect")],
            help: ArgumentHelp("The source host's libvirt URI.", valueName: "uri")
        )
        var sourceURI: String?
        @Argument(help: "The domain (name or UUID).") var domain: String

        func run() async throws {
            let domain = self.domain
            let recorded = MigrationLock.running().first {
                $0.record.domain == domain || $0.record.domainUUID == domain
            }
            // Without -c or a record: libvirt's default URI.
            let uri = self.sourceURI ?? recorded?.record.sourceURI
            let name = uri ?? "libvirt's default URI"
            do throws(MigrationError) {
                try await withHost(
                    uri,
                    readOnly: false,
                    named: "cancel",
                    whenSilent: ": the migration may still run (kvmmigrate status)"
                ) { connection throws(MigrationError) in try MigrationStatus.cancel(domain, on: connection) }
            } catch {
                ProgressDisplay.write("Error: \(error.message)\n")
                throw error.exitCode
            }
            ProgressDisplay.write(
                "Cancelled the migration of \(domain) on \(name); "
                    + (recorded.map { "kvmmigrate (pid \($0.pid)) reports how it ended." }
                        ?? "the guest keeps running there.") + "\n"
            )
        }
    }
}

struct StatusFailure: Encodable {
    var schemaVersion = 1
    var command = "status"
    var error: String
    init(error: MigrationError) { self.error = error.message }
}

/// `kvmmigrate status --json`.
struct MigrationStatusDocument: Encodable {
    var schemaVersion = 1
    var command = "status"
    var host: String
    var migrations: [Entry]

    struct Entry: Encodable {
        var domain: String
        var uuid: String
        /// `outgoing` on the source, `incoming` on the destination.
        var direction: String
        var phase: String?
        var memoryPass: Int?
        var elapsedMilliseconds: Int64?
        var dataProcessedBytes: UInt64?
        var dataRemainingBytes: UInt64?
        var dataTotalBytes: UInt64?
        var throughputBytesPerSecond: UInt64?
        var dirtyRateBytesPerSecond: UInt64?
        var expectedDowntimeMilliseconds: Int64?
        var destinationUri: String?
        var kvmmigratePid: Int32?
        var clusterStep: String?
        var policy: String?
        var policyStep: String?
        var startedAt: Date?
        var line: String?
    }

    init(host: String, _ statuses: [MigrationStatus]) {
        self.host = host
        self.migrations = statuses.map { status in
            Entry(
                domain: status.domain,
                uuid: status.domainUUID,
                direction: status.incoming ? "incoming" : "outgoing",
                phase: status.progress?.phase.key,
                memoryPass: status.progress?.memoryPass,
                elapsedMilliseconds: Format.milliseconds(status.statistics.timeElapsed),
                dataProcessedBytes: status.statistics.dataProcessed,
                dataRemainingBytes: status.statistics.dataRemaining,
                dataTotalBytes: status.statistics.dataTotal,
                throughputBytesPerSecond: status.progress?.throughputBytesPerSecond,
                dirtyRateBytesPerSecond: status.progress?.dirtyRateBytesPerSecond,
                expectedDowntimeMilliseconds: Format.milliseconds(status.statistics.downtime),
                destinationUri: status.record?.destinationURI,
                kvmmigratePid: status.pid,
                clusterStep: status.record?.clusterStep,
                policy: status.record?.policy,
                policyStep: status.record?.policyStep,
                startedAt: status.startedAt,
                line: status.progress.map(ProgressDisplay.line(for:))
            )
        }
    }

    var text: String {
        guard !self.migrations.isEmpty else { return "No migration is running on \(self.host)." }
        return self.migrations.map { entry in
            var text =
                "\(entry.domain) (\(entry.direction)"
                + (entry.destinationUri.map { " to \($0)" } ?? "") + "): "
                + (entry.line
                    ?? (entry.direction == "incoming"
                        ? "receiving (libvirt shows progress on the source)" : "starting"))
            if let pid = entry.kvmmigratePid {
                text += "\n  kvmmigrate pid \(pid)" + (entry.clusterStep.map { ", cluster step: \($0)" } ?? "")
                if let policy = entry.policy { text += "\n  policy \(policy)" }
                if let step = entry.policyStep { text += "\n  last policy step: \(step)" }
            }
            return text
        }.joined(separator: "\n")
    }
}

/// Opens `uri` (libvirt's default when `nil`) and runs `body` on the connection, off the cooperative pool, the
/// whole bounded by the pre-flight's connect timeout: `status` and `cancel` against a daemon that answers nothing
/// end with one line instead of waiting for ever.
///
/// - Parameter whenSilent: Added to the message when the bound passes.
private func withHost<Value: Sendable>(
    _ uri: String?,
    readOnly: Bool,
    named name: String,
    whenSilent: String = "",
    _ body: @escaping @Sendable (Connection) throws(MigrationError) -> Value
) async throws(MigrationError) -> Value {
    let host = uri ?? "libvirt's default URI"
    let timeout = MigrationPreflight.connectTimeout
    let answer = await runBlocking(named: name, timeout: timeout) {
        Result { () throws(MigrationError) -> Value in
            let connection: Connection
            do throws(LibvirtError) { connection = try Connection(uri: uri, readOnly: readOnly) } catch {
                throw MigrationError(.hostUnreachable, "cannot connect to \(host): \(error.message)")
            }
            return try body(connection)
        }
    }
    guard case .success(let result) = answer else {
        throw MigrationError(
            .hostUnreachable,
            "\(host) did not answer within \(timeout.components.seconds) s" + whenSilent
        )
    }
    return try result.get()
}
