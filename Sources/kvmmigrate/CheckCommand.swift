import ArgumentParser
import Cluster
import Foundation
import Libvirt
import Logging
import Migration
import Session

extension KVMMigrate {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether a migration can work, touching nothing (a dry run of migrate).",
            discussion: """
                Checks: both hosts answer and differ; the domain exists and runs; the destination has no active \
                domain of that name or UUID; the migration address answers from here; the destination's libvirt \
                version, CPU (libvirt's comparison) and free memory; every disk on storage the destination \
                sees, or --copy-storage-all; disk cache modes libvirt accepts; with --cluster, the cluster's \
                own checks. Exit status 0 when the migration would be tried, 2 when a check fails.

                virsh's spellings are accepted as in migrate: --desturi URI for DEST_URI (one or the other), \
                --migrateuri for --migrate-uri; --live and --p2p change nothing.
                """
        )

        @OptionGroup(title: "Connection") var connection: ConnectionOptions
        @Argument(help: "The domain's name or UUID on the source.") var domain: String
        @Argument(help: ArgumentHelp("The destination host's libvirt URI.", valueName: "dest-uri"))
        var destinationURI: String?
        @Flag(help: "Check an offline migration (a stopped domain's definition).") var offline = false
        @Option(help: ArgumentHelp("Where the migration data would go, e.g. tcp://10.0.0.2.", valueName: "uri"))
        var migrateURI: String?
        @Option(help: ArgumentHelp("The name it would have on the destination.", valueName: "name")) var dname: String?
        @Flag(help: "The migration would copy non-shared disks.") var copyStorageAll = false
        @Flag(help: "The migration would use TLS (and check that both hosts take TLS).") var tls = false
        @Flag(help: "The migration would be tunnelled through libvirtd.") var tunnelled = false
        @Flag(help: "Also run the cluster's checks (see kvmmigrate migrate --cluster).") var cluster = false
        @OptionGroup(title: "Cluster") var clusterOptions: ClusterOptions
        @OptionGroup(title: "Output") var output: OutputOptions

        // virsh's spellings (see the discussion), hidden from --help and merged in validate().
        @OptionGroup(visibility: .hidden) var virsh: VirshAliases

        mutating func validate() throws {
            (self.destinationURI, self.migrateURI) = try self.virsh.merged(
                destinationURI: self.destinationURI,
                migrateURI: self.migrateURI,
                offline: self.offline
            )
        }

        /// The request the checks are about.
        var request: MigrationRequest {
            MigrationRequest(
                domain: self.domain,
                sourceURI: self.connection.requestSourceURI,
                destinationURI: self.destinationURI ?? "",
                offline: self.offline,
                persistent: self.offline,
                // The default policy's post-copy rung cannot be had tunnelled (a migration leaves it out too).
                policy: self.tunnelled ? ConvergencePolicy.balanced.withoutPostCopyRung : .balanced,
                tunnelled: self.tunnelled,
                tls: self.tls,
                parameters: MigrationParameters(migrationURI: self.migrateURI, destinationName: self.dname),
                copyStorage: self.copyStorageAll
            )
        }

        func run() async throws {
            let request: MigrationRequest
            do throws(MigrationError) { request = try await URIResolution.resolve(self.request) } catch {
                return try CheckReport.show(MigrationCheck.failedPreflight(error), json: self.output.json)
            }
            let cluster: ClusterOperation? =
                self.cluster || self.clusterOptions.path != nil
                ? self.clusterOptions.operation(
                    try self.clusterOptions.load(json: self.output.json, command: "check"),
                    output: self.output,
                    display: nil
                )
                : nil
            let session = MigrationSession(
                MigrationSession.Options(request: request),
                migrationDriver: LibvirtMigrationDriver(logger: self.output.makeLogger()),
                cluster: cluster
            )
            try await CheckReport.run(session, json: self.output.json)
        }
    }
}

/// Runs a session's checks and prints the table (or `--json`); exits 0 or 2.
enum CheckReport {
    static func run(_ session: MigrationSession, json: Bool) async throws {
        try Self.show(await session.check(), json: json)
    }

    /// Shows `results` (the table, and the `--json` document) and throws exit 2 when one fails.
    static func show(_ results: [CheckResult], json: Bool) throws {
        let wouldMigrate = MigrationCheck.wouldMigrate(results)
        if json {
            print(JSONOutput.encode(CheckDocument(wouldMigrate: wouldMigrate, results: results)))
        }
        let table = Self.table(
            results,
            wouldMigrate: wouldMigrate,
            width: ProgressDisplay.usableWidth(.standardError),
            glyphs: .current
        )
        ProgressDisplay.write(table + "\n")
        if !wouldMigrate { throw ExitCode.refused }
    }

    /// One row per check: its status, its name and why, each column as wide as its longest entry (`SKIPPED`
    /// whole). With a `width`, no line is wider: a detail continues under itself, or on lines of its own under
    /// the name when the name leaves it too little room; words longer than a line are broken.
    static func table(
        _ results: [CheckResult],
        wouldMigrate: Bool,
        width: Int? = nil,
        glyphs: Glyphs = Glyphs(unicode: true)
    ) -> String {
        let labels = results.map { $0.status.rawValue.uppercased() }
        let names = results.map { glyphs.text($0.name) }
        let statusColumns = (labels.map { Columns.width(of: $0) }.max() ?? 0) + 2
        let nameColumns = (names.map { Columns.width(of: $0) }.max() ?? 0) + 2
        var lines: [String] = []
        for (index, result) in results.enumerated() {
            let head = Self.padded(labels[index], to: statusColumns) + Self.padded(names[index], to: nameColumns)
            let detail = glyphs.text(result.detail)
            guard let width else {
                lines.append(head + detail)
                continue
            }
            let room = width - statusColumns - nameColumns
            if room >= 20 {
                let wrapped = Columns.wrapped(detail, width: room, breakingWords: true)
                lines.append(head + wrapped[0])
                lines += wrapped.dropFirst().map { String(repeating: " ", count: statusColumns + nameColumns) + $0 }
            } else {
                // A name too long to leave room beside it: the row as far as it fits, the detail under it.
                let indent = min(statusColumns + 2, max(0, width / 2))
                lines += Columns.wrapped(head.trimmingCharacters(in: .whitespaces), width: width, breakingWords: true)
                lines += Columns.wrapped(detail, width: width - indent, breakingWords: true).map {
                    String(repeating: " ", count: indent) + $0
                }
            }
        }
        let failed = results.filter { $0.status == .fail }.count
        let verdict =
            wouldMigrate
            ? "The migration would be tried."
            : "The migration would be refused (\(failed) check\(failed == 1 ? "" : "s") failed)."
        lines += width.map { Columns.wrapped(verdict, width: $0, breakingWords: true) } ?? [verdict]
        return lines.joined(separator: "\n")
    }

    /// `text` followed by spaces up to `columns` display columns.
    private static func padded(_ text: String, to columns: Int) -> String {
        text + String(repeating: " ", count: max(0, columns - Columns.width(of: text)))
    }
}

struct CheckDocument: Encodable {
    var schemaVersion = 1
    var command = "check"
    var wouldMigrate: Bool
    var exitCode: Int32
    var checks: [Entry]

    struct Entry: Encodable {
        var name: String
        var status: String
        var detail: String
    }

    init(wouldMigrate: Bool, results: [CheckResult]) {
        self.wouldMigrate = wouldMigrate
        self.exitCode = wouldMigrate ? 0 : 2
        self.checks = results.map { Entry(name: $0.name, status: $0.status.rawValue, detail: $0.detail) }
    }
}
