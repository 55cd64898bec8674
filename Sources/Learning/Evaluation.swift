/// The metrics Winnow reports for a set of predictions, averaged over tasks with labels.
public enum Evaluation {
    public static func metrics(scores: [[Float]], data: Dataset, rows: [Int]) -> [String: Double] {
        var sums: [String: Double] = [:], counts: [String: Int] = [:]
        func add(_ name: String, _ value: Double?) {
            guard let value, value.isFinite else { return }
            sums[name, default: 0] += value
            counts[name, default: 0] += 1
        }
        for t in 0..<data.taskNames.count {
            var s: [Double] = [], y: [Double] = []
            for (r, i) in rows.enumerated() { if let label = data.labels[i][t] { s.append(Double(scores[r][t])); y.append(label) } }
            switch data.taskKind {
            case .classification:
                let labels = y.map { $0 > 0.5 }
                add("roc_auc", Metrics.rocAUC(scores: s, labels: labels))
                add("prc_auc", Metrics.prcAUC(scores: s, labels: labels))
                add("ef1", Metrics.enrichmentFactor(scores: s, labels: labels, fraction: 0.01))
                add("ef5", Metrics.enrichmentFactor(scores: s, labels: labels, fraction: 0.05))
                add("bedroc20", Metrics.bedroc(scores: s, labels: labels, alpha: 20))
            case .regression:
                add("rmse", Metrics.rmse(predictions: s, targets: y))
                add("r2", Metrics.r2(predictions: s, targets: y))
            }
        }
        var result: [String: Double] = [:]
        for (name, sum) in sums { result[name] = sum / Double(counts[name]!) }
        result["molecules"] = Double(rows.count)
        return result
    }
}
