import Chemistry
import Foundation
import LibraryIO
import Screening
import Testing
import WinnowTestSupport

/// Hit lists written and read back for `merge`, score formatting and the report's histogram.
@Suite struct HitListTests {
    static func explained(_ hit: Hit) -> ExplainedHit {
        ExplainedHit(rank: 0, hit: hit, nearestActive: "", nearestActiveSimilarity: nil, scaffold: "")
    }

    /// Ranked single-run hits written, split into shards as `--shard` would, merged.
    static func ranked(_ hits: [Hit], minimize: Bool = false) -> [ExplainedHit] {
        hits.sorted { $0.ranksBefore($1, minimize: minimize) }.enumerated().map { index, hit in
            var entry = explained(hit)
            entry.rank = index + 1
            return entry
        }
    }

    /// Record 2's score is one Float step above record 1's: both print 0.951213 at 6 decimals. Merged
    /// from two shards, they must come out in the single run's order (record 2 first), byte for byte.
    @Test func scoresThatTieAtSixDecimalsMergeInTheSingleRunOrder() throws {
        let folder = try TestPaths.scratch("near-ties")
        let low = Float(0.951213), high = Float(0.951213).nextUp
        #expect(String(format: "%.6f", Double(low)) == String(format: "%.6f", Double(high)))  // a tie at 6 decimals
        var hits: [Hit] = []
        for record in 1...40 {
            // Pairs of neighbouring Floats, the higher score on the later record, across both shards.
            let base = Float(0.5) + Float(record / 2) * 0.001
            let score = record % 2 == 1 ? base.nextUp : base
            hits.append(Hit(record: record, id: "m\(record)", smiles: "C", score: score, uncertainty: nil))
        }
        hits += [Hit(record: 41, id: "a", smiles: "CC", score: low, uncertainty: nil),
                 Hit(record: 42, id: "b", smiles: "CCC", score: high, uncertainty: nil),
                 Hit(record: 43, id: "c", smiles: "CCO", score: -0.000001234567, uncertainty: nil)]
        let single = folder.appendingPathComponent("single.csv").path
        try HitList.write(Self.ranked(hits), task: "Class", keptColumns: [], to: single)
        var files: [HitList.File] = []
        for k in 1...2 {
            let path = folder.appendingPathComponent("shard\(k).csv").path
            try HitList.write(Self.ranked(hits.filter { ShardSpec(index: k, count: 2).contains(record: $0.record) }), task: "Class",
                              keptColumns: [], to: path)
            files.append(try HitList.read(path))
        }
        let merged = try HitList.merge(files, top: 100, minimize: false)
        #expect(merged.hits.map(\.hit.record).prefix(2) == [42, 41])
        let mergedPath = folder.appendingPathComponent("merged.csv").path
        try HitList.write(merged.hits, task: try #require(merged.task), keptColumns: merged.keptColumns, to: mergedPath)
        #expect(try Data(contentsOf: URL(fileURLWithPath: mergedPath)) == Data(contentsOf: URL(fileURLWithPath: single)))
        // Every score reads back as the same Float.
        #expect(try HitList.read(single).hits.map(\.hit.score) == Self.ranked(hits).map(\.hit.score))
    }

    @Test func scoresReadBackExactly() {
        for value: Float in [0, 1, 0.5, 0.951213, Float(0.951213).nextUp, 1.0000001, -12.3, 1e-7, 3.4e38, -Float.leastNonzeroMagnitude] {
            #expect(Float(formatScore(value)) == value, "\(value) → \(formatScore(value))")
        }
        #expect(formatScore(0.25) == "0.250000")  // at least 6 decimals, as before
    }

    /// The fast path (Swift's shortest digits) writes exactly what the plain definition writes: the
    /// fewest decimals, at least 6, whose correctly rounded text reads back as the same Float.
    @Test func fastScoreTextEqualsTheDefinition() {
        func definition(_ value: Float) -> String {
            for decimals in 6...17 {
                let text = String(format: "%.*f", decimals, Double(value))
                if Float(text) == value { return text }
            }
            return "\(value)"
        }
        var generator = SeededBits(seed: 7)
        var values: [Float] = []
        for _ in 0..<20_000 {
            // Exponents from about 1e-6 to 1e8, both signs, every mantissa equally likely.
            let exponent = UInt32(107 + generator.next() % 47), mantissa = UInt32(generator.next() % (1 << 23))
            values.append(Float(bitPattern: UInt32(generator.next() % 2) << 31 | exponent << 23 | mantissa))
            values.append(Float(Double(generator.next() % 1_000_000_007) / 1_000_000_007))
        }
        for exponent in UInt32(100)...160 {
            for mantissa: UInt32 in [0, 1, 2, (1 << 23) - 2, (1 << 23) - 1] { values.append(Float(bitPattern: exponent << 23 | mantissa)) }
        }
        let differing = values.filter { formatScore($0) != definition($0) }
        #expect(differing.isEmpty, "\(differing.prefix(5).map { "\($0) → \(formatScore($0)) vs \(definition($0))" })")
    }

    /// `merge` refuses what cannot be shards of one screen.
    @Test func mergeRefusesDuplicatesNaNAndTheWrongDirection() throws {
        let folder = try TestPaths.scratch("merge-refusals")
        let hits = (1...5).map { Hit(record: $0, id: "m\($0)", smiles: "C", score: Float($0) / 10, uncertainty: nil) }
        let path = folder.appendingPathComponent("a.csv").path
        try HitList.write(Self.ranked(hits), task: "Class", keptColumns: [], to: path)
        let list = try HitList.read(path)
        #expect(throws: InputError.self) { try HitList.merge([list, list], top: 10, minimize: false) }
        do {
            _ = try HitList.merge([list, list], top: 10, minimize: false)
        } catch let error as InputError {
            #expect(error.message.contains("record 5 (m5) is also in") && error.message.contains("given twice"), "\(error.message)")
        }
        // Ranked highest first, merged as --minimize: refused.
        #expect(throws: InputError.self) { try HitList.merge([list], top: 10, minimize: true) }
        // A NaN score.
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "0.300000", with: "nan")
        let bad = folder.appendingPathComponent("nan.csv").path
        try text.write(toFile: bad, atomically: true, encoding: .utf8)
        do {
            _ = try HitList.read(bad)
            Issue.record("a NaN score was accepted")
        } catch let error as InputError {
            #expect(error.message.contains("nan.csv: line 4: the score 'nan' is not a finite number"), "\(error.message)")
        }
        // Lists scored on other tasks.
        let other = folder.appendingPathComponent("b.csv").path
        try HitList.write(Self.ranked([Hit(record: 9, id: "x", smiles: "C", score: 0.9, uncertainty: nil)]), task: "NR-AR", keptColumns: [], to: other)
        #expect(throws: InputError.self) { try HitList.merge([list, try HitList.read(other)], top: 10, minimize: false) }
    }

    /// Regression scores get the histogram of their real range, whatever order they arrive in; NaN and
    /// infinity are counted apart (the screen used to trap on `Int(NaN)`).
    @Test func histogramFollowsTheScoresRangeInAnyOrder() {
        var scores: [Float] = []
        for i in 0..<1000 { scores.append(-12.5 + Float(i % 97) * 0.1 + Float(i % 7) * 0.01) }
        var forward = ScoreHistogram(scale: .adaptive)
        forward.add(scores)
        var backward = ScoreHistogram(scale: .adaptive)
        backward.add(scores.reversed())
        var interleaved = ScoreHistogram(scale: .adaptive)
        interleaved.add(scores.enumerated().filter { $0.offset % 2 == 1 }.map(\.element))
        interleaved.add(scores.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        #expect(forward == backward && forward == interleaved)
        let (lower, width) = forward.range
        let upper = lower + Double(forward.shownCounts.count) * width
        let low = Double(scores.min()!), high = Double(scores.max()!)
        #expect(lower <= low && upper > high)
        #expect(upper - lower < 2 * (high - low) + 2 * width)  // the bins span the scores, not 0-1
        #expect(forward.shownCounts.count <= ScoreHistogram.binCount && forward.shownCounts.reduce(0, +) == 1000)
        var broken = ScoreHistogram(scale: .adaptive)
        broken.add([.nan, .infinity, 2.5, -.infinity])
        var probabilities = ScoreHistogram(scale: .probability)
        probabilities.add([.nan, 0, 0.5, 1])
        #expect(broken.nonFinite == 3 && broken.total == 1 && probabilities.nonFinite == 1 && probabilities.counts[49] == 1)
    }
}

/// A small xorshift generator, so the sweep above is the same on every run.
private struct SeededBits {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }
}
