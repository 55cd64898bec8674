import ArgumentParser
import Campaigns
import Foundation
import Learning
import LibraryIO
import Screening

struct CampaignInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Start a campaign file: the pool (parsed once and stored), optional initial labels and the model settings.",
        discussion: """
        Example: winnow campaign init --campaign bace.sqlite --pool libraries/moses_sample_10k.smi \\
                   --labels targets/bace1/bace.csv --labels-id-column smiles --label-column Class
        Labels whose id is not in the pool are added as known molecules (never picked) when the row has SMILES:
        here the BACE-1 measurements (which have no id column, so their SMILES serve as ids) teach the
        first model which MOSES molecules to pick.
        """
    )

    @Option(help: "Campaign file to create (SQLite).") var campaign: String
    @Option(help: "Compound library to pick from (smi, csv, tsv, sdf, gzip or not).") var pool: String
    @OptionGroup var input: InputOptions
    @Option(help: "CSV/TSV of labels known before the first round.") var labels: String?
    @Option(help: "Id column of the labels file.") var labelsIdColumn = "id"
    @Option(help: "Label column of the labels file (default: label, value, active, activity, result or score).") var labelColumn: String?
    @Option(help: "SMILES column of the labels file, for labelled molecules outside the pool.") var labelsSmilesColumn = "smiles"
    @Option(help: "Labels are 'classification' (active/inactive) or 'regression' (numbers); default: from the labels file.") var task: TaskKind?
    @Flag(help: "For numeric labels: lower is better (docking scores).") var minimize = false
    @Option(help: "Model retrained each round: rf (random forest on Morgan bits), mlp or dmpnn.") var model: LearnerKind = .rf
    @Option(help: "Ensemble members for mlp/dmpnn (their spread is the uncertainty).") var members = 5
    @Option(help: "Trees of the random forest (the spread over trees is the uncertainty).") var trees = 500
    @Option(help: "Training epochs per round.") var epochs = 30
    @Option(help: "Seed for training and random picks.") var seed: UInt64 = 0
    @Option(help: "Threads for reading the pool (default: all cores).") var threads: Int?

    func validate() throws {
        try validateThreads(threads)
        guard (1...LearnerSettings.maximumMembers).contains(members), (1...LearnerSettings.maximumEpochs).contains(epochs),
              (1...LearnerSettings.maximumTrees).contains(trees) else {
            throw ValidationError("--members takes 1 to \(LearnerSettings.maximumMembers), --epochs 1 to \(LearnerSettings.maximumEpochs), --trees 1 to \(LearnerSettings.maximumTrees)")
        }
    }

    func run() throws {
        try checkOutputs([campaign], inputs: [pool, labels])
        var settings = CampaignSettings()
        settings.learner.kind = model
        settings.learner.members = members
        settings.learner.epochs = epochs
        settings.learner.trees = trees
        settings.seed = seed
        settings.minimize = minimize
        var labelFile: LabelFile? = nil
        if let labels {
            labelFile = try LabelFile.read(path: labels, idColumn: labelsIdColumn, labelColumn: labelColumn,
                                           smilesColumn: labelsSmilesColumn, taskKind: task,
                                           idOption: "--labels-id-column")
        }
        settings.taskKind = task ?? (labelFile.map { $0.allBinary ? .classification : .regression } ?? .classification)
        let started = Date()
        let summary = try Campaign.initialize(path: campaign, pool: pool, format: input.libraryFormat, smilesColumn: input.smilesColumn,
                                              idColumn: input.idColumn, labels: labelFile, settings: settings,
                                              threads: threads ?? defaultThreadCount(), progress: true, limits: input.limits)
        print("campaign \(campaign): pool \(summary.pool) molecules from \(pool) (\(summary.read) records, \(summary.rejected) rejected: `winnow campaign status` lists them)")
        if labelFile != nil {
            let kind = settings.taskKind == .classification ? ", \(summary.actives) active" : ""
            print("initial labels: \(summary.labelled)\(kind); \(summary.external) labelled molecules from outside the pool")
        }
        let learner = model == .rf ? "random forest, \(trees) trees" : "\(model.rawValue) × \(members)"
        print("model: \(learner), \(settings.taskKind.rawValue)\(minimize ? " (lower is better)" : ""); \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}

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

struct CampaignStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per round: picks, results in, actives found, model metrics; --report adds an HTML plot.",
        discussion: "Example: winnow campaign status --campaign bace.sqlite --report status.html"
    )

    @Option(help: "Campaign file.") var campaign: String
    @Option(help: "Write an HTML page with the actives-found plot.") var report: String?
    @Option(help: "Write the pool records that could not be parsed (TSV).") var errors: String?

    func run() throws {
        try checkOutputs([report, errors], inputs: [campaign])
        let store = try CampaignStore.open(path: campaign)
        let status = try Campaign.status(store: store)
        let classification = status.taskKind == .classification
        print("campaign \(campaign): pool \(status.poolSize) molecules (\(status.rejected) library records rejected), \(status.taskKind.rawValue) labels")
        let header = classification
            ? ["round", "acquisition", "picked", "tested", "hits", "hit_rate", "labelled", "actives", "heldout_roc_auc"]
            : ["round", "acquisition", "picked", "tested", "best_in_round", "labelled", "best", "heldout_rmse"]
        var rows: [[String]] = []
        for r in status.rounds {
            let metrics = (try? JSONSerialization.jsonObject(with: Data(r.metrics.utf8))) as? [String: Double] ?? [:]
            func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }
            if classification {
                rows.append([String(r.round), r.acquisition, String(r.picked), String(r.tested), String(r.pickedActives),
                             r.tested > 0 ? f(Double(r.pickedActives) / Double(r.tested)) : "-", String(r.labelled), String(r.actives),
                             f(metrics["validation_roc_auc"])])
            } else {
                rows.append([String(r.round), r.acquisition, String(r.picked), String(r.tested), f(r.bestPicked), String(r.labelled),
                             f(r.best), f(metrics["validation_rmse"])])
            }
        }
        let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in c == 1 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                                                 : String(repeating: " ", count: widths[c] - cell.count) + cell }.joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
        if let rate = status.baseRate { print(String(format: "random picks would hit about %.1f%% (active rate of the initial labels)", 100 * rate)) }
        if let errors {
            let out = try OutputFile(path: errors)
            try out.write("record\tid\tinput\treason\n")
            for r in try store.rejected() {
                var line = Array("\(r.record)\t".utf8)
                appendEscapedField(r.id.utf8, to: &line)
                line.append(9)
                appendEscapedField(r.input.utf8, to: &line)
                line.append(9)
                appendEscapedField(r.reason.utf8, to: &line, limit: 400)
                line.append(10)
                try out.write(line)
            }
            try out.close()
        }
        if let report {
            let html = statusPage(status, campaign: campaign, header: header, rows: rows)
            do { try html.write(toFile: report, atomically: true, encoding: .utf8) } catch {
                throw CampaignError("\(report): cannot write the report (\(error.localizedDescription))")
            }
            print("report: \(report)")
        }
    }

    func statusPage(_ status: Campaign.Status, campaign: String, header: [String], rows: [[String]]) -> String {
        var body = "<p class=\"meta\">Campaign file \(CampaignReport.escapeHTML(campaign)); pool \(status.poolSize) molecules; \(status.taskKind.rawValue) labels.</p>\n"
        if status.taskKind == .classification {
            var series = [CampaignReport.Series(name: "actives found", points: status.rounds.map { (Double($0.round), Double($0.actives)) }, colour: "#1f6fb4")]
            if let rate = status.baseRate, let first = status.rounds.first {
                // Random expectation: every molecule labelled after round 0 hits at the initial active rate.
                series.append(CampaignReport.Series(name: String(format: "random expectation (%.1f%% of new labels)", 100 * rate),
                                                    points: status.rounds.map { (Double($0.round), Double(first.actives) + rate * Double($0.labelled - first.labelled)) },
                                                    colour: "#999", dashed: true))
            }
            body += "<h2>Actives found per round</h2>\n" + CampaignReport.chart(series, xLabel: "round", yLabel: "actives labelled (cumulative)")
        } else {
            let series = [CampaignReport.Series(name: status.minimize ? "best (lowest) value so far" : "best value so far",
                                                points: status.rounds.compactMap { r in r.best.map { (Double(r.round), $0) } }, colour: "#1f6fb4")]
            body += "<h2>Best value per round</h2>\n" + CampaignReport.chart(series, xLabel: "round", yLabel: "best value")
        }
        body += "<h2>Rounds</h2>\n" + CampaignReport.table(header: header, rows: rows)
        return CampaignReport.page(title: "Winnow campaign status", body: body)
    }
}
extension LearnerKind: ExpressibleByArgument {}
extension TaskKind: ExpressibleByArgument {}
