import CKernels

/// What a search asks for: hits at or above `threshold`, at most `top` of them per query (nil: all),
/// under `measure` (Tanimoto or Tversky).
public struct SearchRequest: Sendable {
    public var threshold: SimilarityThreshold
    public var top: Int?
    public var measure: SimilarityMeasure

    public init(threshold: SimilarityThreshold = .zero, top: Int? = nil, measure: SimilarityMeasure = .tanimoto) {
        self.threshold = threshold
        self.top = top
        self.measure = measure
    }
}

/// The k best neighbours seen so far (a binary heap with the one that ranks last on top).
struct NeighbourHeap {
    let capacity: Int
    var heap: [Neighbour] = []

    init(capacity: Int) { self.capacity = capacity }

    var isFull: Bool { heap.count >= capacity }
    var worst: Neighbour? { heap.first }

    /// Inserts when it ranks before the worst kept one; says whether the worst one changed.
    @discardableResult mutating func insert(_ n: Neighbour) -> Bool {
        if heap.count < capacity {
            heap.append(n)
            var i = heap.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard heap[parent].ranksBefore(heap[i]) else { break }
                heap.swapAt(i, parent)
                i = parent
            }
            return heap.count == capacity
        }
        guard n.ranksBefore(heap[0]) else { return false }
        heap[0] = n
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var last = i
            if l < heap.count && heap[last].ranksBefore(heap[l]) { last = l }
            if r < heap.count && heap[last].ranksBefore(heap[r]) { last = r }
            if last == i { break }
            heap.swapAt(i, last)
            i = last
        }
        return true
    }
}

extension FingerprintArena {
    /// Rows scanned together for every query of a group: 64 rows of 2048 bits are 16 KiB, which stay
    /// in the core's level-1 cache (32 KiB here) while each query of the group passes over them
    /// (128-row blocks measured 5% slower on the 100k many-vs-many).
    static let blockRows = 64

    /// Exact search of `queries[range]` over part `part` of `parts` of the database (each popcount
    /// band cut into `parts` slices), on the calling thread. Returns each query's hits best first:
    /// more similar first, equal similarities in database order.
    ///
    /// Queries of a group share each block of rows while it is in cache. Top-k starts each query at
    /// the popcounts nearest its own (visiting bands outward from the group's middle popcount) and
    /// raises its bar to the k-th best similarity found so far, so bands and rows that cannot beat it
    /// are skipped (chemfp's tightening bound). `exclude[q]` (a record, or -1) drops one record from
    /// query q's hits: the query itself in a self-search.
    public func search(_ queries: FingerprintRows, range: Range<Int>, request: SearchRequest, part: Int = 0, parts: Int = 1,
                       exclude: [Int]? = nil) -> [[Neighbour]] {
        searchCounting(queries, range: range, request: request, part: part, parts: parts, exclude: exclude).hits
    }

    /// `search`, also returning how many query-row comparisons the kernel made.
    public func searchCounting(_ queries: FingerprintRows, range: Range<Int>, request: SearchRequest, part: Int = 0, parts: Int = 1,
                               exclude: [Int]? = nil) -> (hits: [[Neighbour]], comparisons: Int) {
        precondition(queries.stride == rows.stride, "queries and database differ in width")
        let n = range.count
        guard n > 0 else { return ([], 0) }
        let measure = request.measure, threshold = request.threshold.exact
        if let top = request.top, top <= 0 { return ([[Neighbour]](repeating: [], count: n), 0) }
        var comparisons = 0
        let queryBits = range.map { queries.popcount($0) }
        let useHeaps = request.top != nil
        var heaps = (0..<(useHeaps ? n : 0)).map { _ in NeighbourHeap(capacity: request.top ?? 0) }
        var lists = [[Neighbour]](repeating: [], count: useHeaps ? 0 : n)

        // Bands outward from the group's middle popcount.
        let middle = queryBits.sorted()[n / 2]
        var bands: [Int] = []
        bands.reserveCapacity(bitCount + 1)
        for distance in 0...(bitCount + 1) {
            if middle - distance >= 0, middle - distance <= bitCount { bands.append(middle - distance) }
            if distance > 0, middle + distance <= bitCount { bands.append(middle + distance) }
        }

        var positions = [Int32](repeating: 0, count: Self.blockRows)
        var common = [Int32](repeating: 0, count: Self.blockRows)
        var minCommon = [Int](repeating: 0, count: n)
        var stale = [Bool](repeating: true, count: n)

        /// The bar query j must reach now: the threshold, or the k-th best when higher.
        func bar(_ j: Int) -> ExactSimilarity {
            if useHeaps, heaps[j].isFull, let worst = heaps[j].worst, threshold < worst.similarity { return worst.similarity }
            return threshold
        }

        for b in bands {
            let bandLower = bandStart[b], bandUpper = bandStart[b + 1]
            let lower = bandLower + (bandUpper - bandLower) * part / parts
            let upper = bandLower + (bandUpper - bandLower) * (part + 1) / parts
            if lower >= upper { continue }
            var anyone = false
            for j in 0..<n {
                // -1: this band cannot reach query j's bar.
                minCommon[j] = measure.minimumCommon(a: queryBits[j], b: b, atLeast: bar(j)) ?? -1
                stale[j] = false
                if minCommon[j] >= 0 { anyone = true }
            }
            if !anyone { continue }
            var start = lower
            while start < upper {
                let end = min(start + Self.blockRows, upper)
                let block = rows.row(start)
                for j in 0..<n {
                    if stale[j] {
                        minCommon[j] = measure.minimumCommon(a: queryBits[j], b: b, atLeast: bar(j)) ?? -1
                        stale[j] = false
                    }
                    let needed = minCommon[j]
                    if needed < 0 { continue }
                    comparisons += end - start
                    let kept = positions.withUnsafeMutableBufferPointer { p in
                        common.withUnsafeMutableBufferPointer { c in
                            Int(wk_common_at_least(queries.row(range.lowerBound + j), block, Int64(end - start), Int64(rows.stride),
                                                   Int64(needed), p.baseAddress, c.baseAddress))
                        }
                    }
                    if kept == 0 { continue }
                    let a = queryBits[j]
                    let excluded = exclude?[range.lowerBound + j] ?? -1
                    for h in 0..<kept {
                        let record = Int(recordOfRow[start + Int(positions[h])])
                        if record == excluded { continue }
                        let hit = Neighbour(record: record, similarity: measure.similarity(a: a, b: b, c: Int(common[h])))
                        if useHeaps {
                            if heaps[j].insert(hit) { stale[j] = true }
                        } else {
                            lists[j].append(hit)
                        }
                    }
                }
                start = end
            }
        }
        if useHeaps { return (heaps.map { $0.heap.sorted { $0.ranksBefore($1) } }, comparisons) }
        return (lists.map { $0.sorted { $0.ranksBefore($1) } }, comparisons)
    }

    /// One query's hits from several database parts merged: best first, at most `top`.
    public static func merge(_ parts: [[Neighbour]], top: Int?) -> [Neighbour] {
        let all = parts.flatMap { $0 }.sorted { $0.ranksBefore($1) }
        if let top { return Array(all.prefix(top)) }
        return all
    }

    /// The most similar record to `query` (ties: the first in database order), nil for an empty arena.
    public func nearest(to query: [UInt64]) -> Neighbour? {
        let q = FingerprintRows(bitCount: bitCount, fingerprints: [query])
        return search(q, range: 0..<1, request: SearchRequest(top: 1)).first?.first
    }
}
