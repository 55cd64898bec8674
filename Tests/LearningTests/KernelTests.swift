import Foundation
import Learning
import Testing

/// The inference layers' kernels: correct sums, and the same bits for a row whatever batch it is in.
@Suite struct KernelTests {
    static func random(_ count: Int, _ generator: inout SeededGenerator, zeros: Bool = false) -> [Float] {
        (0..<count).map { _ in
            let v = Float.random(in: -1..<1, using: &generator)
            return zeros && v < -0.3 ? 0 : v  // ReLU outputs have many zeros
        }
    }

    /// Learning keeps OpenBLAS on the calling thread by itself (callers pass thread counts to
    /// training; no command has to set a global first): a product made in this process leaves
    /// OpenBLAS at one thread, where its default on a multi-core machine is one per core.
    @Test func openBLASRunsOnTheCallingThread() {
        var generator = SeededGenerator(seed: 5)
        let a = Matrix(rows: 64, cols: 32, values: Self.random(64 * 32, &generator))
        let b = Matrix(rows: 32, cols: 16, values: Self.random(32 * 16, &generator))
        var c = Matrix(rows: 0, cols: 0)
        BLAS.gemm(a, b, into: &c)
        #expect(c.rows == 64 && c.cols == 16)
        #expect(BLAS.threads == 1)
    }

    /// Shapes that exercise the 6-row blocks, single leftover rows and scalar leftover columns.
    @Test(arguments: [(13, 40, 35), (6, 512, 128), (1, 7, 16), (25, 300, 300), (9, 33, 1)])
    func denseMatchesDoublePrecisionAndIsRowInvariant(shape: (rows: Int, inputs: Int, outputs: Int)) {
        var generator = SeededGenerator(seed: 7)
        var layer = SeededGenerator(seed: 3)
        let dense = Dense("t", inputs: shape.inputs, outputs: shape.outputs, using: &layer)
        dense.bias!.value.values = Self.random(shape.outputs, &generator)
        let x = Matrix(rows: shape.rows, cols: shape.inputs, values: Self.random(shape.rows * shape.inputs, &generator, zeros: true))
        var y = Matrix(rows: 0, cols: 0)
        dense.forward(x, into: &y)
        #expect(y.rows == shape.rows && y.cols == shape.outputs)
        for r in 0..<shape.rows {
            // Alone, the row gives the same bits as inside the batch.
            let alone = Matrix(rows: 1, cols: shape.inputs, values: Array(x.values[(r * shape.inputs)..<((r + 1) * shape.inputs)]))
            var single = Matrix(rows: 0, cols: 0)
            dense.forward(alone, into: &single)
            #expect(single.values == Array(y.values[(r * shape.outputs)..<((r + 1) * shape.outputs)]), "row \(r)")
            for c in 0..<shape.outputs {
                var exact = Double(dense.bias!.value[0, c])
                for k in 0..<shape.inputs { exact += Double(x[r, k]) * Double(dense.weight.value[k, c]) }
                #expect(abs(Double(y[r, c]) - exact) <= 1e-4 * max(1, abs(exact)))
            }
        }
        // Training goes through OpenBLAS: the same values up to rounding.
        var blas = Matrix(rows: 0, cols: 0)
        dense.forward(x, into: &blas, rowInvariant: false)
        for i in blas.values.indices { #expect(abs(blas.values[i] - y.values[i]) <= 1e-4) }
    }

    @Test func sparseMatchesDoublePrecisionAndIsRowInvariant() {
        var generator = SeededGenerator(seed: 11)
        var layer = SeededGenerator(seed: 5)
        for outputs in [512, 300, 70] {
            let sparse = SparseLinear("s", inputs: 2048, outputs: outputs, bias: true, using: &layer)
            sparse.bias!.value.values = Self.random(outputs, &generator)
            var x = SparseRows(width: 2048)
            for r in 0..<20 {
                let bits = Set((0..<(5 + r * 3)).map { _ in Int.random(in: 0..<2048, using: &generator) }).sorted()
                x.append(bits.map { ($0, Float(Int.random(in: 1...4, using: &generator))) })
            }
            var y = Matrix(rows: 0, cols: 0)
            sparse.forward(x, into: &y)
            for r in 0..<x.count {
                var alone = SparseRows(width: 2048)
                alone.append(row: r, of: x)
                var single = Matrix(rows: 0, cols: 0)
                sparse.forward(alone, into: &single)
                #expect(single.values == Array(y.values[(r * outputs)..<((r + 1) * outputs)]))
                for c in 0..<outputs {
                    var exact = Double(sparse.bias!.value[0, c])
                    for (bit, value) in x.row(r) { exact += Double(value) * Double(sparse.weight.value[bit, c]) }
                    #expect(abs(Double(y[r, c]) - exact) <= 1e-4 * max(1, abs(exact)))
                }
            }
        }
    }
}
