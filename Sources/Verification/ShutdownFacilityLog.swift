import Cluster
import Foundation

/// When SF last tested each agent, from its log.
///
/// `sdtool -s` shows a test's result but not its time, and SF re-tests only every few minutes (about 10), so a
/// TestWorked row may predate the guest's move. The time is in SF's log, `/var/opt/SMAWsf/log/rcsd.log` (the path
/// is in the manuals [C]). Its line layout is not documented in reach [I]; this is the one place that reads it:
/// a line that starts with the node's local time `YYYY-MM-DD HH:MM:SS` and says `NODE AGENT: TestWorked` or
/// `NODE AGENT: TestFailed` (the agent as `sdtool -s` prints it, with or without `.so`). Other lines are ignored,
/// so a richer real log still reads.
public struct ShutdownFacilityLog: Sendable, Hashable {
    /// The log's path on a node.
    public static let path = "/var/opt/SMAWsf/log/rcsd.log"

    /// The latest test of one agent of one node.
    public struct TestResult: Sendable, Hashable {
        public var node: String
        /// The agent's name without `.so`.
        public var agent: String
        /// When, by the node's clock, in seconds since the epoch.
        public var time: Double
        public var worked: Bool

        public init(node: String, agent: String, time: Double, worked: Bool) {
            self.node = node
            self.agent = agent
            self.time = time
            self.worked = worked
        }
    }

    /// The latest result per (node, agent), in the order first seen.
    public var results: [TestResult]

    public init(results: [TestResult]) {
        self.results = results
    }

    /// Reads log lines; `zoneOffset` is the node's offset from UTC in seconds (`date +%z`).
    public init(parsing text: String, zoneOffset: Int) {
        var latest: [String: TestResult] = [:]
        var order: [String] = []
        for line in text.split(separator: "\n") {
            guard let result = Self.result(in: line, zoneOffset: zoneOffset) else { continue }
            let key = result.node + " " + result.agent
            if latest[key] == nil { order.append(key) }
            if let seen = latest[key], seen.time > result.time { continue }
            latest[key] = result
        }
        self.results = order.compactMap { latest[$0] }
    }

    /// The latest test of `agent` (with or without `.so`) of `node`.
    public func latest(node: String, agent: String) -> TestResult? {
        let base = ClusterFormat.baseAgentName(agent)
        return self.results.first { $0.node == node && $0.agent == base }
    }

    static func result(in line: Substring, zoneOffset: Int) -> TestResult? {
        guard let time = Self.time(atStartOf: line) else { return nil }
        let message = line.dropFirst(19)
        // The first result word in the line: a reason after it may quote another.
        let found = [(": TestWorked", true), (": TestFailed", false)].compactMap { marker, worked in
            message.range(of: marker).map { ($0, worked) }
        }
        guard let (range, worked) = found.min(by: { $0.0.lowerBound < $1.0.lowerBound }) else { return nil }
        // "… NODE AGENT" right before it.
        let words = message[..<range.lowerBound].split(separator: " ")
        guard words.count >= 2 else { return nil }
        return TestResult(
            node: String(words[words.count - 2]),
            agent: ClusterFormat.baseAgentName(String(words[words.count - 1])),
            time: time - Double(zoneOffset),
            worked: worked
        )
    }

    /// `YYYY-MM-DD HH:MM:SS` at the start of a line, read as UTC: seconds since the epoch.
    static func time(atStartOf line: Substring) -> Double? {
        let digits = Array(line.utf8.prefix(19))
        guard digits.count == 19 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in digits[range] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard digits[4] == 45, digits[7] == 45, digits[10] == 32, digits[13] == 58, digits[16] == 58,
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        return Double(
            Self.daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        )
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
