import ArgumentParser
import Campaigns
import Foundation
import Learning
import LibraryIO

/// A retrospective campaign on fully labelled data: how many actives would each acquisition strategy
/// have found, round by round?
struct CampaignSimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay an active-learning campaign on fully labelled data and report recall per round (JSON).",
        discussion: """
        Round 0 labels a random --initial fraction; each later round retrains an ensemble on everything
        labelled so far, scores the rest and labels the --batch fraction the acquisition function picks.
        Recall = actives found / all actives (for continuous labels: the best 1% found).
        Example: winnow campaign simulate --data targets/bace1/bace.csv --label-column Class --acquisition greedy --repeats 3
        """
    )

    @Option(help: "Fully labelled CSV.") var data: String
    @Option(help: "Column with the SMILES.") var smilesColumn = "smiles"
    @Option(help: "Label column (0/1, or numbers for continuous labels).") var labelColumn: String
    @Option(help: "Fraction labelled at random before round 1.") var initial = 0.01
    @Option(help: "Fraction labelled per round.") var batch = 0.01
    @Option(help: "Rounds after the initial set.") var rounds = 9
    @Option(help: "greedy, ucb, thompson, uncertainty or random.") var acquisition: Acquisition = .greedy
    @Option(help: "UCB exploration weight.") var beta: Float = 2
    @Flag(help: "Lower values are better (docking scores).") var minimize = false
    @Option(help: "Seed of the first repeat.") var seed: UInt64 = 0
    @Option(help: "Repeats with seeds seed, seed+1, …; the recall is their mean.") var repeats = 1
    @Option(help: "Model trained each round: rf (random forest), mlp or dmpnn.") var model: LearnerKind = .rf
    @Option(help: "Ensemble members per round (mlp, dmpnn).") var members = 5
    @Option(help: "Trees of the random forest.") var trees = 500
    @Option(help: "Training epochs per round.") var epochs = 30
    @Option(help: "MLP first hidden layer / D-MPNN message size.") var hidden: Int?
    @Option(help: "Weight actives by inactives/actives in the loss (classification).") var balance = true
    @Option(help: "Keep each round's picks below this Tanimoto similarity to each other.") var diverse: Double?
    @Option(help: "Threads for training (default: all cores).") var threads: Int?
    @Option(name: .shortAndLong, help: "Write the JSON here too.") var output: String?
    @Option(help: "Write an HTML page plotting recall per round against random picking.") var report: String?
    @OptionGroup var standardizeOptions: StandardizeOptions

    func validate() throws {
        try validateThreads(threads)
        guard initial > 0, initial < 1, batch > 0, batch < 1 else { throw ValidationError("--initial and --batch are fractions between 0 and 1") }
        guard rounds >= 1, repeats >= 1, members >= 1, epochs >= 1 else { throw ValidationError("--rounds, --repeats, --members and --epochs must be at least 1") }
        guard beta.isFinite, beta >= 0 else { throw ValidationError("--beta must be a number ≥ 0 (got \(beta))") }
        if let diverse, !(diverse > 0 && diverse <= 1) { throw ValidationError("--diverse is a Tanimoto similarity between 0 and 1") }
        guard (1...LearnerSettings.maximumTrees).contains(trees), members <= LearnerSettings.maximumMembers else {
            throw ValidationError("--trees takes 1 to \(LearnerSettings.maximumTrees), --members 1 to \(LearnerSettings.maximumMembers)")
        }
    }

    func run() throws {
        try checkOutputs([output, report], inputs: [data])
        let threadCount = threads ?? defaultThreadCount()
        // Standardised by default, as `campaign init` reads its pool: the replay sees the molecules a
        // campaign on this file would.
        let standardize = standardizeOptions.standardize ?? true
        let labelled = try LabelledData.load(path: data, smilesColumn: smilesColumn, labelColumns: [labelColumn], idColumn: nil,
                                             standardize: standardize)
        try labelled.reportRejections(to: nil, command: "campaign simulate")
        if standardize { printToStandardError(standardizationNote(command: "campaign simulate", labelled.standardized)) }
        let dataset = labelled.dataset
        var options = CampaignSimulation.Options()
        options.initial = initial
        options.batch = batch
        options.rounds = rounds
        options.acquisition = acquisition
        options.beta = beta
        options.minimize = minimize
        options.seed = seed
        options.repeats = repeats
        options.learner.kind = model
        options.learner.members = members
        options.learner.epochs = epochs
        if let hidden { options.learner.hidden = hidden }
        options.learner.balanceClasses = balance
        options.learner.trees = trees
        options.diverse = diverse
        options.threads = threadCount
        let result = try CampaignSimulation.run(graphs: dataset.graphs, values: dataset.labels.map { $0[0] ?? .nan },
                                                taskKind: dataset.taskKind, options: options, progress: printToStandardError)
        let json = try CampaignSimulation.json(result)
        print(json, terminator: "")
        if let output { try OutputFile.write(json, to: output) }
        if let report {
            try OutputFile.write(CampaignSimulation.reportPage(result, options: options, data: data, labelColumn: labelColumn,
                                                               taskKind: dataset.taskKind), to: report)
        }
    }
}
