/// Directed message-passing neural network (Chemprop's D-MPNN), assembled from three parts as in
/// Chemprop v2's `MPNN(message_passing, agg, predictor)`:
/// - `messagePassing`: graphs → atom states `N × H` (`BondMessagePassing`, MessagePassing.swift);
/// - `aggregation`: atom states → one vector per molecule `B × H` (sum, mean or norm, Aggregation.swift);
/// - `predictor`: molecule vectors → outputs `B × tasks` (the feed-forward head, Predictor.swift).
public final class DMPNN: MoleculeModel {
    /// How atom states become a molecule vector: sum, mean, or sum / 100 (Chemprop v2's "norm").
    /// The setting stored in model files; `part` is the aggregation it names.
    public enum Aggregation: String, Codable, Sendable {
        case sum, mean, norm

        public var part: any MoleculeAggregation {
            switch self {
            case .sum: SumAggregation()
            case .mean: MeanAggregation()
            case .norm: NormAggregation()
            }
        }
    }

    public let messagePassing: any MessagePassing
    public let aggregation: any MoleculeAggregation
    public let predictor: any Predictor
    /// Extra features per molecule (descriptors, numeric columns) the predictor reads after the
    /// aggregated vector: its input is `B × (H + extraWidth)` (0: none).
    public let extraWidth: Int

    // Saved by forward for backward.
    private var batch: GraphBatch?
    private var representationWidth = 0

    public init(messagePassing: any MessagePassing, aggregation: any MoleculeAggregation, predictor: any Predictor, extraWidth: Int = 0) {
        self.messagePassing = messagePassing
        self.aggregation = aggregation
        self.predictor = predictor
        self.extraWidth = extraWidth
    }

    /// Winnow's D-MPNN: bond message passing of `depth` steps and width `hidden`, then the
    /// aggregation, then a feed-forward head. The weights are drawn from one generator seeded with
    /// `seed`, message passing first, then the head; the parameter names ("dmpnn.W_i.weight", …,
    /// "dmpnn.head.out.bias") are those of model files.
    /// `extraFeatures`: inputs the head reads after the molecule vector (its first layer is then
    /// `hidden + extraFeatures` wide; with 0 the weights are drawn exactly as before).
    public convenience init(hidden: Int = 300, depth: Int = 3, aggregation: Aggregation = .mean, headHidden: [Int] = [300],
                            tasks: Int, dropout: Float = 0, extraFeatures: Int = 0, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let messagePassing = BondMessagePassing("dmpnn", hidden: hidden, depth: depth, using: &generator)
        let head = FeedForward("dmpnn.head", inputs: hidden + extraFeatures, hidden: headHidden, outputs: tasks, dropout: dropout,
                               using: &generator)
        self.init(messagePassing: messagePassing, aggregation: aggregation.part, predictor: head, extraWidth: extraFeatures)
    }

    public var parameters: [Parameter] { messagePassing.parameters + predictor.parameters }

    /// Outputs `B × tasks` for the molecules of `batch` (a network without extra features).
    public func forward(_ batch: GraphBatch, training: Bool, generator: inout SeededGenerator) -> Matrix {
        forward(batch, extra: nil, training: training, generator: &generator)
    }

    /// Outputs `B × tasks` for the molecules of `batch`; `extra` (`B × extraWidth`) is read by the
    /// predictor after the molecule vectors (required when `extraWidth` > 0).
    public func forward(_ batch: GraphBatch, extra: Matrix?, training: Bool, generator: inout SeededGenerator) -> Matrix {
        self.batch = batch
        let atoms = messagePassing.forward(batch, training: training)
        var molecules = aggregation.forward(atoms, batch)
        representationWidth = molecules.cols
        if extraWidth > 0 {
            guard let extra, extra.rows == molecules.rows, extra.cols == extraWidth else {
                preconditionFailure("a D-MPNN with \(extraWidth) extra features needs a \(molecules.rows) × \(extraWidth) matrix of them")
            }
            molecules = Self.joinColumns(molecules, extra)
        }
        return predictor.forward(molecules, training: training, generator: &generator)
    }

    public func backward(_ gradient: Matrix) {
        guard let batch else { return }
        var dMolecules = predictor.backward(gradient)
        // The extra features are inputs, not parameters: only the representation's columns go back.
        if extraWidth > 0 { dMolecules = Self.leadingColumns(dMolecules, representationWidth) }
        messagePassing.backward(aggregation.backward(dMolecules, batch))
    }

    /// `[a | b]`: the columns of `a`, then those of `b` (same rows).
    static func joinColumns(_ a: Matrix, _ b: Matrix) -> Matrix {
        var values: [Float] = []
        values.reserveCapacity(a.rows * (a.cols + b.cols))
        for r in 0..<a.rows {
            values += a.values[(r * a.cols)..<((r + 1) * a.cols)]
            values += b.values[(r * b.cols)..<((r + 1) * b.cols)]
        }
        return Matrix(rows: a.rows, cols: a.cols + b.cols, values: values)
    }

    /// The first `width` columns of `m`.
    static func leadingColumns(_ m: Matrix, _ width: Int) -> Matrix {
        var values: [Float] = []
        values.reserveCapacity(m.rows * width)
        for r in 0..<m.rows { values += m.values[(r * m.cols)..<(r * m.cols + width)] }
        return Matrix(rows: m.rows, cols: width, values: values)
    }
}
