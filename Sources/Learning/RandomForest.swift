import Foundation

/// A random forest on binary fingerprints (Breiman 2001): bootstrap samples, a random subset of bits
/// tried at each node, splits that minimise the summed squared error of the two sides (the Gini
/// criterion for 0/1 labels, variance reduction for continuous ones), trees grown until pure.
/// The prediction is the mean over trees; the spread over trees is the uncertainty. Each tree has its
/// own seed, so the forest is the same at any thread count.
public struct RandomForest: Sendable {
    public struct Settings: Codable, Sendable, Equatable {
        public var trees = 200
        /// Bits tried per node (nil: the square root of the fingerprint size).
        public var maxFeatures: Int? = nil
        public var minimumLeaf = 1
        public var seed: UInt64 = 0
        public init() {}
    }

    /// Flat node arrays of one tree: `feature < 0` marks a leaf holding `value`.
    struct Tree: Sendable {
        var feature: [Int32] = []
        var left: [Int32] = []
        var right: [Int32] = []
        var value: [Float] = []
    }

    public let settings: Settings
    public let words: Int
    let trees: [Tree]

    init(settings: Settings, words: Int, trees: [Tree]) {
        self.settings = settings; self.words = words; self.trees = trees
    }

    /// The trees as flat arrays for a model file: per tree its node count, then every tree's nodes
    /// concatenated (child indices local to their tree).
    public var flattened: (sizes: [Int32], feature: [Int32], left: [Int32], right: [Int32], value: [Float]) {
        (trees.map { Int32($0.feature.count) }, trees.flatMap(\.feature), trees.flatMap(\.left), trees.flatMap(\.right),
         trees.flatMap(\.value))
    }

    /// Rebuilds a forest from `flattened`; nil when the arrays do not describe valid trees.
    public init?(settings: Settings, words: Int, sizes: [Int32], feature: [Int32], left: [Int32], right: [Int32], value: [Float]) {
        let total = sizes.reduce(0) { $0 + Int($1) }
        guard sizes.allSatisfy({ $0 > 0 }), feature.count == total, left.count == total, right.count == total, value.count == total
        else { return nil }
        var trees: [Tree] = []
        var start = 0
        for size in sizes.map(Int.init) {
            let tree = Tree(feature: Array(feature[start..<start + size]), left: Array(left[start..<start + size]),
                            right: Array(right[start..<start + size]), value: Array(value[start..<start + size]))
            // Children must point forward inside the tree and features inside the fingerprint, or
            // prediction could loop or read out of bounds.
            for n in 0..<size where tree.feature[n] >= 0 {
                guard Int(tree.feature[n]) < words * 64, Int(tree.left[n]) > n, Int(tree.left[n]) < size,
                      Int(tree.right[n]) > n, Int(tree.right[n]) < size else { return nil }
            }
            trees.append(tree)
            start += size
        }
        self.init(settings: settings, words: words, trees: trees)
    }

    /// Trains on `rows` of `fingerprints` (each `words` 64-bit words) with labels `targets[row]`.
    public static func train(fingerprints: [[UInt64]], targets: [Double], rows: [Int], settings: Settings,
                             threads: Int = 1) -> RandomForest {
        let words = fingerprints.first?.count ?? 32
        let bitsCount = words * 64
        let tryCount = min(bitsCount, max(1, settings.maxFeatures ?? Int(Double(bitsCount).squareRoot().rounded())))
        // Row-major copy of the training rows' words, so a tree touches one small block of memory.
        var flat = [UInt64](repeating: 0, count: rows.count * words)
        for (r, row) in rows.enumerated() { for w in 0..<words { flat[r * words + w] = fingerprints[row][w] } }
        let y = rows.map { targets[$0] }
        let box = TreeSlots(count: settings.trees)
        let work = { (t: Int) in
            var generator = SeededGenerator(seed: settings.seed &+ UInt64(t) &* 0x9E37_79B9_7F4A_7C15)
            let sample = (0..<rows.count).map { _ in Int(generator.next() % UInt64(rows.count)) }
            var builder = TreeBuilder(flat: flat, words: words, y: y, tryCount: tryCount, bitsCount: bitsCount,
                                      minimumLeaf: settings.minimumLeaf)
            box.set(t, builder.build(sample: sample, generator: &generator))
        }
        if threads > 1 {
            let shared = UncheckedSendable(work)
            DispatchQueue.concurrentPerform(iterations: settings.trees) { shared.value($0) }
        } else {
            for t in 0..<settings.trees { work(t) }
        }
        return RandomForest(settings: settings, words: words, trees: box.all())
    }

    /// Mean and standard deviation over trees for each fingerprint.
    public func predict(_ fingerprints: [[UInt64]], rows: [Int], threads: Int = 1) -> (mean: [Float], spread: [Float]) {
        var mean = [Float](repeating: 0, count: rows.count), spread = mean
        let chunk = 512
        let chunks = (rows.count + chunk - 1) / chunk
        mean.withUnsafeMutableBufferPointer { m in
            spread.withUnsafeMutableBufferPointer { s in
                let out = UncheckedSendable((m, s))
                let body = { (c: Int) in
                    let (m, s) = out.value
                    for i in (c * chunk)..<min(rows.count, (c + 1) * chunk) {
                        let fp = fingerprints[rows[i]]
                        var sum: Double = 0, squares: Double = 0
                        for tree in trees {
                            var node = 0
                            while tree.feature[node] >= 0 {
                                let f = Int(tree.feature[node])
                                node = Int((fp[f >> 6] >> UInt64(f & 63)) & 1 != 0 ? tree.right[node] : tree.left[node])
                            }
                            let v = Double(tree.value[node])
                            sum += v; squares += v * v
                        }
                        let n = Double(trees.count)
                        m[i] = Float(sum / n)
                        s[i] = Float(max(0, squares / n - (sum / n) * (sum / n)).squareRoot())
                    }
                }
                if threads > 1 {
                    let shared = UncheckedSendable(body)
                    DispatchQueue.concurrentPerform(iterations: chunks) { shared.value($0) }
                } else {
                    for c in 0..<chunks { body(c) }
                }
            }
        }
        return (mean, spread)
    }
}

/// Trees written by worker threads, each to its own slot.
final class TreeSlots: @unchecked Sendable {
    private var trees: [RandomForest.Tree]
    private let lock = NSLock()
    init(count: Int) { trees = Array(repeating: RandomForest.Tree(), count: count) }
    func set(_ i: Int, _ tree: RandomForest.Tree) { lock.lock(); trees[i] = tree; lock.unlock() }
    func all() -> [RandomForest.Tree] { trees }
}

/// Grows one tree depth-first over an index array partitioned in place.
struct TreeBuilder {
    let flat: [UInt64]
    let words: Int
    let y: [Double]
    let tryCount: Int
    let bitsCount: Int
    let minimumLeaf: Int
    var tree = RandomForest.Tree()
    var order: [Int32] = []

    init(flat: [UInt64], words: Int, y: [Double], tryCount: Int, bitsCount: Int, minimumLeaf: Int) {
        self.flat = flat; self.words = words; self.y = y
        self.tryCount = tryCount; self.bitsCount = bitsCount; self.minimumLeaf = minimumLeaf
        order = Array(0..<Int32(bitsCount))
    }

    @inline(__always) func bit(_ row: Int32, _ f: Int) -> Bool {
        (flat[Int(row) * words + (f >> 6)] >> UInt64(f & 63)) & 1 != 0
    }

    mutating func build(sample: [Int], generator: inout SeededGenerator) -> RandomForest.Tree {
        var index = sample.map { Int32($0) }
        var stack: [(node: Int, lower: Int, upper: Int)] = []
        tree = RandomForest.Tree()
        addNode()
        stack.append((0, 0, index.count))
        while let (node, lower, upper) = stack.popLast() {
            let n = upper - lower
            var sum = 0.0, squares = 0.0
            for k in lower..<upper { let v = y[Int(index[k])]; sum += v; squares += v * v }
            tree.value[node] = Float(sum / Double(n))
            let error = squares - sum * sum / Double(n)
            guard n >= 2 * minimumLeaf, error > 1e-12 else { continue }
            // Bits in random order; look at `tryCount` of them, more only while no valid split is found.
            var best: (feature: Int, error: Double) = (-1, error - 1e-12)
            var tried = 0, valid = false
            var position = 0
            while position < bitsCount && (tried < tryCount || !valid) {
                let j = position + Int(generator.next() % UInt64(bitsCount - position))
                order.swapAt(position, j)
                let f = Int(order[position])
                position += 1
                tried += 1
                var nSet = 0, sumSet = 0.0, squaresSet = 0.0
                for k in lower..<upper where bit(index[k], f) {
                    let v = y[Int(index[k])]
                    nSet += 1; sumSet += v; squaresSet += v * v
                }
                let nClear = n - nSet
                guard nSet >= minimumLeaf, nClear >= minimumLeaf else { continue }
                valid = true
                let sumClear = sum - sumSet, squaresClear = squares - squaresSet
                let splitError = (squaresSet - sumSet * sumSet / Double(nSet)) + (squaresClear - sumClear * sumClear / Double(nClear))
                if splitError < best.error { best = (f, splitError) }
            }
            guard best.feature >= 0 else { continue }
            // Partition: clear bits first, set bits after.
            var split = lower
            for k in lower..<upper where !bit(index[k], best.feature) {
                index.swapAt(k, split)
                split += 1
            }
            let left = addNode(), right = addNode()
            tree.feature[node] = Int32(best.feature)
            tree.left[node] = Int32(left)
            tree.right[node] = Int32(right)
            stack.append((right, split, upper))
            stack.append((left, lower, split))
        }
        return tree
    }

    @discardableResult mutating func addNode() -> Int {
        tree.feature.append(-1); tree.left.append(-1); tree.right.append(-1); tree.value.append(0)
        return tree.feature.count - 1
    }
}
