import Foundation
import Chemistry

/// Per-molecule numbers a network reads beside its learned representation (`winnow train
/// --extra-features descriptors`, `--feature-columns`): RDKit-compatible descriptors computed from
/// the graph, then numeric columns of the input file, each standardised with the training rows'
/// mean and standard deviation (Chemprop's extra descriptors `X_d`, scaled as its StandardScaler
/// does). The fingerprint MLP reads them as extra input columns after the Morgan bits; the D-MPNN's
/// head reads them after the aggregated molecule vector (`hidden + count` inputs). Stored in the
/// model file (`TrainingOptions.extraFeatures`) with the scaling, so scoring computes the same inputs.
public struct ExtraFeatures: Codable, Sendable, Equatable {
    /// Descriptor names (`Descriptor` raw values, the `describe` columns), computed from each graph.
    public var descriptors: [String]
    /// Numeric columns of the training file (and of every library scored), in this order.
    public var columns: [String]
    /// Mean and standard deviation of each feature (descriptors, then columns) over the training
    /// rows; empty until fitted. A feature without spread has deviation 1.
    public var means: [Double] = []
    public var deviations: [Double] = []

    public init(descriptors: [Descriptor] = [], columns: [String] = []) {
        self.descriptors = descriptors.map(\.rawValue)
        self.columns = columns
    }

    /// Every descriptor of `describe` (`--extra-features descriptors`).
    public static let allDescriptors = Descriptor.allCases

    public var count: Int { descriptors.count + columns.count }
    public var names: [String] { descriptors + columns }
    public var isFitted: Bool { means.count == count && deviations.count == count }

    /// Why these settings cannot be used (model-file checks): unknown descriptor names, or a scaling
    /// that does not fit the list or is not finite.
    public var problem: String? {
        if let unknown = descriptors.first(where: { Descriptor(rawValue: $0) == nil }) { return "unknown descriptor '\(unknown)' among the extra features" }
        guard isFitted else { return "the extra features' scaling holds \(means.count) means and \(deviations.count) deviations for \(count) features" }
        guard means.allSatisfy(\.isFinite), deviations.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            return "the extra features' scaling is not finite and positive"
        }
        return nil
    }

    /// Unscaled values, one row per molecule: the descriptors of each graph (NaN where undefined,
    /// as QED can be), then `columns[i]` (the molecule's values of the feature columns, in order).
    public func rawValues(_ graphs: [MolecularGraph], columns values: [[Double]]) -> [[Double]] {
        precondition(columns.isEmpty || values.count == graphs.count,
                     "\(graphs.count) molecules but \(values.count) rows of feature-column values")
        let wanted = descriptors.compactMap { Descriptor(rawValue: $0) }
        return graphs.indices.map { i in
            var row: [Double] = []
            row.reserveCapacity(count)
            if !wanted.isEmpty {
                let d = Descriptors.compute(graphs[i])
                for name in wanted { row.append(d[name] ?? .nan) }
            }
            if !columns.isEmpty {
                precondition(values[i].count == columns.count, "a molecule has \(values[i].count) feature-column values, expected \(columns.count)")
                row += values[i]
            }
            return row
        }
    }

    /// Sets the means and deviations from `rows` of `raw` (population standard deviation; NaN
    /// values left out; a feature without spread, or without values, gets mean 0 or its value and
    /// deviation 1).
    public mutating func fit(_ raw: [[Double]], rows: [Int]) {
        means = []; deviations = []
        for f in 0..<count {
            var sum = 0.0, n = 0.0
            for i in rows where raw[i][f].isFinite { sum += raw[i][f]; n += 1 }
            let mean = n > 0 ? sum / n : 0
            var squares = 0.0
            for i in rows where raw[i][f].isFinite { squares += (raw[i][f] - mean) * (raw[i][f] - mean) }
            let deviation = n > 0 ? (squares / n).squareRoot() : 0
            means.append(mean)
            deviations.append(deviation > 1e-12 && deviation.isFinite ? deviation : 1)
        }
    }

    /// Standardised values, `(x − mean) / deviation` as 32-bit floats; an undefined value (NaN)
    /// becomes 0, the training mean.
    public func scaled(_ raw: [[Double]]) -> [[Float]] {
        precondition(isFitted, "extra features used before their scaling was fitted")
        return raw.map { row in
            (0..<count).map { f in
                let x = row[f]
                return x.isFinite ? Float((x - means[f]) / deviations[f]) : 0
            }
        }
    }

    /// `scaled(rawValues(graphs, columns:))`.
    public func inputs(_ graphs: [MolecularGraph], columns values: [[Double]]) -> [[Float]] {
        scaled(rawValues(graphs, columns: values))
    }

    /// A feature-column cell as a number, or why it is not one (a per-record error when scoring).
    public static func columnValue(_ text: String, column: String) -> Result<Double, FeatureValueError> {
        let cell = text.trimmingCharacters(in: .whitespaces)
        guard !cell.isEmpty else { return .failure(FeatureValueError(column: column, value: text, reason: "is empty")) }
        guard let value = Double(cell) else { return .failure(FeatureValueError(column: column, value: text, reason: "is not a number")) }
        guard value.isFinite, abs(value) <= 1e30 else {
            return .failure(FeatureValueError(column: column, value: text, reason: "is not a finite number within ±1e30"))
        }
        return .success(value)
    }
}

/// A feature-column value that cannot be read as a number.
public struct FeatureValueError: Error, Sendable, CustomStringConvertible {
    public var column: String
    public var value: String
    public var reason: String
    public var description: String { "feature column \(column): '\(value.prefix(40))' \(reason)" }
}
