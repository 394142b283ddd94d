import ArgumentParser
import Migration

extension ConvergencePolicy.Preset: ExpressibleByArgument {}
extension ConvergencePolicy.TimeoutAction: ExpressibleByArgument {}

/// The convergence policy: a preset, and knobs that change it.
struct PolicyOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            """
            How to finish a migration that does not converge: low-downtime (never post-copy), balanced (the \
            default), fastest.
            """,
            valueName: "preset"
        )
    )
    var policy: ConvergencePolicy.Preset?

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

    /// virsh's `--timeout N`: seconds the whole migration may take before the timeout action (suspend unless
    /// `--timeout-action` or virsh's `--timeout-postcopy` says otherwise), in place of `--completion-timeout`.
    @Option(name: .customLong("timeout"), help: ArgumentHelp(visibility: .hidden))
    var totalTimeout: UInt64?

    /// The allowed downtimes taken, in ms: QEMU takes up to 2000 s.
    static let downtimeRange: ClosedRange<UInt64> = 1...2_000_000

    /// `--completion-timeout`'s seconds per GiB: 0 (no limit) to a day.
    static let completionTimeoutRange: ClosedRange<UInt64> = 0...86_400

    /// The longest `--timeout` taken: a week.
    static let totalTimeoutRange: ClosedRange<UInt64> = 1...604_800

    /// Whether any knob beyond the preset was given.
    var changesPreset: Bool {
        self.maxDowntime != nil || self.downtimeSteps != nil || self.autoConverge != nil || self.allowPostcopy != nil
            || self.completionTimeout != nil || self.timeoutAction != nil || self.totalTimeout != nil
    }

    /// The preset with the knobs applied. A `tunnelled` migration cannot switch to post-copy: the preset's
    /// post-copy rung goes unless `--allow-postcopy` asked for it (the request then refuses the combination).
    func resolved(tunnelled: Bool = false) throws(ValidationError) -> ConvergencePolicy {
        var policy = ConvergencePolicy(self.policy ?? .balanced)
        if let milliseconds = self.maxDowntime, !Self.downtimeRange.contains(milliseconds) {
            throw ValidationError("--max-downtime must be 1 to 2000000 ms, not \(milliseconds).")
        }
        if let seconds = self.completionTimeout, !Self.completionTimeoutRange.contains(seconds) {
            throw ValidationError("--completion-timeout must be 0 (no limit) to 86400 s per GiB, not \(seconds).")
        }
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
        if let seconds = self.totalTimeout {
            guard Self.totalTimeoutRange.contains(seconds) else {
                throw ValidationError(
                    "--timeout takes whole seconds from \(Self.totalTimeoutRange.lowerBound) to "
                        + "\(Self.totalTimeoutRange.upperBound), not \(seconds)."
                )
            }
            if self.completionTimeout != nil {
                throw ValidationError("--timeout and --completion-timeout both set the time allowed: give one.")
            }
            policy.completionTimeoutTotal = .seconds(Int64(seconds))
            policy.completionTimeoutPerGiB = nil
            // virsh suspends the guest when --timeout runs out unless told otherwise.
            policy.timeoutAction = self.timeoutAction ?? .suspend
        }
        if self.changesPreset { policy.preset = nil }
        if tunnelled && self.allowPostcopy == nil { policy = policy.withoutPostCopyRung }
        return policy
    }

    static func parseSteps(_ text: String) throws(ValidationError) -> [Duration] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed == "none" { return [] }
        var steps: [Duration] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            guard let milliseconds = UInt64(part.trimmingCharacters(in: .whitespaces)),
                Self.downtimeRange.contains(milliseconds)
            else {
                throw ValidationError(
                    "--downtime-steps takes milliseconds (1 to 2000000) separated by commas, e.g. 200,300; "
                        + "not '\(text)'."
                )
            }
            steps.append(.milliseconds(Int64(clamping: milliseconds)))
        }
        return steps
    }
}

/// virsh's spellings of the convergence options (`virsh migrate`), hidden from `--help`: scripts and habits written
/// for virsh carry over. ``merge(into:)`` maps each onto ``PolicyOptions`` and refuses what does not map.
struct VirshPolicyAliases: ParsableArguments {
    @Flag(name: .customLong("postcopy"), help: ArgumentHelp(visibility: .hidden))
    var postcopy = false

    @Flag(name: .customLong("postcopy-after-precopy"), help: ArgumentHelp(visibility: .hidden))
    var postcopyAfterPrecopy = false

    @Flag(name: .customLong("timeout-suspend"), help: ArgumentHelp(visibility: .hidden))
    var timeoutSuspend = false

    @Flag(name: .customLong("timeout-postcopy"), help: ArgumentHelp(visibility: .hidden))
    var timeoutPostcopy = false

    /// The paragraph of the man page (the command's discussion) that lists these spellings.
    static let discussion = """
        virsh's policy spellings are accepted: --postcopy as --allow-postcopy (post-copy is a rung of the ladder; \
        kvmmigrate starts it when the earlier rungs do not help); --postcopy-after-precopy as --policy fastest \
        (post-copy as soon as a memory pass stalls); --timeout N: the whole migration may take N seconds (1 to \
        604800) before the timeout action, in place of --completion-timeout's seconds per GiB of guest memory; \
        the action is suspend, as in virsh, unless --timeout-postcopy (or --timeout-action); --timeout-suspend \
        and --timeout-postcopy as --timeout-action suspend / postcopy.
        """

    /// Whether any of these spellings was given.
    var given: Bool {
        self.postcopy || self.postcopyAfterPrecopy || self.timeoutSuspend || self.timeoutPostcopy
    }

    /// Applies the aliases to `options`; an alias and kvmmigrate's own spelling that disagree are refused.
    func merge(into options: inout PolicyOptions) throws(ValidationError) {
        if self.postcopy || self.postcopyAfterPrecopy {
            if options.allowPostcopy == false {
                let alias = self.postcopy ? "--postcopy" : "--postcopy-after-precopy"
                throw ValidationError("\(alias) and --no-allow-postcopy contradict each other.")
            }
            // --postcopy-after-precopy implies --postcopy in kvmmigrate; virsh requires both.
            if self.postcopy { options.allowPostcopy = true }
        }
        if self.postcopyAfterPrecopy {
            if let preset = options.policy, preset != .fastest {
                throw ValidationError(
                    "--postcopy-after-precopy means --policy fastest; it contradicts --policy \(preset.rawValue)."
                )
            }
            options.policy = .fastest
        }
        if self.timeoutSuspend && self.timeoutPostcopy {
            throw ValidationError("--timeout-suspend and --timeout-postcopy contradict each other.")
        }
        if let action: ConvergencePolicy.TimeoutAction =
            self.timeoutSuspend ? .suspend : self.timeoutPostcopy ? .postcopy : nil
        {
            if let given = options.timeoutAction, given != action {
                throw ValidationError(
                    "--timeout-\(action.rawValue) contradicts --timeout-action \(given.rawValue)."
                )
            }
            options.timeoutAction = action
        }
    }
}
