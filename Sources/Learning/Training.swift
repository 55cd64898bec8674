import Chemistry
import Fingerprints
import Foundation

/// What `winnow train` grows: a fingerprint MLP, a D-MPNN, or a random forest on Morgan bits alone.
public enum ModelKind: String, Codable, Sendable, CaseIterable {
    case mlp, dmpnn, rf

    /// Whether the kind is a neural network trained by epochs (the forest is grown in one pass).
    public var isNetwork: Bool { self != .rf }
}
public enum TaskKind: String, Codable, Sendable { case classification, regression }

/// Labelled molecules ready for training: graphs plus a `rows × tasks` label matrix with a mask.
public struct Dataset: Sendable {
    public var ids: [String]
    public var smiles: [String]
    public var graphs: [MolecularGraph]
    public var taskNames: [String]
    public var taskKind: TaskKind
    /// `labels[i][t]`, nil when not measured.
    public var labels: [[Double?]]
    /// Each molecule's values of the feature columns (`ExtraFeatures.columns`, `--feature-columns`);
    /// empty when the data has none.
    public var featureColumns: [[Double]] = []

    public init(ids: [String], smiles: [String], graphs: [MolecularGraph], taskNames: [String], taskKind: TaskKind, labels: [[Double?]]) {
        self.ids = ids; self.smiles = smiles; self.graphs = graphs
        self.taskNames = taskNames; self.taskKind = taskKind; self.labels = labels
    }

    public var count: Int { graphs.count }

    /// The feature-column values of `rows` (empty when the data has none).
    public func featureColumns(_ rows: [Int]) -> [[Double]] { featureColumns.isEmpty ? [] : rows.map { featureColumns[$0] } }

    /// The largest label magnitude training accepts. Labels are trained as 32-bit floats and squared
    /// in the regression loss: ±1e12 keeps every square (1e24) and batch sum far inside Float's range
    /// (3.4e38), and is far beyond any measured quantity (pIC50, logP, docking scores, nM).
    public static let labelLimit: Double = 1e12

    /// Why a label value cannot be trained on, or nil when it can (finite, within ±`labelLimit`).
    public static func labelProblem(_ value: Double) -> String? {
        guard value.isFinite else { return "is not a finite number" }
        guard abs(value) <= labelLimit else { return "is outside ±1e12, the range Winnow trains on (32-bit floats)" }
        return nil
    }

    func targets(_ rows: [Int]) -> Targets {
        let t = taskNames.count
        var values = Matrix(rows: rows.count, cols: t), mask = Matrix(rows: rows.count, cols: t)
        for (r, i) in rows.enumerated() {
            for k in 0..<t { if let v = labels[i][k] { values[r, k] = Float(v); mask[r, k] = 1 } }
        }
        return Targets(values: values, mask: mask)
    }
}

/// Everything that defines a model's architecture and training; stored in the model file.
public struct TrainingOptions: Codable, Sendable, Equatable {
    public var kind: ModelKind = .dmpnn
    public var members = 1
    public var epochs = 30
    public var batchSize = 50
    public var initialLearningRate: Float = 1e-4
    public var maximumLearningRate: Float = 1e-3
    public var finalLearningRate: Float = 1e-4
    public var warmupEpochs = 2
    public var weightDecay: Float = 0
    public var dropout: Float = 0
    /// D-MPNN message size / MLP first hidden layer.
    public var hidden = 300
    public var depth = 3
    public var aggregation: DMPNN.Aggregation = .norm
    /// Hidden layers of the feed-forward head after the encoder.
    public var headHidden: [Int] = [300]
    public var seed: UInt64 = 0
    /// Stop when the validation metric has not improved for this many epochs (nil: run all epochs,
    /// still keeping the best epoch's weights).
    public var patience: Int? = nil
    public var fingerprint = MorganSettings()
    public var useCounts = true
    /// Weight positives by negatives/positives per task (helps imbalanced sets such as HIV).
    public var balanceClasses = false
    /// Also train a random forest of this many trees on Morgan on-bits (one per task) and average it
    /// with the network ensemble (nil: networks only). Optional so that older model files decode.
    public var forestTrees: Int? = nil
    /// The forest's settings (trees, bits per split, depth, class weights): the model itself for
    /// `kind == .rf`, else the forest averaged with the networks. Takes precedence over `forestTrees`.
    public var forest: RandomForest.Settings? = nil
    /// Whether `balanceClasses` was switched on because of the active rate (rather than asked for);
    /// nil in older files.
    public var balanceAutomatic: Bool? = nil
    /// The validation measure for early stopping and best-epoch selection (nil: ROC-AUC /
    /// negative RMSE, as older files did).
    public var selectionMetric: SelectionMetric? = nil
    /// Descriptors and numeric columns the networks read beside their learned representation, with
    /// their scaling (nil: none; older files).
    public var extraFeatures: ExtraFeatures? = nil

    /// Number of extra inputs of the networks.
    public var extraFeatureCount: Int { extraFeatures?.count ?? 0 }

    /// The forest to grow, if any: `forest`, or `forestTrees` trees with the defaults (older files).
    public var forestSettings: RandomForest.Settings? {
        if let forest { return forest }
        guard let forestTrees else { return nil }
        var settings = RandomForest.Settings()
        settings.trees = forestTrees
        settings.counts = false  // what these older files were trained on
        return settings
    }

    public init() {}
}

/// Precomputed per-molecule inputs for the networks of a kind (`ModelArchitecture.featurise`).
public struct Featurised: Sendable {
    /// Morgan counts (or on bits, valued 1) of every molecule, one row each (fingerprint MLPs).
    public var fingerprints: SparseRows
    /// One graph batch per molecule (D-MPNNs).
    public var graphs: [GraphBatch] = []
    /// The scaled extra features of every molecule (`options.extraFeatures`), one row each; empty
    /// when the model has none. The MLP holds them inside `fingerprints` as well.
    public var extra: [[Float]] = []

    /// `columns`: each molecule's feature-column values when the options name feature columns.
    public init(_ molecules: [MolecularGraph], options: TrainingOptions, columns: [[Double]] = []) {
        let extra = options.extraFeatures.map { $0.inputs(molecules, columns: columns) } ?? []
        self = options.kind.architecture.featurise(molecules, extra: extra, options: options)
    }

    init(fingerprints: SparseRows, graphs: [GraphBatch] = [], extra: [[Float]] = []) {
        self.fingerprints = fingerprints
        self.graphs = graphs
        self.extra = extra
    }
}

/// Why training stopped without a model.
public enum TrainingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The loss became NaN or infinite: the weights can no longer be trusted, so no model is kept.
    case nonFiniteLoss(member: Int, epoch: Int, loss: Float)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let member, let epoch, let loss):
            return "training diverged: the loss became \(loss) in epoch \(epoch) of member \(member + 1), so no model was written "
                + "(labels on very different scales, or extreme values, are the usual cause: rescale them, e.g. to log units)"
        }
    }
}

/// Per-epoch report for the progress line.
public struct EpochReport: Sendable {
    public var member: Int
    public var epoch: Int
    public var loss: Float
    public var validationMetric: Double?
    public var metricName: String
    public var seconds: Double
}

public enum Trainer {
    /// Gradient shards per batch (fixed, so results do not depend on the thread count).
    static let shards = 2

    /// Learning rate at a step: linear warm-up to the maximum, then exponential decay to the final
    /// rate at the last step (Chemprop's Noam-like schedule).
    static func learningRate(step: Int, stepsPerEpoch: Int, options: TrainingOptions) -> Float {
        let warmup = max(1, options.warmupEpochs * stepsPerEpoch)
        let total = max(warmup + 1, options.epochs * stepsPerEpoch)
        if step < warmup {
            return options.initialLearningRate + (options.maximumLearningRate - options.initialLearningRate) * Float(step) / Float(warmup)
        }
        let gamma = pow(Double(options.finalLearningRate / options.maximumLearningRate), 1 / Double(total - warmup))
        return options.maximumLearningRate * Float(pow(gamma, Double(step - warmup)))
    }

    /// The validation metric used for model selection, mean over tasks, larger is better.
    public static func selectionMetric(_ predictions: [[Float]], _ data: Dataset, rows: [Int], metric: SelectionMetric) -> Double? {
        var values: [Double] = []
        for t in 0..<data.taskNames.count {
            var scores: [Double] = [], labels: [Double] = []
            for (r, i) in rows.enumerated() { if let y = data.labels[i][t] { scores.append(Double(predictions[r][t])); labels.append(y) } }
            if let value = metric.value(scores: scores, labels: labels) { values.append(value) }
        }
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Predictions (probabilities or values) of one network, `rows.count × tasks`, in row order.
    static func predict(_ network: any Network, _ features: Featurised, rows: [Int], kind: TaskKind, batchSize: Int = 256) -> [[Float]] {
        var out: [[Float]] = []
        out.reserveCapacity(rows.count)
        var generator = SeededGenerator(seed: 0)
        var start = 0
        while start < rows.count {
            let chunk = Array(rows[start..<min(rows.count, start + batchSize)])
            let y = network.forward(features, rows: chunk, training: false, generator: &generator)
            for r in 0..<y.rows {
                out.append((0..<y.cols).map { c in kind == .classification ? 1 / (1 + exp(-y[r, c])) : y[r, c] })
            }
            start += batchSize
        }
        return out
    }

    /// Trains `options.members` networks (seeds seed, seed+1, …) and keeps each member's best epoch
    /// on the validation rows. Throws as soon as an epoch's loss is not finite. With `threads` above 1
    /// the gradient shards of a batch are computed on parallel threads (the weights are the same at
    /// any thread count).
    public static func train(_ data: Dataset, train trainRows: [Int], validation validationRows: [Int],
                             options: TrainingOptions, threads: Int, features precomputed: Featurised? = nil,
                             report: (EpochReport) -> Void) throws(TrainingError) -> [any Network] {
        let architecture = options.kind.architecture
        guard options.kind.isNetwork else { return [] }
        let features = precomputed ?? Featurised(data.graphs, options: options, columns: data.featureColumns)
        let tasks = data.taskNames.count
        var positiveWeights: [Float]? = nil
        if options.balanceClasses && data.taskKind == .classification {
            positiveWeights = (0..<tasks).map { t in
                var positives = 0, negatives = 0
                for i in trainRows { if let y = data.labels[i][t] { if y > 0.5 { positives += 1 } else { negatives += 1 } } }
                return positives > 0 ? Float(negatives) / Float(positives) : 1
            }
        }
        let selection = options.selectionMetric ?? SelectionMetric.legacy(data.taskKind)
        var members: [any Network] = []
        let shards = Trainer.shards
        for member in 0..<options.members {
            let seed = options.seed &+ UInt64(member)
            // Identical replicas (same seed): each batch is cut into a fixed number of shards whose
            // gradients are computed in parallel and summed in shard order, so training gives the
            // same weights at any thread count.
            let replicas = (0..<shards).compactMap { _ in architecture.makeNetwork(options, tasks: tasks, seed: seed) }
            guard replicas.count == shards else { return [] }  // a kind without networks
            let network = replicas[0]
            var generator = SeededGenerator(seed: seed ^ 0x5EED_0F_7A1B)
            var adam = Adam(weightDecay: options.weightDecay)
            let stepsPerEpoch = max(1, (trainRows.count + options.batchSize - 1) / options.batchSize)
            var step = 0
            var best: (metric: Double, values: [Matrix])? = nil
            var sinceBest = 0
            let losses = UnsafeMutableBufferPointer<Float>.allocate(capacity: shards)
            defer { losses.deallocate() }
            for epoch in 1...max(1, options.epochs) {
                let started = Date()
                var order = trainRows
                generator.shuffle(&order)
                var lossSum: Float = 0
                var batches = 0
                var start = 0
                while start < order.count {
                    let rows = Array(order[start..<min(order.count, start + options.batchSize)])
                    start += options.batchSize
                    // Shards divide by the whole batch's label count so their gradients add up exactly.
                    var labelled = 0
                    for i in rows { for label in data.labels[i] where label != nil { labelled += 1 } }
                    let normalizer = Float(max(labelled, 1))
                    let shardSize = (rows.count + shards - 1) / shards
                    let stepSeed = seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(step)
                    let work = { (s: Int) in
                        let replica = replicas[s]
                        for p in replica.parameters { p.zeroGradient() }
                        losses[s] = 0
                        let lower = min(rows.count, s * shardSize), upper = min(rows.count, lower + shardSize)
                        guard lower < upper else { return }
                        let shardRows = Array(rows[lower..<upper])
                        var shardGenerator = SeededGenerator(seed: stepSeed &+ UInt64(s) &* 0x632B_E59B_D9B4_E019)
                        let output = replica.forward(features, rows: shardRows, training: true, generator: &shardGenerator)
                        var gradient = Matrix(rows: 0, cols: 0)
                        let shardTargets = data.targets(shardRows)
                        losses[s] = data.taskKind == .classification
                            ? Loss.binaryCrossEntropy(logits: output, targets: shardTargets, positiveWeights: positiveWeights,
                                                      normalizer: normalizer, gradient: &gradient)
                            : Loss.meanSquaredError(predictions: output, targets: shardTargets, normalizer: normalizer, gradient: &gradient)
                        replica.backward(gradient)
                    }
                    if threads > 1 {
                        // Safe: shard s touches only replicas[s] and losses[s]; data and features are read-only.
                        let box = UncheckedSendable(work)
                        DispatchQueue.concurrentPerform(iterations: shards) { box.value($0) }
                    } else {
                        for s in 0..<shards { work(s) }
                    }
                    let parameterLists = replicas.map { $0.parameters }
                    for k in parameterLists[0].indices {
                        for s in 1..<shards { BLAS.axpy(1, parameterLists[s][k].gradient.values, &parameterLists[0][k].gradient.values) }
                    }
                    adam.update(parameterLists[0], learningRate: learningRate(step: step, stepsPerEpoch: stepsPerEpoch, options: options))
                    for k in parameterLists[0].indices {
                        for s in 1..<shards { parameterLists[s][k].value = parameterLists[0][k].value }
                    }
                    step += 1
                    lossSum += losses.reduce(0, +)
                    batches += 1
                }
                var metric: Double? = nil
                if !validationRows.isEmpty {
                    let predictions = predict(network, features, rows: validationRows, kind: data.taskKind)
                    metric = selectionMetric(predictions, data, rows: validationRows, metric: selection)
                }
                let loss = lossSum / Float(max(batches, 1))
                report(EpochReport(member: member, epoch: epoch, loss: loss, validationMetric: metric,
                                   metricName: selection.rawValue,
                                   seconds: Date().timeIntervalSince(started)))
                // A NaN or infinite loss poisons every weight through the next update; an earlier
                // "best" epoch cannot be trusted either (its validation metric saw the same scale).
                guard loss.isFinite else { throw .nonFiniteLoss(member: member, epoch: epoch, loss: loss) }
                let score = metric ?? Double(epoch)  // without validation rows the last epoch wins
                if best == nil || score > best!.metric {
                    best = (score, network.parameters.map { $0.value })
                    sinceBest = 0
                } else {
                    sinceBest += 1
                    if let patience = options.patience, sinceBest >= patience { break }
                }
            }
            if let best { for (p, value) in zip(network.parameters, best.values) { p.value = value } }
            members.append(network)
        }
        return members
    }
}

/// The validation measure that picks the best epoch and the best model of `--model auto`; larger is
/// better for all (RMSE enters negated).
public enum SelectionMetric: String, Codable, Sendable, CaseIterable {
    case rocAUC = "roc-auc"
    /// Average precision: rewards ranking the actives at the very top, what a screen keeps.
    case prcAUC = "prc-auc"
    case bedroc20
    case rmse

    /// The measure older model files used.
    static func legacy(_ kind: TaskKind) -> SelectionMetric { kind == .classification ? .rocAUC : .rmse }

    /// For screening: average precision (PRC-AUC) when actives are rare, where ROC-AUC hardly moves
    /// while the top of the list improves; ROC-AUC for roughly balanced sets; RMSE for regression.
    public static func forScreening(_ data: Dataset, rows: [Int]) -> SelectionMetric {
        guard data.taskKind == .classification else { return .rmse }
        let rate = data.activeRate(rows)
        return min(rate, 1 - rate) < Dataset.imbalanceThreshold ? .prcAUC : .rocAUC
    }

    public func value(scores: [Double], labels: [Double]) -> Double? {
        switch self {
        case .rocAUC: Metrics.rocAUC(scores: scores, labels: labels.map { $0 > 0.5 })
        case .prcAUC: Metrics.prcAUC(scores: scores, labels: labels.map { $0 > 0.5 })
        case .bedroc20: Metrics.bedroc(scores: scores, labels: labels.map { $0 > 0.5 }, alpha: 20)
        case .rmse: Metrics.rmse(predictions: scores, targets: labels).map { -$0 }
        }
    }
}

/// Class weights by default: on when the active rate is far from 50%.
public enum ClassBalance {
    public struct Decision: Sendable, Equatable {
        public var balance: Bool
        /// Switched on because of the active rate, not asked for.
        public var automatic: Bool
        public var activeRate: Double
    }

    /// `requested` nil: weight the classes when the minority class is under `Dataset.imbalanceThreshold`
    /// of the labelled training cells; regression is never weighted.
    public static func decide(_ data: Dataset, rows: [Int], requested: Bool?) -> Decision {
        guard data.taskKind == .classification else { return Decision(balance: false, automatic: false, activeRate: .nan) }
        let rate = data.activeRate(rows)
        let imbalanced = min(rate, 1 - rate) < Dataset.imbalanceThreshold
        return Decision(balance: requested ?? imbalanced, automatic: requested == nil && imbalanced, activeRate: rate)
    }
}

extension Dataset {
    /// Below this minority-class fraction a set counts as imbalanced: classes are weighted and
    /// models are selected by PRC-AUC.
    public static let imbalanceThreshold = 0.2

    /// Fraction of labelled (row, task) cells that are active.
    public func activeRate(_ rows: [Int]) -> Double {
        var actives = 0, labelled = 0
        for i in rows { for label in labels[i] { if let label { labelled += 1; if label > 0.5 { actives += 1 } } } }
        return labelled == 0 ? 0.5 : Double(actives) / Double(labelled)
    }
}

/// Hands a closure to worker threads where the caller guarantees the threads touch disjoint state.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
