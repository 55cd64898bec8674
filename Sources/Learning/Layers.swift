import CBLAS
import CKernels

/// A trainable tensor with its gradient and Adam moments.
public final class Parameter {
    public let name: String
    public var value: Matrix
    public var gradient: Matrix
    var firstMoment: [Float]
    var secondMoment: [Float]
    /// Weight decay applies to weights, not biases.
    public let decays: Bool

    public init(_ name: String, _ value: Matrix, decays: Bool = true) {
        self.name = name
        self.value = value
        gradient = Matrix(rows: value.rows, cols: value.cols)
        firstMoment = [Float](repeating: 0, count: value.values.count)
        secondMoment = [Float](repeating: 0, count: value.values.count)
        self.decays = decays
    }

    public func zeroGradient() { gradient.zero() }
}

/// Adam with decoupled weight decay (AdamW).
public struct Adam {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float = 0
    private(set) var step = 0

    public init(weightDecay: Float = 0) { self.weightDecay = weightDecay }

    public mutating func update(_ parameters: [Parameter], learningRate: Float) {
        step += 1
        let correction1 = 1 - Float(Double(beta1).power(step))
        let correction2 = 1 - Float(Double(beta2).power(step))
        for p in parameters {
            let decay = p.decays ? weightDecay * learningRate : 0
            let n = p.value.values.count
            precondition(p.gradient.values.count == n && p.firstMoment.count == n && p.secondMoment.count == n)
            // The kernel computes, per element and in this order (no fused multiply-add):
            // m = b1·m + (1 − b1)·g; v = b2·v + ((1 − b2)·g)·g; w −= lr·(m/c1) / (√(v/c2) + eps) + decay·w.
            p.value.values.withUnsafeMutableBufferPointer { w in
                p.gradient.values.withUnsafeBufferPointer { g in
                    p.firstMoment.withUnsafeMutableBufferPointer { m in
                        p.secondMoment.withUnsafeMutableBufferPointer { v in
                            wk_adam_update(Int64(n), w.baseAddress, g.baseAddress, m.baseAddress, v.baseAddress, beta1, beta2,
                                           correction1, correction2, epsilon, learningRate, decay)
                        }
                    }
                }
            }
        }
    }
}

extension Double {
    func power(_ n: Int) -> Double {
        var result = 1.0
        for _ in 0..<n { result *= self }
        return result
    }
}

/// Rows of sparse inputs in CSR form: row r has (index, value) pairs at offsets[r] ..< offsets[r + 1].
/// One-hot atom features and fingerprint on-bits are mostly ones, so an input layer over them is a
/// gather of weight rows, not a dense product: its cost follows the number of set features.
public struct SparseRows: Sendable, Equatable {
    public var offsets: [Int32] = [0]
    public var indices: [Int32] = []
    public var values: [Float] = []
    public var width: Int

    public init(width: Int) { self.width = width }

    public var count: Int { offsets.count - 1 }

    public mutating func append<S: Sequence>(_ entries: S) where S.Element == (Int, Float) {
        for (index, value) in entries {
            precondition(index >= 0 && index < width, "sparse index \(index) outside width \(width)")
            indices.append(Int32(index))
            values.append(value)
        }
        offsets.append(Int32(indices.count))
    }

    /// Appends row `row` of `other` (same width).
    public mutating func append(row: Int, of other: SparseRows) {
        precondition(other.width == width, "sparse rows of width \(other.width) appended to width \(width)")
        let start = Int(other.offsets[row]), end = Int(other.offsets[row + 1])
        indices.append(contentsOf: other.indices[start..<end])
        values.append(contentsOf: other.values[start..<end])
        offsets.append(Int32(indices.count))
    }

    /// The entries of row `row` as (index, value) pairs.
    public func row(_ row: Int) -> [(Int, Float)] {
        (Int(offsets[row])..<Int(offsets[row + 1])).map { (Int(indices[$0]), values[$0]) }
    }
}

/// y = x·W (+ b) for sparse x: W is `width × out`.
public final class SparseLinear {
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ name: String, inputs: Int, outputs: Int, bias: Bool, using generator: inout SeededGenerator) {
        weight = Parameter("\(name).weight", .glorot(rows: inputs, cols: outputs, using: &generator))
        self.bias = bias ? Parameter("\(name).bias", Matrix(rows: 1, cols: outputs), decays: false) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    /// Writes x·W (+ b) into `output` (rows × out): one fused multiply-add per non-zero entry and
    /// output column, in entry order (see `wk_sparse_linear`).
    public func forward(_ x: SparseRows, into output: inout Matrix) {
        let out = weight.value.cols
        output.reshape(rows: x.count, cols: out)
        output.values.withUnsafeMutableBufferPointer { y in
            weight.value.values.withUnsafeBufferPointer { w in
                x.offsets.withUnsafeBufferPointer { offsets in
                    x.indices.withUnsafeBufferPointer { indices in
                        x.values.withUnsafeBufferPointer { values in
                            if let bias {
                                bias.value.values.withUnsafeBufferPointer { b in
                                    wk_sparse_linear(Int64(x.count), offsets.baseAddress, indices.baseAddress, values.baseAddress,
                                                     w.baseAddress, Int64(out), b.baseAddress, y.baseAddress)
                                }
                            } else {
                                wk_sparse_linear(Int64(x.count), offsets.baseAddress, indices.baseAddress, values.baseAddress,
                                                 w.baseAddress, Int64(out), nil, y.baseAddress)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Accumulates dW (scatter into the rows that were used) and db from dy.
    public func backward(_ x: SparseRows, outputGradient dy: Matrix) {
        let out = weight.value.cols
        _ = openBLASOnCallingThread
        weight.gradient.values.withUnsafeMutableBufferPointer { g in
            dy.values.withUnsafeBufferPointer { d in
                for r in 0..<x.count {
                    let row = d.baseAddress! + r * out
                    for k in Int(x.offsets[r])..<Int(x.offsets[r + 1]) {
                        cblas_saxpy(Int32(out), x.values[k], row, 1, g.baseAddress! + Int(x.indices[k]) * out, 1)
                    }
                }
            }
        }
        if let bias { Dense.addColumnSums(dy, into: &bias.gradient) }
    }
}

/// y = x·W + b for dense x.
public final class Dense {
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ name: String, inputs: Int, outputs: Int, bias: Bool = true, using generator: inout SeededGenerator) {
        weight = Parameter("\(name).weight", .glorot(rows: inputs, cols: outputs, using: &generator))
        self.bias = bias ? Parameter("\(name).bias", Matrix(rows: 1, cols: outputs), decays: false) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    /// y = x·W + b. Inference (`rowInvariant`, the default) uses a kernel whose every output is the
    /// same fused multiply-add chain whatever the batch, so a molecule's score does not depend on its
    /// neighbours in the batch (shards, threads, resumed runs); training uses OpenBLAS.
    public func forward(_ x: Matrix, into y: inout Matrix, rowInvariant: Bool = true) {
        if rowInvariant {
            BLAS.rowInvariantProduct(x, weight.value, bias: bias?.value, into: &y)
            return
        }
        BLAS.gemm(x, weight.value, into: &y)
        if let bias {
            let out = y.cols
            y.values.withUnsafeMutableBufferPointer { v in
                bias.value.values.withUnsafeBufferPointer { b in
                    for r in 0..<y.rows { for j in 0..<out { v[r * out + j] += b[j] } }
                }
            }
        }
    }

    /// Accumulates dW, db; writes dx when asked.
    public func backward(_ x: Matrix, outputGradient dy: Matrix, inputGradient dx: inout Matrix?) {
        BLAS.gemm(x, transposeA: true, dy, into: &weight.gradient, beta: 1)
        if let bias { Self.addColumnSums(dy, into: &bias.gradient) }
        if dx != nil {
            var result = dx!
            BLAS.gemm(dy, weight.value, transposeB: true, into: &result)
            dx = result
        }
    }

    static func addColumnSums(_ m: Matrix, into g: inout Matrix) {
        let cols = m.cols
        g.values.withUnsafeMutableBufferPointer { out in
            m.values.withUnsafeBufferPointer { v in
                for r in 0..<m.rows { for j in 0..<cols { out[j] += v[r * cols + j] } }
            }
        }
    }
}

public enum Activation {
    /// In-place ReLU.
    public static func relu(_ m: inout Matrix) {
        // A select, not a branch, so the loop vectorises (same values: negatives become +0).
        m.values.withUnsafeMutableBufferPointer { v in
            for i in v.indices { let x = v[i]; v[i] = x < 0 ? 0 : x }
        }
    }

    /// dz = dy where the activation output was positive, 0 elsewhere (in place on dy).
    public static func reluBackward(output: Matrix, gradient: inout Matrix) {
        output.values.withUnsafeBufferPointer { o in
            gradient.values.withUnsafeMutableBufferPointer { g in
                for i in g.indices { let x = g[i]; g[i] = o[i] <= 0 ? 0 : x }
            }
        }
    }

    /// Inverted dropout: zeroes each value with probability p and scales the rest; returns the mask.
    public static func dropout(_ m: inout Matrix, probability p: Float, using generator: inout SeededGenerator) -> [Float] {
        guard p > 0 else { return [] }
        let scale = 1 / (1 - p)
        var mask = [Float](repeating: 0, count: m.values.count)
        for i in mask.indices { mask[i] = Float.random(in: 0..<1, using: &generator) < p ? 0 : scale }
        for i in mask.indices { m.values[i] *= mask[i] }
        return mask
    }

    public static func applyMask(_ mask: [Float], to g: inout Matrix) {
        guard !mask.isEmpty else { return }
        for i in mask.indices { g.values[i] *= mask[i] }
    }
}
