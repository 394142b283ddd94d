import Testing

@testable import kvmmigrate

/// Every number an operator types is range-checked when the command line is read: a one-line usage error (exit 64),
/// never a trap later when it is converted (issue 9: `--max-downtime 18446744073709551615` crashed).
@Suite struct NumberRangeTests {
    private static let migrate = ["migrate", "d", "qemu+tcp://b/system"]
    private static let huge = "18446744073709551615"
    private static let tooHuge = "18446744073709551616"

    @Test(arguments: [
        migrate + ["--max-downtime", huge],
        migrate + ["--max-downtime", "2000001"],
        migrate + ["--max-downtime", "0"],
        migrate + ["--max-downtime", "-1"],
        migrate + ["--max-downtime", tooHuge],
        migrate + ["--downtime-steps", "200,\(huge)"],
        migrate + ["--downtime-steps", "0"],
        migrate + ["--completion-timeout", huge],
        migrate + ["--completion-timeout", "86401"],
        migrate + ["--timeout", huge],
        migrate + ["--bandwidth", huge],
        migrate + ["--bandwidth", "1048577"],
        migrate + ["--bandwidth", "0"],
        migrate + ["--parallel", "2147483648"],
        migrate + ["--parallel", "256"],
        migrate + ["--parallel", "0"],
        migrate + ["--reconnect-timeout", huge],
        migrate + ["--reconnect-timeout", "0"],
        ["evacuate", "qemu+tcp://a/system", "--to", "qemu+tcp://b/system", "--bandwidth", huge],
        ["evacuate", "qemu+tcp://a/system", "--to", "qemu+tcp://b/system", "--max-parallel", "17"],
        ["evacuate", "qemu+tcp://a/system", "--to", "qemu+tcp://b/system", "--max-parallel", "9223372036854775808"],
        ["evacuate", "qemu+tcp://a/system", "--to", "qemu+tcp://b/system", "--max-incoming", "0"],
        ["evacuate", "qemu+tcp://a/system", "--to", "qemu+tcp://b/system", "--reconnect-timeout", huge],
        ["evacuate", "qemu+tcp://a/system", "--to", "qemu+tcp://b/system", "--max-downtime", huge],
        ["verify", "d", "--clock-tolerance", "1e308"],
        ["verify", "d", "--clock-tolerance", "nan"],
        ["verify", "d", "--fix", "--cf-timeout", huge],
        ["cluster", "verify", "--timeout", huge],
        ["cluster", "verify", "--timeout", "0"],
        ["cluster", "verify", "--timeout", "3601"],
    ])
    func outOfRangeIsAOneLineUsageError(arguments: [String]) {
        let message = usageError(arguments)
        #expect(!message.contains("\n"), "\(message)")
    }

    @Test(arguments: [
        migrate + ["--max-downtime", "2000000", "--downtime-steps", "none"],
        migrate + ["--max-downtime", "1"],
        migrate + ["--completion-timeout", "0"],
        migrate + ["--completion-timeout", "86400"],
        migrate + ["--bandwidth", "1048576"],
        migrate + ["--reconnect-timeout", "86400"],
        ["cluster", "verify", "--timeout", "3600"],
    ])
    func theBoundsThemselvesAreTaken(arguments: [String]) throws {
        _ = try KVMMigrate.parseAsRoot(arguments)
    }
}
