import Foundation
import Synchronization
import Testing

@testable import Trace

/// A directory of its own for one test, removed afterwards.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appending(path: "kvmm-trace-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A sample as the monitor writes it.
func sample(at time: Double, remaining: UInt64, pass: Int = 1) -> TraceRecord {
    var record = TraceRecord(.sample, at: time)
    record.migrationPhase = "pre_copy"
    record.pass = pass
    record.dataProcessedBytes = 1 << 20
    record.dataRemainingBytes = remaining
    record.dataTotalBytes = (1 << 20) + remaining
    record.dirtyRateBytesPerSecond = 64 << 20
    record.transferRateBytesPerSecond = 50 << 20
    record.expectedDowntimeMilliseconds = 300
    return record
}

/// Collects what a writer reports.
final class Warnings: Sendable {
    private let list = Mutex<[String]>([])
    func append(_ line: String) { self.list.withLock { $0.append(line) } }
    var all: [String] { self.list.withLock { $0 } }
}

@Suite struct TraceWriterTests {
    @Test func aDecodedLineHasWhatWasWritten() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "run.jsonl").path
        var start = TraceRecord(.start, at: 0)
        start.command = "migrate"
        start.domain = "domain1"
        start.traceVersion = TraceRecord.currentVersion
        var policy = TraceRecord(.policy, at: 7.3)
        policy.name = "downtime"
        policy.detail = "pass 4 stalled: allowing 400 ms of downtime"
        policy.pass = 4
        policy.downtimeMilliseconds = 400
        var cluster = TraceRecord(.cluster, at: 2.1)
        cluster.node = "guest1"
        cluster.name = "sf-stopped"
        cluster.message = "shutdown facility stopped"
        let records = [start, sample(at: 1.25, remaining: 123_456_789, pass: 3), policy, cluster]
        let warnings = Warnings()
        let writer = try TraceWriter(path: path) { warnings.append($0) }
        for record in records { writer.write(record) }
        // Written as it happens: readable before the writer is closed.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 4)
        #expect(text.hasSuffix("\n"))
        #expect(try TraceFile(contentsOf: path).records == records)
        writer.close()
        #expect(warnings.all.isEmpty)

        // Every line is one JSON object with t and type.
        for line in text.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["t"] is NSNumber)
            #expect(object["type"] is String)
        }
        let sampleLine = try #require(
            try JSONSerialization.jsonObject(with: Data(text.split(separator: "\n")[1].utf8)) as? [String: Any]
        )
        #expect(sampleLine["data_remaining_bytes"] as? Int == 123_456_789)
        #expect(sampleLine["dirty_rate_bytes_per_second"] as? Int == 64 << 20)
        #expect(sampleLine["phase"] as? String == "pre_copy")
        #expect(sampleLine["pass"] as? Int == 3)
        #expect(sampleLine["t"] as? Double == 1.25)
    }

    @Test func theFileIsCreated0644AndEmptiedAndALinkIsNotFollowed() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "run.jsonl").path
        try Data("old content\n".utf8).write(to: URL(filePath: path))
        let writer = try TraceWriter(path: path) { _ in }
        writer.close()
        #expect(try Data(contentsOf: URL(filePath: path)).isEmpty)

        // 0644 less the umask (not changed here: it is the whole test process's): never more than 0644.
        let fresh = directory.appending(path: "fresh.jsonl").path
        try TraceWriter(path: fresh) { _ in }.close()
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: fresh)[.posixPermissions] as? Int)
        #expect(mode & ~0o644 == 0)
        #expect(mode & 0o600 == 0o600)

        let target = directory.appending(path: "target").path
        try Data("keep\n".utf8).write(to: URL(filePath: target))
        let link = directory.appending(path: "link.jsonl").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let error = #expect(throws: TraceError.self) { try TraceWriter(path: link) { _ in } }
        #expect(error?.code == .unwritable)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep\n")
    }

    @Test func aFailedWriteWarnsOnceAndTracingStops() throws {
        let warnings = Warnings()
        // /dev/full takes the open and refuses every write (ENOSPC).
        let writer = try TraceWriter(path: "/dev/full") { warnings.append($0) }
        writer.write(sample(at: 1, remaining: 1))
        writer.write(sample(at: 2, remaining: 1))
        writer.write(sample(at: 3, remaining: 1))
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("tracing stops, the operation goes on") == true)
        #expect(!writer.isWriting)
    }

    @Test func aMissingDirectoryIsOneLine() {
        let error = #expect(throws: TraceError.self) {
            try TraceWriter(path: "/nonexistent-kvmm/run.jsonl") { _ in }
        }
        #expect(error?.code == .unwritable)
        #expect(error?.description.contains("No such file or directory") == true)
    }
}

@Suite struct TraceFileTests {
    private func parse(_ text: String) throws(TraceError) -> TraceFile {
        try TraceFile(parsing: Data(text.utf8))
    }

    @Test func anEmptyFileIsRefused() {
        for text in ["", "\n", "  \n\n"] {
            let error = #expect(throws: TraceError.self) { try self.parse(text) }
            #expect(error?.code == .empty)
        }
    }

    @Test(arguments: [
        "hello world\n",
        "[1, 2, 3]\n",
        "{\"type\": \"sample\"}\n",
        "{\"t\": \"soon\", \"type\": \"sample\"}\n",
        "{\"t\": 1}\n",
        "\u{7F}ELF\u{02}\u{01}\n",
    ])
    func whatIsNotATraceIsRefusedWithItsLine(text: String) {
        let error = #expect(throws: TraceError.self) {
            try self.parse("{\"t\": 0, \"type\": \"start\"}\n" + text)
        }
        #expect(error?.code == .notATrace)
        #expect(error?.line == 2)
        #expect(error?.description.hasPrefix("line 2: ") == true)
        #expect(error?.description.contains("\n") == false)
    }

    @Test func aTruncatedLastLineIsRefused() {
        let error = #expect(throws: TraceError.self) {
            try self.parse("{\"t\": 0, \"type\": \"start\"}\n{\"t\": 1.5, \"type\": \"sam")
        }
        #expect(error?.code == .truncated)
        #expect(error?.line == 2)
    }

    @Test func aCompleteLastLineWithoutItsLineBreakIsRead() throws {
        #expect(try self.parse("{\"t\": 0, \"type\": \"start\"}").records.count == 1)
    }

    @Test(arguments: [
        "{\"t\": -3, \"type\": \"sample\"}",
        "{\"t\": 1e12, \"type\": \"sample\"}",
        "{\"t\": 1, \"type\": \"sample\", \"data_remaining_bytes\": 18446744073709551615}",
        "{\"t\": 1, \"type\": \"sample\", \"dirty_rate_bytes_per_second\": 9223372036854775807}",
        "{\"t\": 1, \"type\": \"pass\", \"pass\": 99999999}",
        "{\"t\": 1, \"type\": \"downtime\", \"downtime_milliseconds\": -5}",
        "{\"t\": 1, \"type\": \"policy\", \"throttle_percent\": 400}",
    ])
    func absurdNumbersAreRefused(line: String) {
        let error = #expect(throws: TraceError.self) { try self.parse(line + "\n") }
        #expect(error?.code == .absurdValue)
        #expect(error?.line == 1)
    }

    @Test func aNegativeByteCountIsNotATrace() {
        let error = #expect(throws: TraceError.self) {
            try self.parse("{\"t\": 1, \"type\": \"sample\", \"data_remaining_bytes\": -1}\n")
        }
        #expect(error?.code == .notATrace)
    }

    @Test func aTypeThisVersionDoesNotKnowIsKept() throws {
        let file = try self.parse("{\"t\": 0, \"type\": \"start\"}\n{\"t\": 1, \"type\": \"hologram\", \"x\": 2}\n")
        #expect(file.records.map(\.kind.rawValue) == ["start", "hologram"])
    }

    @Test func aDeviceIsNotATraceFile() {
        let error = #expect(throws: TraceError.self) { try TraceFile(contentsOf: "/dev/urandom") }
        #expect(error?.code == .unreadable)
        #expect(error?.description == "/dev/urandom is not a regular file")
    }

    @Test func aMissingFileIsOneLine() {
        let error = #expect(throws: TraceError.self) { try TraceFile(contentsOf: "/nonexistent-kvmm/run.jsonl") }
        #expect(error?.code == .unreadable)
        #expect(error?.description.contains("\n") == false)
    }
}
