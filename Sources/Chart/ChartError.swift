/// An error from the Chart layer: a trace that gives nothing to draw, or a picture that cannot be made or written.
public struct ChartError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; an open set, like swift-system's `Errno`.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The code's name, for example `converterMissing`.
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String {
            self.rawValue
        }

        /// The trace has no line a chart can show (no phase, no sample, no outcome).
        public static let nothingToDraw = Code(rawValue: "nothingToDraw")
        /// PNG was asked for and `rsvg-convert` (Debian package librsvg2-bin) is not installed.
        public static let converterMissing = Code(rawValue: "converterMissing")
        /// `rsvg-convert` ran and failed.
        public static let conversionFailed = Code(rawValue: "conversionFailed")
        /// The picture could not be written.
        public static let unwritable = Code(rawValue: "unwritable")

        /// Matches an error against a code, so that `catch ChartError.Code.converterMissing` works.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? ChartError)?.code == code
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, in words a user can act on.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        self.message
    }
}
