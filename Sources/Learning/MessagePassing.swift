/// The first part of a message-passing network: from a batch of molecular graphs to one learned
/// state per atom (`N × outputWidth`). Implementations keep what `backward` needs from the last
/// `forward`, so one instance serves one thread.
public protocol MessagePassing: AnyObject {
    var parameters: [Parameter] { get }
    /// H, the width of every atom state.
    var outputWidth: Int { get }
    /// Atom states `N × H` for the batch. `training` false: every atom's state comes from the same
    /// chain of operations whatever the other molecules of the batch (scores must not depend on it).
    func forward(_ batch: GraphBatch, training: Bool) -> Matrix
    /// Takes dL/d(atom states) (`N × H`) for the batch of the last `forward` and adds every
    /// parameter's gradient to it.
    func backward(_ gradient: Matrix)
}

/// Chemprop's directed bond message passing (the D of D-MPNN): hidden states live on directed bonds,
/// and a bond's message leaves out the state of its own reverse bond.
///
/// Shapes: E directed bonds, N atoms, H hidden.
/// - input: `Z0 = W_i · [x_source ‖ x_bond]` (E × H, a gather of weight rows: the inputs are one-hot),
///   `H0 = ReLU(Z0)`;
/// - depth − 1 updates: `M_t[e] = Σ_{k→source(e)} H_{t−1}[k] − H_{t−1}[reverse(e)]`,
///   `H_t = ReLU(Z0 + M_t · W_h)`;
/// - atoms: `Q = ReLU(W_o · [x_atom ‖ Σ_{k→atom} H_last[k]] + b)` (N × H), the output.
public final class BondMessagePassing: MessagePassing {
    public let hidden: Int
    public let depth: Int
    let inputLayer: SparseLinear
    let messageWeight: Parameter
    let atomLayer: SparseLinear
    let atomMessageWeight: Parameter

    // Saved by forward for backward.
    private var batch: GraphBatch?
    private var z0 = Matrix(rows: 0, cols: 0)
    private var states: [Matrix] = []
    private var messages: [Matrix] = []
    private var finalSums = Matrix(rows: 0, cols: 0)
    private var atomStates = Matrix(rows: 0, cols: 0)

    /// Draws W_i, W_h, W_o (atom part, with the bias) and W_o (message part) from `generator`, in
    /// that order; parameter names start with `name` ("dmpnn" in model files).
    public init(_ name: String, hidden: Int, depth: Int, using generator: inout SeededGenerator) {
        precondition(depth >= 1)
        self.hidden = hidden
        self.depth = depth
        inputLayer = SparseLinear("\(name).W_i", inputs: GraphFeatures.atomWidth + GraphFeatures.bondWidth, outputs: hidden,
                                  bias: false, using: &generator)
        messageWeight = Parameter("\(name).W_h.weight", .glorot(rows: hidden, cols: hidden, using: &generator))
        atomLayer = SparseLinear("\(name).W_o_atom", inputs: GraphFeatures.atomWidth, outputs: hidden, bias: true, using: &generator)
        atomMessageWeight = Parameter("\(name).W_o_message.weight", .glorot(rows: hidden, cols: hidden, using: &generator))
    }

    public var outputWidth: Int { hidden }

    public var parameters: [Parameter] {
        inputLayer.parameters + [messageWeight] + atomLayer.parameters + [atomMessageWeight]
    }

    /// A[target[e]] += H[e]: sums of incoming messages per atom.
    private func incomingSums(_ h: Matrix, _ batch: GraphBatch, into a: inout Matrix) {
        let width = hidden
        a.reshape(rows: batch.atomCount, cols: width)
        a.zero()
        a.values.withUnsafeMutableBufferPointer { out in
            h.values.withUnsafeBufferPointer { src in
                for e in 0..<batch.edgeCount {
                    let row = out.baseAddress! + Int(batch.target[e]) * width
                    let from = src.baseAddress! + e * width
                    for j in 0..<width { row[j] += from[j] }
                }
            }
        }
    }

    public func forward(_ batch: GraphBatch, training: Bool) -> Matrix {
        self.batch = batch
        let width = hidden
        inputLayer.forward(batch.edgeInputs, into: &z0)
        var h = z0
        Activation.relu(&h)
        states = [h]
        messages = []
        var sums = Matrix(rows: 0, cols: 0)
        for _ in 1..<depth {
            incomingSums(h, batch, into: &sums)
            var m = Matrix(uninitializedRows: batch.edgeCount, cols: width)
            m.values.withUnsafeMutableBufferPointer { out in
                sums.values.withUnsafeBufferPointer { a in
                    h.values.withUnsafeBufferPointer { hv in
                        for e in 0..<batch.edgeCount {
                            let row = out.baseAddress! + e * width
                            let s = a.baseAddress! + Int(batch.source[e]) * width
                            let r = hv.baseAddress! + Int(batch.reverse[e]) * width
                            for j in 0..<width { row[j] = s[j] - r[j] }
                        }
                    }
                }
            }
            // H_t = ReLU(Z0 + M·W_h), the addition fused into the activation pass.
            var z = Matrix(rows: 0, cols: 0)
            if training {
                BLAS.gemm(m, messageWeight.value, into: &z)
            } else {
                BLAS.rowInvariantProduct(m, messageWeight.value, into: &z)
            }
            z.values.withUnsafeMutableBufferPointer { zv in
                z0.values.withUnsafeBufferPointer { base in
                    for i in 0..<zv.count { zv[i] = max(zv[i] + base[i], 0) }
                }
            }
            messages.append(m)
            h = z
            states.append(h)
        }
        incomingSums(h, batch, into: &finalSums)
        atomLayer.forward(batch.atomInputs, into: &atomStates)
        if training {
            BLAS.gemm(finalSums, atomMessageWeight.value, into: &atomStates, beta: 1)
        } else {
            // Inference: every atom's state from the same chain of operations whatever the batch.
            var product = Matrix(rows: 0, cols: 0)
            BLAS.rowInvariantProduct(finalSums, atomMessageWeight.value, into: &product)
            atomStates.values.withUnsafeMutableBufferPointer { a in
                product.values.withUnsafeBufferPointer { p in for i in a.indices { a[i] += p[i] } }
            }
        }
        Activation.relu(&atomStates)
        return atomStates
    }

    public func backward(_ gradient: Matrix) {
        guard let batch else { return }
        let width = hidden
        var dq = gradient
        Activation.reluBackward(output: atomStates, gradient: &dq)
        atomLayer.backward(batch.atomInputs, outputGradient: dq)
        BLAS.gemm(finalSums, transposeA: true, dq, into: &atomMessageWeight.gradient, beta: 1)
        var dSums = Matrix(rows: 0, cols: 0)
        BLAS.gemm(dq, atomMessageWeight.value, transposeB: true, into: &dSums)
        // Sums of the last states → edges: dH[e] = dSums[target[e]].
        var dh = Matrix(uninitializedRows: batch.edgeCount, cols: width)
        scatterFromAtoms(dSums, batch, into: &dh)
        var dz0 = Matrix(rows: batch.edgeCount, cols: width)
        for t in stride(from: depth - 1, through: 1, by: -1) {
            // H_t = ReLU(Z0 + M_t W_h)
            var dz = dh
            dz.values.withUnsafeMutableBufferPointer { g in
                states[t].values.withUnsafeBufferPointer { o in
                    dz0.values.withUnsafeMutableBufferPointer { acc in
                        for i in 0..<g.count {
                            if o[i] <= 0 { g[i] = 0 }
                            acc[i] += g[i]
                        }
                    }
                }
            }
            BLAS.gemm(messages[t - 1], transposeA: true, dz, into: &messageWeight.gradient, beta: 1)
            var dm = Matrix(rows: 0, cols: 0)
            BLAS.gemm(dz, messageWeight.value, transposeB: true, into: &dm)
            // M[e] = A[source[e]] − H_{t−1}[reverse[e]], A[u] = Σ_{target(k)=u} H_{t−1}[k]
            var dA = Matrix(rows: batch.atomCount, cols: width)
            var dPrevious = Matrix(rows: batch.edgeCount, cols: width)
            dA.values.withUnsafeMutableBufferPointer { a in
                dPrevious.values.withUnsafeMutableBufferPointer { p in
                    dm.values.withUnsafeBufferPointer { d in
                        for e in 0..<batch.edgeCount {
                            let row = d.baseAddress! + e * width
                            let s = a.baseAddress! + Int(batch.source[e]) * width
                            let r = p.baseAddress! + Int(batch.reverse[e]) * width
                            for j in 0..<width { s[j] += row[j]; r[j] -= row[j] }
                        }
                    }
                }
            }
            // … and the sums feed every edge into its target: dH_{t−1}[e] += dA[target[e]].
            dPrevious.values.withUnsafeMutableBufferPointer { p in
                dA.values.withUnsafeBufferPointer { a in
                    for e in 0..<batch.edgeCount {
                        let row = p.baseAddress! + e * width
                        let from = a.baseAddress! + Int(batch.target[e]) * width
                        for j in 0..<width { row[j] += from[j] }
                    }
                }
            }
            dh = dPrevious
        }
        // H0 = ReLU(Z0)
        Activation.reluBackward(output: states[0], gradient: &dh)
        BLAS.axpy(1, dh.values, &dz0.values)
        inputLayer.backward(batch.edgeInputs, outputGradient: dz0)
    }

    /// out[e] = atoms[target[e]].
    private func scatterFromAtoms(_ atoms: Matrix, _ batch: GraphBatch, into out: inout Matrix) {
        let width = hidden
        out.reshape(rows: batch.edgeCount, cols: width)
        out.values.withUnsafeMutableBufferPointer { o in
            atoms.values.withUnsafeBufferPointer { a in
                for e in 0..<batch.edgeCount {
                    (o.baseAddress! + e * width).update(from: a.baseAddress! + Int(batch.target[e]) * width, count: width)
                }
            }
        }
    }
}
