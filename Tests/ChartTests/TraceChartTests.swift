import Foundation
import Testing
import Trace

@testable import Chart

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The elements of an SVG document, as XMLParser reads it.
final class SVGElements: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var texts: [String] = []
    private var text = ""

    /// Parses `svg`; `nil` when XMLParser finds it malformed.
    static func parse(_ svg: String) -> SVGElements? {
        let collector = SVGElements()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        return parser.parse() ? collector : nil
    }

    func parser(
        _ parser: XMLParser,
        didStartElement name: String,
        namespaceURI: String?,
        qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        self.elements.append((name, attributes))
        self.text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        self.text += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { self.texts.append(self.text) }
        self.text = ""
    }

    func elements(named name: String, class className: String) -> [[String: String]] {
        self.elements.filter { $0.name == name && $0.attributes["class"] == className }.map(\.attributes)
    }

    /// The points of the path of `className`: its `M` and `L` commands.
    func pathPoints(_ className: String) -> Int {
        guard let data = self.elements(named: "path", class: className).first?["d"] else { return 0 }
        return data.split(separator: " ").count
    }
}

/// A run as a trace: checks, prepare with cluster steps, a migration with `passes` passes of `samplesPerPass`
/// samples each (remaining falling, or not when `converging` is false), policy steps, restore, verify, outcome.
func run(
    passes: Int = 3,
    samplesPerPass: Int = 4,
    converging: Bool = true,
    policySteps: [String] = [],
    status: String = "migrated"
) -> [TraceRecord] {
    var records: [TraceRecord] = []
    var start = TraceRecord(.start, at: 0)
    start.command = "migrate"
    start.domain = "domain1"
    records.append(start)
    func phase(_ name: String, _ time: Double) -> TraceRecord {
        var record = TraceRecord(.phase, at: time)
        record.name = name
        return record
    }
    records.append(phase("checks", 0))
    records.append(phase("prepare", 0.2))
    for (node, time) in [("guest1", 0.5), ("guest2", 0.6)] {
        var step = TraceRecord(.cluster, at: time)
        step.node = node
        step.name = "sf-stopped"
        step.message = "shutdown facility stopped"
        records.append(step)
    }
    var migrating = phase("migrating", 1)
    migrating.sourceHost = "hostA"
    migrating.destinationHost = "hostB"
    migrating.policy = "balanced"
    records.append(migrating)
    var time = 1.0
    var remaining: UInt64 = 256 << 20
    for pass in 1...passes {
        var passRecord = TraceRecord(.pass, at: time)
        passRecord.pass = pass
        passRecord.dataRemainingBytes = remaining
        records.append(passRecord)
        for _ in 0..<samplesPerPass {
            var sample = TraceRecord(.sample, at: time)
            sample.migrationPhase = "pre_copy"
            sample.pass = pass
            sample.dataProcessedBytes = UInt64(time * 50) << 20
            sample.dataRemainingBytes = remaining
            sample.dataTotalBytes = 256 << 20
            sample.dirtyRateBytesPerSecond = converging ? 4 << 20 : 64 << 20
            sample.transferRateBytesPerSecond = 50 << 20
            records.append(sample)
            remaining = converging ? remaining / 2 : (remaining == 60 << 20 ? 20 << 20 : 60 << 20)
            time += 0.25
        }
    }
    for (index, name) in policySteps.enumerated() {
        var step = TraceRecord(.policy, at: 1.5 + Double(index))
        step.name = name
        step.detail = "pass \(index + 2) stalled: \(name) <&> \"quoted\""
        records.append(step)
    }
    records.append(phase("switch-over", time))
    records.append(TraceRecord(.migrationEnd, at: time + 0.1))
    records.append(phase("restore", time + 0.1))
    records.append(phase("verify", time + 1))
    var downtime = TraceRecord(.downtime, at: time + 2)
    downtime.downtimeMilliseconds = 117
    downtime.memoryPasses = passes
    records.append(downtime)
    var outcome = TraceRecord(.outcome, at: time + 2)
    outcome.status = status
    outcome.domain = "domain1"
    outcome.sourceHost = "hostA"
    outcome.destinationHost = "hostB"
    outcome.runningOn = status == "migrated" ? "destination" : "source"
    records.append(outcome)
    return records
}

@Suite struct TraceChartTests {
    @Test func theSVGIsXMLWithOnePathPointPerSample() throws {
        let records = run(passes: 3, samplesPerPass: 5)
        let svg = try TraceChart(records).svg()
        let parsed = try #require(SVGElements.parse(svg), "XMLParser refuses the SVG")
        #expect(parsed.elements.first?.name == "svg")
        let samples = records.filter { $0.kind == .sample }.count
        #expect(parsed.pathPoints("remaining") == samples)
        #expect(parsed.pathPoints("dirty-rate") == samples)
        #expect(parsed.pathPoints("transfer-rate") == samples)
    }

    @Test func theTitleNamesTheDomainTheHostsAndTheOutcome() throws {
        let parsed = try #require(SVGElements.parse(try TraceChart(run()).svg()))
        #expect(parsed.texts.contains("domain1: hostA → hostB, migrated"))
        #expect(parsed.texts.contains("switch-over: downtime 117 ms"))
        #expect(parsed.texts.contains { $0.contains("downtime 117 ms · 3 memory passes") })
    }

    @Test func passesAreAlternateBandsWithTheirNumbers() throws {
        let chart = try TraceChart(run(passes: 6, samplesPerPass: 8))
        #expect(chart.passes.map(\.pass) == Array(1...6))
        // Each band ends where the next begins; the last at the switch-over.
        for (band, next) in zip(chart.passes, chart.passes.dropFirst()) {
            #expect(band.span.upperBound == next.span.lowerBound)
        }
        let parsed = try #require(SVGElements.parse(chart.svg()))
        // Every other pass shaded, in both panels.
        #expect(parsed.elements(named: "rect", class: "pass-band").count == 3 * 2)
        #expect(parsed.elements(named: "text", class: "pass-number").count == 6)
    }

    @Test func policyStepsAreNumberedMarksWithTheirDetail() throws {
        let records = run(passes: 8, converging: false, policySteps: ["downtime", "downtime", "post_copy"])
        let parsed = try #require(SVGElements.parse(try TraceChart(records).svg()))
        #expect(parsed.elements(named: "g", class: "policy-step").count == 3)
        // The detail is escaped in the SVG and read back as it was.
        #expect(parsed.texts.contains { $0.contains("post_copy <&> \"quoted\"") })
    }

    @Test func aRunThatNeverConvergesDrawsFine() throws {
        let records = run(passes: 40, samplesPerPass: 6, converging: false, policySteps: ["timeout"], status: "aborted")
        let chart = try TraceChart(records)
        #expect(chart.failed)
        let parsed = try #require(SVGElements.parse(chart.svg()))
        #expect(parsed.texts.contains("domain1: hostA → hostB, aborted"))
        #expect(parsed.pathPoints("remaining") == 40 * 6)
        // No coordinate is outside the picture, and none is not a number.
        let paths = parsed.elements.filter { $0.name == "path" }.compactMap { $0.attributes["d"] }
        for data in paths {
            for number in data.split(whereSeparator: { " ,ML".contains($0) }) {
                let value = try #require(Double(number))
                #expect(value.isFinite && value >= 0 && value <= 960)
            }
        }
    }

    @Test func aRefusedRunHasATimelineAndNoCurves() throws {
        var start = TraceRecord(.start, at: 0)
        start.domain = "domain9"
        var checks = TraceRecord(.phase, at: 0)
        checks.name = "checks"
        var outcome = TraceRecord(.outcome, at: 0.4)
        outcome.status = "refused"
        outcome.message = "domain9: no such domain"
        let parsed = try #require(SVGElements.parse(try TraceChart([start, checks, outcome]).svg()))
        #expect(parsed.texts.contains("domain9, refused"))
        #expect(parsed.texts.contains { $0.contains("no job statistics") })
    }

    @Test func aTraceWithNothingToDrawIsRefused() {
        let error = #expect(throws: ChartError.self) { try TraceChart([TraceRecord(.start, at: 0)]) }
        #expect(error?.code == .nothingToDraw)
    }

    @Test func aLongRunIsThinnedToTheLimit() throws {
        let chart = try TraceChart(run(passes: 50, samplesPerPass: 100))
        #expect(chart.points.count <= TraceChart.maximumPoints + 1)
        #expect(chart.points.last?.time == run(passes: 50, samplesPerPass: 100).last { $0.kind == .sample }?.time)
    }

    @Test func textIsEscapedForXML() {
        #expect(SVGDocument.escaped("a<b & \"c\" 'd'>\u{1}") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
    }

    @Test func pngWithoutRsvgConvertNamesThePackage() {
        let error = #expect(throws: ChartError.self) { try PNGConverter(searchPath: "/nonexistent-kvmm") }
        #expect(error?.code == .converterMissing)
        #expect(error?.description.contains("librsvg2-bin") == true)
    }

    @Test(.enabled(if: (try? PNGConverter()) != nil, "rsvg-convert is not installed"))
    func pngIsTheSVGRasterised() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "kvmm-chart-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: directory) }
        try PNGConverter().convert(try TraceChart(run()).svg(), to: directory.path)
        let bytes = try Data(contentsOf: directory)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }
}
