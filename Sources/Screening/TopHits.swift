/// One scored molecule that may make the hit list.
public struct Hit: Sendable, Codable, Equatable {
    public var record: Int
    public var id: String
    public var smiles: String
    public var score: Float
    /// Spread over the ensemble's members; nil for a one-member model (no ensemble, no uncertainty).
    public var uncertainty: Float?
    /// Library columns (`--keep-columns`) carried through to the outputs, in the order asked.
    public var kept: [String]
    /// What the standardiser changed in this molecule ("" when nothing, or when it is off).
    public var standardized = ""

    public init(record: Int, id: String, smiles: String, score: Float, uncertainty: Float?, kept: [String] = []) {
        self.record = record; self.id = id; self.smiles = smiles; self.score = score; self.uncertainty = uncertainty; self.kept = kept
    }

    /// Ranking order: higher score first (lower with `minimize`); equal scores in input order, so
    /// output is deterministic. Scores are finite (the screen rejects records with non-finite ones).
    @inline(__always) public func ranksBefore(_ other: Hit, minimize: Bool) -> Bool {
        score != other.score ? (minimize ? score < other.score : score > other.score) : record < other.record
    }
}

/// The best `capacity` hits seen so far, in bounded memory (a binary heap with the worst on top).
public struct TopHits: Sendable, Codable {
    public let capacity: Int
    /// Lowest score first (docking-like scores) instead of highest.
    public let minimize: Bool
    private(set) var heap: [Hit] = []

    public init(capacity: Int, minimize: Bool = false) { self.capacity = max(0, capacity); self.minimize = minimize }

    public var count: Int { heap.count }

    /// The hit that ranks last (the one a better hit would replace), nil when empty.
    public var worst: Hit? { heap.first }

    public mutating func insert(_ hit: Hit) {
        guard capacity > 0 else { return }
        if heap.count < capacity {
            heap.append(hit)
            siftUp(heap.count - 1)
        } else if hit.ranksBefore(heap[0], minimize: minimize) {
            heap[0] = hit
            siftDown(0)
        }
    }

    /// Best first.
    public func sorted() -> [Hit] { heap.sorted { $0.ranksBefore($1, minimize: minimize) } }

    // The root holds the hit that ranks last.
    private func worse(_ a: Int, _ b: Int) -> Bool { heap[b].ranksBefore(heap[a], minimize: minimize) }

    private mutating func siftUp(_ index: Int) {
        var i = index
        while i > 0 {
            let parent = (i - 1) / 2
            if worse(i, parent) { heap.swapAt(i, parent); i = parent } else { return }
        }
    }

    private mutating func siftDown(_ index: Int) {
        var i = index
        while true {
            let l = 2 * i + 1, r = l + 1
            var worst = i
            if l < heap.count && worse(l, worst) { worst = l }
            if r < heap.count && worse(r, worst) { worst = r }
            if worst == i { return }
            heap.swapAt(i, worst)
            i = worst
        }
    }
}

/// `--shard K/N`: records K, K+N, K+2N, … (1-based record numbers), so N machines split a library
/// deterministically and their merged hit lists equal one machine's.
public struct ShardSpec: Sendable, Codable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 1, k <= n else { return nil }
        index = k
        count = n
    }

    public init(index: Int, count: Int) { self.index = index; self.count = count }

    @inline(__always) public func contains(record: Int) -> Bool { (record - 1) % count == index - 1 }

    public var description: String { "\(index)/\(count)" }
}
