import ArgumentParser
import Campaigns
import Foundation
import Learning
import LibraryIO

struct CampaignRecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record measured results (id plus active/inactive or a value); all rows or none.",
        discussion: """
        Example: winnow campaign record --campaign bace.sqlite round1_results.csv
        Unknown ids, ids given twice with different values, values that disagree with an earlier
        record, and unreadable values are all listed, and nothing of the file is written.
        """
    )

    @Option(help: "Campaign file.") var campaign: String
    @Option(help: "Id column of the results file.") var idColumn = "id"
    @Option(help: "Result column (default: label, value, active, activity, result or score).") var labelColumn: String?
    @Argument(help: "Results CSV/TSV.") var results: String

    func run() throws {
        try checkOutputs([campaign], inputs: [results])
        let store = try CampaignStore.open(path: campaign)
        let summary = try Campaign.record(store: store, results: results, idColumn: idColumn, labelColumn: labelColumn)
        let settings = try store.settings()
        var line = "recorded \(summary.recorded) results from \(results)"
        if settings.taskKind == .classification { line += " (\(summary.actives) active)" }
        if !summary.rounds.isEmpty { line += " for round\(summary.rounds.count > 1 ? "s" : "") \(summary.rounds.sorted().map(String.init).joined(separator: ", "))" }
        if summary.alreadyRecorded > 0 { line += "; \(summary.alreadyRecorded) were already recorded with the same value" }
        print(line)
    }
}
