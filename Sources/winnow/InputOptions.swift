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

/// Number of worker threads: all cores unless told otherwise.
func defaultThreadCount() -> Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

import Foundation

func printToStandardError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

extension ModelKind: ExpressibleByArgument {}
