import Chemistry
import Fingerprints
import Foundation
import Learning
import Screening

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
    /// Early rounds have few labels (42 molecules = one batch per epoch): train for at least this
    /// many optimiser steps so a small set is learned, not left near the initial weights.
    public var minimumSteps = 300
    public init() {}

    func trainingOptions(seed: UInt64, labelled: Int = 0) -> TrainingOptions {
        var options = TrainingOptions()
        options.kind = kind == .dmpnn ? .dmpnn : .mlp
        options.members = members
        let stepsPerEpoch = max(1, (labelled + options.batchSize - 1) / options.batchSize)
        options.epochs = max(epochs, (minimumSteps + stepsPerEpoch - 1) / stepsPerEpoch)
        options.hidden = kind == .dmpnn && hidden == 512 ? 300 : hidden
        options.headHidden = headHidden
        options.dropout = dropout
        options.balanceClasses = balanceClasses
        options.seed = seed
        return options
    }

    public var json: String { String(decoding: try! JSONEncoder.sorted.encode(self), as: UTF8.self) }
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

    public init(graphs: [MolecularGraph], settings: LearnerSettings, taskKind: TaskKind, threads: Int = 1) {
        self.graphs = graphs
        self.settings = settings
        self.taskKind = taskKind
        self.threads = threads
        features = settings.kind == .rf ? nil : Featurised(graphs, options: settings.trainingOptions(seed: 0))
        let generator = MorganGenerator()
        bits = graphs.map { generator.bits($0) }
    }

    /// Trains on `labelled` (molecule index → value) and scores `candidates`. With no labels, or
    /// only one class of them, there is nothing to learn: the caller picks at random.
    public func score(labelled: [(molecule: Int, value: Double)], candidates: [Int], seed: UInt64,
                      validationFraction: Double = 0) -> RoundScores {
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
        if settings.kind == .rf {
            var result = forest(labelled: labelled, candidates: candidates, seed: seed, trees: settings.trees)
            if validationFraction > 0 { result.metrics = validateForest(labelled: labelled, fraction: validationFraction, seed: seed) }
            return result
        }
        var labels = [[Double?]](repeating: [nil], count: graphs.count)
        for (molecule, value) in labelled { labels[molecule] = [value] }
        let data = Dataset(ids: graphs.indices.map(String.init), smiles: [String](repeating: "", count: graphs.count), graphs: graphs,
                           taskNames: ["label"], taskKind: taskKind, labels: labels)
        let options = settings.trainingOptions(seed: seed, labelled: labelled.count)
        let rows = labelled.map(\.molecule)
        let info = TrainingDataInfo(file: "campaign", hash: labelHash(labelled), rows: rows.count, split: "all labels", counts: [:])
        let model = TrainedModel.train(data, train: rows, validation: [], options: options, dataInfo: info, features: features) { _ in }
        let prediction = model.predict(features: features!, rows: candidates)
        var result = RoundScores(scores: prediction.scores.map { $0[0] }, uncertainties: prediction.uncertainties.map { $0[0] },
                                 modelHash: (try? fnv1aHex(model.archive().encoded())) ?? "", coldStart: nil)
        if validationFraction > 0 {
            result.metrics = validate(data, rows: rows, fraction: validationFraction, seed: seed)
        }
        return result
    }

    func forest(labelled: [(molecule: Int, value: Double)], candidates: [Int], seed: UInt64, trees: Int) -> RoundScores {
        var targets = [Double](repeating: 0, count: graphs.count)
        for (m, v) in labelled { targets[m] = v }
        var forestSettings = RandomForest.Settings()
        forestSettings.trees = trees
        forestSettings.seed = seed
        let model = RandomForest.train(fingerprints: bits, targets: targets, rows: labelled.map(\.molecule), settings: forestSettings,
                                       threads: threads)
        let (mean, spread) = model.predict(bits, rows: candidates, threads: threads)
        let hash = fnv1aHex(Data((settings.json + labelHash(labelled) + String(seed)).utf8))
        return RoundScores(scores: mean, uncertainties: spread, modelHash: hash, coldStart: nil)
    }

    func validateForest(labelled: [(molecule: Int, value: Double)], fraction: Double, seed: UInt64) -> [String: Double] {
        var generator = SeededGenerator(seed: seed ^ 0x7A11_DA7E)
        var shuffled = labelled
        generator.shuffle(&shuffled)
        let held = max(1, Int(Double(labelled.count) * fraction))
        let validation = Array(shuffled.prefix(held)), train = Array(shuffled.dropFirst(held))
        let values = validation.map(\.value)
        if taskKind == .classification {
            let positives = values.filter { $0 > 0.5 }.count
            guard positives > 0, positives < values.count, train.contains(where: { $0.value > 0.5 }) else { return [:] }
        }
        let scores = forest(labelled: train, candidates: validation.map(\.molecule), seed: seed &+ 0xFFFF, trees: max(50, settings.trees / 2))
            .scores.map(Double.init)
        return heldOutMetrics(scores: scores, values: values)
    }

    func heldOutMetrics(scores: [Double], values: [Double]) -> [String: Double] {
        var metrics: [String: Double] = ["validation_molecules": Double(values.count)]
        if taskKind == .classification {
            let truth = values.map { $0 > 0.5 }
            if let auc = Metrics.rocAUC(scores: scores, labels: truth) { metrics["validation_roc_auc"] = auc }
            if let prc = Metrics.prcAUC(scores: scores, labels: truth) { metrics["validation_prc_auc"] = prc }
        } else {
            if let rmse = Metrics.rmse(predictions: scores, targets: values) { metrics["validation_rmse"] = rmse }
            if let r2 = Metrics.r2(predictions: scores, targets: values) { metrics["validation_r2"] = r2 }
        }
        return metrics
    }

    /// Held-out check of one member trained on the rest: how well the round's model generalises.
    func validate(_ data: Dataset, rows: [Int], fraction: Double, seed: UInt64) -> [String: Double] {
        var generator = SeededGenerator(seed: seed ^ 0x7A11_DA7E)
        var shuffled = rows
        generator.shuffle(&shuffled)
        let held = max(1, Int(Double(rows.count) * fraction))
        let validation = Array(shuffled.prefix(held)), train = Array(shuffled.dropFirst(held))
        var options = settings.trainingOptions(seed: seed &+ 0xFFFF, labelled: train.count)
        options.members = 1
        let values = validation.map { data.labels[$0][0]! }
        if taskKind == .classification {
            let positives = values.filter { $0 > 0.5 }.count
            guard positives > 0, positives < values.count, train.contains(where: { data.labels[$0][0]! > 0.5 }) else { return [:] }
        }
        let info = TrainingDataInfo(file: "campaign", hash: "", rows: train.count, split: "validation", counts: [:])
        let model = TrainedModel.train(data, train: train, validation: [], options: options, dataInfo: info, features: features) { _ in }
        let scores = model.predict(features: features!, rows: validation).scores.map { Double($0[0]) }
        return heldOutMetrics(scores: scores, values: values)
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
        var pickedBits: [[UInt64]] = []
        for (position, c) in order.enumerated() {
            if picked.count == count { break }
            if let threshold = diverse, pickedBits.contains(where: { tanimoto($0, bits[candidates[c]]) > threshold }) { continue }
            pickedBits.append(bits[candidates[c]])
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
