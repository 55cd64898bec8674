/// The second part of a message-passing network: from atom states (`N × H`) to one vector per
/// molecule (`B × H`), and back for the gradient.
public protocol MoleculeAggregation: Sendable {
    /// `B × H` from the atom states `N × H` of `batch`.
    func forward(_ atoms: Matrix, _ batch: GraphBatch) -> Matrix
    /// dL/d(atom states) `N × H` from dL/d(molecule vectors) `B × H`.
    func backward(_ gradient: Matrix, _ batch: GraphBatch) -> Matrix
}

/// An aggregation that sums each molecule's atom states and then scales the sum by a factor that
/// depends only on the molecule's atom count: `y_m = s(n_m) · Σ_{v ∈ m} q_v`, so `∂L/∂q_v = s(n_m) · ∂L/∂y_m`.
public protocol ScaledSumAggregation: MoleculeAggregation {
    /// The factor for a molecule of `atoms` atoms (at least 1), or nil for none (a plain sum).
    func scale(atoms: Int32) -> Float?
}

extension ScaledSumAggregation {
    public func forward(_ atoms: Matrix, _ batch: GraphBatch) -> Matrix {
        let width = atoms.cols
        var readout = Matrix(rows: batch.moleculeCount, cols: width)
        readout.values.withUnsafeMutableBufferPointer { out in
            atoms.values.withUnsafeBufferPointer { q in
                for v in 0..<batch.atomCount {
                    let row = out.baseAddress! + Int(batch.atomMolecule[v]) * width
                    let from = q.baseAddress! + v * width
                    for j in 0..<width { row[j] += from[j] }
                }
                for m in 0..<batch.moleculeCount where batch.atomsPerMolecule[m] > 0 {
                    guard let scale = scale(atoms: batch.atomsPerMolecule[m]) else { continue }
                    for j in 0..<width { out[m * width + j] *= scale }
                }
            }
        }
        return readout
    }

    public func backward(_ gradient: Matrix, _ batch: GraphBatch) -> Matrix {
        let width = gradient.cols
        var dq = Matrix(uninitializedRows: batch.atomCount, cols: width)
        dq.values.withUnsafeMutableBufferPointer { out in
            gradient.values.withUnsafeBufferPointer { d in
                for v in 0..<batch.atomCount {
                    let m = Int(batch.atomMolecule[v])
                    // A molecule with an atom has at least one atom: the factor is never that of 0.
                    let scale = scale(atoms: batch.atomsPerMolecule[m]) ?? 1
                    for j in 0..<width { out[v * width + j] = d[m * width + j] * scale }
                }
            }
        }
        return dq
    }
}

/// Σ of the atom states.
public struct SumAggregation: ScaledSumAggregation {
    public init() {}
    public func scale(atoms: Int32) -> Float? { nil }
}

/// Mean of the atom states.
public struct MeanAggregation: ScaledSumAggregation {
    public init() {}
    public func scale(atoms: Int32) -> Float? { 1 / Float(atoms) }
}

/// Σ / 100: a sum kept on the scale of a mean for drug-sized molecules (Chemprop v2's "norm").
public struct NormAggregation: ScaledSumAggregation {
    public init() {}
    public func scale(atoms: Int32) -> Float? { 0.01 }
}
