import Chemistry
import Foundation
import Learning

/// A retrospective campaign on fully labelled data: how many actives (or, for continuous labels,
/// how many of the best 1%) would each acquisition strategy have found, round by round? It trains
/// with the same `CampaignLearner` and picks with the same `BatchSelector` as a real campaign, so it
/// measures what `campaign select` does.
public enum CampaignSimulation {
    public struct Options: Sendable {
        /// Fraction labelled at random before round 1.
        public var initial = 0.01
        /// Fraction labelled per round.
        public var batch = 0.01
        /// Rounds after the initial set.
        public var rounds = 9
        public var acquisition: Acquisition = .greedy
        /// UCB exploration weight.
        public var beta: Float = 2
        /// Lower values are better (docking scores); for continuous labels only.
        public var minimize = false
        /// Seed of the first repeat; repeat k uses seed + k.
        public var seed: UInt64 = 0
        public var repeats = 1
        public var learner = LearnerSettings()
        /// Keep each round's picks below this Tanimoto similarity to each other.
        public var diverse: Double?
        public var threads = 1
        public init() {}
    }

    /// What `campaign simulate` prints as JSON (recalls to 4 decimals).
    public struct Result: Codable, Sendable, Equatable {
        public var acquisition: Acquisition
        public var molecules: Int
        public var hits: Int
        public var initial: Int
        public var batch: Int
        /// Mean recall over the repeats after round 0, 1, …, rounds.
        public var recall: [Double]
        public var recallPerSeed: [[Double]]
        public var seeds: [UInt64]
        public var seconds: Double

        enum CodingKeys: String, CodingKey {
            case acquisition, molecules, hits, initial, batch, recall, seeds, seconds
            case recallPerSeed = "recall_per_seed"
        }

        /// Fraction of the library labelled after each round.
        public var fractionsLabelled: [Double] {
            recall.indices.map { Double(min(molecules, initial + $0 * batch)) / Double(max(molecules, 1)) }
        }
    }

    /// Runs every repeat. `values` are the labels (1/0 or numbers) in `graphs` order; `progress` gets
    /// one line per round.
    public static func run(graphs: [MolecularGraph], values: [Double], taskKind: TaskKind, options: Options,
                           progress: (String) -> Void = { _ in }) throws(TrainingError) -> Result {
        let started = Date()
        let n = values.count
        // What counts as a hit: actives, or the best 1% of continuous values.
        let hits: Set<Int>
        if taskKind == .classification {
            hits = Set((0..<n).filter { values[$0] > 0.5 })
        } else {
            let order = (0..<n).sorted { options.minimize ? values[$0] < values[$1] : values[$0] > values[$1] }
            hits = Set(order.prefix(max(1, n / 100)))
        }
        let learner = CampaignLearner(graphs: graphs, settings: options.learner, taskKind: taskKind, threads: options.threads)
        let initialCount = max(1, Int((options.initial * Double(n)).rounded()))
        let batchCount = max(1, Int((options.batch * Double(n)).rounded()))
        var perSeed: [[Double]] = []
        for repeatIndex in 0..<options.repeats {
            let runSeed = options.seed &+ UInt64(repeatIndex)
            var generator = SeededGenerator(seed: runSeed)
            var order = Array(0..<n)
            generator.shuffle(&order)
            var isLabelled = [Bool](repeating: false, count: n)
            for i in order.prefix(initialCount) { isLabelled[i] = true }
            var recalls: [Double] = []
            func recall() -> Double { Double(hits.filter { isLabelled[$0] }.count) / Double(max(hits.count, 1)) }
            recalls.append(recall())
            for round in 1...max(1, options.rounds) {
                let train = (0..<n).filter { isLabelled[$0] }
                let pool = (0..<n).filter { !isLabelled[$0] }
                if pool.isEmpty { recalls.append(recall()); continue }
                let roundSeed = runSeed &* 1000 &+ UInt64(round)
                let scores: RoundScores
                if options.acquisition == .random {
                    let zeros = [Float](repeating: 0, count: pool.count)
                    scores = RoundScores(scores: zeros, uncertainties: zeros, modelHash: "", coldStart: nil)
                } else {
                    scores = try learner.score(labelled: train.map { ($0, values[$0]) }, candidates: pool, seed: roundSeed)
                }
                let picks = BatchSelector.pick(count: batchCount, scores: scores, acquisition: options.acquisition, beta: options.beta,
                                               minimize: options.minimize, diverse: options.diverse, candidates: pool, bits: learner.bits,
                                               seed: roundSeed)
                for p in picks { isLabelled[pool[p.candidate]] = true }
                let now = recall()
                recalls.append(now)
                progress(String(format: "seed %d round %d: %d labelled, recall %.3f%@", Int(runSeed), round,
                                isLabelled.filter { $0 }.count, now, scores.coldStart.map { " (random: \($0))" } ?? ""))
            }
            perSeed.append(recalls)
        }
        let rounds = perSeed.first?.count ?? 0
        let mean = (0..<rounds).map { r in perSeed.map { $0[r] }.reduce(0, +) / Double(perSeed.count) }
        func fourDecimals(_ v: Double) -> Double { (v * 10_000).rounded() / 10_000 }
        return Result(acquisition: options.acquisition, molecules: n, hits: hits.count, initial: initialCount, batch: batchCount,
                      recall: mean.map(fourDecimals), recallPerSeed: perSeed.map { $0.map(fourDecimals) },
                      seeds: (0..<options.repeats).map { options.seed &+ UInt64($0) },
                      seconds: (Date().timeIntervalSince(started) * 10).rounded() / 10)
    }

    /// The result as JSON: keys sorted, two-space indentation, a final newline.
    public static func json(_ result: Result) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(result), as: UTF8.self) + "\n"
    }

    /// A self-contained HTML page: recall per round against random picking, and the table.
    public static func reportPage(_ result: Result, options: Options, data: String, labelColumn: String, taskKind: TaskKind) -> String {
        let fractions = result.fractionsLabelled
        let rounds = result.recall.count - 1
        var series = [CampaignReport.Series(name: "\(result.acquisition.rawValue), mean of \(options.repeats) seed\(options.repeats == 1 ? "" : "s")",
                                            points: zip(fractions, result.recall).map { ($0 * 100, $1) }, colour: "#1f6fb4")]
        let palette = ["#8fb8de", "#f4a582", "#92c5a0", "#c2a5cf"]
        if options.repeats > 1 {
            for (k, recalls) in result.recallPerSeed.enumerated() {
                series.append(CampaignReport.Series(name: "seed \(result.seeds[k])", points: zip(fractions, recalls).map { ($0 * 100, $1) },
                                                    colour: palette[k % palette.count]))
            }
        }
        series.append(CampaignReport.Series(name: "random expectation (recall = fraction labelled)", points: fractions.map { ($0 * 100, $0) },
                                            colour: "#999", dashed: true))
        let what = taskKind == .classification ? "actives" : "top 1% (\(options.minimize ? "lowest" : "highest") values)"
        var body = "<p class=\"meta\">\(CampaignReport.escapeHTML(data)), column \(CampaignReport.escapeHTML(labelColumn)): \(result.molecules) molecules, \(result.hits) \(what). "
        let learner = options.learner
        let learnerText = learner.kind == .rf ? "random forest, \(learner.trees) trees" : "\(learner.kind.rawValue) × \(learner.members), \(learner.epochs) epochs"
        body += "Initial \(result.initial) at random, then \(rounds) rounds of \(result.batch); model \(learnerText); "
        body += String(format: "%.1f s.</p>\n", result.seconds)
        body += "<h2>Recall of \(what) per round</h2>\n" + CampaignReport.chart(series, xLabel: "% of the library labelled", yLabel: "recall")
        let header = ["round", "labelled", "recall (mean)"] + (options.repeats > 1 ? result.seeds.map { "seed \($0)" } : [])
        let rows = (0...rounds).map { r in
            [String(r), String(min(result.molecules, result.initial + r * result.batch)), String(format: "%.4f", result.recall[r])]
                + (options.repeats > 1 ? result.recallPerSeed.map { String(format: "%.4f", $0[r]) } : [])
        }
        body += CampaignReport.table(header: header, rows: rows)
        return CampaignReport.page(title: "Winnow campaign simulation: \(result.acquisition.rawValue)", body: body)
    }
}
