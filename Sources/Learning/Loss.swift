/// Training targets for a batch: `rows × tasks` values and a mask (1 = measured). Missing labels
/// (Tox21) simply have mask 0 and contribute nothing.
public struct Targets: Sendable {
    public var values: Matrix
    public var mask: Matrix
    public init(values: Matrix, mask: Matrix) { self.values = values; self.mask = mask }
}

public enum Loss {
    /// Mean binary cross-entropy on logits over measured labels; `positiveWeights[t]` multiplies the
    /// loss of positives of task t (class balancing). Returns the loss and writes dL/dlogits.
    /// `normalizer` overrides the label count used for the mean (a batch split into shards divides
    /// every shard by the whole batch's count, so that the shard gradients add up exactly).
    public static func binaryCrossEntropy(logits: Matrix, targets: Targets, positiveWeights: [Float]? = nil,
                                          normalizer: Float? = nil, gradient: inout Matrix) -> Float {
        gradient.reshape(rows: logits.rows, cols: logits.cols)
        var total: Double = 0
        var count: Float = 0
        for v in targets.mask.values { count += v }
        let norm = normalizer ?? max(count, 1)
        let tasks = logits.cols
        for i in 0..<logits.values.count {
            let mask = targets.mask.values[i]
            if mask == 0 { gradient.values[i] = 0; continue }
            let z = logits.values[i], y = targets.values.values[i]
            let weight = (y > 0.5 ? positiveWeights?[i % tasks] : nil) ?? 1
            // Stable: log(1 + e^-|z|) + max(z, 0) − z·y
            let loss = max(z, 0) - z * y + log1pf(expf(-abs(z)))
            total += Double(weight * loss)
            let p = 1 / (1 + expf(-z))
            gradient.values[i] = weight * (p - y) / norm
        }
        return Float(total) / norm
    }

    /// Mean squared error over measured values; writes dL/dprediction.
    public static func meanSquaredError(predictions: Matrix, targets: Targets, normalizer: Float? = nil,
                                        gradient: inout Matrix) -> Float {
        gradient.reshape(rows: predictions.rows, cols: predictions.cols)
        var count: Float = 0
        for v in targets.mask.values { count += v }
        let norm = normalizer ?? max(count, 1)
        var total: Double = 0
        for i in 0..<predictions.values.count {
            let mask = targets.mask.values[i]
            if mask == 0 { gradient.values[i] = 0; continue }
            let d = predictions.values[i] - targets.values.values[i]
            total += Double(d * d)
            gradient.values[i] = 2 * d / norm
        }
        return Float(total) / norm
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
