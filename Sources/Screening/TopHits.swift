import CKernels
/// One scored molecule that may make the hit list.
public struct Hit: Sendable, Codable, Equatable {
    public var record: Int
    public var id: String
    public var smiles: String
    public var score: Float
    public var uncertainty: Float

    public init(record: Int, id: String, smiles: String, score: Float, uncertainty: Float) {
        self.record = record; self.id = id; self.smiles = smiles; self.score = score; self.uncertainty = uncertainty
    }

    /// Ranking order: higher score first; equal scores in input order, so output is deterministic.
    @inline(__always) public func ranksBefore(_ other: Hit) -> Bool {
        score != other.score ? score > other.score : record < other.record
    }
}

/// The best `capacity` hits seen so far, in bounded memory (a binary heap with the worst on top).
public struct TopHits: Sendable, Codable {
    public let capacity: Int
    private(set) var heap: [Hit] = []

    public init(capacity: Int) { self.capacity = max(0, capacity) }

    public var count: Int { heap.count }

    /// The hit that ranks last (the one a better hit would replace), nil when empty.
    public var worst: Hit? { heap.first }

    public mutating func insert(_ hit: Hit) {
        guard capacity > 0 else { return }
        if heap.count < capacity {
            heap.append(hit)
            siftUp(heap.count - 1)
        } else if hit.ranksBefore(heap[0]) {
            heap[0] = hit
            siftDown(0)
        }
    }

    /// Best first.
    public func sorted() -> [Hit] { heap.sorted { $0.ranksBefore($1) } }

    // The root holds the hit that ranks last.
    private func worse(_ a: Int, _ b: Int) -> Bool { heap[b].ranksBefore(heap[a]) }

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
