import Foundation

/// A trace read back: its records, checked line by line, for `kvmmigrate plot`.
///
/// Refused with one ``TraceError``: an empty file, a line that is not a trace record, a last line cut off without
/// its line break, or a number no run can have (a time below 0 or beyond 100 days, more than an exbibyte, a
/// pass beyond a million). A record type it does not know is kept: readers skip it.
public struct TraceFile: Sendable {
    /// The records, in the order they were written.
    public var records: [TraceRecord]

    /// The largest trace read: a run of a day sampled every 250 ms writes about 100 MiB.
    public static let maximumBytes = 512 << 20
    /// The latest `t` taken as real: 100 days.
    public static let maximumSeconds: Double = 100 * 86_400
    /// The largest byte count or rate taken as real: 1 EiB.
    public static let maximumBytesValue: UInt64 = 1 << 60

    public init(records: [TraceRecord]) {
        self.records = records
    }

    /// Reads and checks the trace at `path`.
    ///
    /// - Throws: ``TraceError``: ``TraceError/Code/unreadable``, ``TraceError/Code/tooLarge`` or what
    ///   ``init(parsing:)`` throws.
    public init(contentsOf path: String) throws(TraceError) {
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            // A device or a pipe would be read forever (or not at all): a trace is a file.
            guard attributes[.type] as? FileAttributeType == .typeRegular else {
                throw TraceError(.unreadable, "\(path) is not a regular file")
            }
            if let size = attributes[.size] as? Int, size > Self.maximumBytes {
                throw TraceError(.tooLarge, "\(path) is \(size >> 20) MiB: no trace is that large")
            }
            data = try Data(contentsOf: URL(filePath: path))
        } catch let error as TraceError {
            throw error
        } catch {
            throw TraceError(.unreadable, "cannot read \(path): \(Self.reason(error))")
        }
        try self.init(parsing: data)
    }

    /// Parses and checks a trace's bytes.
    ///
    /// - Throws: ``TraceError`` with ``TraceError/Code/empty``, ``TraceError/Code/notATrace``,
    ///   ``TraceError/Code/truncated`` or ``TraceError/Code/absurdValue``.
    public init(parsing data: Data) throws(TraceError) {
        guard data.count <= Self.maximumBytes else {
            throw TraceError(.tooLarge, "\(data.count >> 20) MiB: no trace is that large")
        }
        let endsWithLineBreak = data.last == UInt8(ascii: "\n")
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let decoder = JSONDecoder()
        var records: [TraceRecord] = []
        for (index, line) in lines.enumerated() {
            let number = index + 1
            let isLast = index == lines.count - 1
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) {
                continue
            }
            let record: TraceRecord
            do {
                record = try decoder.decode(TraceRecord.self, from: Data(line))
            } catch {
                if isLast && !endsWithLineBreak {
                    throw TraceError(
                        .truncated,
                        "cut off mid-line (the run was still writing it, or the file was truncated)",
                        line: number
                    )
                }
                throw TraceError(
                    .notATrace,
                    "not a trace record (a JSON object with a number t and a string type): \(Self.excerpt(line))",
                    line: number
                )
            }
            try Self.check(record, line: number)
            records.append(record)
        }
        guard !records.isEmpty else { throw TraceError(.empty, "the trace is empty") }
        self.records = records
    }

    /// Refuses a record with a number no run can have.
    static func check(_ record: TraceRecord, line: Int) throws(TraceError) {
        guard record.time.isFinite, record.time >= 0, record.time <= Self.maximumSeconds else {
            throw TraceError(.absurdValue, "t is \(record.time), not seconds since the start of a run", line: line)
        }
        let amounts: [(String, UInt64?)] = [
            ("data_processed_bytes", record.dataProcessedBytes),
            ("data_remaining_bytes", record.dataRemainingBytes),
            ("data_total_bytes", record.dataTotalBytes),
            ("dirty_rate_bytes_per_second", record.dirtyRateBytesPerSecond),
            ("transfer_rate_bytes_per_second", record.transferRateBytesPerSecond),
            ("data_transferred_bytes", record.dataTransferredBytes),
        ]
        for (key, value) in amounts {
            if let value, value > Self.maximumBytesValue {
                throw TraceError(.absurdValue, "\(key) is \(value): more than any migration moves", line: line)
            }
        }
        let milliseconds: [(String, Int64?)] = [
            ("downtime_milliseconds", record.downtimeMilliseconds),
            ("expected_downtime_milliseconds", record.expectedDowntimeMilliseconds),
            ("setup_time_milliseconds", record.setupTimeMilliseconds),
            ("total_time_milliseconds", record.totalTimeMilliseconds),
        ]
        for (key, value) in milliseconds {
            if let value, value < 0 || Double(value) > Self.maximumSeconds * 1000 {
                throw TraceError(.absurdValue, "\(key) is \(value)", line: line)
            }
        }
        for (key, value) in [("pass", record.pass), ("memory_passes", record.memoryPasses)] {
            if let value, value < 0 || value > 1_000_000 {
                throw TraceError(.absurdValue, "\(key) is \(value)", line: line)
            }
        }
        if let percent = record.throttlePercent, !(0...100).contains(percent) {
            throw TraceError(.absurdValue, "throttle_percent is \(percent)", line: line)
        }
    }

    /// The start of a line, printable, for an error message.
    private static func excerpt(_ line: Data.SubSequence) -> String {
        let text = String(decoding: line.prefix(60), as: UTF8.self)
            .map {
                $0.isASCII && ($0.isLetter || $0.isNumber || $0.isPunctuation || $0.isSymbol || $0 == " ") ? $0 : "?"
            }
        return "'" + String(text) + (line.count > 60 ? "…" : "") + "'"
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError {
            return "no such file"
        }
        return nsError.localizedDescription
    }
}
