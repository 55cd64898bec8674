import ArgumentParser
import Chemistry
import Learning
import LibraryIO
import Screening

/// How to read a library file; shared by every command that reads one.
struct InputOptions: ParsableArguments {
    @Option(help: "Input format: smi, csv, tsv or sdf (default: from the file name or content; smi for '-').")
    var format: LibraryFormat?

    @Option(help: "CSV/TSV column holding the SMILES.")
    var smilesColumn: String?

    @Option(help: "CSV/TSV column holding the molecule id (default: 'record N').")
    var idColumn: String?

    // Limits checked before Open Babel sees a record (README "Bad input"): a record over one is
    // rejected with its reason.
    @Option(help: "Most atoms in one record.")
    var maxAtoms = InputLimits.defaultMaxAtoms

    @Option(help: "Most ring closures in one SMILES (rings in one molfile record).")
    var maxRings = InputLimits.defaultMaxRings

    @Option(help: "Deepest nesting of SMILES branches.")
    var maxBranchDepth = InputLimits.defaultMaxBranchDepth

    @Option(help: "Longest record in bytes: a SMILES or CSV line, a CSV row, an SDF record.")
    var maxRecordBytes = InputLimits.defaultMaxRecordBytes

    @Option(help: "Most atoms (hydrogens included) in one SDF record: Open Babel's molfile reader slows with the cube of a long chain (README 'Bad input').")
    var maxMolfileAtoms = InputLimits.defaultMaxMolfileAtoms

    var limits: InputLimits {
        InputLimits(maxAtoms: maxAtoms, maxRings: maxRings, maxBranchDepth: maxBranchDepth, maxRecordBytes: maxRecordBytes,
                    maxMolfileAtoms: maxMolfileAtoms)
    }

    var libraryFormat: LibraryFormat? { format }

    func validate() throws {
        for (name, value) in [("--max-atoms", maxAtoms), ("--max-rings", maxRings), ("--max-branch-depth", maxBranchDepth),
                              ("--max-record-bytes", maxRecordBytes), ("--max-molfile-atoms", maxMolfileAtoms)] where value < 1 || value > 1 << 30 {
            throw ValidationError("\(name) must be between 1 and \(1 << 30)")
        }
    }
}

/// Number of worker threads: all cores unless told otherwise (at most `maximumThreads`).
func defaultThreadCount() -> Int { min(maximumThreads, max(1, ProcessInfo.processInfo.activeProcessorCount)) }


/// The one rule for `--threads`, in every command that has it: 1 to `maximumThreads`.
func validateThreads(_ threads: Int?) throws {
    if let threads, threads < 1 || threads > maximumThreads {
        throw ValidationError("--threads must be between 1 and \(maximumThreads)")
    }
}

import Foundation

func printToStandardError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

extension ModelKind: ExpressibleByArgument {}

extension LibraryFormat: ExpressibleByArgument {
    /// `smiles` is accepted for `smi`.
    public init?(argument: String) {
        self.init(rawValue: argument == "smiles" ? "smi" : argument)
    }
    public static var allValueStrings: [String] { ["smi", "csv", "tsv", "sdf"] }
}
