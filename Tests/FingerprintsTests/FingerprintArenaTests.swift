import CKernels
import Fingerprints
import Foundation
import Testing

/// SplitMix64: reproducible random fingerprints without Foundation's unseeded generators.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random fingerprints with `bits` bits and about `density` of them set, plus the corner cases
/// (empty, all set, exact duplicates of earlier ones).
func randomFingerprints(_ count: Int, bits: Int, density: Double, rng: inout SplitMix) -> [[UInt64]] {
    let words = (bits + 63) / 64
    var out: [[UInt64]] = []
    for i in 0..<count {
        var f = [UInt64](repeating: 0, count: words)
        switch i % 37 {
        case 5: break // empty
        case 11: for b in 0..<bits { f[b >> 6] |= 1 << UInt64(b & 63) }
        case 17 where !out.isEmpty: f = out[Int(rng.next() % UInt64(out.count))]
        default:
            // Densities vary per fingerprint so that popcount bands are spread out.
            let d = density * (0.3 + 1.4 * Double(rng.next() % 1000) / 1000)
            for b in 0..<bits where Double(rng.next() % 10000) / 10000 < d { f[b >> 6] |= 1 << UInt64(b & 63) }
        }
        out.append(f)
    }
    return out
}

/// Brute force in double precision: |q & f| / |q | f|, 1 for two empty fingerprints.
func bruteTanimoto(_ q: [UInt64], _ f: [UInt64]) -> Double {
    var both = 0, either = 0
    for w in q.indices {
        both += (q[w] & f[w]).nonzeroBitCount
        either += (q[w] | f[w]).nonzeroBitCount
    }
    return either == 0 ? 1 : Double(both) / Double(either)
}

/// Brute-force hit list: every record at or above the threshold, most similar first, ties in
/// database order, at most `top`.
func bruteSearch(_ q: [UInt64], _ db: [[UInt64]], threshold: Double, top: Int?) -> [(record: Int, similarity: Double)] {
    var hits = db.enumerated().map { ($0.offset, bruteTanimoto(q, $0.element)) }.filter { $0.1 >= threshold }
    hits.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
    if let top { hits = Array(hits.prefix(top)) }
    return hits
}

@Suite struct FingerprintArenaTests {
    /// Thousands of query/database pairs at several widths; thresholds include values that many
    /// pairs reach exactly (0.5, 0.6, 0.75 on 64-bit fingerprints), which must count as hits.
    @Test func thresholdSearchEqualsBruteForceDoublePrecision() throws {
        var rng = SplitMix(state: 42)
        for (bits, density) in [(64, 0.15), (167, 0.1), (2048, 0.02)] {
            let db = randomFingerprints(400, bits: bits, density: density, rng: &rng)
            let queries = randomFingerprints(25, bits: bits, density: density, rng: &rng) + [db[3], db[5]]
            let arena = FingerprintArena(bitCount: bits, fingerprints: db)
            let rows = FingerprintRows(bitCount: bits, fingerprints: queries)
            var exactTies = 0
            for text in ["0", "0.2", "0.25", "0.5", "0.6", "0.75", "0.8", "1"] {
                let threshold = try #require(SimilarityThreshold(text))
                let t = try #require(Double(text))
                let found = arena.search(rows, range: 0..<queries.count, request: SearchRequest(threshold: threshold))
                for (j, q) in queries.enumerated() {
                    let expected = bruteSearch(q, db, threshold: t, top: nil)
                    exactTies += expected.filter { $0.similarity == t }.count
                    #expect(found[j].map(\.record) == expected.map(\.record), "bits \(bits) threshold \(text) query \(j)")
                    #expect(found[j].map(\.similarity.value) == expected.map(\.similarity), "bits \(bits) threshold \(text) query \(j)")
                }
            }
            if bits == 64 { #expect(exactTies > 50, "the thresholds should be met exactly by some pairs") }
        }
    }

    @Test func topKEqualsSortAllAndTakeK() throws {
        var rng = SplitMix(state: 7)
        let bits = 128
        let db = randomFingerprints(900, bits: bits, density: 0.12, rng: &rng)
        let queries = randomFingerprints(30, bits: bits, density: 0.12, rng: &rng)
        let arena = FingerprintArena(bitCount: bits, fingerprints: db)
        let rows = FingerprintRows(bitCount: bits, fingerprints: queries)
        for k in [1, 3, 10, 100, 2000] {
            for text in ["0", "0.3"] {
                let threshold = try #require(SimilarityThreshold(text))
                let request = SearchRequest(threshold: threshold, top: k)
                let found = arena.search(rows, range: 0..<queries.count, request: request)
                // Two database parts merged give the same lists.
                let halves = (0..<2).map { arena.search(rows, range: 0..<queries.count, request: request, part: $0, parts: 2) }
                for (j, q) in queries.enumerated() {
                    let expected = bruteSearch(q, db, threshold: Double(text)!, top: k)
                    #expect(found[j].map(\.record) == expected.map(\.record), "k \(k) threshold \(text) query \(j)")
                    #expect(found[j].map(\.similarity.value) == expected.map(\.similarity))
                    #expect(FingerprintArena.merge([halves[0][j], halves[1][j]], top: k) == found[j])
                }
            }
        }
        // A query group searched in pieces gives the same answers as all at once.
        let request = SearchRequest(top: 5)
        let all = arena.search(rows, range: 0..<queries.count, request: request)
        let pieces = arena.search(rows, range: 0..<7, request: request) + arena.search(rows, range: 7..<queries.count, request: request)
        #expect(all == pieces)
    }

    @Test func tverskyEqualsExactBruteForce() throws {
        var rng = SplitMix(state: 99)
        let bits = 96
        let db = randomFingerprints(300, bits: bits, density: 0.15, rng: &rng)
        let queries = randomFingerprints(12, bits: bits, density: 0.15, rng: &rng)
        let arena = FingerprintArena(bitCount: bits, fingerprints: db)
        let rows = FingerprintRows(bitCount: bits, fingerprints: queries)
        let measure = try #require(SimilarityMeasure(tversky: "0.3,0.7"))
        let threshold = try #require(SimilarityThreshold("0.5"))
        let found = arena.search(rows, range: 0..<queries.count, request: SearchRequest(threshold: threshold, measure: measure))
        for (j, q) in queries.enumerated() {
            var expected: [(Int, Int, Int)] = []  // record, numerator, denominator (x1000)
            for (r, f) in db.enumerated() {
                let a = q.reduce(0) { $0 + $1.nonzeroBitCount }, b = f.reduce(0) { $0 + $1.nonzeroBitCount }
                let c = zip(q, f).reduce(0) { $0 + ($1.0 & $1.1).nonzeroBitCount }
                let num = 1000 * c, den = 300 * (a - c) + 700 * (b - c) + 1000 * c
                let (n, d) = den == 0 ? (a == 0 && b == 0 ? (1, 1) : (0, 1)) : (num, den)
                if 2 * n >= d { expected.append((r, n, d)) }
            }
            expected.sort { $0.1 * $1.2 != $1.1 * $0.2 ? $0.1 * $1.2 > $1.1 * $0.2 : $0.0 < $1.0 }
            #expect(found[j].map(\.record) == expected.map(\.0), "query \(j)")
        }
        #expect(SimilarityMeasure(tversky: "1,1")?.isTanimoto == true)
        #expect(SimilarityMeasure(tversky: "0,0") == nil)
        #expect(SimilarityMeasure(tversky: "0.5") == nil)
        #expect(SimilarityMeasure(tversky: "-1,1") == nil)
    }

    @Test func selfSearchDropsOnlyTheQueryItself() throws {
        var rng = SplitMix(state: 5)
        let db = randomFingerprints(200, bits: 64, density: 0.2, rng: &rng)
        let arena = FingerprintArena(bitCount: 64, fingerprints: db)
        let rows = FingerprintRows(bitCount: 64, fingerprints: db)
        let threshold = try #require(SimilarityThreshold("0.6"))
        let found = arena.search(rows, range: 0..<db.count, request: SearchRequest(threshold: threshold), exclude: Array(0..<db.count))
        for (j, q) in db.enumerated() {
            #expect(found[j].map(\.record) == bruteSearch(q, db, threshold: 0.6, top: nil).map(\.record).filter { $0 != j })
        }
    }

    /// The AVX-512 path (eight rows at a time, a 2048-bit copy), the popcount path and the portable
    /// one give the same positions and counts, for every row count around the 8-row steps, at widths
    /// of one, four and eight 512-bit words, from bars no row misses to bars no row meets.
    @Test func kernelPathsAgree() {
        var rng = SplitMix(state: 3)
        for bits in [167, 2048, 4096] {
            let rows = FingerprintRows(bitCount: bits, fingerprints: randomFingerprints(301, bits: bits, density: 0.03, rng: &rng))
            let query = FingerprintRows(bitCount: bits, fingerprints: randomFingerprints(1, bits: bits, density: 0.05, rng: &rng))
            var counts = Array(0...19) + [64, 301]
            counts.append(rows.count - 13)
            for count in counts {
                let first = count == rows.count - 13 ? 13 : 0
                for bar in [0, 1, 3, 6, 1000] {
                    var answers: [[Int32]] = []
                    for kernel: Int32 in [0, 1, 2] {
                        var positions = [Int32](repeating: 0, count: rows.count), common = [Int32](repeating: 0, count: rows.count)
                        let n = Int(wk_common_at_least_using(kernel, query.row(0), rows.row(first), Int64(count), Int64(rows.stride), Int64(bar),
                                                             &positions, &common))
                        answers.append(Array(positions.prefix(n)) + [-1] + Array(common.prefix(n)))
                    }
                    #expect(answers[0] == answers[1], "bits \(bits), count \(count), bar \(bar)")
                    #expect(answers[1] == answers[2], "bits \(bits), count \(count), bar \(bar)")
                    if bar == 0 { #expect(answers[0].count == 2 * count + 1) }
                    if bar == 3 && count == 301 && bits >= 2048 { #expect(answers[0].count > 20) }
                }
            }
        }
    }

    @Test func thresholdsAreExactDecimals() {
        #expect(SimilarityThreshold("0.7")?.exact == ExactSimilarity(7, 10))
        #expect(SimilarityThreshold(".75")?.exact == ExactSimilarity(3, 4) || SimilarityThreshold(".75")?.exact == ExactSimilarity(75, 100))
        #expect(SimilarityThreshold("7e-1")?.exact.value == 0.7)
        #expect(SimilarityThreshold("1")?.exact.value == 1)
        #expect(SimilarityThreshold(0.7)?.exact == ExactSimilarity(7, 10))
        for bad in ["1.5", "-0.1", "abc", "", ".", "0.1234567", "0.7.1", "nan"] { #expect(SimilarityThreshold(bad) == nil, "\(bad)") }
    }

    /// The greedy pick through the arena kernel equals the pairwise loop the screen used before.
    @Test func diversePickEqualsPairwiseLoop() {
        var rng = SplitMix(state: 11)
        let candidates = randomFingerprints(500, bits: 256, density: 0.1, rng: &rng)
        for threshold in [0.2, 0.35, 0.5, 1.0] {
            var expected: [Int] = [], kept: [[UInt64]] = []
            for (i, c) in candidates.enumerated() where expected.count < 40 {
                if kept.contains(where: { tanimoto($0, c) > threshold }) { continue }
                kept.append(c)
                expected.append(i)
            }
            #expect(FingerprintRows.diversePick(candidates, bitCount: 256, threshold: threshold, limit: 40) == expected)
        }
    }

    @Test func nearestIsTheFirstOfTheMostSimilar() {
        let a: [UInt64] = [0b1111], b: [UInt64] = [0b0111], c: [UInt64] = [0b1110]
        let arena = FingerprintArena(bitCount: 64, fingerprints: [a, b, c, b])
        let near = arena.nearest(to: [0b0110])
        #expect(near?.record == 1)
        #expect(near?.similarity.value == 2.0 / 3.0)
        #expect(FingerprintArena(bitCount: 64, fingerprints: []).nearest(to: a) == nil)
    }
}
