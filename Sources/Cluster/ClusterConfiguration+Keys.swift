import Yams

/// The keys a cluster configuration may have, and the check that it has no other: a misspelt key (`cf_timeout:
/// 900`) would otherwise be ignored and its default used without a word.
extension ClusterConfiguration {
    /// What a YAML value of the configuration may hold.
    indirect enum Shape: Sendable {
        /// A scalar, a list of scalars, or anything else the decoder checks.
        case value
        /// A mapping with exactly these keys allowed (each optional here; the decoder says what is required).
        case mapping([String: Shape])
        /// A mapping whose keys are the operator's own (node names), each value of this shape.
        case freeMapping(Shape)
        /// A list whose every element has this shape.
        case list(Shape)
    }

    /// The file's keys, as `Fixtures/cluster.yaml` documents them.
    static let shape = Shape.mapping([
        "mode": .value,
        "ssh": .mapping([
            "config": .value, "user": .value, "identity": .value, "connect-timeout": .value, "options": .value,
        ]),
        "nodes": .freeMapping(.value),
        "hosts": .list(.mapping(["name": .value, "uri": .value, "address": .value, "weight": .value])),
        "cf-timeout": .value,
        "verify": .mapping(["timeout": .value, "retries": .value, "clock-tolerance": .value]),
        "journal": .value,
        "metrics-file": .value,
    ])

    /// Refuses a key the configuration does not know, naming where it is and the key meant when it is close to
    /// one (`cf_timeout` → `cf-timeout`).
    ///
    /// - Throws: ``ClusterError`` with ``ClusterError/Code/malformedFile``.
    static func checkKeys(of text: String) throws(ClusterError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            // Not YAML at all: the decoder says so in its own words.
            return
        }
        guard let root else { return }
        try self.check(root, against: self.shape, at: [])
    }

    private static func check(_ node: Node, against shape: Shape, at path: [String]) throws(ClusterError) {
        switch (shape, node) {
        case (.mapping(let keys), .mapping(let mapping)):
            for (key, value) in mapping {
                let name = key.string ?? "\(key)"
                guard let inner = keys[name] else {
                    let place = path.isEmpty ? "" : " in \(path.joined(separator: "."))"
                    let hint = self.closest(to: name, among: keys.keys).map { " (did you mean '\($0)'?)" } ?? ""
                    let known = keys.keys.sorted().joined(separator: ", ")
                    throw ClusterError(.malformedFile, "unknown key '\(name)'\(place)\(hint); known keys: \(known)")
                }
                try self.check(value, against: inner, at: path + [name])
            }
        case (.freeMapping(let inner), .mapping(let mapping)):
            for (key, value) in mapping {
                try self.check(value, against: inner, at: path + [key.string ?? "\(key)"])
            }
        case (.list(let inner), .sequence(let sequence)):
            for (index, element) in sequence.enumerated() {
                try self.check(element, against: inner, at: path.dropLast() + ["\(path.last ?? "")[\(index)]"])
            }
        default:
            // A value of the wrong kind: the decoder names it.
            return
        }
    }

    /// The known key that `key` most likely meant: the same once `_` and `-` and case are set aside, or at most
    /// two edits away.
    static func closest(to key: String, among keys: some Sequence<String>) -> String? {
        func normal(_ text: String) -> String { text.lowercased().replacing("_", with: "-") }
        let candidates = Array(keys).sorted()
        if let same = candidates.first(where: { normal($0) == normal(key) }) { return same }
        let scored = candidates.map { ($0, self.editDistance(normal($0), normal(key))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return best.0
    }

    /// Levenshtein distance between two short strings.
    private static func editDistance(_ first: String, _ second: String) -> Int {
        let first = Array(first)
        let second = Array(second)
        var previous = Array(0...second.count)
        for (row, character) in first.enumerated() {
            var current = [row + 1]
            for (column, other) in second.enumerated() {
                current.append(
                    min(previous[column + 1] + 1, current[column] + 1, previous[column] + (character == other ? 0 : 1))
                )
            }
            previous = current
        }
        return previous[second.count]
    }
}
