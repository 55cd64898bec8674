import Chemistry
import Fingerprints
import Foundation

/// What a model file says about itself (the JSON header of its `ModelArchive`).
public struct ModelHeader: Codable, Sendable, Equatable {
    public var format = "winnow-model"
    public var software = "Winnow 0.1"
    public var kind: ModelKind
    public var taskKind: TaskKind
    public var tasks: [String]
    public var members: Int
    public var options: TrainingOptions
    /// Featurisation versions the weights were trained with.
    public var morganInvariantVersion = MorganSettings.invariantVersion
    public var graphFeatureVersion = GraphFeatures.version
    public var trainingData: TrainingDataInfo
    /// Metric name (e.g. "test.roc_auc") → value.
    public var metrics: [String: Double]
    /// Actives of the training rows (first task), for "nearest known active" in hit lists.
    public var knownActives: [KnownActive] = []
    /// What `--model auto` tried on the validation rows and what it kept (nil for a named kind).
    public var selection: ModelSelection? = nil
}

/// The candidates `--model auto` scored (by cross-validation or on the validation rows), and the choice.
public struct ModelSelection: Codable, Sendable, Equatable {
    public struct Candidate: Codable, Sendable, Equatable {
        /// Short description, e.g. "rf trees=500 counts min-leaf=1".
        public var name: String
        /// The validation measure (with cross-validation: its mean over the folds where every
        /// candidate has one); −∞ when it could not be computed (validation rows of one class).
        public var validation: Double
        /// With cross-validation: the measure on each fold (nil where undefined).
        public var folds: [Double?]?
        public init(name: String, validation: Double, folds: [Double?]? = nil) {
            self.name = name; self.validation = validation; self.folds = folds
        }

        enum CodingKeys: String, CodingKey { case name, validation, folds }

        /// A validation value that is not a number JSON can hold (−∞) is written as null.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            if validation.isFinite {
                try container.encode(validation, forKey: .validation)
            } else {
                try container.encodeNil(forKey: .validation)
            }
            try container.encodeIfPresent(folds, forKey: .folds)
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            validation = try container.decodeIfPresent(Double.self, forKey: .validation) ?? -.infinity
            folds = try container.decodeIfPresent([Double?].self, forKey: .folds)
        }
    }
    /// The validation measure (SelectionMetric raw value).
    public var metric: String
    public var candidates: [Candidate]
    /// Name of the kept candidate, or "A + B" for the 50/50 mixture of the best network and forest.
    public var chosen: String
    /// Cross-validation folds (nil: one validation part).
    public var folds: Int? = nil
    /// Why the chosen candidate was kept (cross-validation).
    public var rule: String? = nil
    /// True when the kept model's forest was refit on the training + validation rows after the
    /// cross-validation (the validation rows then say nothing about it: the folds do).
    public var forestOnValidation: Bool? = nil
    public init(metric: String, candidates: [Candidate], chosen: String) {
        self.metric = metric; self.candidates = candidates; self.chosen = chosen
    }
}

extension ModelHeader {
    /// Checks every number the loader uses before it allocates or indexes with it: counts and sizes
    /// positive and bounded, rates finite, and the networks the header describes no bigger than the
    /// weights the file actually holds (so a forged header cannot ask for terabytes).
    func validate(source: String, storedValues: Int) throws(ModelFileError) {
        func fail(_ reason: String) -> ModelFileError { .malformed(source: source, reason: reason) }
        if let forest = options.forestSettings {
            guard (1...10_000).contains(forest.trees), (forest.maxFeatures ?? 1) >= 1, (forest.maxDepth ?? 1) >= 1, forest.minimumLeaf >= 1 else {
                throw fail("forest settings out of range (trees \(forest.trees), max features \(forest.maxFeatures.map(String.init) ?? "default"), depth \(forest.maxDepth.map(String.init) ?? "unlimited"), min leaf \(forest.minimumLeaf))")
            }
        }
        if !options.kind.isNetwork {
            // A forest model: no network members, its trees checked node by node when they are read.
            guard members == 0, options.forestSettings != nil else { throw fail("a random-forest model must have 0 network members and forest settings") }
            guard (1...10_000).contains(tasks.count) else { throw fail("the model lists \(tasks.count) tasks, expected 1 to 10000") }
            return
        }
        guard (1...1024).contains(members) else { throw fail("members is \(members), expected 1 to 1024") }
        guard (1...10_000).contains(tasks.count) else { throw fail("the model lists \(tasks.count) tasks, expected 1 to 10000") }
        guard (0...8).contains(options.fingerprint.radius) else { throw fail("fingerprint radius \(options.fingerprint.radius), expected 0 to 8") }
        guard (8...(1 << 20)).contains(options.fingerprint.size) else {
            throw fail("fingerprint size \(options.fingerprint.size), expected 8 to 1048576 bits")
        }
        guard options.hidden >= 1, options.headHidden.count <= 64, options.headHidden.allSatisfy({ $0 >= 1 }) else {
            throw fail("layer sizes \(options.hidden) / \(options.headHidden) are not all positive")
        }
        let architecture = options.kind.architecture
        if let problem = architecture.settingsProblem(options) { throw fail(problem) }
        if let extra = options.extraFeatures {
            if let problem = extra.problem { throw fail(problem) }
            guard extra.count <= 10_000 else { throw fail("\(extra.count) extra features, expected at most 10000") }
        }
        guard options.dropout.isFinite, options.dropout >= 0, options.dropout < 1 else { throw fail("dropout \(options.dropout), expected 0 to 1") }
        if let trees = options.forestTrees, trees < 1 { throw fail("forest of \(trees) trees") }
        // The dense layers alone need this many weights per member (a lower bound of the real count).
        let widths = architecture.denseWidths(options, tasks: tasks.count)
        var needed = 0
        for (a, b) in zip(widths, widths.dropFirst()) {
            let (product, overflow) = a.multipliedReportingOverflow(by: b)
            guard !overflow, product <= storedValues else { throw fail("layers of \(a) × \(b) weights, but the file holds \(storedValues) values") }
            needed += product
        }
        let (total, overflow) = needed.multipliedReportingOverflow(by: members)
        guard !overflow, total <= storedValues else {
            throw fail("\(members) members of at least \(needed) weights each, but the file holds \(storedValues) values")
        }
    }
}

public struct KnownActive: Codable, Sendable, Equatable {
    public var id: String
    public var smiles: String
    public init(id: String, smiles: String) { self.id = id; self.smiles = smiles }
}

public struct TrainingDataInfo: Codable, Sendable, Equatable {
    public var file: String
    /// FNV-1a 64 of the training file's bytes, hex.
    public var hash: String
    public var rows: Int
    public var split: String
    public var counts: [String: Int]
    /// Whether the training molecules were standardised when read (`train --standardize`, the
    /// default); nil in files written before Winnow recorded it (their molecules were not).
    /// `predict`, `screen` and `evaluate` standardise by this unless told otherwise.
    public var standardized: Bool? = nil

    public init(file: String, hash: String, rows: Int, split: String, counts: [String: Int], standardized: Bool? = nil) {
        self.file = file; self.hash = hash; self.rows = rows; self.split = split; self.counts = counts
        self.standardized = standardized
    }
}

/// Scores and uncertainties for molecules, per task.
public struct Prediction: Sendable {
    /// Mean over ensemble members (probability for classification).
    public var scores: [[Float]]
    /// Standard deviation over members (0 for a single model).
    public var uncertainties: [[Float]]

    public init(scores: [[Float]], uncertainties: [[Float]]) {
        self.scores = scores
        self.uncertainties = uncertainties
    }
}

/// A trained ensemble: its header and its networks. Not thread safe (networks keep forward state);
/// use one instance per thread (`copy()`).
public final class TrainedModel {
    public var header: ModelHeader
    let networks: [any Network]
    /// One random forest per task: the whole model for kind `rf`, else averaged with the networks
    /// (when `options.forestSettings` is set).
    let forests: [RandomForest]
    private lazy var forestGenerator = MorganGenerator()

    init(header: ModelHeader, networks: [any Network], forests: [RandomForest] = []) {
        self.header = header
        self.networks = networks
        self.forests = forests
    }

    /// Morgan radius 2 / 2048: the forest's input (RDKit's default fingerprint), as counts or on-bits.
    public static let forestFingerprint = MorganSettings()

    static func trainForests(_ data: Dataset, rows: [Int], settings base: RandomForest.Settings, seed: UInt64, threads: Int) -> [RandomForest] {
        let generator = MorganGenerator(settings: forestFingerprint)
        let counts = base.usesCounts(data.taskKind)
        var input = [[UInt64]](repeating: [], count: data.count)
        for i in rows { input[i] = RandomForest.input(data.graphs[i], generator: generator, counts: counts) }
        return (0..<data.taskNames.count).map { t in
            let labelled = rows.filter { data.labels[$0][t] != nil }
            let targets = (0..<data.count).map { data.labels[$0][t] ?? 0 }
            var settings = base
            settings.seed = seed &+ 0xF0_2E57 &+ UInt64(t)
            return RandomForest.train(fingerprints: input, targets: targets, rows: labelled, settings: settings, taskKind: data.taskKind,
                                      threads: threads)
        }
    }

    /// Whether the uncertainty means anything: an ensemble of several members, or networks blended
    /// with forests, or a forest alone (the spread over trees). A one-member network's uncertainty is
    /// always 0, which outputs leave empty.
    public var hasUncertainty: Bool { header.members > 1 || header.options.forestSettings != nil }

    /// The forests' mean and spread over trees, molecules × tasks.
    func forestPrediction(graphs: [MolecularGraph]) -> Prediction {
        let generator = forestGenerator
        let counts = header.options.forestSettings?.usesCounts(header.taskKind) ?? false
        let input = graphs.map { RandomForest.input($0, generator: generator, counts: counts) }
        var out = Prediction(scores: Array(repeating: Array(repeating: 0, count: forests.count), count: graphs.count),
                             uncertainties: Array(repeating: Array(repeating: 0, count: forests.count), count: graphs.count))
        for (t, forest) in forests.enumerated() {
            let (mean, spread) = forest.predict(input, rows: Array(graphs.indices))
            for i in graphs.indices { out.scores[i][t] = mean[i]; out.uncertainties[i][t] = spread[i] }
        }
        return out
    }

    /// Averages the network ensemble with the forests (equal weight); the uncertainty is the spread of
    /// that 50/50 mixture: √(½σ²_networks + ½σ²_trees + ¼(μ_networks − μ_forest)²).
    func blendForests(_ prediction: Prediction, graphs: [MolecularGraph]) -> Prediction {
        guard !forests.isEmpty else { return prediction }
        let forest = forestPrediction(graphs: graphs)
        var out = prediction
        for t in forests.indices {
            for i in graphs.indices {
                let mu1 = prediction.scores[i][t], s1 = prediction.uncertainties[i][t]
                let mu2 = forest.scores[i][t], s2 = forest.uncertainties[i][t]
                out.scores[i][t] = (mu1 + mu2) / 2
                out.uncertainties[i][t] = (0.5 * s1 * s1 + 0.5 * s2 * s2 + 0.25 * (mu1 - mu2) * (mu1 - mu2)).squareRoot()
            }
        }
        return out
    }

    /// Trains the networks and forests `options` describe on `threads` threads (the same model at
    /// any thread count).
    public static func train(_ data: Dataset, train: [Int], validation: [Int], options: TrainingOptions,
                             dataInfo: TrainingDataInfo, threads: Int, features: Featurised? = nil,
                             report: (EpochReport) -> Void) throws(TrainingError) -> TrainedModel {
        var options = options
        if var extra = options.extraFeatures {
            // The forest reads Morgan fingerprints only; the networks' extra features are scaled by the training rows.
            if options.kind.isNetwork {
                extra.fit(extra.rawValues(data.graphs, columns: data.featureColumns), rows: train)
                options.extraFeatures = extra
            } else {
                options.extraFeatures = nil
            }
        }
        if !options.kind.isNetwork || options.forestSettings != nil {
            // The stored options name the forest's settings in full, class weights included.
            var settings = options.forestSettings ?? RandomForest.Settings()
            if options.balanceClasses && data.taskKind == .classification { settings.balanced = true }
            // Morgan counts unless the options say bits: on held-out screening data a count forest
            // ranks better than an on-bit one (README "Which model when").
            settings.counts = settings.counts ?? true
            options.forest = settings
        }
        let networks = try Trainer.train(data, train: train, validation: validation, options: options, threads: threads, features: features,
                                         report: report)
        let forests = options.forest.map { trainForests(data, rows: train, settings: $0, seed: options.seed, threads: threads) } ?? []
        var header = ModelHeader(kind: options.kind, taskKind: data.taskKind, tasks: data.taskNames, members: networks.count,
                                 options: options, trainingData: dataInfo, metrics: [:])
        if data.taskKind == .classification {
            header.knownActives = train.filter { (data.labels[$0].first ?? nil).map { $0 > 0.5 } ?? false }
                .map { KnownActive(id: data.ids[$0], smiles: data.smiles[$0]) }
        }
        return TrainedModel(header: header, networks: networks, forests: forests)
    }

    /// The numeric columns every molecule scored must bring (`ExtraFeatures.columns`; empty when none).
    public var featureColumns: [String] { networks.isEmpty ? [] : header.options.extraFeatures?.columns ?? [] }

    /// Ensemble predictions for graphs, in order. `columns`: each molecule's values of
    /// `featureColumns`, in that order (required when the model has feature columns).
    public func predict(_ graphs: [MolecularGraph], columns: [[Double]] = []) -> Prediction {
        if networks.isEmpty { return forestPrediction(graphs: graphs) }
        let extra = header.options.extraFeatures.map { $0.inputs(graphs, columns: columns) } ?? []
        let members = header.options.kind.architecture.memberPredictions(networks, graphs: graphs, extra: extra, options: header.options,
                                                                         taskKind: header.taskKind)
        return blendForests(Self.combine(members, count: graphs.count, tasks: header.tasks.count), graphs: graphs)
    }

    /// Ensemble predictions for rows of features computed once with this model's options (campaigns
    /// score the same pool every round).
    public func predict(features: Featurised, rows: [Int]) -> Prediction {
        precondition(forests.isEmpty, "models with a forest predict from graphs")
        let members = networks.map { Trainer.predict($0, features, rows: rows, kind: header.taskKind) }
        return Self.combine(members, count: rows.count, tasks: header.tasks.count)
    }

    /// Mean and standard deviation over members.
    static func combine(_ perMember: [[[Float]]], count: Int, tasks: Int) -> Prediction {
        var scores = [[Float]](repeating: [Float](repeating: 0, count: tasks), count: count)
        var spread = scores
        let n = Float(perMember.count)
        for i in 0..<count {
            for t in 0..<tasks {
                var sum: Float = 0
                for member in perMember { sum += member[i][t] }
                let mean = sum / n
                var variance: Float = 0
                for member in perMember { variance += (member[i][t] - mean) * (member[i][t] - mean) }
                scores[i][t] = mean
                spread[i][t] = perMember.count > 1 ? (variance / n).squareRoot() : 0
            }
        }
        return Prediction(scores: scores, uncertainties: spread)
    }

    // MARK: - Files

    public func archive() throws -> ModelArchive {
        var tensors: [ModelTensor] = []
        for (m, network) in networks.enumerated() {
            for p in network.parameters { tensors.append(ModelTensor(name: "member\(m)/\(p.name)", matrix: p.value)) }
        }
        for (t, forest) in forests.enumerated() {
            // Node indices and features are small integers: exact in float32 (below 2^24 per tree).
            let f = forest.flattened
            for (name, values) in [("sizes", f.sizes.map(Float.init)), ("feature", f.feature.map(Float.init)), ("left", f.left.map(Float.init)),
                                   ("right", f.right.map(Float.init)), ("value", f.value)] {
                tensors.append(ModelTensor(name: "forest\(t)/\(name)", shape: [values.count], values: values))
            }
        }
        // Format 2 only where it matters, so models without extra features keep their bytes.
        return try ModelArchive(header: header, tensors: tensors, version: header.options.extraFeatures == nil ? 1 : 2)
    }

    /// Writes the model file; refuses (and writes nothing) when a weight is NaN or infinite, so a
    /// diverged model can never be loaded and score `nan`.
    public func write(to url: URL) throws {
        let archive = try archive()
        if let bad = archive.tensors.first(where: { !$0.values.allSatisfy(\.isFinite) }) {
            throw ModelFileError.unwritable(source: url.path, reason: "the weights \(bad.name) hold NaN or infinite values (training diverged)")
        }
        try archive.write(to: url)
    }

    public static func read(from url: URL) throws -> TrainedModel {
        let archive = try ModelArchive.read(from: url)
        return try load(archive, source: url.path)
    }

    /// Rebuilds the networks from the header and fills every parameter from its tensor, checking
    /// names, shapes and featurisation versions.
    public static func load(_ archive: ModelArchive, source: String) throws -> TrainedModel {
        let header = try archive.decodeHeader(ModelHeader.self, source: source)
        guard header.format == "winnow-model" else {
            throw ModelFileError.malformed(source: source, reason: "not a Winnow model (format '\(header.format)')")
        }
        guard header.morganInvariantVersion == MorganSettings.invariantVersion, GraphFeatures.readableVersions.contains(header.graphFeatureVersion) else {
            throw ModelFileError.malformed(source: source, reason: "trained with feature versions Morgan \(header.morganInvariantVersion) / graph \(header.graphFeatureVersion); this Winnow computes \(MorganSettings.invariantVersion) / \(GraphFeatures.version): retrain the model")
        }
        var byName: [String: ModelTensor] = [:]
        var storedValues = 0
        for t in archive.tensors {
            byName[t.name] = t
            storedValues += t.values.count
            // A checksum proves the bytes are as written, not that the writer was sane: a NaN or an
            // infinity here would surface as a `nan` or `inf` score for every molecule.
            guard t.values.allSatisfy(\.isFinite) else {
                throw ModelFileError.malformed(source: source, reason: "\(t.name) holds NaN or infinite values")
            }
        }
        try header.validate(source: source, storedValues: storedValues)
        var networks: [any Network] = []
        for m in 0..<header.members {
            guard let network = header.options.kind.architecture.makeNetwork(header.options, tasks: header.tasks.count, seed: 0) else {
                throw ModelFileError.malformed(source: source, reason: "a \(header.options.kind.rawValue) model has no network members")
            }
            for p in network.parameters {
                guard let tensor = byName["member\(m)/\(p.name)"], let matrix = tensor.matrix else {
                    throw ModelFileError.malformed(source: source, reason: "missing weights member\(m)/\(p.name)")
                }
                guard matrix.rows == p.value.rows, matrix.cols == p.value.cols else {
                    throw ModelFileError.malformed(source: source, reason: "weights member\(m)/\(p.name) are \(matrix.rows)×\(matrix.cols), expected \(p.value.rows)×\(p.value.cols)")
                }
                p.value = matrix
            }
            networks.append(network)
        }
        var forests: [RandomForest] = []
        if let forestSettings = header.options.forestSettings {
            let trees = forestSettings.trees
            for t in 0..<header.tasks.count {
                func ints(_ name: String) throws -> [Int32] {
                    guard let tensor = byName["forest\(t)/\(name)"] else {
                        throw ModelFileError.malformed(source: source, reason: "missing forest\(t)/\(name)")
                    }
                    guard tensor.values.allSatisfy({ $0 == $0.rounded() && abs($0) < 16_777_216 }) else {
                        throw ModelFileError.malformed(source: source, reason: "forest\(t)/\(name) holds non-integer node data")
                    }
                    return tensor.values.map { Int32($0) }
                }
                let settings = forestSettings
                guard let values = byName["forest\(t)/value"]?.values,
                      let forest = RandomForest(settings: settings, words: RandomForest.inputWords(counts: settings.usesCounts(header.taskKind)), sizes: try ints("sizes"),
                                                feature: try ints("feature"), left: try ints("left"), right: try ints("right"), value: values),
                      forest.flattened.sizes.count == trees
                else { throw ModelFileError.malformed(source: source, reason: "forest\(t) does not describe \(trees) valid trees") }
                forests.append(forest)
            }
        }
        return TrainedModel(header: header, networks: networks, forests: forests)
    }

    /// An independent copy for another thread.
    public func copy() throws -> TrainedModel {
        try TrainedModel.load(try archive(), source: "model copy")
    }
}

/// FNV-1a 64 as 16 hex digits: a content hash for training data (not cryptographic).
public func fnv1aHex(_ data: Data) -> String {
    var hash = FNV1a64()
    data.withUnsafeBytes { hash.update($0) }
    return hash.hex
}
