import ArgumentParser
import Campaigns
import Foundation
import Learning
import LibraryIO

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
    @OptionGroup var standardizeOptions: StandardizeOptions
    @Flag(help: "Keep one molecule per standardised structure in the pool: a later record with the structure of an earlier one is left out and listed as its duplicate (campaign status lists it with the rejected records).")
    var dedupe = false
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
                                              threads: threads ?? defaultThreadCount(), progress: true,
                                              limits: standardizeOptions.apply(to: input.limits, defaultOn: true), dedupe: dedupe)
        print("campaign \(campaign): pool \(summary.pool) molecules from \(pool) (\(summary.read) records, \(summary.rejected) rejected: `winnow campaign status` lists them)")
        if standardizeOptions.standardize ?? true { print("pool " + summary.standardized.description) }
        if dedupe { print("pool: \(summary.duplicates) records left out as duplicates of an earlier record's structure") }
        if labelFile != nil {
            let kind = settings.taskKind == .classification ? ", \(summary.actives) active" : ""
            print("initial labels: \(summary.labelled)\(kind); \(summary.external) labelled molecules from outside the pool")
        }
        let learner = model == .rf ? "random forest, \(trees) trees" : "\(model.rawValue) × \(members)"
        print("model: \(learner), \(settings.taskKind.rawValue)\(minimize ? " (lower is better)" : ""); \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}
