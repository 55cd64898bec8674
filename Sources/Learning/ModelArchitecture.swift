import Chemistry
import Fingerprints
import Foundation

/// A network of any kind as training and scoring drive it: its parameters, a forward pass over rows
/// of a featurised set, and the matching backward pass. Networks keep what `backward` needs from the
/// last `forward`: one instance serves one thread.
public protocol Network: AnyObject {
    var parameters: [Parameter] { get }
    /// Logits (classification) or values (regression), `rows.count × tasks`, for rows of `features`.
    func forward(_ features: Featurised, rows: [Int], training: Bool, generator: inout SeededGenerator) -> Matrix
    /// Backpropagates dL/d(outputs) of the last `forward`, adding to every parameter's gradient.
    func backward(_ gradient: Matrix)
}

extension FingerprintMLP: Network {
    public func forward(_ features: Featurised, rows: [Int], training: Bool, generator: inout SeededGenerator) -> Matrix {
        var x = SparseRows(width: features.fingerprints.width)
        for i in rows { x.append(row: i, of: features.fingerprints) }
        return forward(x, training: training, generator: &generator)
    }
}

extension DMPNN: Network {
    public func forward(_ features: Featurised, rows: [Int], training: Bool, generator: inout SeededGenerator) -> Matrix {
        forward(GraphBatch(joining: rows.map { features.graphs[$0] }), extra: DMPNN.extraMatrix(features.extra, rows: rows, width: extraWidth),
                training: training, generator: &generator)
    }

    /// The extra-feature rows of `rows` as a `rows.count × width` matrix (nil when `width` is 0).
    static func extraMatrix(_ extra: [[Float]], rows: [Int], width: Int) -> Matrix? {
        guard width > 0 else { return nil }
        var values: [Float] = []
        values.reserveCapacity(rows.count * width)
        for i in rows {
            precondition(extra[i].count == width, "a molecule has \(extra[i].count) extra features, the network reads \(width)")
            values += extra[i]
        }
        return Matrix(rows: rows.count, cols: width, values: values)
    }
}

/// What a model kind brings to training, scoring, `--model auto` and the model-file checks. The rest
/// of Learning asks a kind's architecture (`ModelKind.architecture`, the one place a kind's name
/// becomes its code) instead of switching on the kind.
public protocol ModelArchitecture: Sendable {
    /// A network with weights drawn from `seed`; nil for a kind without networks (the forest).
    func makeNetwork(_ options: TrainingOptions, tasks: Int, seed: UInt64) -> (any Network)?
    /// What the kind's networks read, computed once per molecule; `extra` holds each molecule's
    /// scaled extra features (`options.extraFeatures`; empty when none).
    func featurise(_ molecules: [MolecularGraph], extra: [[Float]], options: TrainingOptions) -> Featurised
    /// Each member's predictions (probabilities or values, molecules × tasks) for `graphs`, in order.
    func memberPredictions(_ networks: [any Network], graphs: [MolecularGraph], extra: [[Float]], options: TrainingOptions,
                           taskKind: TaskKind) -> [[[Float]]]
    /// `options` (whose `kind` is this kind) with the architecture defaults `winnow train` uses.
    func withDefaults(_ options: TrainingOptions) -> TrainingOptions
    /// This kind's settings in the fixed grid of `--model auto`, built on `base`.
    func searchCandidates(base: TrainingOptions, forestTrees: Int) -> [ModelSearch.Candidate]
    /// Why `options` cannot describe a network of this kind (nil: they can), for model-file checks.
    func settingsProblem(_ options: TrainingOptions) -> String?
    /// Widths of the dense layers every member holds at least, input to outputs (model-file checks:
    /// a header must not describe more weights than its file stores).
    func denseWidths(_ options: TrainingOptions, tasks: Int) -> [Int]
}

extension ModelArchitecture {
    public func memberPredictions(_ networks: [any Network], graphs: [MolecularGraph], extra: [[Float]], options: TrainingOptions,
                                  taskKind: TaskKind) -> [[[Float]]] {
        let features = featurise(graphs, extra: extra, options: options)
        let rows = Array(graphs.indices)
        return networks.map { Trainer.predict($0, features, rows: rows, kind: taskKind) }
    }

    public func settingsProblem(_ options: TrainingOptions) -> String? { nil }
}

extension ModelKind {
    /// The code behind the kind.
    public var architecture: any ModelArchitecture {
        switch self {
        case .mlp: FingerprintMLPArchitecture()
        case .dmpnn: DMPNNArchitecture()
        case .rf: RandomForestArchitecture()
        }
    }
}

/// Fingerprint MLP: Morgan counts (or bits), then the extra features as further input columns
/// (`fingerprint.size …` onwards) → dense layers.
struct FingerprintMLPArchitecture: ModelArchitecture {
    func makeNetwork(_ options: TrainingOptions, tasks: Int, seed: UInt64) -> (any Network)? {
        FingerprintMLP(inputs: options.fingerprint.size + options.extraFeatureCount, hidden: [options.hidden] + options.headHidden,
                       tasks: tasks, dropout: options.dropout, seed: seed)
    }

    func featurise(_ molecules: [MolecularGraph], extra: [[Float]], options: TrainingOptions) -> Featurised {
        let size = options.fingerprint.size, width = options.extraFeatureCount
        precondition(width == 0 || extra.count == molecules.count, "extra features for \(extra.count) of \(molecules.count) molecules")
        var fingerprints = SparseRows(width: size + width)
        let generator = MorganGenerator(settings: options.fingerprint)
        fingerprints.offsets.reserveCapacity(molecules.count + 1)
        fingerprints.indices.reserveCapacity(molecules.count * 48)
        fingerprints.values.reserveCapacity(molecules.count * 48)
        for g in molecules {
            if options.useCounts {
                generator.appendCounts(g, bits: &fingerprints.indices, counts: &fingerprints.values)
            } else {
                generator.appendBits(g, bits: &fingerprints.indices, values: &fingerprints.values)
            }
            if width > 0 {
                for (f, value) in extra[fingerprints.count].enumerated() {
                    fingerprints.indices.append(Int32(size + f))
                    fingerprints.values.append(value)
                }
            }
            fingerprints.offsets.append(Int32(fingerprints.indices.count))
        }
        return Featurised(fingerprints: fingerprints, extra: extra)
    }

    func withDefaults(_ options: TrainingOptions) -> TrainingOptions {
        var options = options
        // 512 → 128 scores as well as 1024 → 256 on BACE (within seed noise) and screens ~25% faster.
        options.hidden = 512; options.headHidden = [128]; options.dropout = 0.2
        options.forest = nil; options.forestTrees = nil
        return options
    }

    func searchCandidates(base: TrainingOptions, forestTrees: Int) -> [ModelSearch.Candidate] {
        [(512, Float(0.2)), (1024, Float(0.5))].map { hidden, dropout in
            var options = base.withDefaults(for: .mlp)
            options.hidden = hidden
            options.dropout = dropout
            return ModelSearch.Candidate(name: "mlp hidden=\(hidden) dropout=\(dropout)", options: options)
        }
    }

    func denseWidths(_ options: TrainingOptions, tasks: Int) -> [Int] {
        [options.fingerprint.size + options.extraFeatureCount, options.hidden] + options.headHidden + [tasks]
    }
}

/// D-MPNN: molecular graphs → bond message passing → aggregation → feed-forward head.
struct DMPNNArchitecture: ModelArchitecture {
    /// Molecules per message-passing batch at inference: small enough that the edge matrices
    /// (edges × hidden floats) stay in cache between passes.
    static let inferenceChunk = 64

    func makeNetwork(_ options: TrainingOptions, tasks: Int, seed: UInt64) -> (any Network)? {
        DMPNN(hidden: options.hidden, depth: options.depth, aggregation: options.aggregation,
              headHidden: options.headHidden, tasks: tasks, dropout: options.dropout, extraFeatures: options.extraFeatureCount, seed: seed)
    }

    func featurise(_ molecules: [MolecularGraph], extra: [[Float]], options: TrainingOptions) -> Featurised {
        Featurised(fingerprints: SparseRows(width: options.fingerprint.size), graphs: molecules.map { GraphBatch([$0]) }, extra: extra)
    }

    /// One batch graph per chunk, featurised once and shared by the members.
    func memberPredictions(_ networks: [any Network], graphs: [MolecularGraph], extra: [[Float]], options: TrainingOptions,
                           taskKind: TaskKind) -> [[[Float]]] {
        // The networks were made by `makeNetwork` above (model files of this kind load through it).
        let models = networks.compactMap { $0 as? DMPNN }
        precondition(models.count == networks.count, "a D-MPNN ensemble holds only D-MPNNs")
        var outputs = [[[Float]]](repeating: [], count: models.count)
        var generator = SeededGenerator(seed: 0)
        var start = 0
        while start < graphs.count {
            let range = start..<min(graphs.count, start + Self.inferenceChunk)
            let chunk = GraphBatch(Array(graphs[range]))
            let chunkExtra = DMPNN.extraMatrix(extra, rows: Array(range), width: options.extraFeatureCount)
            for (m, model) in models.enumerated() {
                let y = model.forward(chunk, extra: chunkExtra, training: false, generator: &generator)
                for r in 0..<y.rows {
                    outputs[m].append((0..<y.cols).map { c in taskKind == .classification ? 1 / (1 + exp(-y[r, c])) : y[r, c] })
                }
            }
            start += Self.inferenceChunk
        }
        return outputs
    }

    func withDefaults(_ options: TrainingOptions) -> TrainingOptions {
        var options = options
        options.hidden = 300; options.headHidden = [300]; options.dropout = 0
        options.forest = nil; options.forestTrees = nil
        return options
    }

    func searchCandidates(base: TrainingOptions, forestTrees: Int) -> [ModelSearch.Candidate] {
        [ModelSearch.Candidate(name: "dmpnn hidden=300 depth=3", options: base.withDefaults(for: .dmpnn))]
    }

    func settingsProblem(_ options: TrainingOptions) -> String? {
        (1...100).contains(options.depth) ? nil : "depth \(options.depth), expected 1 to 100"
    }

    func denseWidths(_ options: TrainingOptions, tasks: Int) -> [Int] {
        [options.hidden, options.hidden] + options.headHidden + [tasks]
    }
}

/// Random forest on Morgan counts (or bits): no network; grown in one pass (TrainedModel.trainForests).
struct RandomForestArchitecture: ModelArchitecture {
    func makeNetwork(_ options: TrainingOptions, tasks: Int, seed: UInt64) -> (any Network)? { nil }

    func featurise(_ molecules: [MolecularGraph], extra: [[Float]], options: TrainingOptions) -> Featurised {
        // The forest reads Morgan counts or bits (TrainedModel.forestFingerprint), computed where it is grown.
        Featurised(fingerprints: SparseRows(width: options.fingerprint.size))
    }

    func withDefaults(_ options: TrainingOptions) -> TrainingOptions {
        var options = options
        var forest = RandomForest.Settings()
        forest.trees = 500
        options.forest = forest; options.forestTrees = nil
        return options
    }

    func searchCandidates(base: TrainingOptions, forestTrees: Int) -> [ModelSearch.Candidate] {
        [1, 3].map { leaf in
            var options = base.withDefaults(for: .rf)
            options.forest?.trees = forestTrees
            options.forest?.counts = true
            options.forest?.minimumLeaf = leaf
            return ModelSearch.Candidate(name: "rf trees=\(forestTrees) counts min-leaf=\(leaf)", options: options)
        }
    }

    func denseWidths(_ options: TrainingOptions, tasks: Int) -> [Int] { [] }
}
