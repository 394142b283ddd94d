import Foundation

/// A hand-written SVG document, element by element: numbers rounded to a tenth of a pixel and text escaped, so the
/// output is small, valid XML and the same on every run.
struct SVGDocument {
    let width: Double
    var height: Double
    private var body: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// The whole document, with a white background.
    var text: String {
        let size = "width=\"\(Self.number(self.width))\" height=\"\(Self.number(self.height))\""
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" \(size) viewBox="0 0 \(Self.number(self.width)) \
            \(Self.number(self.height))" font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="#ffffff"/>

            """ + self.body.joined(separator: "\n") + "\n</svg>\n"
    }

    /// Adds an element: `name` with its attributes (in this order), and text content when given.
    mutating func add(_ name: String, _ attributes: [(String, String)], text: String? = nil) {
        let list = attributes.map { " \($0.0)=\"\(Self.escaped($0.1))\"" }.joined()
        if let text {
            self.body.append("<\(name)\(list)>\(Self.escaped(text))</\(name)>")
        } else {
            self.body.append("<\(name)\(list)/>")
        }
    }

    /// Adds raw markup that the caller built from escaped parts (a group's start or end).
    mutating func raw(_ markup: String) {
        self.body.append(markup)
    }

    mutating func line(
        _ x1: Double,
        _ y1: Double,
        _ x2: Double,
        _ y2: Double,
        stroke: String,
        width: Double = 1,
        dash: String? = nil
    ) {
        var attributes = [
            ("x1", Self.number(x1)), ("y1", Self.number(y1)), ("x2", Self.number(x2)), ("y2", Self.number(y2)),
            ("stroke", stroke), ("stroke-width", Self.number(width)),
        ]
        if let dash { attributes.append(("stroke-dasharray", dash)) }
        self.add("line", attributes)
    }

    mutating func rectangle(
        _ x: Double,
        _ y: Double,
        _ width: Double,
        _ height: Double,
        fill: String,
        stroke: String? = nil,
        title: String? = nil,
        class name: String? = nil
    ) {
        var attributes = name.map { [("class", $0)] } ?? []
        attributes += [
            ("x", Self.number(x)), ("y", Self.number(y)), ("width", Self.number(max(width, 0))),
            ("height", Self.number(max(height, 0))), ("fill", fill),
        ]
        if let stroke { attributes.append(("stroke", stroke)) }
        if let title {
            let list = attributes.map { " \($0.0)=\"\(Self.escaped($0.1))\"" }.joined()
            self.body.append("<rect\(list)><title>\(Self.escaped(title))</title></rect>")
        } else {
            self.add("rect", attributes)
        }
    }

    /// Text at `x`, `y` (its baseline); `anchor` is `start`, `middle` or `end`.
    mutating func text(
        _ text: String,
        _ x: Double,
        _ y: Double,
        anchor: String = "start",
        size: Double? = nil,
        fill: String = "#222222",
        weight: String? = nil,
        rotate: Double? = nil,
        class name: String? = nil
    ) {
        var attributes = name.map { [("class", $0)] } ?? []
        attributes += [("x", Self.number(x)), ("y", Self.number(y))]
        if anchor != "start" { attributes.append(("text-anchor", anchor)) }
        if let size { attributes.append(("font-size", Self.number(size))) }
        attributes.append(("fill", fill))
        if let weight { attributes.append(("font-weight", weight)) }
        if let rotate {
            attributes.append(("transform", "rotate(\(Self.number(rotate)) \(Self.number(x)) \(Self.number(y)))"))
        }
        self.add("text", attributes, text: text)
    }

    /// A polyline through `points` as one path: `M` then one `L` per further point.
    mutating func path(_ points: [(x: Double, y: Double)], stroke: String, width: Double, class name: String) {
        guard let first = points.first else { return }
        var data = "M\(Self.number(first.x)),\(Self.number(first.y))"
        for point in points.dropFirst() { data += " L\(Self.number(point.x)),\(Self.number(point.y))" }
        self.add(
            "path",
            [
                ("class", name), ("d", data), ("fill", "none"), ("stroke", stroke),
                ("stroke-width", Self.number(width)), ("stroke-linejoin", "round"),
            ]
        )
    }

    /// A number to a tenth, without a trailing `.0`.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let tenths = (value * 10).rounded()
        if tenths.truncatingRemainder(dividingBy: 10) == 0 { return String(Int64(tenths / 10)) }
        return String(tenths / 10)
    }

    /// Text and attribute values with XML's five special characters escaped, and control characters dropped.
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\t", "\n": result += " "
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0xFFFE
                    || scalar.value == 0xFFFF
                {
                    continue
                }
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
