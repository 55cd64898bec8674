import Foundation

/// `--model auto`: trains a small fixed grid of model kinds and settings and keeps one of them, or
/// the 50/50 mixture of the best network and the best forest (the shape `--forest` trains).
///
/// With folds (what `winnow train` uses), every candidate is trained k times by cross-validation on
/// the training + validation rows: on all folds but one, scored on that one with the screening
/// measure. The forest is kept unless another candidate beats it on the mean over folds by more than
/// the standard deviation of their per-fold differences (a network trained on one small validation
/// part looked better by chance too often). The kept candidate is then trained once more, the way
/// `winnow train --model KIND` trains it (training rows, validation rows for the best epoch).
/// Without folds, each candidate is trained on the training rows, scored on the validation rows, and
/// the best one is kept.
///
/// Deterministic for a seed: every candidate is trained with the same seed, in a fixed order, the
/// folds are drawn with the seed, and ties keep the earlier candidate.
public enum ModelSearch {
    /// One setting of the grid: a name for the record and the options it trains with.
    public struct Candidate: Sendable {
        public var name: String
        public var options: TrainingOptions
        public init(name: String, options: TrainingOptions) { self.name = name; self.options = options }
    }

    /// The fixed grid, built on `base` (its seed, members, epochs, balance and selection measure):
    /// forests on Morgan counts with leaves of at least 1 and 3 molecules, the fingerprint MLP with
    /// two widths and dropouts, and the D-MPNN with Winnow's defaults.
    public static func grid(base: TrainingOptions, kinds: [ModelKind] = ModelKind.allCases, forestTrees: Int = 500) -> [Candidate] {
        kinds.flatMap { $0.architecture.searchCandidates(base: base, forestTrees: forestTrees) }
    }

    /// `k` folds of `rows` for cross-validation, each a sorted list of rows. Molecules with the same
    /// `groups` key (a scaffold key; nil: every row its own group, empty key: its own group) stay in
    /// one fold. Groups holding actives (label of the first task > 0.5) are dealt first, largest first,
    /// each to the fold with the fewest actives so far, then the others to the fold with the fewest
    /// rows; groups of equal size in seeded random order. Same folds for the same seed.
    public static func folds(_ data: Dataset, rows: [Int], groups keys: [String]?, k: Int, seed: UInt64) -> [[Int]] {
        precondition(k >= 2, "cross-validation needs at least two folds")
        var groups: [[Int]] = []
        var groupOfKey: [String: Int] = [:]
        for row in rows {
            if let key = keys?[row], !key.isEmpty {
                if let g = groupOfKey[key] { groups[g].append(row) } else { groupOfKey[key] = groups.count; groups.append([row]) }
            } else {
                groups.append([row])
            }
        }
        var generator = SeededGenerator(seed: seed ^ 0xF01D_5EED)
        generator.shuffle(&groups)
        func actives(_ group: [Int]) -> Int {
            data.taskKind == .classification ? group.filter { (data.labels[$0].first ?? nil).map { $0 > 0.5 } ?? false }.count : 0
        }
        let counted = groups.map { (rows: $0, actives: actives($0)) }
        // Stable sorts: equal groups keep the shuffled order.
        let withActives = counted.filter { $0.actives > 0 }.enumerated()
            .sorted { $0.element.rows.count != $1.element.rows.count ? $0.element.rows.count > $1.element.rows.count : $0.offset < $1.offset }.map(\.element)
        let without = counted.filter { $0.actives == 0 }.enumerated()
            .sorted { $0.element.rows.count != $1.element.rows.count ? $0.element.rows.count > $1.element.rows.count : $0.offset < $1.offset }.map(\.element)
        var folds = [[Int]](repeating: [], count: k)
        var activeCount = [Int](repeating: 0, count: k)
        for group in withActives {
            let f = (0..<k).min { (activeCount[$0], folds[$0].count, $0) < (activeCount[$1], folds[$1].count, $1) } ?? 0
            folds[f] += group.rows
            activeCount[f] += group.actives
        }
        for group in without {
            let f = (0..<k).min { (folds[$0].count, $0) < (folds[$1].count, $1) } ?? 0
            folds[f] += group.rows
        }
        return folds.map { $0.sorted() }
    }

    /// Trains the candidates and returns the chosen model and the record of what was tried.
    /// `folds`: cross-validation folds of the training + validation rows (`folds(_:rows:groups:k:seed:)`);
    /// empty: score on `validation` once. `progress` receives a line per candidate (name, value, seconds).
    public static func run(_ data: Dataset, train: [Int], validation: [Int], candidates: [Candidate], metric: SelectionMetric,
                           folds: [[Int]] = [], dataInfo: TrainingDataInfo, threads: Int,
                           progress: (String) -> Void) throws(TrainingError) -> (model: TrainedModel, selection: ModelSelection) {
        precondition(!candidates.isEmpty, "the grid is empty")
        if folds.count >= 2 {
            return try crossValidated(data, train: train, validation: validation, candidates: candidates, metric: metric, folds: folds,
                                      dataInfo: dataInfo, threads: threads, progress: progress)
        }
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

    /// Mean of the values (nil when empty).
    static func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }

    /// Sample standard deviation (n − 1; 0 for fewer than two values).
    static func standardDeviation(_ values: [Double]) -> Double {
        guard values.count >= 2, let m = mean(values) else { return 0 }
        return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
    }

    /// The cross-validated choice among candidates with per-fold `values` (nil where undefined; only
    /// folds where every candidate has a value count): the best forest (`forests`: their indices) by
    /// mean, unless the best other candidate beats it on the mean by more than the standard deviation
    /// of their per-fold differences; without forests the best mean. Ties keep the earlier candidate.
    /// Returns the index and a line saying why.
    public static func choose(values: [[Double?]], names: [String], forests: [Int]) -> (index: Int, rule: String) {
        let folds = values.first?.count ?? 0
        let usable = (0..<folds).filter { f in values.allSatisfy { $0[f] != nil } }
        func meanValue(_ c: Int) -> Double { mean(usable.compactMap { values[c][$0] }) ?? -.infinity }
        func bestOf(_ indices: [Int]) -> Int? {
            indices.max { meanValue($0) < meanValue($1) || (meanValue($0) == meanValue($1) && $0 > $1) }
        }
        let all = Array(values.indices)
        guard let f = bestOf(forests) else { return (bestOf(all) ?? 0, "best mean over the folds") }
        guard let c = bestOf(all.filter { !forests.contains($0) }) else { return (f, "best forest") }
        let differences = usable.compactMap { k in values[c][k].flatMap { a in values[f][k].map { a - $0 } } }
        let gain = mean(differences) ?? 0, spread = standardDeviation(differences)
        if differences.count >= 2 && gain > spread {
            return (c, String(format: "%@ beats the forest by %.4f on the mean over folds, more than the spread of the differences (%.4f)",
                              names[c], gain, spread))
        }
        if gain <= 0 {
            return (f, String(format: "forest kept: the best other candidate (%@) is behind it by %.4f on the mean over folds",
                              names[c], -gain))
        }
        return (f, String(format: "forest kept: the best other candidate (%@) is ahead by %.4f on the mean over folds, not more than the spread of the differences (%.4f)",
                          names[c], gain, spread))
    }

    private static func crossValidated(_ data: Dataset, train: [Int], validation: [Int], candidates: [Candidate], metric: SelectionMetric,
                                       folds: [[Int]], dataInfo: TrainingDataInfo, threads: Int,
                                       progress: (String) -> Void) throws(TrainingError) -> (model: TrainedModel, selection: ModelSelection) {
        let pool = Set(folds.joined())
        // Per candidate: per fold the held-out scores and the measure (nil where undefined, e.g. one class).
        var scores: [[[[Float]]]] = [], values: [[Double?]] = []
        for candidate in candidates {
            let started = Date()
            var options = candidate.options
            options.selectionMetric = metric
            var foldScores: [[[Float]]] = [], foldValues: [Double?] = []
            for fold in folds {
                let held = Set(fold)
                let rows = pool.filter { !held.contains($0) }.sorted()
                // No validation rows inside a fold: networks train every epoch (the held-out fold
                // must not pick their epoch), forests do not use them.
                let model = try TrainedModel.train(data, train: rows, validation: [], options: options, dataInfo: dataInfo, threads: threads) { _ in }
                let s = model.predict(fold.map { data.graphs[$0] }, columns: data.featureColumns(fold)).scores
                foldScores.append(s)
                foldValues.append(Trainer.selectionMetric(s, data, rows: fold, metric: metric))
            }
            progress(String(format: "auto: %@  %d-fold %@ %@  (%.1f s)", candidate.name, folds.count, metric.rawValue,
                            describe(foldValues), Date().timeIntervalSince(started)))
            scores.append(foldScores)
            values.append(foldValues)
        }
        var names = candidates.map(\.name)
        // Folds where every candidate has a value: the only ones the comparison uses.
        func usable() -> [Int] { folds.indices.filter { f in values.allSatisfy { $0[f] != nil } } }
        func meanValue(_ c: Int) -> Double { mean(usable().compactMap { values[c][$0] }) ?? -.infinity }
        func bestOf(_ indices: [Int]) -> Int? {
            indices.max { meanValue($0) < meanValue($1) || (meanValue($0) == meanValue($1) && $0 > $1) }
        }
        let networks = candidates.indices.filter { candidates[$0].options.kind.isNetwork }
        let forests = candidates.indices.filter { !candidates[$0].options.kind.isNetwork }
        var mixture: (network: Int, forest: Int)? = nil
        if let n = bestOf(networks), let f = bestOf(forests) {
            // The mixture predicts the mean of the two; its fold values come from the same fold models.
            mixture = (n, f)
            let mixed = folds.indices.map { k in zip(scores[n][k], scores[f][k]).map { a, b in zip(a, b).map { ($0 + $1) / 2 } } }
            let mixedValues = folds.indices.map { Trainer.selectionMetric(mixed[$0], data, rows: folds[$0], metric: metric) }
            names.append("\(names[n]) + \(names[f])")
            values.append(mixedValues)
            progress(String(format: "auto: %@  %d-fold %@ %@", names.last ?? "", folds.count, metric.rawValue, describe(mixedValues)))
        }
        let (chosen, rule) = choose(values: values, names: names, forests: forests)
        let all = Array(values.indices)
        let mixtureIndex = mixture == nil ? nil : values.count - 1
        progress("auto: \(rule)")
        // The kept candidate trained on every row the folds held: a forest on the training +
        // validation rows (it has no epoch to pick, and the folds already estimated it), a network as
        // `winnow train --model KIND` trains it (training rows; validation rows pick its epoch).
        let everyRow = folds.joined().sorted()
        func final(_ c: Int) throws(TrainingError) -> TrainedModel {
            var options = candidates[c].options
            options.selectionMetric = metric
            let (rows, held) = options.kind.isNetwork ? (train, validation) : (everyRow, [])
            return try TrainedModel.train(data, train: rows, validation: held, options: options, dataInfo: dataInfo, threads: threads) { _ in }
        }
        var model: TrainedModel
        if chosen == mixtureIndex, let mixture {
            model = TrainedModel.mixture(network: try final(mixture.network), forest: try final(mixture.forest))
        } else {
            model = try final(chosen)
        }
        let records = all.map { c in
            ModelSelection.Candidate(name: names[c], validation: meanValue(c), folds: values[c])
        }
        var selection = ModelSelection(metric: metric.rawValue, candidates: records, chosen: names[chosen])
        selection.folds = folds.count
        selection.rule = rule
        selection.forestOnValidation = !validation.isEmpty && (chosen == mixtureIndex || !candidates[chosen].options.kind.isNetwork)
        model.header.selection = selection
        return (model, selection)
    }

    private static func describe(_ values: [Double?]) -> String {
        let shown = values.map { $0.map { String(format: "%.4f", $0) } ?? "n/a" }.joined(separator: " ")
        let known = values.compactMap { $0 }
        return String(format: "mean %.4f (folds %@)", mean(known) ?? .nan, shown)
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
