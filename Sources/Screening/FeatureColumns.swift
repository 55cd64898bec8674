import Foundation
import Learning
import LibraryIO

/// The numeric columns a model reads beside each molecule (`winnow train --feature-columns`), as
/// `predict` and `screen` take them from the library: the reader keeps them with each record
/// (`RecordBatch.kept`, after any columns the user keeps), and a value that is not a number is that
/// record's error, not the run's.
public enum FeatureColumns {
    /// Why a library must have the columns (the reader's error names the missing ones and this).
    public static let purpose = "the model reads as features (trained with --feature-columns)"

    /// The reader's kept columns for `keep` (the user's) plus the model's `features` not among them,
    /// and where each feature's value lies in a record's kept values.
    public static func keptColumns(keep: [String], features: [String]) -> (columns: [String], positions: [Int]) {
        var columns = keep
        var positions: [Int] = []
        for name in features {
            if let k = columns.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) {
                positions.append(k)
            } else {
                positions.append(columns.count)
                columns.append(name)
            }
        }
        return (columns, positions)
    }

    /// Record `i`'s feature values, in the model's order, or why one is not a number.
    public static func values(_ batch: RecordBatch, _ i: Int, names: [String], positions: [Int]) -> Result<[Double], FeatureValueError> {
        let kept = batch.keptValues(i)
        var out: [Double] = []
        out.reserveCapacity(names.count)
        for (name, k) in zip(names, positions) {
            switch ExtraFeatures.columnValue(k < kept.count ? kept[k] : "", column: name) {
            case .success(let value): out.append(value)
            case .failure(let error): return .failure(error)
            }
        }
        return .success(out)
    }
}
