import ArgumentParser
import Chart
import Foundation
import Trace

extension KVMMigrate {
    struct Plot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw a trace written by migrate --trace as a picture (SVG, or PNG through rsvg-convert).",
            discussion: """
                The picture shows the phases and cluster steps as a timeline, data remaining and the dirty and \
                transfer rates against time, the memory passes, the convergence policy's steps and the downtime. \
                -o FILE.png needs rsvg-convert (Debian package librsvg2-bin); without it the exit status is 64. A \
                trace that cannot be used (unreadable, empty, cut short, not a trace, absurd values) gives one line \
                and exit status 65.
                """
        )

        @Argument(help: ArgumentHelp("The trace, as migrate --trace wrote it.", valueName: "trace"))
        var trace: String

        @Option(
            name: .shortAndLong,
            help: ArgumentHelp("The picture to write: FILE.svg or FILE.png.", valueName: "file")
        )
        var output: String

        @Option(help: ArgumentHelp("The picture's width in pixels (480 to 4000).", valueName: "pixels"))
        var width: Int = 960

        /// The picture's format, from the output's extension.
        enum Format { case svg, png }

        var format: Format? {
            switch URL(filePath: self.output).pathExtension.lowercased() {
            case "svg": .svg
            case "png": .png
            default: nil
            }
        }

        func validate() throws {
            guard self.format != nil else {
                throw ValidationError("-o '\(self.output)': name a .svg or a .png file.")
            }
            guard (480...4000).contains(self.width) else {
                throw ValidationError("--width must be 480 to 4000 pixels, not \(self.width).")
            }
        }

        func run() throws {
            // Before reading anything: PNG without its converter is a usage error.
            let converter = try self.format == .png ? Self.converter() : nil
            let svg: String
            do {
                let file = try TraceFile(contentsOf: self.trace)
                svg = try TraceChart(file.records).svg(width: Double(self.width))
            } catch let error as TraceError {
                ProgressDisplay.write("Error: \(self.trace): \(error.description)\n")
                throw ExitCode.unusableTrace
            } catch let error as ChartError {
                ProgressDisplay.write("Error: \(self.trace): \(error.description)\n")
                throw ExitCode.unusableTrace
            }
            do throws(ChartError) {
                if let converter {
                    try converter.convert(svg, to: self.output)
                } else {
                    do {
                        try Data(svg.utf8).write(to: URL(filePath: self.output), options: .atomic)
                    } catch {
                        throw ChartError(.unwritable, "cannot write \(self.output): \(error.localizedDescription)")
                    }
                }
            } catch {
                ProgressDisplay.write("Error: \(error.description)\n")
                throw ExitCode.unusableTrace
            }
        }

        /// `rsvg-convert`, or a one-line usage error naming its Debian package.
        static func converter() throws -> PNGConverter {
            do throws(ChartError) {
                return try PNGConverter()
            } catch {
                ProgressDisplay.write("Error: \(error.description)\n")
                throw ExitCode.validationFailure
            }
        }
    }
}
