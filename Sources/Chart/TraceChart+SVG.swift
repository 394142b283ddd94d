import Foundation

extension TraceChart {
    /// The colours of the picture, one place to change them.
    enum Palette {
        static let remaining = "#1f77b4"
        static let dirtyRate = "#e8710a"
        static let transferRate = "#2ca02c"
        static let policy = "#8e24aa"
        static let downtime = "#d62728"
        static let grid = "#e3e3e3"
        static let axis = "#888888"
        static let band = "#f1f3f6"
        static let muted = "#666666"

        static func phase(_ name: String) -> String {
            switch name {
            case "checks": "#9e9e9e"
            case "prepare", "restore": "#7e57c2"
            case "migrating": "#1f77b4"
            case "switch-over": "#d62728"
            case "post-copy": "#e8710a"
            case "verify": "#2ca02c"
            default: "#757575"
            }
        }
    }

    /// The picture as an SVG document `width` pixels wide (at least 480).
    ///
    /// From the top: the title (domain, hosts, outcome) and the run's figures; the timeline, one row per phase
    /// (a labelled bar with its length) and per cluster step (a tick for each node that did it); the policy steps'
    /// numbered marks; data remaining (MiB) over time; the dirty rate and the transfer rate (MiB/s) over time;
    /// the time axis; the policy steps' details, numbered as their marks. Memory passes are shaded bands, every
    /// other one, with their number; the downtime is a red line at the migration's end.
    public func svg(width: Double = 960) -> String {
        let width = max(width, 480)
        let left = 132.0
        let right = 24.0
        let plotWidth = width - left - right
        let scaleX = { (time: Double) -> Double in left + min(max(time, 0), self.duration) / self.duration * plotWidth }
        let timeStep = Self.niceStep(self.duration, ticks: max(4, Int(plotWidth / 90)))

        var document = SVGDocument(width: width, height: 0)
        // MARK: Title
        document.text(self.title, left, 24, size: 16, fill: self.failed ? Palette.downtime : "#111111", weight: "bold")
        var y = 42.0
        for line in Self.wrap(self.subtitle, width: width - left - right, size: 11.5) {
            document.text(line, left, y, size: 11.5, fill: "#444444")
            y += 15
        }

        // MARK: Timeline
        let rowHeight = 17.0
        let timelineTop = y + 4
        let timelineHeight = Double(self.rows.count) * rowHeight
        for tick in stride(from: 0, through: self.duration, by: timeStep) {
            document.line(scaleX(tick), timelineTop, scaleX(tick), timelineTop + timelineHeight, stroke: Palette.grid)
        }
        for (index, row) in self.rows.enumerated() {
            let rowTop = timelineTop + Double(index) * rowHeight
            let middle = rowTop + rowHeight / 2
            let labelColour = row.failed ? Palette.downtime : (row.kind == .phase ? "#222222" : Palette.muted)
            document.text(
                row.label,
                left - 8,
                middle + 4,
                anchor: "end",
                size: row.kind == .phase ? 12 : 11,
                fill: labelColour,
                weight: row.kind == .phase ? "bold" : nil
            )
            switch row.kind {
            case .phase:
                for span in row.spans {
                    let x = scaleX(span.lowerBound)
                    let barWidth = max(scaleX(span.upperBound) - x, 1.5)
                    document.rectangle(
                        x,
                        rowTop + 3,
                        barWidth,
                        rowHeight - 6,
                        fill: Palette.phase(row.label),
                        title: "\(row.label): \(Self.seconds(span.upperBound - span.lowerBound))"
                    )
                    let label = Self.seconds(span.upperBound - span.lowerBound)
                    let labelWidth = Self.textWidth(label, size: 10.5)
                    if x + barWidth + 4 + labelWidth <= width - 2 {
                        document.text(label, x + barWidth + 4, middle + 4, size: 10.5, fill: Palette.muted)
                    } else {
                        document.text(label, x - 4, middle + 4, anchor: "end", size: 10.5, fill: Palette.muted)
                    }
                }
            case .clusterStep:
                let colour = row.failed ? Palette.downtime : (row.warning ? "#c79100" : "#555555")
                if let first = row.ticks.min(), let last = row.ticks.max(), last > first {
                    document.line(scaleX(first), middle, scaleX(last), middle, stroke: colour, width: 1)
                }
                for tick in row.ticks {
                    document.line(
                        scaleX(tick),
                        rowTop + 3,
                        scaleX(tick),
                        rowTop + rowHeight - 3,
                        stroke: colour,
                        width: 2
                    )
                }
                let count = row.ticks.count
                if count > 1, let last = row.ticks.max() {
                    document.text("×\(count)", scaleX(last) + 5, middle + 4, size: 10, fill: Palette.muted)
                }
            }
        }
        y = timelineTop + timelineHeight + 6

        // MARK: Policy marks (numbered, staggered where they would touch)
        let markRadius = 7.0
        var markLevels: [Int] = []
        var levelEnds: [Double] = []
        for mark in self.policyMarks {
            let x = scaleX(mark.time)
            var level = levelEnds.firstIndex { x - $0 >= markRadius * 2 + 2 } ?? levelEnds.count
            if level >= 3 { level = 2 }
            if level < levelEnds.count { levelEnds[level] = x } else { levelEnds.append(x) }
            markLevels.append(level)
        }
        let markStripTop = y
        let markStripHeight = self.policyMarks.isEmpty ? 0 : Double(max(levelEnds.count, 1)) * (markRadius * 2 + 3) + 2
        y += markStripHeight

        // MARK: Panels
        let remainingTop = y + 6
        let remainingHeight = 190.0
        let ratesTop = remainingTop + remainingHeight + 22
        let ratesHeight = 150.0
        let panels = [(remainingTop, remainingHeight), (ratesTop, ratesHeight)]

        for (top, height) in panels {
            for (index, band) in self.passes.enumerated() where index % 2 == 0 {
                let x = scaleX(band.span.lowerBound)
                document.rectangle(
                    x,
                    top,
                    max(scaleX(band.span.upperBound) - x, 0.5),
                    height,
                    fill: Palette.band,
                    class: "pass-band"
                )
            }
            for tick in stride(from: 0, through: self.duration, by: timeStep) {
                document.line(scaleX(tick), top, scaleX(tick), top + height, stroke: Palette.grid)
            }
        }
        // Pass numbers along the top of the first panel, where there is room for them.
        var lastLabelEnd = -Double.infinity
        for band in self.passes {
            let x = scaleX(band.span.lowerBound)
            let centre = (x + scaleX(band.span.upperBound)) / 2
            let label = "\(band.pass)"
            let labelWidth = Self.textWidth(label, size: 10)
            guard centre - labelWidth / 2 >= lastLabelEnd + 3 else { continue }
            document.text(
                label,
                centre,
                remainingTop + 12,
                anchor: "middle",
                size: 10,
                fill: Palette.muted,
                class: "pass-number"
            )
            lastLabelEnd = centre + labelWidth / 2
        }
        if !self.passes.isEmpty {
            document.text("memory pass", left + 2, remainingTop - 3, size: 9.5, fill: Palette.muted)
        }

        let remainingValues = self.points.compactMap(\.remainingMiB)
        let rateValues = self.points.flatMap {
            [$0.dirtyRateMiBPerSecond, $0.transferRateMiBPerSecond].compactMap { $0 }
        }
        let remainingAxis = Self.axis(maximum: remainingValues.max() ?? 0)
        let ratesAxis = Self.axis(maximum: rateValues.max() ?? 0)
        for (top, height, axis, label) in [
            (remainingTop, remainingHeight, remainingAxis, "data remaining (MiB)"),
            (ratesTop, ratesHeight, ratesAxis, "rate (MiB/s)"),
        ] {
            for value in stride(from: 0, through: axis.maximum + axis.step / 2, by: axis.step) {
                let tickY = top + height - value / axis.maximum * height
                document.line(left - 4, tickY, left, tickY, stroke: Palette.axis)
                if value > 0 { document.line(left, tickY, left + plotWidth, tickY, stroke: Palette.grid, dash: "2,3") }
                document.text(Self.tickLabel(value, step: axis.step), left - 7, tickY + 4, anchor: "end", size: 10.5)
            }
            document.rectangle(left, top, plotWidth, height, fill: "none", stroke: Palette.axis)
            document.text(label, 16, top + height / 2, anchor: "middle", size: 11.5, rotate: -90)
        }
        if self.points.isEmpty {
            document.text(
                "no job statistics in this trace (the migration did not run)",
                left + plotWidth / 2,
                remainingTop + remainingHeight / 2,
                anchor: "middle",
                fill: Palette.muted
            )
        }

        func curve(
            _ value: (Point) -> Double?,
            top: Double,
            height: Double,
            maximum: Double
        ) -> [(x: Double, y: Double)] {
            self.points.compactMap { point in
                value(point).map { (scaleX(point.time), top + height - min($0, maximum) / maximum * height) }
            }
        }
        document.path(
            curve(\.transferRateMiBPerSecond, top: ratesTop, height: ratesHeight, maximum: ratesAxis.maximum),
            stroke: Palette.transferRate,
            width: 1.6,
            class: "transfer-rate"
        )
        document.path(
            curve(\.dirtyRateMiBPerSecond, top: ratesTop, height: ratesHeight, maximum: ratesAxis.maximum),
            stroke: Palette.dirtyRate,
            width: 1.8,
            class: "dirty-rate"
        )
        document.path(
            curve(\.remainingMiB, top: remainingTop, height: remainingHeight, maximum: remainingAxis.maximum),
            stroke: Palette.remaining,
            width: 2,
            class: "remaining"
        )
        // Legend of the rates panel, above it (inside, it would hide a curve).
        var legendX = left + plotWidth
        for (label, colour) in [("transfer rate", Palette.transferRate), ("dirty rate", Palette.dirtyRate)] {
            let labelWidth = Self.textWidth(label, size: 10.5)
            document.text(label, legendX, ratesTop - 6, anchor: "end", size: 10.5, fill: colour, weight: "bold")
            legendX -= labelWidth + 24
            document.line(legendX + 2, ratesTop - 10, legendX + 18, ratesTop - 10, stroke: colour, width: 2.5)
            legendX -= 14
        }

        // Policy steps: a dashed line through both panels under each numbered mark.
        for (index, mark) in self.policyMarks.enumerated() {
            let x = scaleX(mark.time)
            let centreY = markStripTop + markRadius + 1 + Double(markLevels[index]) * (markRadius * 2 + 3)
            document.line(x, centreY + markRadius, x, ratesTop + ratesHeight, stroke: Palette.policy, dash: "4,3")
            document.raw("<g class=\"policy-step\">")
            document.add(
                "circle",
                [
                    ("cx", SVGDocument.number(x)), ("cy", SVGDocument.number(centreY)),
                    ("r", SVGDocument.number(markRadius)), ("fill", Palette.policy),
                ]
            )
            document.text(
                "\(index + 1)",
                x,
                centreY + 3.5,
                anchor: "middle",
                size: 9.5,
                fill: "#ffffff",
                weight: "bold"
            )
            document.raw("</g>")
        }

        // The switch-over: the downtime, at the migration's end.
        if let downtime = self.downtime {
            let x = scaleX(downtime.time)
            document.line(x, remainingTop, x, ratesTop + ratesHeight, stroke: Palette.downtime, width: 2)
            let label = "switch-over: downtime \(downtime.milliseconds) ms"
            let labelWidth = Self.textWidth(label, size: 11)
            let fitsRight = x + 6 + labelWidth <= left + plotWidth - 2
            document.text(
                label,
                fitsRight ? x + 6 : x - 6,
                remainingTop + 30,
                anchor: fitsRight ? "start" : "end",
                size: 11,
                fill: Palette.downtime,
                weight: "bold"
            )
        }

        // MARK: Time axis
        let axisY = ratesTop + ratesHeight
        for tick in stride(from: 0, through: self.duration, by: timeStep) {
            document.line(scaleX(tick), axisY, scaleX(tick), axisY + 4, stroke: Palette.axis)
            document.text(Self.tickLabel(tick, step: timeStep), scaleX(tick), axisY + 16, anchor: "middle", size: 10.5)
        }
        document.text(
            "seconds since the operation started",
            left + plotWidth / 2,
            axisY + 32,
            anchor: "middle",
            size: 11.5
        )
        y = axisY + 40

        // MARK: Policy steps, in words
        if !self.policyMarks.isEmpty {
            y += 8
            document.text("convergence policy steps", left, y, size: 11.5, weight: "bold")
            y += 4
            for (index, mark) in self.policyMarks.enumerated() {
                let lines = Self.wrap(
                    "\(Self.seconds(mark.time))  \(mark.detail.isEmpty ? mark.name : mark.detail)",
                    width: plotWidth - 26,
                    size: 11
                )
                for (number, line) in lines.enumerated() {
                    y += 15
                    if number == 0 {
                        document.add(
                            "circle",
                            [
                                ("cx", SVGDocument.number(left + 7)), ("cy", SVGDocument.number(y - 4)), ("r", "7"),
                                ("fill", Palette.policy),
                            ]
                        )
                        document.text("\(index + 1)", left + 7, y - 0.5, anchor: "middle", size: 9.5, fill: "#ffffff")
                    }
                    document.text(line, left + 22, y, size: 11)
                }
            }
            y += 10
        }
        document.height = y + 8
        return document.text
    }

    // MARK: - Scales and text

    /// A step of 1, 2 or 5 times a power of ten that cuts `range` into about `ticks` parts.
    static func niceStep(_ range: Double, ticks: Int) -> Double {
        guard range.isFinite, range > 0 else { return 1 }
        let raw = range / Double(max(ticks, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let normalized = raw / magnitude
        let nice: Double = normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10
        return nice * magnitude
    }

    /// A value axis from 0 to a round maximum at or above `maximum`, with about 5 steps.
    static func axis(maximum: Double) -> (maximum: Double, step: Double) {
        guard maximum.isFinite, maximum > 0 else { return (1, 0.2) }
        let step = self.niceStep(maximum * 1.05, ticks: 5)
        return ((maximum * 1.05 / step).rounded(.up) * step, step)
    }

    /// A tick's label, with as many decimals as the step needs.
    static func tickLabel(_ value: Double, step: Double) -> String {
        let decimals = step >= 1 ? 0 : Int(ceil(-log10(step)))
        return String(format: "%.\(decimals)f", value)
    }

    /// A time span as people read it: `117 ms`, `2.9 s`, `64 s`.
    static func seconds(_ value: Double) -> String {
        if value < 1 { return "\(Int((value * 1000).rounded())) ms" }
        return self.number(value) + " s"
    }

    /// About how wide `text` is in the picture's sans-serif font.
    static func textWidth(_ text: String, size: Double) -> Double {
        Double(text.count) * size * 0.58
    }

    /// `text` broken at spaces into lines of at most `width` pixels.
    static func wrap(_ text: String, width: Double, size: Double) -> [String] {
        let limit = max(Int(width / (size * 0.58)), 10)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if !line.isEmpty && line.count + 1 + word.count > limit {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
