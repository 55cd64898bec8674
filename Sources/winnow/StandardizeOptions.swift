import ArgumentParser
import Chemistry

/// `--standardize` / `--no-standardize`: each command that reads molecules for scoring, fingerprints
/// or a campaign says its own default (on for screen and campaigns, off for predict, fingerprint and
/// index), so the flag is a tri-state here.
struct StandardizeOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo,
          help: "Standardise each molecule when reading: keep the largest organic fragment (salts, counter-ions, solvents dropped) and neutralise charges that adding or removing a hydrogen can neutralise (README 'Standardisation').")
    var standardize: Bool? = nil

    /// The limits with the standardiser switched on or off (`defaultOn` when the flag is not given).
    func apply(to limits: InputLimits, defaultOn: Bool) -> InputLimits {
        var result = limits
        result.standardize = standardize ?? defaultOn
        return result
    }
}

/// The standard-error line that says what standardising changed.
func standardizationNote(command: String, _ totals: Standardizer.Totals) -> String {
    "winnow \(command): \(totals.description)"
}
