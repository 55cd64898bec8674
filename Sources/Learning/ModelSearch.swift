import Foundation

/// `--model auto`: trains a small fixed grid of model kinds and settings on the training rows,
/// scores each on the validation rows with the screening measure, and keeps the best one, or the
/// 50/50 mixture of the best network and the best forest when that scores higher (the shape
/// `--forest` trains). Deterministic for a seed: every candidate is trained with the same seed, in
/// a fixed order, and ties keep the earlier candidate.
public enum ModelSearch {
    /// One setting of the grid: a name for the record and the options it trains with.
    public struct Candidate: Sendable {
        public var name: String
        public var options: TrainingOptions
        public init(name: String, options: TrainingOptions) { self.name = name; self.options = options }
    }

    /// The fixed grid, built on `base` (its seed, members, epochs, balance and selection measure):
    /// forests trying √bits and 1/8 of the bits per split, the fingerprint MLP with two widths and
    /// dropouts, and the D-MPNN with Winnow's defaults.
    public static func grid(base: TrainingOptions, kinds: [ModelKind] = ModelKind.allCases, forestTrees: Int = 500) -> [Candidate] {
        kinds.flatMap { $0.architecture.searchCandidates(base: base, forestTrees: forestTrees) }
    }

    /// Trains every candidate on `threads` threads, then returns the chosen model and the record of
    /// what was tried. `progress` receives a line per candidate (name, validation value, seconds).
    public static func run(_ data: Dataset, train: [Int], validation: [Int], candidates: [Candidate], metric: SelectionMetric,
                           dataInfo: TrainingDataInfo, threads: Int, progress: (String) -> Void) throws(TrainingError) -> (model: TrainedModel, selection: ModelSelection) {
        precondition(!candidates.isEmpty, "the grid is empty")
        let graphs = validation.map { data.graphs[$0] }
        var trained: [(candidate: Candidate, model: TrainedModel, scores: [[Float]], value: Double)] = []
        for candidate in candidates {
            let started = Date()
            var options = candidate.options
            options.selectionMetric = metric
            let model = try TrainedModel.train(data, train: train, validation: validation, options: options, dataInfo: dataInfo,
                                               threads: threads) { _ in }
            let scores = validation.isEmpty ? [] : model.predict(graphs, columns: data.featureColumns(validation)).scores
            // Without validation rows every candidate scores the same and the first one is kept.
            let value = validation.isEmpty ? 0 : (Trainer.selectionMetric(scores, data, rows: validation, metric: metric) ?? -.infinity)
            progress(String(format: "auto: %@  validation %@ %.4f  (%.1f s)", candidate.name, metric.rawValue, value,
                            Date().timeIntervalSince(started)))
            trained.append((candidate, model, scores, value))
        }
        var records = trained.map { ModelSelection.Candidate(name: $0.candidate.name, validation: $0.value) }
        func better(_ a: Double, than b: Double) -> Bool { a > b }
        var best = 0
        for k in trained.indices where better(trained[k].value, than: trained[best].value) { best = k }
        var chosen = trained[best].model
        var chosenName = trained[best].candidate.name
        // The mixture of the best network and the best forest, scored the way it predicts (mean of the two).
        let networks = trained.indices.filter { trained[$0].candidate.options.kind.isNetwork }
        let forests = trained.indices.filter { !trained[$0].candidate.options.kind.isNetwork }
        if !validation.isEmpty, let n = networks.max(by: { trained[$0].value < trained[$1].value || (trained[$0].value == trained[$1].value && $0 > $1) }),
           let f = forests.max(by: { trained[$0].value < trained[$1].value || (trained[$0].value == trained[$1].value && $0 > $1) }) {
            let mixed = zip(trained[n].scores, trained[f].scores).map { a, b in zip(a, b).map { ($0 + $1) / 2 } }
            let value = Trainer.selectionMetric(mixed, data, rows: validation, metric: metric) ?? -.infinity
            let name = "\(trained[n].candidate.name) + \(trained[f].candidate.name)"
            records.append(ModelSelection.Candidate(name: name, validation: value))
            progress(String(format: "auto: %@  validation %@ %.4f", name, metric.rawValue, value))
            if better(value, than: trained[best].value) {
                chosen = TrainedModel.mixture(network: trained[n].model, forest: trained[f].model)
                chosenName = name
            }
        }
        let selection = ModelSelection(metric: metric.rawValue, candidates: records, chosen: chosenName)
        chosen.header.selection = selection
        return (chosen, selection)
    }
}

extension TrainingOptions {
    /// These options with the architecture defaults of `kind` (the sizes `winnow train` uses when
    /// none are given): MLP 512 → 128 with dropout 0.2, D-MPNN 300 / head 300, forest of 500 trees.
    public func withDefaults(for kind: ModelKind) -> TrainingOptions {
        var options = self
        options.kind = kind
        return kind.architecture.withDefaults(options)
    }
}

extension TrainedModel {
    /// The 50/50 mixture of a network ensemble and a forest model trained on the same rows: the
    /// network model's header with the forest's settings, predicting as `--forest` models do.
    static func mixture(network: TrainedModel, forest: TrainedModel) -> TrainedModel {
        var header = network.header
        header.options.forest = forest.header.options.forest
        header.options.forestTrees = nil
        return TrainedModel(header: header, networks: network.networks, forests: forest.forests)
    }
}
