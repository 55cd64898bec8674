import ArgumentParser
import Campaigns
import Foundation
import Learning
import LibraryIO

struct CampaignSelectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "select",
        abstract: "Retrain on all labels so far and pick the next batch to test.",
        discussion: """
        Example: winnow campaign select --campaign bace.sqlite --batch 96 --acquisition ucb --diverse 0.6 -o round1.csv
        Molecules picked in an earlier round whose results are not recorded yet are not offered again
        (--include-pending offers them). With no actives labelled yet the batch is random.
        """
    )

    @Option(help: "Campaign file.") var campaign: String
    @Option(help: "Molecules to pick.") var batch = 96
    @Option(help: "greedy, ucb, thompson, uncertainty or random.") var acquisition: Acquisition = .greedy
    @Option(help: "UCB exploration weight (score + beta × uncertainty).") var beta: Float = 2
    @Option(help: "Keep picks below this Tanimoto similarity to each other (0-1).") var diverse: Double?
    @Option(help: "File of ids not to pick (one per line, or a CSV with an id column).") var exclude: String?
    @Flag(help: "Also offer molecules picked before whose results are still missing.") var includePending = false
    @Option(help: "Threads for training (default: all cores).") var threads: Int?
    @Option(name: .shortAndLong, help: "Picks CSV to write.") var output: String

    func validate() throws {
        try validateThreads(threads)
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard beta.isFinite, beta >= 0 else { throw ValidationError("--beta must be a number ≥ 0 (got \(beta))") }
        if let diverse, !(diverse > 0 && diverse <= 1) { throw ValidationError("--diverse is a Tanimoto similarity between 0 and 1") }
    }

    func run() throws {
        try checkOutputs([output, campaign], inputs: [exclude])
        let started = Date()
        let store = try CampaignStore.open(path: campaign)
        var options = Campaign.SelectOptions()
        options.batch = batch
        options.acquisition = acquisition
        options.beta = beta
        options.diverse = diverse
        options.includePending = includePending
        options.threads = threads ?? defaultThreadCount()
        if let exclude { options.exclude = try readIdList(exclude) }
        let selection = try Campaign.select(store: store, options: options, output: output)
        for id in selection.unknownExcluded.prefix(5) { printToStandardError("winnow campaign select: note: excluded id \(id) is not in the campaign") }
        if let cold = selection.coldStart { printToStandardError("winnow campaign select: \(cold): this batch is random") }
        let m = selection.metrics
        var line = "round \(selection.round): picked \(selection.picks.count) of \(selection.candidates) candidates with \(selection.coldStart == nil ? acquisition.rawValue : "random"); trained on \(selection.labelled) labels"
        if let auc = m["validation_roc_auc"] { line += String(format: ", held-out ROC-AUC %.3f", auc) }
        if let rmse = m["validation_rmse"] { line += String(format: ", held-out RMSE %.3f", rmse) }
        print(line)
        print("picks: \(output) (\(String(format: "%.1f", Date().timeIntervalSince(started))) s); record the results with `winnow campaign record --campaign \(campaign) RESULTS.csv`")
    }
}

/// Ids from a file: one per line, or the `id` column of a CSV with a header.
func readIdList(_ path: String) throws -> [String] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CampaignError("\(path): cannot read the exclusion list") }
    let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard let first = lines.first else { return [] }
    if first.contains(",") || first.lowercased() == "id" {
        let table = try CSVTable.read(path: path)
        guard let column = table.header.firstIndex(where: { $0.lowercased() == "id" }) else {
            throw CampaignError("\(path): a CSV exclusion list needs an 'id' column")
        }
        return table.rows.compactMap { column < $0.count ? $0[column].trimmingCharacters(in: .whitespaces) : nil }.filter { !$0.isEmpty }
    }
    return lines
}
