/// A feed-forward head: (Dense → ReLU → dropout) × hidden layers, then Dense to one output per task.
/// Input `B × d_in`, output logits `B × tasks`.
public final class FeedForward {
    public let layers: [Dense]
    public let dropout: Float
    private var inputs: [Matrix] = []
    private var masks: [[Float]] = []

    public init(_ name: String, inputs: Int, hidden: [Int], outputs: Int, dropout: Float, using generator: inout SeededGenerator) {
        var layers: [Dense] = []
        var width = inputs
        for (i, size) in hidden.enumerated() {
            layers.append(Dense("\(name).\(i)", inputs: width, outputs: size, using: &generator))
            width = size
        }
        layers.append(Dense("\(name).out", inputs: width, outputs: outputs, using: &generator))
        self.layers = layers
        self.dropout = dropout
    }

    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }

    public func forward(_ x: Matrix, training: Bool, generator: inout SeededGenerator) -> Matrix {
        inputs.removeAll(keepingCapacity: true)
        masks.removeAll(keepingCapacity: true)
        var current = x
        for (i, layer) in layers.enumerated() {
            inputs.append(current)
            var y = Matrix(rows: 0, cols: 0)
            layer.forward(current, into: &y, rowInvariant: !training)
            if i < layers.count - 1 {
                Activation.relu(&y)
                masks.append(training ? Activation.dropout(&y, probability: dropout, using: &generator) : [])
            }
            current = y
        }
        return current
    }

    /// Backpropagates dL/dlogits; returns dL/dx.
    public func backward(_ gradient: Matrix) -> Matrix {
        var g = gradient
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            if i < layers.count - 1 {
                // inputs[i + 1] is this layer's activated (and dropped-out) output.
                Activation.applyMask(masks[i], to: &g)
                Activation.reluBackward(output: inputs[i + 1], gradient: &g)
            }
            var dx: Matrix? = Matrix(rows: 0, cols: 0)
            layers[i].backward(inputs[i], outputGradient: g, inputGradient: &dx)
            g = dx!
        }
        return g
    }
}

/// The models Winnow trains, behind one small interface.
public protocol MoleculeModel: AnyObject {
    associatedtype Input
    var parameters: [Parameter] { get }
    /// Logits (classification) or values (regression), `B × tasks`.
    func forward(_ input: Input, training: Bool, generator: inout SeededGenerator) -> Matrix
    func backward(_ gradient: Matrix)
}

/// Dense classifier on Morgan fingerprints. The first layer reads only the on bits (or counts) of
/// each molecule, so its cost follows the number of set bits, not the fingerprint size.
public final class FingerprintMLP: MoleculeModel {
    public let input: SparseLinear
    public let head: FeedForward
    public let dropout: Float
    private var firstInput = SparseRows(width: 0)
    private var firstOutput = Matrix(rows: 0, cols: 0)
    private var firstMask: [Float] = []

    public init(inputs: Int, hidden: [Int], tasks: Int, dropout: Float, seed: UInt64) {
        precondition(!hidden.isEmpty)
        var generator = SeededGenerator(seed: seed)
        input = SparseLinear("mlp.input", inputs: inputs, outputs: hidden[0], bias: true, using: &generator)
        head = FeedForward("mlp.head", inputs: hidden[0], hidden: Array(hidden.dropFirst()), outputs: tasks,
                           dropout: dropout, using: &generator)
        self.dropout = dropout
    }

    public var parameters: [Parameter] { input.parameters + head.parameters }

    public func forward(_ x: SparseRows, training: Bool, generator: inout SeededGenerator) -> Matrix {
        firstInput = x
        input.forward(x, into: &firstOutput)
        Activation.relu(&firstOutput)
        firstMask = training ? Activation.dropout(&firstOutput, probability: dropout, using: &generator) : []
        return head.forward(firstOutput, training: training, generator: &generator)
    }

    public func backward(_ gradient: Matrix) {
        var g = head.backward(gradient)
        Activation.applyMask(firstMask, to: &g)
        Activation.reluBackward(output: firstOutput, gradient: &g)
        input.backward(firstInput, outputGradient: g)
    }
}
