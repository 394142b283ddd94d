import Testing

@testable import Cluster

/// Node files are held one scalar per byte, so that any bytes come back exactly when written (issue 9).
@Suite struct ByteTextTests {
    @Test func everyByteRoundTrips() {
        let bytes = (0...255).map(UInt8.init) + [0xE9, 0x0D, 0x0A, 0xFF, 0xC3, 0xA9]
        #expect(ByteText.encode(ByteText.decode(bytes)) == bytes)
    }

    @Test(arguments: [
        "CLUSTER_TIMEOUT \"10\"\n", "# no final newline", "# crlf\r\nCFCP \"cfcp\"\r\n", "", "\u{0}\u{7F}",
    ])
    func asciiIsTheSameEitherWay(text: String) {
        #expect(ByteText.decode(Array(text.utf8)) == text)
        #expect(ByteText.encode(text) == Array(text.utf8))
    }

    /// UTF-8 in a file (a password, a comment) is two bytes there and two scalars here: written back as it was.
    @Test func utf8InAFileStaysItsBytes() {
        let bytes = Array("# café\n".utf8)
        let text = ByteText.decode(bytes)
        #expect(text.unicodeScalars.count == bytes.count)
        #expect(ByteText.encode(text) == bytes)
    }

    @Test func theUploadCarriesTheFilesBytesAndTheirChecksum() {
        let bytes: [UInt8] = [0x23, 0x20, 0xE9, 0x0D, 0x0A, 0x78]
        let upload = ByteText.encode(RemoteFile.upload(Secret(ByteText.decode(bytes))).revealedValue)
        let header = "\(RemoteFile.checksum(bytes)) \(bytes.count)\n"
        #expect(upload == Array(header.utf8) + bytes)
    }

    @Test func aRemoteResultKeepsTheBytes() {
        let result = RemoteResult(exitStatus: 0, standardOutputBytes: [0x61, 0xE9, 0x0A], standardError: "")
        #expect(result.standardOutputBytes == [0x61, 0xE9, 0x0A])
        #expect(result.standardOutput == "a\u{FFFD}\n")
    }

    @Test func aHostNameMustBeASCII() {
        #expect(throws: ClusterError.self) {
            try ClusterConfiguration(yaml: "hosts: [{name: hôte, uri: 'qemu+tcp://a/system', address: 192.0.2.1}]\n")
        }
    }
}
