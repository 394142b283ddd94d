import Foundation
import Synchronization

/// Turns an SVG document into PNG with `rsvg-convert` (librsvg; Debian package librsvg2-bin), found on `PATH`.
///
/// kvmmigrate draws SVG itself; PNG is librsvg's rasterisation of it, so the two pictures are the same.
public struct PNGConverter: Sendable {
    /// The `rsvg-convert` executable.
    public var executable: URL

    /// Finds `rsvg-convert` on `path` (default: `$PATH`).
    ///
    /// - Throws: ``ChartError/Code/converterMissing`` naming the Debian package, when it is not there.
    public init(searchPath path: String? = ProcessInfo.processInfo.environment["PATH"]) throws(ChartError) {
        let directories = (path ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        guard
            let found = directories.lazy.map({ URL(filePath: $0).appending(path: "rsvg-convert") })
                .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) })
        else {
            throw ChartError(
                .converterMissing,
                "PNG needs rsvg-convert, which is not installed: apt install librsvg2-bin (or write .svg)"
            )
        }
        self.executable = found
    }

    /// Rasterises `svg` into the PNG file at `path`.
    ///
    /// - Throws: ``ChartError/Code/conversionFailed`` with rsvg-convert's first line of error.
    public func convert(_ svg: String, to path: String) throws(ChartError) {
        let process = Process()
        process.executableURL = self.executable
        process.arguments = ["--format", "png", "--output", path]  // no file: the SVG comes on standard input
        let input = Pipe()
        let error = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = error
        do {
            try process.run()
        } catch {
            throw ChartError(.conversionFailed, "cannot run \(self.executable.path): \(error.localizedDescription)")
        }
        // Read standard error while writing, so that neither pipe fills and blocks rsvg-convert.
        let errorText = LockedText()
        let reader = Thread {
            errorText.set(String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        reader.start()
        try? input.fileHandleForWriting.write(contentsOf: Data(svg.utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        while !errorText.isSet { Thread.sleep(forTimeInterval: 0.01) }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let first =
                errorText.value.split(separator: "\n").first.map(String.init) ?? "exit \(process.terminationStatus)"
            throw ChartError(.conversionFailed, "rsvg-convert failed: \(first)")
        }
    }
}

/// A string one thread sets and another reads.
private final class LockedText: Sendable {
    private let text = Mutex<String?>(nil)

    func set(_ value: String) {
        self.text.withLock { $0 = value }
    }

    var isSet: Bool { self.text.withLock { $0 != nil } }
    var value: String { self.text.withLock { $0 ?? "" } }
}
