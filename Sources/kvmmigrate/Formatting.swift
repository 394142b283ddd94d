import Foundation

/// Human-readable figures for the terminal: binary units, short durations.
enum Format {
    static func bytes(_ value: UInt64?) -> String {
        guard let value else { return "-" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024, unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : String(format: "%.1f %@", amount, units[unit])
    }

    static func rate(_ bytesPerSecond: UInt64?) -> String {
        bytesPerSecond.map { self.bytes($0) + "/s" } ?? "-"
    }

    static func duration(_ value: Duration?) -> String {
        guard let value else { return "-" }
        let milliseconds = Double(value / .microseconds(1)) / 1000
        if milliseconds < 1000 { return String(format: "%.0f ms", milliseconds) }
        let seconds = milliseconds / 1000
        if seconds < 60 { return String(format: "%.2f s", seconds) }
        return String(format: "%d min %02d s", Int(seconds) / 60, Int(seconds) % 60)
    }

    /// `mm:ss.t` for the live progress line.
    static func clock(_ value: Duration) -> String {
        let tenths = Int(value / .milliseconds(100))
        return String(format: "%02d:%02d.%d", tenths / 600, tenths / 10 % 60, tenths % 10)
    }

    static func milliseconds(_ value: Duration?) -> Int64? {
        value.map { Int64(($0 / .milliseconds(1)).rounded()) }
    }
}

extension Format {
    /// `text` broken at spaces into lines of at most `width` columns (display columns, see ``Columns``); a word
    /// longer than that stays whole.
    static func wrapped(_ text: String, width: Int) -> [String] {
        width > 10 ? Columns.wrapped(text, width: width) : [text]
    }
}
