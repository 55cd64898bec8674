import ArgumentParser
import Foundation
import Campaigns
import Learning
import LibraryIO
import Screening

struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Active-learning campaigns: pick the next batch to test, record results, retrain.",
        subcommands: [CampaignInitCommand.self, CampaignSelectCommand.self, CampaignRecordCommand.self, CampaignStatusCommand.self,
                      SimulateCommand.self]
    )
}

/// A retrospective campaign on fully labelled data: how many actives would each acquisition strategy
/// have found, round by round?
struct SimulateCommand: ParsableCommand {
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
    @Option(help: "greedy, ucb, thompson, uncertainty or random.") var acquisition = "greedy"
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

    func validate() throws {
        try validateThreads(threads)
        guard Acquisition(rawValue: acquisition) != nil else {
            throw ValidationError("--acquisition must be one of \(Acquisition.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard initial > 0, initial < 1, batch > 0, batch < 1 else { throw ValidationError("--initial and --batch are fractions between 0 and 1") }
        guard rounds >= 1, repeats >= 1, members >= 1, epochs >= 1 else { throw ValidationError("--rounds, --repeats, --members and --epochs must be at least 1") }
        guard beta.isFinite, beta >= 0 else { throw ValidationError("--beta must be a number ≥ 0 (got \(beta))") }
        guard (1...LearnerSettings.maximumTrees).contains(trees), members <= LearnerSettings.maximumMembers else {
            throw ValidationError("--trees takes 1 to \(LearnerSettings.maximumTrees), --members 1 to \(LearnerSettings.maximumMembers)")
        }
    }

    func run() throws {
        try checkOutputs([output, report], inputs: [data])
        let started = Date()
        let threadCount = threads ?? defaultThreadCount()
        let labelled = try LabelledData.load(path: data, smilesColumn: smilesColumn, labelColumns: [labelColumn], idColumn: nil)
        try labelled.reportRejections(to: nil, command: "campaign simulate")
        let dataset = labelled.dataset
        let n = dataset.count
        let values = dataset.labels.map { $0[0] ?? .nan }
        // What counts as a hit: actives, or the best 1% of continuous values.
        let hits: Set<Int>
        if dataset.taskKind == .classification {
            hits = Set((0..<n).filter { values[$0] > 0.5 })
        } else {
            let order = (0..<n).sorted { minimize ? values[$0] < values[$1] : values[$0] > values[$1] }
            hits = Set(order.prefix(max(1, n / 100)))
        }
        let choice = Acquisition(rawValue: acquisition)!
        var settings = LearnerSettings()
        settings.kind = model
        settings.members = members
        settings.epochs = epochs
        if let hidden { settings.hidden = hidden }
        settings.balanceClasses = balance
        settings.trees = trees
        let learner = CampaignLearner(graphs: dataset.graphs, settings: settings, taskKind: dataset.taskKind, threads: threadCount)
        let initialCount = max(1, Int((initial * Double(n)).rounded()))
        let batchCount = max(1, Int((batch * Double(n)).rounded()))
        var perSeed: [[Double]] = []
        for repeatIndex in 0..<repeats {
            let runSeed = seed &+ UInt64(repeatIndex)
            var generator = SeededGenerator(seed: runSeed)
            var order = Array(0..<n)
            generator.shuffle(&order)
            var isLabelled = [Bool](repeating: false, count: n)
            for i in order.prefix(initialCount) { isLabelled[i] = true }
            var recalls: [Double] = []
            func recall() -> Double { Double(hits.filter { isLabelled[$0] }.count) / Double(max(hits.count, 1)) }
            recalls.append(recall())
            for round in 1...rounds {
                let train = (0..<n).filter { isLabelled[$0] }
                let pool = (0..<n).filter { !isLabelled[$0] }
                if pool.isEmpty { recalls.append(recall()); continue }
                let roundSeed = runSeed &* 1000 &+ UInt64(round)
                var scores: RoundScores
                if choice == .random {
                    let zeros = [Float](repeating: 0, count: pool.count)
                    scores = RoundScores(scores: zeros, uncertainties: zeros, modelHash: "", coldStart: nil)
                } else {
                    scores = try learner.score(labelled: train.map { ($0, values[$0]) }, candidates: pool, seed: roundSeed)
                }
                let picks = BatchSelector.pick(count: batchCount, scores: scores, acquisition: choice, beta: beta, minimize: minimize,
                                               diverse: diverse, candidates: pool, bits: learner.bits, seed: roundSeed)
                for p in picks { isLabelled[pool[p.candidate]] = true }
                recalls.append(recall())
                printToStandardError(String(format: "seed %d round %d: %d labelled, recall %.3f%@", Int(runSeed), round,
                                            isLabelled.filter { $0 }.count, recalls.last!, scores.coldStart.map { " (random: \($0))" } ?? ""))
            }
            perSeed.append(recalls)
        }
        let mean = (0...rounds).map { r in perSeed.map { $0[r] }.reduce(0, +) / Double(perSeed.count) }
        func list(_ v: [Double]) -> String { "[" + v.map { String(format: "%.4f", $0) }.joined(separator: ", ") + "]" }
        let json = """
        {
          "acquisition": "\(acquisition)",
          "molecules": \(n),
          "hits": \(hits.count),
          "initial": \(initialCount),
          "batch": \(batchCount),
          "recall": \(list(mean)),
          "recall_per_seed": [\(perSeed.map(list).joined(separator: ", "))],
          "seeds": [\((0..<repeats).map { String(seed &+ UInt64($0)) }.joined(separator: ", "))],
          "seconds": \(String(format: "%.1f", Date().timeIntervalSince(started)))
        }

        """
        print(json, terminator: "")
        if let output { try OutputFile.write(json, to: output) }
        if let report {
            let fractions = (0...rounds).map { Double(min(n, initialCount + $0 * batchCount)) / Double(n) }
            var series = [CampaignReport.Series(name: "\(acquisition), mean of \(repeats) seed\(repeats == 1 ? "" : "s")",
                                                points: zip(fractions, mean).map { ($0 * 100, $1) }, colour: "#1f6fb4")]
            let palette = ["#8fb8de", "#f4a582", "#92c5a0", "#c2a5cf"]
            if repeats > 1 {
                for (k, recalls) in perSeed.enumerated() {
                    series.append(CampaignReport.Series(name: "seed \(seed &+ UInt64(k))", points: zip(fractions, recalls).map { ($0 * 100, $1) },
                                                        colour: palette[k % palette.count]))
                }
            }
            series.append(CampaignReport.Series(name: "random expectation (recall = fraction labelled)", points: fractions.map { ($0 * 100, $0) },
                                                colour: "#999", dashed: true))
            let what = dataset.taskKind == .classification ? "actives" : "top 1% (\(minimize ? "lowest" : "highest") values)"
            var body = "<p class=\"meta\">\(CampaignReport.escapeHTML(data)), column \(CampaignReport.escapeHTML(labelColumn)): \(n) molecules, \(hits.count) \(what). "
            let learnerText = model == .rf ? "random forest, \(trees) trees" : "\(model.rawValue) × \(members), \(epochs) epochs"
            body += "Initial \(initialCount) at random, then \(rounds) rounds of \(batchCount); model \(learnerText); "
            body += String(format: "%.1f s.</p>\n", Date().timeIntervalSince(started))
            body += "<h2>Recall of \(what) per round</h2>\n" + CampaignReport.chart(series, xLabel: "% of the library labelled", yLabel: "recall")
            let header = ["round", "labelled"] + ["recall (mean)"] + (repeats > 1 ? perSeed.indices.map { "seed \(seed &+ UInt64($0))" } : [])
            let rows = (0...rounds).map { r in
                [String(r), String(min(n, initialCount + r * batchCount)), String(format: "%.4f", mean[r])]
                    + (repeats > 1 ? perSeed.map { String(format: "%.4f", $0[r]) } : [])
            }
            body += CampaignReport.table(header: header, rows: rows)
            try OutputFile.write(CampaignReport.page(title: "Winnow campaign simulation: \(acquisition)", body: body), to: report)
        }
    }
}
