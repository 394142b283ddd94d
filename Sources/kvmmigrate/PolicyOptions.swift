import ArgumentParser
import Migration

extension ConvergencePolicy.Preset: ExpressibleByArgument {}
extension ConvergencePolicy.TimeoutAction: ExpressibleByArgument {}

/// The convergence policy: a preset, and knobs that change it.
struct PolicyOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "How to finish a migration that does not converge: low-downtime (never post-copy), balanced, fastest.",
            valueName: "preset"
        )
    )
    var policy: ConvergencePolicy.Preset = .balanced

    @Option(help: ArgumentHelp("The allowed downtime at the start, in ms.", valueName: "ms"))
    var maxDowntime: UInt64?

    @Option(
        help: ArgumentHelp(
            "Later allowed downtimes, in ms, one per stalled stretch of passes (e.g. 200,300; none for no steps).",
            valueName: "ms,ms,…"
        )
    )
    var downtimeSteps: String?

    @Flag(inversion: .prefixedNo, help: "Arm QEMU's auto-converge: throttle the guest's CPUs when it dirties too fast.")
    var autoConverge: Bool?

    @Flag(inversion: .prefixedNo, help: "Switch to post-copy when the earlier steps do not help.")
    var allowPostcopy: Bool?

    @Option(
        help: ArgumentHelp(
            "Seconds allowed per GiB of guest memory before the timeout action (0: no limit).",
            valueName: "s"
        )
    )
    var completionTimeout: UInt64?

    @Option(
        help: ArgumentHelp(
            "What to do when the time runs out: abort (default), suspend, postcopy.",
            valueName: "action"
        )
    )
    var timeoutAction: ConvergencePolicy.TimeoutAction?

    /// Whether any knob beyond the preset was given.
    var changesPreset: Bool {
        self.maxDowntime != nil || self.downtimeSteps != nil || self.autoConverge != nil || self.allowPostcopy != nil
            || self.completionTimeout != nil || self.timeoutAction != nil
    }

    /// The preset with the knobs applied.
    func resolved() throws(ValidationError) -> ConvergencePolicy {
        var policy = ConvergencePolicy(self.policy)
        if let milliseconds = self.maxDowntime {
            policy.maximumDowntime = .milliseconds(Int64(clamping: milliseconds))
            // Steps at or below the new start would only lower it again.
            policy.downtimeSteps.removeAll { $0 <= policy.maximumDowntime }
        }
        if let text = self.downtimeSteps {
            policy.downtimeSteps = try Self.parseSteps(text)
        }
        if let autoConverge = self.autoConverge { policy.autoConverge = autoConverge }
        if let allowPostcopy = self.allowPostcopy { policy.allowPostCopy = allowPostcopy }
        if let seconds = self.completionTimeout {
            policy.completionTimeoutPerGiB = seconds == 0 ? nil : .seconds(Int64(clamping: seconds))
        }
        if let action = self.timeoutAction { policy.timeoutAction = action }
        if self.changesPreset { policy.preset = nil }
        return policy
    }

    static func parseSteps(_ text: String) throws(ValidationError) -> [Duration] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed == "none" { return [] }
        var steps: [Duration] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            guard let milliseconds = UInt64(part.trimmingCharacters(in: .whitespaces)), milliseconds > 0 else {
                throw ValidationError(
                    "--downtime-steps takes milliseconds separated by commas, e.g. 200,300; not '\(text)'."
                )
            }
            steps.append(.milliseconds(Int64(clamping: milliseconds)))
        }
        return steps
    }
}
