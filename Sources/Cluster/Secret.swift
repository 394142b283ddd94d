/// A value that must not be shown: a password from one of the shutdown agents' files.
///
/// `description`, `debugDescription`, string interpolation, `print`, `dump` and `Mirror` all show ``masked``
/// instead of the value, including when the secret is a property of a larger value. `Secret` is deliberately not
/// `Encodable`, so it can't end up in JSON by accident; read the value only through ``revealedValue``, where it is
/// written back to a file.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// What is shown in place of any secret.
    public static let masked = "********"

    private let value: String

    /// Wraps a value that must not be shown.
    public init(_ value: String) {
        self.value = value
    }

    /// The value itself. Use it only to write the secret where it belongs, never to show it.
    public var revealedValue: String {
        self.value
    }

    /// ``masked``, never the value.
    public var description: String {
        Self.masked
    }

    /// ``masked``, never the value.
    public var debugDescription: String {
        Self.masked
    }

    /// A mirror without children, so that `dump` and reflection don't reach the value.
    public var customMirror: Mirror {
        Mirror(self, children: [], displayStyle: nil)
    }
}
