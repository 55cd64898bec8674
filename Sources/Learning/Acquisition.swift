/// How the next batch of molecules to test is chosen from model scores.
public enum Acquisition: String, Sendable, Codable, CaseIterable {
    /// Highest predicted score (exploitation).
    case greedy
    /// Upper confidence bound: score + β · uncertainty.
    case ucb
    /// One draw from N(score, uncertainty²) per molecule (Thompson sampling).
    case thompson
    /// Largest uncertainty (pure exploration).
    case uncertainty
    /// Uniformly at random (the baseline every campaign should beat).
    case random

    /// Indices of the `count` molecules to pick, best first. `scores` and `uncertainties` are per
    /// candidate; `minimize` flips the score (docking scores). Ties go to the lower index, so the
    /// choice is deterministic for a seed.
    public func pick(count: Int, scores: [Float], uncertainties: [Float], beta: Float = 2, minimize: Bool = false,
                     seed: UInt64) -> [Int] {
        precondition(scores.count == uncertainties.count)
        let n = scores.count
        guard count > 0, n > 0 else { return [] }
        var generator = SeededGenerator(seed: seed)
        let sign: Float = minimize ? -1 : 1
        var value = [Float](repeating: 0, count: n)
        switch self {
        case .greedy:
            for i in 0..<n { value[i] = sign * scores[i] }
        case .ucb:
            for i in 0..<n { value[i] = sign * scores[i] + beta * uncertainties[i] }
        case .thompson:
            for i in 0..<n { value[i] = sign * scores[i] + uncertainties[i] * generator.nextGaussian() }
        case .uncertainty:
            for i in 0..<n { value[i] = uncertainties[i] }
        case .random:
            var order = Array(0..<n)
            generator.shuffle(&order)
            return Array(order.prefix(count))
        }
        let order = (0..<n).sorted { value[$0] != value[$1] ? value[$0] > value[$1] : $0 < $1 }
        return Array(order.prefix(count))
    }
}
