import ArgumentParser
import Chemistry
import Learning

/// `--standardize` / `--no-standardize`: each command that reads molecules for training, scoring,
/// fingerprints or a campaign says its own default (on for train, screen and campaigns, off for
/// fingerprint and index; predict, screen and evaluate follow what the model was trained on), so the
/// flag is a tri-state here.
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

    /// For a command that scores with a model: the model's own setting (what its training molecules
    /// went through) unless the flag says otherwise, `legacyDefault` for a model file that does not
    /// record it; a flag against the model's setting is allowed with a warning on standard error.
    func apply(to limits: InputLimits, model header: ModelHeader, command: String, legacyDefault: Bool) -> InputLimits {
        var result = limits
        result.standardize = resolve(model: header, command: command, legacyDefault: legacyDefault)
        return result
    }

    /// Whether to standardise when scoring with a model: the flag, else the model's own setting, else
    /// `legacyDefault`; a flag against the model's setting is allowed with a warning on standard error.
    func resolve(model header: ModelHeader, command: String, legacyDefault: Bool) -> Bool {
        let trained = header.trainingData.standardized
        if let standardize, let trained, standardize != trained {
            printToStandardError("winnow \(command): warning: the model was trained on \(trained ? "standardised" : "unstandardised") molecules; "
                                 + "scoring \(standardize ? "standardised" : "unstandardised") ones as asked (\(standardize ? "--standardize" : "--no-standardize"))")
        }
        return standardize ?? trained ?? legacyDefault
    }
}

/// The standard-error line that says what standardising changed.
func standardizationNote(command: String, _ totals: Standardizer.Totals) -> String {
    "winnow \(command): \(totals.description)"
}
