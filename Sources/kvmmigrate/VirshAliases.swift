import ArgumentParser

/// virsh's spellings shared by `migrate` and `check`, hidden from `--help`: `--desturi`, `--migrateuri`, `--live`
/// and `--p2p`. An alias and kvmmigrate's own spelling may both be given only when they agree.
struct VirshAliases: ParsableArguments {
    @Option(name: .customLong("desturi"), help: ArgumentHelp(visibility: .hidden))
    var destinationURI: String?

    @Option(name: .customLong("migrateuri"), help: ArgumentHelp(visibility: .hidden))
    var migrateURI: String?

    /// Changes nothing (kvmmigrate migrates live unless `--offline`), but contradicts `--offline`.
    @Flag(name: .customLong("live"), help: ArgumentHelp(visibility: .hidden))
    var live = false

    /// Changes nothing: kvmmigrate always migrates peer to peer.
    @Flag(name: .customLong("p2p"), help: ArgumentHelp(visibility: .hidden))
    var peerToPeer = false

    /// A command's own DEST_URI argument and `--migrate-uri` with these spellings merged in.
    ///
    /// - Throws: `ValidationError` (a usage error) when both DEST_URI and `--desturi` or neither are given, when
    ///   `--migrateuri` and `--migrate-uri` disagree, or for `--live` with `--offline`.
    func merged(
        destinationURI: String?,
        migrateURI: String?,
        offline: Bool
    ) throws(ValidationError) -> (destinationURI: String, migrateURI: String?) {
        if self.live && offline { throw ValidationError("--live and --offline contradict each other.") }
        return (
            try Self.destination(destinationURI, desturi: self.destinationURI),
            try Self.merge(migrateURI, "--migrate-uri", self.migrateURI, "--migrateuri")
        )
    }

    /// The destination URI from the DEST_URI argument or virsh's `--desturi`: exactly one of the two.
    static func destination(_ argument: String?, desturi: String?) throws(ValidationError) -> String {
        switch (argument, desturi) {
        case (let uri?, nil), (nil, let uri?): return uri
        case (_?, _?): throw ValidationError("Give the destination URI once: as DEST_URI or as --desturi, not both.")
        case (nil, nil): throw ValidationError("Missing the destination URI: give DEST_URI (or --desturi URI).")
        }
    }

    /// kvmmigrate's value of an option merged with its virsh alias's; different values are refused.
    static func merge(
        _ own: String?,
        _ ownName: String,
        _ alias: String?,
        _ aliasName: String
    ) throws(ValidationError) -> String? {
        if let own, let alias, own != alias {
            throw ValidationError("\(aliasName) '\(alias)' and \(ownName) '\(own)' disagree: give one of them.")
        }
        return own ?? alias
    }
}
