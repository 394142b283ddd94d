import ArgumentParser
import MetricsExport

/// `--metrics-file` as migrate and evacuate use it.
enum MetricsOptions {
    /// Checks the metrics file can be written; one that cannot is a usage error (exit 64), found before anything
    /// changes.
    static func file(_ path: String) throws -> MetricsFile {
        do throws(MetricsFileError) {
            return try MetricsFile(path: path)
        } catch {
            throw ValidationError("--metrics-file: \(error.message).")
        }
    }

    /// The metrics of one run; a write that fails later only warns.
    static func recorder(_ file: MetricsFile) -> MetricsRecorder {
        MetricsRecorder(file) { warning in ProgressDisplay.write("Warning: \(warning)\n") }
    }

    /// The metrics of one guest's migration, alone in its run.
    static func metrics(_ file: MetricsFile, domain: String) -> SessionMetrics {
        SessionMetrics(Self.recorder(file), domain: domain)
    }
}
