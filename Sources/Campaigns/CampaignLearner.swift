import Chemistry
import Fingerprints
import Foundation
import Learning
import LibraryIO

/// The model a campaign retrains each round.
public enum LearnerKind: String, Codable, Sendable, CaseIterable {
    /// Random forest (500 trees) on Morgan bits: strong with few labels, seconds per round.
    case rf
    /// Fingerprint MLP ensemble.
    case mlp
    /// D-MPNN ensemble (slowest).
    case dmpnn
}

/// How each round's model is trained; stored in the campaign file and in every round's record.
public struct LearnerSettings: Codable, Sendable, Equatable {
    public var kind: LearnerKind = .rf
    /// Trees of the random forest.
    public var trees = 500
    public var members = 5
    public var epochs = 30
    /// MLP first hidden layer / D-MPNN message size.
    public var hidden = 512
    public var headHidden = [128]
    public var dropout: Float = 0.2
    public var balanceClasses = true
    public init() {}

    func trainingOptions(seed: UInt64) -> TrainingOptions {
        var options = TrainingOptions()
        options.kind = kind == .dmpnn ? .dmpnn : .mlp
        options.members = members
        options.epochs = epochs
        options.hidden = kind == .dmpnn && hidden == 512 ? 300 : hidden
        options.headHidden = headHidden
        options.dropout = dropout
        options.balanceClasses = balanceClasses
        options.seed = seed
        return options
    }

    public var json: String { (try? JSONEncoder.sorted.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}" }

    /// The largest forest and ensemble a campaign trains: far above any useful setting, low enough
    /// that a damaged or forged settings value cannot ask for unbounded memory.
    public static let maximumTrees = 20_000
    public static let maximumMembers = 64
    public static let maximumEpochs = 10_000

    /// Why these settings cannot be trained with, or nil when they can.
    public var problem: String? {
        guard (1...Self.maximumTrees).contains(trees) else { return "trees is \(trees), expected 1 to \(Self.maximumTrees)" }
        guard (1...Self.maximumMembers).contains(members) else { return "members is \(members), expected 1 to \(Self.maximumMembers)" }
        guard (1...Self.maximumEpochs).contains(epochs) else { return "epochs is \(epochs), expected 1 to \(Self.maximumEpochs)" }
        guard (1...65_536).contains(hidden), headHidden.count <= 16, headHidden.allSatisfy({ (1...65_536).contains($0) }) else {
            return "layer sizes \(hidden) / \(headHidden) are out of range (1 to 65536)"
        }
        guard dropout.isFinite, dropout >= 0, dropout < 1 else { return "dropout is \(dropout), expected 0 to 1" }
        return nil
    }
}

/// Scores and their spread for the candidates of one round, and what produced them.
public struct RoundScores: Sendable {
    public var scores: [Float]
    public var uncertainties: [Float]
    /// FNV-1a of the trained model file (empty when no model could be trained).
    public var modelHash: String
    /// Why there is no model (no labels yet, one class only); the picks are then random.
    public var coldStart: String?
    public var metrics: [String: Double] = [:]

    public init(scores: [Float], uncertainties: [Float], modelHash: String, coldStart: String?) {
        self.scores = scores; self.uncertainties = uncertainties; self.modelHash = modelHash; self.coldStart = coldStart
    }
}

/// The model side of a campaign round, shared by `select` and `simulate` so a simulation measures
/// exactly what a real campaign does: features computed once for every molecule, an ensemble trained
/// on the labelled ones, scores and spreads for the candidates.
public final class CampaignLearner {
    public let settings: LearnerSettings
    public let taskKind: TaskKind
    let graphs: [MolecularGraph]
    /// Network inputs (MLP / D-MPNN learners only).
    let features: Featurised?
    let threads: Int
    /// Morgan bits (radius 2, 2048) of every molecule, for diversity and nearest-active similarity.
    public let bits: [[UInt64]]
    /// The forest's input of every molecule (bits, or count thresholds for continuous labels).
    let forestInput: [[UInt64]]

    public init(graphs: [MolecularGraph], settings: LearnerSettings, taskKind: TaskKind, threads: Int = 1) {
        self.graphs = graphs
        self.settings = settings
        self.taskKind = taskKind
        self.threads = threads
        features = settings.kind == .rf ? nil : Featurised(graphs, options: settings.trainingOptions(seed: 0))
        let generator = MorganGenerator()
        bits = graphs.map { generator.bits($0) }
        let counts = RandomForest.Settings().usesCounts(taskKind)
        forestInput = settings.kind != .rf ? [] : counts ? graphs.map { RandomForest.input($0, generator: generator, counts: true) } : bits
    }

    /// Trains on `labelled` (molecule index → value) and scores `candidates`. With no labels, or
    /// only one class of them, there is nothing to learn: the caller picks at random.
    public func score(labelled: [(molecule: Int, value: Double)], candidates: [Int], seed: UInt64,
                      validationFraction: Double = 0) throws(TrainingError) -> RoundScores {
        let zeros = [Float](repeating: 0, count: candidates.count)
        if labelled.isEmpty {
            return RoundScores(scores: zeros, uncertainties: zeros, modelHash: "", coldStart: "no labels yet")
        }
        if taskKind == .classification {
            let actives = labelled.filter { $0.value > 0.5 }.count
            if actives == 0 || actives == labelled.count {
                return RoundScores(scores: zeros, uncertainties: zeros, modelHash: "",
                                   coldStart: actives == 0 ? "no actives labelled yet" : "no inactives labelled yet")
            }
        }
        var result = try fit(labelled, candidates: candidates, seed: seed, reduced: false)
        if validationFraction > 0 { result.metrics = try validate(labelled, fraction: validationFraction, seed: seed) }
        return result
    }

    /// Trains this round's model on `labelled` and scores `candidates`. `reduced` (the held-out
    /// check) trains one network member or half the trees.
    func fit(_ labelled: [(molecule: Int, value: Double)], candidates: [Int], seed: UInt64, reduced: Bool) throws(TrainingError) -> RoundScores {
        if settings.kind == .rf {
            var targets = [Double](repeating: 0, count: graphs.count)
            for (m, v) in labelled { targets[m] = v }
            var forestSettings = RandomForest.Settings()
            forestSettings.trees = reduced ? max(50, settings.trees / 2) : settings.trees
            forestSettings.seed = seed
            let model = RandomForest.train(fingerprints: forestInput, targets: targets, rows: labelled.map(\.molecule), settings: forestSettings,
                                           taskKind: taskKind, threads: threads)
            let (mean, spread) = model.predict(forestInput, rows: candidates, threads: threads)
            // The forest is not stored; its hash is that of everything that determines it.
            let hash = fnv1aHex(Data((settings.json + labelHash(labelled) + String(seed)).utf8))
            return RoundScores(scores: mean, uncertainties: spread, modelHash: hash, coldStart: nil)
        }
        var options = settings.trainingOptions(seed: seed)
        if reduced { options.members = 1 }
        let rows = labelled.map(\.molecule)
        let info = TrainingDataInfo(file: "campaign", hash: labelHash(labelled), rows: rows.count, split: "all labels", counts: [:])
        let model = try TrainedModel.train(dataset(labelled), train: rows, validation: [], options: options, dataInfo: info,
                                       threads: threads, features: features) { _ in }
        let prediction = model.predict(features: features!, rows: candidates)
        return RoundScores(scores: prediction.scores.map { $0[0] }, uncertainties: prediction.uncertainties.map { $0[0] },
                           modelHash: (try? fnv1aHex(model.archive().encoded())) ?? "", coldStart: nil)
    }

    /// All molecules with the given labels (the rest unlabelled), as training and evaluation expect.
    func dataset(_ labelled: [(molecule: Int, value: Double)]) -> Dataset {
        var labels = [[Double?]](repeating: [nil], count: graphs.count)
        for (molecule, value) in labelled { labels[molecule] = [value] }
        return Dataset(ids: graphs.indices.map(String.init), smiles: [String](repeating: "", count: graphs.count), graphs: graphs,
                       taskNames: ["label"], taskKind: taskKind, labels: labels)
    }

    /// Held-out check: a reduced model trained on a seeded (1 − fraction) of the labels, scored on the
    /// rest with the usual metrics (`validation_roc_auc`, `validation_rmse`, …). Empty when the held-out
    /// part or the training part lacks a class.
    func validate(_ labelled: [(molecule: Int, value: Double)], fraction: Double, seed: UInt64) throws(TrainingError) -> [String: Double] {
        var generator = SeededGenerator(seed: seed ^ 0x7A11_DA7E)
        var shuffled = labelled
        generator.shuffle(&shuffled)
        let held = max(1, Int(Double(labelled.count) * fraction))
        let validation = Array(shuffled.prefix(held)), train = Array(shuffled.dropFirst(held))
        if taskKind == .classification {
            let positives = validation.filter { $0.value > 0.5 }.count
            guard positives > 0, positives < validation.count, train.contains(where: { $0.value > 0.5 }) else { return [:] }
        }
        let rows = validation.map(\.molecule)
        let scores = try fit(train, candidates: rows, seed: seed &+ 0xFFFF, reduced: true).scores.map { [$0] }
        var metrics: [String: Double] = [:]
        for (key, value) in Evaluation.metrics(scores: scores, data: dataset(labelled), rows: rows) { metrics["validation_" + key] = value }
        return metrics
    }

    func labelHash(_ labelled: [(molecule: Int, value: Double)]) -> String {
        var bytes: [UInt8] = []
        for (m, v) in labelled.sorted(by: { $0.molecule < $1.molecule }) {
            withUnsafeBytes(of: Int64(m).littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return fnv1aHex(Data(bytes))
    }

    /// Nearest labelled active (classification) or best labelled molecule for a candidate.
    public func nearest(_ molecule: Int, among references: [Int]) -> (molecule: Int, similarity: Double)? {
        var best: (Int, Double)? = nil
        for r in references {
            let s = tanimoto(bits[molecule], bits[r])
            if best == nil || s > best!.1 { best = (r, s) }
        }
        return best
    }
}

/// One picked molecule: its position among the candidates and why it was picked.
public struct BatchPick: Sendable, Equatable {
    public var candidate: Int
    public var value: Float
    public var reason: String
}

public enum BatchSelector {
    /// Picks `count` candidates in acquisition order; with `diverse`, a candidate is skipped when its
    /// Tanimoto similarity to an already picked one is above the threshold (greedy, best first).
    /// In a cold start (no model) the order is random for the seed. `candidates` are the molecule
    /// indices (into `bits`) of the scored candidates.
    public static func pick(count: Int, scores: RoundScores, acquisition: Acquisition, beta: Float, minimize: Bool,
                            diverse: Double?, candidates: [Int], bits: [[UInt64]], seed: UInt64) -> [BatchPick] {
        let n = scores.scores.count
        let method: Acquisition = scores.coldStart != nil ? .random : acquisition
        let order = method.pick(count: diverse == nil ? count : n, scores: scores.scores, uncertainties: scores.uncertainties,
                                beta: beta, minimize: minimize, seed: seed)
        var picked: [BatchPick] = []
        // Positions in `order` that make the batch: all of the first `count`, or the greedy diverse pick.
        let positions: [Int]
        if let threshold = diverse {
            let bitCount = bits.first.map { $0.count * 64 } ?? 64
            positions = FingerprintRows.diversePick(count: order.count, bitCount: bitCount, threshold: threshold, limit: count) {
                bits[candidates[order[$0]]]
            }
        } else {
            positions = Array(0..<min(count, order.count))
        }
        for position in positions {
            let c = order[position]
            let s = scores.scores[c], u = scores.uncertainties[c]
            let reason: String
            switch method {
            case _ where scores.coldStart != nil: reason = "random: \(scores.coldStart!), nothing to learn from"
            case .greedy: reason = String(format: "greedy: predicted %@ ranks %d of %d", fmt(s), position + 1, n)
            case .ucb: reason = String(format: "ucb: %@ %@ %.3g x uncertainty %@ ranks %d of %d", fmt(s), minimize ? "-" : "+", beta, fmt(u), position + 1, n)
            case .thompson: reason = String(format: "thompson: draw from N(%@, %@) ranks %d of %d", fmt(s), fmt(u), position + 1, n)
            case .uncertainty: reason = String(format: "uncertainty: ensemble spread %@ ranks %d of %d", fmt(u), position + 1, n)
            case .random: reason = "random"
            }
            picked.append(BatchPick(candidate: c, value: s, reason: reason))
        }
        return picked
    }

    static func fmt(_ v: Float) -> String { String(format: "%.4f", Double(v)) }
}
