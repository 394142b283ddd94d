import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why the metrics file cannot be used.
public struct MetricsFileError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { self.message }

    init(_ message: String) { self.message = message }
}

/// The `--metrics-file`: Prometheus text that node_exporter's textfile collector reads, replaced atomically (a
/// temporary file in the same directory, written, synced, renamed over it), so the collector never reads half a file.
///
/// The counters are running totals: each run reads the previous totals back from the file it replaces. It reads
/// them only from a file it can trust, a regular file owned by this user or root in a directory owned by this user
/// or root, neither writable by group or others (kvmmigrate runs as root and trusts nothing another user can write).
/// An untrusted or unreadable file is not read: the totals start again from zero, which Prometheus' `rate()` and
/// `increase()` take as a counter reset.
public struct MetricsFile: Sendable {
    public let path: String

    /// Checks that the file can be written: makes and removes a temporary file in its directory.
    ///
    /// - Throws: ``MetricsFileError`` when it cannot: a usage error, found before anything changes.
    public init(path: String) throws(MetricsFileError) {
        guard !path.isEmpty else { throw MetricsFileError("needs a file name") }
        self.path = path
        var information = stat()
        if stat(path, &information) == 0, information.st_mode & S_IFMT == S_IFDIR {
            throw MetricsFileError("\(path) is a directory")
        }
        let temporary = self.temporaryPath
        let descriptor = Self.createExclusively(temporary)
        guard descriptor >= 0 else {
            throw MetricsFileError("cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        unlink(temporary)
    }

    /// Creates `path` anew: whatever is there (a leftover, or a link another user planted in a directory it can
    /// write) is removed first, and `O_EXCL` refuses anything that appears in between, so no other file is written.
    static func createExclusively(_ path: String) -> Int32 {
        unlink(path)
        return open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
    }

    /// `PATH.tmp.<pid>`: in the same directory, so the rename is atomic; node_exporter reads only `*.prom`.
    var temporaryPath: String { "\(self.path).tmp.\(getpid())" }

    /// The totals the file holds, when it can be trusted, and a warning when it exists but is not read.
    public func previousTotals() -> (totals: [MigrationMetrics.Series: Double], warning: String?) {
        switch self.currentTotals() {
        case .success(let totals): return (totals, nil)
        case .failure(let problem):
            return ([:], "not reading the previous totals from \(self.path) (\(problem)); the counters start at zero")
        }
    }

    /// The totals as the file holds them now: empty when there is no file, `nil` when it cannot be trusted or read
    /// (then the writer keeps to its own figures).
    func trustedTotals() -> [MigrationMetrics.Series: Double]? {
        try? self.currentTotals().get()
    }

    /// The totals the file holds, empty when there is none, or why it is not read.
    private func currentTotals() -> Result<[MigrationMetrics.Series: Double], MetricsFileError> {
        var information = stat()
        guard lstat(self.path, &information) == 0 else { return .success([:]) }
        if let problem = Self.untrusted(file: self.path, information) { return .failure(MetricsFileError(problem)) }
        guard let data = FileManager.default.contents(atPath: self.path), let text = String(data: data, encoding: .utf8)
        else { return .failure(MetricsFileError("it cannot be read")) }
        return .success(Self.totals(in: text))
    }

    /// Runs `body` holding an exclusive `flock(2)` on the file's directory, so that two kvmmigrate processes never
    /// read and replace the file at once. The directory, not a lock file: nothing is created beside the metrics.
    /// Waits at most 5 s (anyone who can open the directory can lock it), then goes on without the lock.
    func withExclusiveAccess<Result>(_ body: () -> Result) -> Result {
        let directory = (self.path as NSString).deletingLastPathComponent
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return body() }
        defer { close(descriptor) }
        for _ in 0..<500 {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
                defer { flock(descriptor, LOCK_UN) }
                return body()
            }
            guard errno == EWOULDBLOCK || errno == EINTR else { break }
            usleep(10_000)
        }
        return body()
    }

    /// Why a file (and its directory) cannot be trusted, or `nil`.
    static func untrusted(file path: String, _ information: stat) -> String? {
        guard information.st_mode & S_IFMT == S_IFREG else { return "not a regular file" }
        if let problem = Self.writableByOthers(information, "the file") { return problem }
        let directory = (path as NSString).deletingLastPathComponent
        var directoryInformation = stat()
        guard stat(directory.isEmpty ? "." : directory, &directoryInformation) == 0 else {
            return "its directory cannot be read"
        }
        return Self.writableByOthers(directoryInformation, "its directory")
    }

    private static func writableByOthers(_ information: stat, _ what: String) -> String? {
        guard information.st_uid == geteuid() || information.st_uid == 0 else {
            return "\(what) belongs to user \(information.st_uid)"
        }
        guard information.st_mode & (S_IWGRP | S_IWOTH) == 0 else { return "\(what) is writable by group or others" }
        return nil
    }

    /// The counters in a text this type wrote: only the known counters with their known labels; anything else is
    /// skipped.
    static func totals(in text: String) -> [MigrationMetrics.Series: Double] {
        var totals: [MigrationMetrics.Series: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let brace = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}"), brace < close,
                let counter = MigrationMetrics.Counter(rawValue: String(line[..<brace])),
                let value = Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)),
                value.isFinite, value >= 0,
                let labels = Self.labels(line[line.index(after: brace)..<close]),
                let domain = labels["domain"]
            else { continue }
            let extra = counter.extraLabel.flatMap { labels[$0] }
            let expected = 1 + (counter.extraLabel == nil ? 0 : 1)
            guard labels.count == expected else { continue }
            if counter.extraLabel != nil {
                guard let extra, counter.extraValues.contains(extra) else { continue }
            }
            totals[MigrationMetrics.Series(counter, domain: domain, extra)] = value
        }
        return totals
    }

    /// `name="value",…` with the text format's escapes (`\\`, `\"`, `\n`), or `nil` when malformed.
    static func labels(_ text: Substring) -> [String: String]? {
        var labels: [String: String] = [:]
        var rest = text[...]
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "=") else { return nil }
            let name = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
            guard rest.first == "\"" else { return nil }
            rest = rest.dropFirst()
            var value = ""
            var escaped = false
            var closed = false
            while let character = rest.first {
                rest = rest.dropFirst()
                if escaped {
                    value.append(character == "n" ? "\n" : character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    closed = true
                    break
                } else {
                    value.append(character)
                }
            }
            guard closed, labels[name] == nil else { return nil }
            labels[name] = value
            if rest.first == "," { rest = rest.dropFirst() } else if !rest.isEmpty { return nil }
        }
        return labels
    }

    /// Replaces the file with `metrics`' text, atomically and durably.
    ///
    /// - Returns: A warning when it could not: metrics never stop a migration.
    public func write(_ metrics: MigrationMetrics) -> String? {
        let temporary = self.temporaryPath
        let bytes = Array(metrics.text().utf8)
        let descriptor = Self.createExclusively(temporary)
        guard descriptor >= 0 else { return "cannot create \(temporary): \(String(cString: strerror(errno)))" }
        // The mode is not left to the umask: the collector, often another user, must read the file.
        fchmod(descriptor, 0o644)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else {
                let message = String(cString: strerror(errno))
                close(descriptor)
                unlink(temporary)
                return "cannot write \(temporary): \(message)"
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            unlink(temporary)
            return "cannot sync \(temporary): \(message)"
        }
        close(descriptor)
        guard rename(temporary, self.path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            return "cannot rename \(temporary) to \(self.path): \(message)"
        }
        return nil
    }
}
