import Foundation

/// Counts of every score of a screen in at most 50 equal bins, for the report.
///
/// Probabilities (classification models) use fixed bins over [0, 1]. Other scores (regression,
/// docking-like) get bins that follow their real range: the bin width is 2^k and bins are aligned
/// to multiples of it, with k the smallest exponent (from 2^-20) at which every score seen fits in
/// 50 bins, and the first bin is the lowest one holding a score. Widening merges pairs of aligned
/// bins exactly, so the result depends only on the scores, not on the order they arrive in
/// (threads, rounds, shards, resume). Non-finite scores are counted apart and never binned.
public struct ScoreHistogram: Sendable, Codable, Equatable {
    public static let binCount = 50
    static let minimumExponent = -20

    public enum Scale: String, Sendable, Codable { case probability, adaptive }

    public let scale: Scale
    /// `binCount` counts; for the adaptive scale, bin i covers [(start + i) · 2^exponent, (start + i + 1) · 2^exponent).
    public private(set) var counts: [Int]
    private(set) var exponent: Int
    /// Integer-valued: the index (in bin widths) of the first bin, the lowest one holding a score.
    private(set) var start: Double
    /// Scores binned (finite ones).
    public private(set) var total = 0
    /// NaN or infinite scores seen (not binned).
    public private(set) var nonFinite = 0

    public init(scale: Scale) {
        self.scale = scale
        counts = [Int](repeating: 0, count: Self.binCount)
        exponent = Self.minimumExponent
        start = 0
    }

    /// Lower edge of the first bin and the width of a bin.
    public var range: (lower: Double, width: Double) {
        switch scale {
        case .probability: return (0, 1 / Double(Self.binCount))
        case .adaptive:
            let width = Foundation.pow(2.0, Double(exponent))
            return (start * width, width)
        }
    }

    /// The bins to draw: all 50 for probabilities, up to the last one holding a score otherwise.
    public var shownCounts: ArraySlice<Int> {
        guard scale == .adaptive else { return counts[...] }
        let last = counts.lastIndex(where: { $0 > 0 }) ?? 0
        return counts[...last]
    }

    public mutating func add(_ score: Float) {
        guard score.isFinite else { nonFinite += 1; return }
        total += 1
        switch scale {
        case .probability:
            let bin = Int((Double(min(max(score, 0), 1)) * Double(Self.binCount)).rounded(.down))
            counts[min(bin, Self.binCount - 1)] += 1
        case .adaptive:
            addAdaptive(Double(score))
        }
    }

    public mutating func add(_ scores: [Float]) { for score in scores { add(score) } }

    /// Index of `value`'s bin at the current width: exact (scaling by a power of two), and finite
    /// since |value| < 2^128 and the exponent is at least -20.
    private func index(_ value: Double) -> Double { (value * Foundation.pow(2.0, Double(-exponent))).rounded(.down) }

    private mutating func addAdaptive(_ value: Double) {
        if total == 1 {
            exponent = Self.minimumExponent
            start = index(value)
            counts[0] = 1
            return
        }
        while true {
            let i = index(value)
            let last = start + Double(counts.lastIndex(where: { $0 > 0 }) ?? 0)
            if i >= start && i - start < Double(Self.binCount) {
                counts[Int(i - start)] += 1
                return
            }
            if i < start && last - i < Double(Self.binCount) {
                // Fits once the window moves down: the new score's bin becomes the first.
                let shift = Int(start - i)
                counts = [Int](repeating: 0, count: shift) + counts.prefix(Self.binCount - shift)
                start = i
                counts[0] += 1
                return
            }
            widen()
        }
    }

    /// Doubles the bin width, merging each aligned pair of bins.
    private mutating func widen() {
        let newStart = (start / 2).rounded(.down)
        var merged = [Int](repeating: 0, count: Self.binCount)
        for (offset, count) in counts.enumerated() where count > 0 {
            let bin = ((start + Double(offset)) / 2).rounded(.down) - newStart
            merged[Int(bin)] += count
        }
        counts = merged
        start = newStart
        exponent += 1
    }
}
