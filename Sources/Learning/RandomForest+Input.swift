import Chemistry
import Fingerprints

/// What a forest reads: Morgan radius 2 / 2048 counts as threshold bits, "bit f occurs at least t
/// times" for each t of `countLadder` (`Settings.counts`, what `winnow train` grows), or on-bits.
/// A node draws Morgan bits and tries every threshold of each, as scikit-learn's trees try every cut
/// of a count feature. Counts rank better: on MolPAL's Enamine 10k docking scores a 100-tree
/// regressor on counts finds 0.50 of the best 1%, on bits 0.33; on held-out screening sets a
/// 500-tree classifier reaches test ROC-AUC 0.82 on counts against 0.79 on bits (HIV's scaffold
/// split) and 0.67 against 0.55 (LIT-PCBA TP53's AVE split).
extension RandomForest {
    /// Count thresholds: input bit `k · 2048 + f` is set when Morgan bit f is counted ≥ `countLadder[k]` times.
    public static let countLadder = Array(1...16)

    /// 64-bit words of one molecule's input.
    public static func inputWords(counts: Bool) -> Int {
        TrainedModel.forestFingerprint.size / 64 * (counts ? countLadder.count : 1)
    }

    /// One molecule's input words.
    public static func input(_ graph: MolecularGraph, generator: MorganGenerator, counts: Bool) -> [UInt64] {
        guard counts else { return generator.bits(graph) }
        let size = TrainedModel.forestFingerprint.size
        var words = [UInt64](repeating: 0, count: inputWords(counts: true))
        var bits: [Int32] = [], values: [Float] = []
        generator.appendCounts(graph, bits: &bits, counts: &values)
        for (bit, count) in zip(bits, values) {
            for (k, threshold) in countLadder.enumerated() where count >= Float(threshold) {
                let f = k * size + Int(bit)
                words[f >> 6] |= 1 << UInt64(f & 63)
            }
        }
        return words
    }
}

extension RandomForest.Settings {
    /// Whether the forest reads counts: as set; nil (campaign forests, and files that did not record it)
    /// means counts for regression and bits for classification.
    public func usesCounts(_ taskKind: TaskKind) -> Bool { counts ?? (taskKind == .regression) }
}
