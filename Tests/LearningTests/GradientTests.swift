import Chemistry
import Foundation
import Learning
import Testing

/// Finite-difference checks of every layer's backward pass, and a tiny model that must overfit.
@Suite struct GradientTests {
    static let smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C1CCNCC1", "O=C(O)c1ccccc1"]

    static func graphs() throws -> [MolecularGraph] {
        let parser = try MoleculeParser()
        return try smiles.map { try parser.parse(smiles: $0) }
    }

    static func targets(rows: Int, tasks: Int) -> Targets {
        var values = Matrix(rows: rows, cols: tasks)
        var mask = Matrix(rows: rows, cols: tasks, repeating: 1)
        for i in 0..<rows { for t in 0..<tasks { values[i, t] = Float((i + t) % 2) } }
        if tasks > 1 { mask[0, 1] = 0 }  // a missing label must not contribute
        return Targets(values: values, mask: mask)
    }

    /// Compares dL/dθ from backward with (L(θ+ε) − L(θ−ε)) / 2ε on a sample of entries of every parameter.
    func check<M: MoleculeModel>(_ model: M, input: M.Input, targets: Targets, regression: Bool = false) {
        func loss() -> Float {
            var generator = SeededGenerator(seed: 1)
            let out = model.forward(input, training: false, generator: &generator)
            var g = Matrix(rows: 0, cols: 0)
            return regression ? Loss.meanSquaredError(predictions: out, targets: targets, gradient: &g)
                              : Loss.binaryCrossEntropy(logits: out, targets: targets, gradient: &g)
        }
        for p in model.parameters { p.zeroGradient() }
        var generator = SeededGenerator(seed: 1)
        let out = model.forward(input, training: false, generator: &generator)
        var gradient = Matrix(rows: 0, cols: 0)
        _ = regression ? Loss.meanSquaredError(predictions: out, targets: targets, gradient: &gradient)
                       : Loss.binaryCrossEntropy(logits: out, targets: targets, gradient: &gradient)
        model.backward(gradient)
        var checked = 0
        for p in model.parameters {
            // Entries with a non-zero analytic gradient first (sparse layers touch few rows).
            let nonzero = p.gradient.values.indices.filter { p.gradient.values[$0] != 0 }
            let sample = Array(nonzero.prefix(6)) + [0, p.value.values.count - 1]
            for index in sample {
                let original = p.value.values[index]
                let eps: Float = 1e-3
                p.value.values[index] = original + eps
                let plus = loss()
                p.value.values[index] = original - eps
                let minus = loss()
                p.value.values[index] = original
                let numeric = (plus - minus) / (2 * eps)
                let analytic = p.gradient.values[index]
                #expect(abs(analytic - numeric) <= 2e-3 + 5e-2 * abs(numeric),
                        "\(p.name)[\(index)]: analytic \(analytic), numeric \(numeric)")
                checked += 1
            }
        }
        #expect(checked >= 2 * model.parameters.count)
    }

    @Test func fingerprintMLPGradients() throws {
        let model = FingerprintMLP(inputs: 64, hidden: [16, 8], tasks: 2, dropout: 0, seed: 3)
        var x = SparseRows(width: 64)
        for i in 0..<5 { x.append([(i, Float(1)), (i + 7, Float(2)), (40 + i, Float(1))]) }
        check(model, input: x, targets: Self.targets(rows: 5, tasks: 2))
    }

    @Test func dmpnnGradients() throws {
        let model = DMPNN(hidden: 12, depth: 3, aggregation: .mean, headHidden: [10], tasks: 2, seed: 5)
        check(model, input: GraphBatch(try Self.graphs()), targets: Self.targets(rows: 5, tasks: 2))
    }

    @Test func dmpnnSumAggregationRegressionGradients() throws {
        let model = DMPNN(hidden: 10, depth: 2, aggregation: .sum, headHidden: [], tasks: 1, seed: 9)
        var targets = Self.targets(rows: 5, tasks: 1)
        for i in 0..<5 { targets.values[i, 0] = Float(i) * 0.5 - 1 }
        check(model, input: GraphBatch(try Self.graphs()), targets: targets, regression: true)
    }

    /// A small model must drive the loss on one batch close to zero.
    @Test func tinyModelsOverfitOneBatch() throws {
        let targets = Self.targets(rows: 5, tasks: 1)
        let batch = GraphBatch(try Self.graphs())
        let model = DMPNN(hidden: 32, depth: 3, headHidden: [16], tasks: 1, seed: 1)
        var adam = Adam()
        var generator = SeededGenerator(seed: 2)
        var last: Float = .infinity
        for _ in 0..<300 {
            for p in model.parameters { p.zeroGradient() }
            let out = model.forward(batch, training: true, generator: &generator)
            var g = Matrix(rows: 0, cols: 0)
            last = Loss.binaryCrossEntropy(logits: out, targets: targets, gradient: &g)
            model.backward(g)
            adam.update(model.parameters, learningRate: 1e-2)
        }
        #expect(last < 0.02)
    }
}
