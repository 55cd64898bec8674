import CKernels

extension FingerprintRows {
    /// Greedy diverse pick: walks the candidates in the given order (best first) and keeps one unless
    /// its Tanimoto similarity to a kept one is above `threshold`; stops after `limit` kept ones.
    /// Returns the kept candidates' positions. A candidate with no fingerprint (`nil`) has similarity 1
    /// to every other (nothing is known to tell them apart), as the old loops' zero-word comparison gave. The comparison is `c / (a + b − c) > threshold` in double precision, as the
    /// screen and the campaigns have always made it.
    public static func diversePick(_ candidates: [[UInt64]?], bitCount: Int, threshold: Double, limit: Int) -> [Int] {
        diversePick(count: candidates.count, bitCount: bitCount, threshold: threshold, limit: limit) { candidates[$0] }
    }

    /// The same pick over `count` candidates fetched one by one (only as far as the pick goes).
    public static func diversePick(count: Int, bitCount: Int, threshold: Double, limit: Int, candidate fetch: (Int) -> [UInt64]?) -> [Int] {
        let kept = FingerprintRows(bitCount: bitCount, count: max(0, min(limit, count)))
        let query = FingerprintRows(bitCount: bitCount, count: 1)
        var keptBits: [Int] = []
        var picked: [Int] = []
        var keptUnknown = false
        var positions = [Int32](repeating: 0, count: kept.count)
        var common = [Int32](repeating: 0, count: kept.count)
        for index in 0..<count {
            if picked.count >= limit { break }
            let candidate = fetch(index)
            if (candidate == nil || keptUnknown), !picked.isEmpty, 1.0 > threshold { continue }
            query.set(0, candidate ?? [])
            let a = query.popcount(0)
            // Every kept row comes back with its intersection count (at least 0 in common).
            let n = positions.withUnsafeMutableBufferPointer { p in
                common.withUnsafeMutableBufferPointer { c in
                    Int(wk_common_at_least(query.row(0), kept.row(0), Int64(picked.count), Int64(kept.stride), 0, p.baseAddress, c.baseAddress))
                }
            }
            var tooClose = false
            for h in 0..<n {
                let c = Int(common[h]), either = a + keptBits[Int(positions[h])] - c
                let similarity = either == 0 ? 1.0 : Double(c) / Double(either)
                if similarity > threshold { tooClose = true; break }
            }
            if tooClose { continue }
            kept.set(picked.count, candidate ?? [])
            keptBits.append(a)
            if candidate == nil { keptUnknown = true }
            picked.append(index)
        }
        return picked
    }
}
