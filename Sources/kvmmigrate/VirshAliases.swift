import ArgumentParser

/// The rules shared by virsh's spellings on `migrate` and `check`: an alias and kvmmigrate's own spelling may both
/// be given only when they agree.
enum VirshAliases {
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

    /// virsh's `--live` changes nothing (kvmmigrate migrates live unless `--offline`), but it contradicts `--offline`.
    static func checkLive(_ live: Bool, offline: Bool) throws(ValidationError) {
        if live && offline { throw ValidationError("--live and --offline contradict each other.") }
    }
}
