import ArgumentParser
import Foundation
import Learning
import LibraryIO
import Screening

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the hit lists of shards (winnow screen --shard K/N) into one.",
        discussion: """
        Refuses lists that cannot be shards of one screen: a record in two lists (the same list given
        twice, overlapping shards), non-finite scores, other tasks or kept columns, and lists not
        ranked in the direction asked (--minimize when the shards were screened with --minimize).

        Example: winnow merge hits-*.csv --top 1000 -o hits.csv
        """
    )

    @Argument(help: "Hit lists written by winnow screen.") var inputs: [String]
    @Option(help: "Hits to keep.") var top = 1000
    @Flag(help: "The shards were screened with --minimize (lowest score first).") var minimize = false
    @Option(name: .shortAndLong, help: "Merged hit list.") var output: String

    func run() throws {
        try checkOutputs([output], inputs: inputs)
        let merged = try HitList.merge(try inputs.map { try HitList.read($0) }, top: top, minimize: minimize)
        // A list with no hits names no task; the merged list then has none to write either.
        try HitList.write(merged.hits, task: merged.task ?? "", keptColumns: merged.keptColumns, to: output)
        printToStandardError("winnow merge: \(merged.hits.count) hits from \(inputs.count) lists in \(output)")
    }
}

/// Splits `a,b,c` into column names; nil when a name is empty.
func parseColumnList(_ text: String) -> [String]? {
    let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    return names.contains(where: \.isEmpty) ? nil : names
}

/// Warns that nothing was scored and gives the exit status for it (not 0: a pipeline must not take
/// an empty hit list for a result).
func nothingScored(command: String, summary: RunSummary, library: String) -> ExitCode {
    let why = summary.read == 0 ? "\(library) has no records"
        : summary.filtered > 0 ? "all \(summary.read) records of \(library) were rejected or filtered (\(summary.filtered) filtered; see --errors and --filtered for the reasons)"
        : "all \(summary.read) records of \(library) were rejected (see --errors for the reasons)"
    printToStandardError("winnow \(command): warning: nothing was scored: \(why)")
    return ExitCode(ExitStatus.nothingScored)
}

extension RunSummary {
    init(_ screen: ScreenSummary) {
        self.init()
        read = screen.read
        written = screen.scored
        rejected = screen.rejected
        filtered = screen.filtered
        seconds = screen.seconds
    }
}
