import Foundation

/// Evaluation metrics for classifiers (scores with `true` = active) and regressors. Each returns
/// `nil` where the metric is undefined (for example a single class, or no variance), so callers can
/// report "n/a" rather than a misleading number. Higher scores mean "more likely active".
public enum Metrics {
    /// Area under the ROC curve as the Mann–Whitney statistic: the probability that a random active
    /// scores above a random inactive, tied pairs counted half. `nil` without both classes.
    public static func rocAUC(scores: [Double], labels: [Bool]) -> Double? {
        precondition(scores.count == labels.count, "scores and labels differ in length")
        let positives = labels.lazy.filter { $0 }.count
        let negatives = labels.count - positives
        guard positives > 0 && negatives > 0 else { return nil }
        // Sum of the actives' 1-based ranks in ascending score order, tied scores sharing their mean rank.
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && scores[order[end]] == scores[order[start]] { end += 1 }
            let meanRank = Double(start + 1 + end) / 2
            for k in start..<end where labels[order[k]] { rankSum += meanRank }
            start = end
        }
        let p = Double(positives), q = Double(negatives)
        return (rankSum - p * (p + 1) / 2) / (p * q)
    }

    /// Area under the precision–recall curve as average precision, the same definition as
    /// scikit-learn's `average_precision_score`: Σₖ (Rₖ − Rₖ₋₁)·Pₖ over the distinct score thresholds
    /// from the highest down (tied scores form one threshold), with no interpolation. `nil` without
    /// actives.
    public static func prcAUC(scores: [Double], labels: [Bool]) -> Double? {
        precondition(scores.count == labels.count, "scores and labels differ in length")
        let positives = labels.lazy.filter { $0 }.count
        guard positives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var truePositives = 0
        var previousRecall = 0.0
        var sum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end < order.count && scores[order[end]] == scores[order[start]] {
                if labels[order[end]] { truePositives += 1 }
                end += 1
            }
            let recall = Double(truePositives) / Double(positives)
            let precision = Double(truePositives) / Double(end)
            sum += (recall - previousRecall) * precision
            previousRecall = recall
            start = end
        }
        return sum
    }

    /// Enrichment factor in the top `fraction` of the ranking (e.g. 0.01 for EF1%): the hit rate among
    /// the top n_top = max(1, ⌈fraction·N⌉) compounds divided by the overall hit rate. Ties at the cut
    /// are broken by input order (stable descending sort). The ceiling ignores a relative 1e-12 excess
    /// so that floating-point noise (0.07·100 = 7.000000000000001) does not add a compound. `nil`
    /// without actives or compounds.
    public static func enrichmentFactor(scores: [Double], labels: [Bool], fraction: Double) -> Double? {
        precondition(scores.count == labels.count, "scores and labels differ in length")
        precondition(fraction > 0 && fraction <= 1, "fraction must be in (0, 1]")
        let total = scores.count
        let actives = labels.lazy.filter { $0 }.count
        guard total > 0 && actives > 0 else { return nil }
        let top = min(total, max(1, Int((fraction * Double(total) * (1 - 1e-12)).rounded(.up))))
        let order = stableDescendingOrder(scores)
        let hits = order.prefix(top).lazy.filter { labels[$0] }.count
        return (Double(hits) / Double(top)) / (Double(actives) / Double(total))
    }

    /// BEDROC (Truchon & Bayly, J. Chem. Inf. Model. 2007, 47, 488), the early-recognition metric
    /// in [0, 1] with exponential weight `alpha` (20: 80 % of the weight on the top 8 %). Ranks come
    /// from a stable descending sort (ties by input order). Computed as (RIE − RIE_min) /
    /// (RIE_max − RIE_min), algebraically the paper's formula and the form RDKit's `CalcBEDROC` uses.
    /// `nil` without both actives and inactives.
    public static func bedroc(scores: [Double], labels: [Bool], alpha: Double = 20) -> Double? {
        precondition(scores.count == labels.count, "scores and labels differ in length")
        precondition(alpha > 0, "alpha must be positive")
        let total = scores.count
        let actives = labels.lazy.filter { $0 }.count
        guard actives > 0 && actives < total else { return nil }
        let n = Double(total)
        let ratio = Double(actives) / n
        var sum = 0.0
        for (position, index) in stableDescendingOrder(scores).enumerated() where labels[index] {
            sum += exp(-alpha * Double(position + 1) / n)
        }
        let rie = sum / (ratio * (1 - exp(-alpha)) / expm1(alpha / n))
        let rieMax = (1 - exp(-alpha * ratio)) / (ratio * (1 - exp(-alpha)))
        let rieMin = (1 - exp(alpha * ratio)) / (ratio * (1 - exp(alpha)))
        return (rie - rieMin) / (rieMax - rieMin)
    }

    /// Root-mean-square error. `nil` for empty input.
    public static func rmse(predictions: [Double], targets: [Double]) -> Double? {
        precondition(predictions.count == targets.count, "predictions and targets differ in length")
        guard !targets.isEmpty else { return nil }
        var sum = 0.0
        for (p, t) in zip(predictions, targets) { sum += (p - t) * (p - t) }
        return (sum / Double(targets.count)).squareRoot()
    }

    /// Coefficient of determination 1 − SS_res / SS_tot (can be negative for a model worse than the
    /// mean). `nil` for empty input or constant targets, where it is undefined.
    public static func r2(predictions: [Double], targets: [Double]) -> Double? {
        precondition(predictions.count == targets.count, "predictions and targets differ in length")
        guard !targets.isEmpty else { return nil }
        let mean = targets.reduce(0, +) / Double(targets.count)
        var residual = 0.0, totalSquares = 0.0
        for (p, t) in zip(predictions, targets) {
            residual += (t - p) * (t - p)
            totalSquares += (t - mean) * (t - mean)
        }
        guard totalSquares > 0 else { return nil }
        return 1 - residual / totalSquares
    }

    /// Indices by descending score, equal scores in input order.
    private static func stableDescendingOrder(_ scores: [Double]) -> [Int] {
        scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
    }
}
