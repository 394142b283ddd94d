/// Node files as kvmmigrate holds them: one Unicode scalar per byte (ISO 8859-1), so that any bytes a file has
/// (comments in another encoding, CRLF, no final newline, passwords in UTF-8) come back exactly when it is written.
///
/// PRIMECLUSTER's files are ASCII where their format is defined, so parsing and editing see the same characters
/// either way; decoding them as UTF-8 would turn every byte that is not UTF-8 into U+FFFD and a restore would write
/// that back instead of what the node had. What kvmmigrate inserts into a file (host names, addresses, numbers) is
/// ASCII (``ClusterConfiguration`` refuses anything else), which is the same in both.
public enum ByteText {
    /// `bytes` with each byte as the scalar of the same value.
    public static func decode(_ bytes: some Sequence<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }

    /// The bytes `text` stands for: each scalar up to U+00FF as that byte. A larger scalar cannot come from
    /// ``decode(_:)``; it is written as UTF-8, as the text means it.
    public static func encode(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if scalar.value <= 0xFF {
                bytes.append(UInt8(scalar.value))
            } else {
                bytes.append(contentsOf: Array(String(scalar).utf8))
            }
        }
        return bytes
    }
}
