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

    // Saved by forward for backward.
    private var batch: GraphBatch?

    public init(messagePassing: any MessagePassing, aggregation: any MoleculeAggregation, predictor: any Predictor) {
        self.messagePassing = messagePassing
        self.aggregation = aggregation
        self.predictor = predictor
    }

    /// Winnow's D-MPNN: bond message passing of `depth` steps and width `hidden`, then the
    /// aggregation, then a feed-forward head. The weights are drawn from one generator seeded with
    /// `seed`, message passing first, then the head; the parameter names ("dmpnn.W_i.weight", …,
    /// "dmpnn.head.out.bias") are those of model files.
    public convenience init(hidden: Int = 300, depth: Int = 3, aggregation: Aggregation = .mean, headHidden: [Int] = [300],
                            tasks: Int, dropout: Float = 0, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let messagePassing = BondMessagePassing("dmpnn", hidden: hidden, depth: depth, using: &generator)
        let head = FeedForward("dmpnn.head", inputs: hidden, hidden: headHidden, outputs: tasks, dropout: dropout, using: &generator)
        self.init(messagePassing: messagePassing, aggregation: aggregation.part, predictor: head)
    }

    public var parameters: [Parameter] { messagePassing.parameters + predictor.parameters }

    /// Outputs `B × tasks` for the molecules of `batch`.
    public func forward(_ batch: GraphBatch, training: Bool, generator: inout SeededGenerator) -> Matrix {
        self.batch = batch
        let atoms = messagePassing.forward(batch, training: training)
        let molecules = aggregation.forward(atoms, batch)
        return predictor.forward(molecules, training: training, generator: &generator)
    }

    public func backward(_ gradient: Matrix) {
        guard let batch else { return }
        let dMolecules = predictor.backward(gradient)
        messagePassing.backward(aggregation.backward(dMolecules, batch))
    }
}
