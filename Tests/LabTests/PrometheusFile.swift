import Foundation
import Testing

/// A Prometheus text-format file as Prometheus would read it: parsed by PyPI's prometheus-client
/// (`Fixtures/lab/lab install` puts it in the lab's Python venv).
enum PrometheusFile {
    /// Where `Fixtures/lab/lab install` puts prometheus-client.
    static let python = URL(filePath: "/opt/kvmm-ansible/bin/python")

    /// Prints every sample as JSON: `[family type, sample name, labels, value]`.
    static let parser = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        out = []
        for family in text_string_to_metric_families(open(sys.argv[1]).read()):
            for sample in family.samples:
                out.append([family.type, sample.name, sample.labels, sample.value])
        print(json.dumps(out))
        """

    /// One sample of the parsed file.
    struct Sample {
        var type: String
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// The file as prometheus-client parses it; a file it cannot parse fails the test.
    static func parse(_ path: String) throws -> [Sample] {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
            throw LabError("no \(Self.python.path): run Fixtures/lab/lab install")
        }
        let result = try run(Self.python, ["-c", Self.parser, path])
        #expect(result.exitCode == 0, "prometheus-client cannot parse \(path): \(result.standardError)")
        let rows = try #require(
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[Any]]
        )
        return try rows.map { row in
            Sample(
                type: try #require(row[0] as? String),
                name: try #require(row[1] as? String),
                labels: try #require(row[2] as? [String: String]),
                value: try #require((row[3] as? NSNumber)?.doubleValue)
            )
        }
    }

    /// The value of the sample with this name and exactly these labels, or `nil`.
    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}
