import ArgumentParser
import Learning
import LibraryIO
import Screening

/// How to read a library file; shared by every command that reads one.
struct InputOptions: ParsableArguments {
    @Option(help: "Input format: smi, csv, tsv or sdf (default: from the file name; smi for '-').")
    var format: String?

    @Option(help: "CSV/TSV column holding the SMILES.")
    var smilesColumn: String?

    @Option(help: "CSV/TSV column holding the molecule id (default: 'record N').")
    var idColumn: String?

    var libraryFormat: LibraryFormat? {
        format.flatMap { LibraryFormat(rawValue: $0 == "smiles" ? "smi" : $0) }
    }

    func validate() throws {
        if let format, LibraryFormat(rawValue: format == "smiles" ? "smi" : format) == nil {
            throw ValidationError("unknown --format '\(format)': use smi, csv, tsv or sdf")
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
