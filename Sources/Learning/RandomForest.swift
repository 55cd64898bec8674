import Foundation

/// A random forest on binary fingerprints (Breiman 2001): bootstrap samples, a random subset of bits
/// tried at each node, splits that minimise the summed (weighted) squared error of the two sides (the
/// Gini criterion for 0/1 labels, variance reduction for continuous ones), trees grown until pure or
/// to `maxDepth`. The prediction is the mean over trees; the spread over trees is the uncertainty.
/// Each tree has its own seed, so the forest is the same at any thread count.
///
/// The defaults are scikit-learn's: √bits tried per node for classification, every bit for
/// regression (its `RandomForestRegressor` uses `max_features=1.0`). With count input
/// (`Settings.counts`, what `winnow train` grows) the input bits are count thresholds
/// (`RandomForest.input`) and a node tries every threshold of each Morgan bit it draws.
public struct RandomForest: Sendable {
    public struct Settings: Codable, Sendable, Equatable {
        public var trees = 200
        /// Bits tried per node (nil: the square root of the fingerprint size for classification,
        /// every bit for regression).
        public var maxFeatures: Int? = nil
        /// Deepest level of a node (the root is level 0; nil: grow until pure).
        public var maxDepth: Int? = nil
        public var minimumLeaf = 1
        /// Classification: weight each class by n / (2 · its count) in the split criterion and the
        /// leaf values (scikit-learn's `class_weight="balanced"`), so rare actives are not outvoted.
        public var balanced = false
        /// Input: Morgan counts as threshold bits (true) or on-bits (false); nil: counts for
        /// regression, bits for classification (see `RandomForest.input`).
        public var counts: Bool? = nil
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey { case trees, maxFeatures, maxDepth, minimumLeaf, balanced, counts, seed }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            trees = try c.decode(Int.self, forKey: .trees)
            maxFeatures = try c.decodeIfPresent(Int.self, forKey: .maxFeatures)
            maxDepth = try c.decodeIfPresent(Int.self, forKey: .maxDepth)
            minimumLeaf = try c.decodeIfPresent(Int.self, forKey: .minimumLeaf) ?? 1
            balanced = try c.decodeIfPresent(Bool.self, forKey: .balanced) ?? false
            counts = try c.decodeIfPresent(Bool.self, forKey: .counts)
            seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        }

        /// Bits tried per node for a fingerprint of `bits` bits.
        public func tryCount(bits: Int, taskKind: TaskKind) -> Int {
            let automatic = taskKind == .regression ? bits : Int(Double(bits).squareRoot().rounded())
            return min(bits, max(1, maxFeatures ?? automatic))
        }
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

    /// Trains on `rows` of `fingerprints` (each `words` 64-bit words) with labels `targets[row]`
    /// (0/1 for classification).
    public static func train(fingerprints: [[UInt64]], targets: [Double], rows: [Int], settings: Settings,
                             taskKind: TaskKind = .classification, threads: Int = 1) -> RandomForest {
        // From a training row: callers may leave the other rows' fingerprints empty.
        let words = rows.first.map { fingerprints[$0].count } ?? 32
        let bitsCount = words * 64
        // Count input (`RandomForest.input`'s layout, told by its width): input bit k · base + f is
        // "Morgan bit f counted ≥ countLadder[k] times". A node draws Morgan bits and tries every
        // threshold of each (scikit-learn's trees on count vectors try every cut of a drawn
        // feature), so the features per split count Morgan bits.
        let thresholds = words == inputWords(counts: true) ? countLadder.count : 1
        let tryCount = settings.tryCount(bits: bitsCount / thresholds, taskKind: taskKind)
        // Row-major copy of the training rows' words (for partitioning), and each row's on bits (for
        // the per-node bit statistics, whose cost follows the on bits rather than the fingerprint size).
        var flat = [UInt64](repeating: 0, count: rows.count * words)
        var onStart = [Int32](repeating: 0, count: rows.count + 1)
        var onBits: [Int16] = []
        onBits.reserveCapacity(rows.count * 48)
        for (r, row) in rows.enumerated() {
            for w in 0..<words {
                let word = fingerprints[row][w]
                flat[r * words + w] = word
                var rest = word
                while rest != 0 {
                    onBits.append(Int16(w * 64 + rest.trailingZeroBitCount))
                    rest &= rest - 1
                }
            }
            onStart[r + 1] = Int32(onBits.count)
        }
        let y = rows.map { targets[$0] }
        var classWeight = [Double](repeating: 1, count: y.count)
        if settings.balanced && taskKind == .classification {
            let positives = y.filter { $0 > 0.5 }.count, negatives = y.count - positives
            if positives > 0 && negatives > 0 {
                let n = Double(y.count)
                for r in y.indices { classWeight[r] = y[r] > 0.5 ? n / (2 * Double(positives)) : n / (2 * Double(negatives)) }
            }
        }
        let data = TreeData(flat: flat, words: words, onStart: onStart, onBits: onBits, y: y, classWeight: classWeight,
                            tryCount: tryCount, bitsCount: bitsCount, thresholds: thresholds, minimumLeaf: max(1, settings.minimumLeaf),
                            maxDepth: settings.maxDepth ?? Int.max)
        let box = TreeSlots(count: settings.trees)
        let seeds = treeSeeds(settings)
        let work = { (t: Int) in
            var generator = SeededGenerator(seed: seeds[t])
            let counts = bootstrapCounts(rows: rows.count, generator: &generator)
            let builder = TreeBuilder(data: data, taskKind: taskKind)
            box.set(t, builder.build(counts: counts, generator: &generator))
        }
        if threads > 1 {
            let shared = UncheckedSendable(work)
            DispatchQueue.concurrentPerform(iterations: settings.trees) { shared.value($0) }
        } else {
            for t in 0..<settings.trees { work(t) }
        }
        return RandomForest(settings: settings, words: words, trees: box.all())
    }

    /// Each tree's own seed: the successive draws of a generator seeded with the forest's seed, so
    /// the trees' random streams are unrelated and do not depend on the thread count. (Seeds spaced
    /// by SplitMix64's own increment, as Winnow used before, made tree t's stream tree 0's shifted by
    /// t draws: every tree drew nearly the same bootstrap sample, and the forest was barely a forest.)
    static func treeSeeds(_ settings: Settings) -> [UInt64] {
        var seeder = SeededGenerator(seed: settings.seed)
        return (0..<settings.trees).map { _ in seeder.next() }
    }

    /// How often each of `rows` rows is drawn in a bootstrap sample of `rows` draws with replacement.
    static func bootstrapCounts(rows: Int, generator: inout SeededGenerator) -> [Int32] {
        var counts = [Int32](repeating: 0, count: rows)
        for _ in 0..<rows { counts[Int(generator.next() % UInt64(rows))] += 1 }
        return counts
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

/// The training rows every tree reads (shared, read-only).
struct TreeData: Sendable {
    let flat: [UInt64]
    let words: Int
    /// Row r's on bits are `onBits[onStart[r]..<onStart[r + 1]]`.
    let onStart: [Int32]
    let onBits: [Int16]
    let y: [Double]
    let classWeight: [Double]
    /// Morgan bits tried per node (each with all its `thresholds` input bits).
    let tryCount: Int
    let bitsCount: Int
    /// Input bits per Morgan bit: 1 for on-bits, `countLadder.count` for counts (bit k · bitsCount / thresholds + f).
    let thresholds: Int
    let minimumLeaf: Int
    let maxDepth: Int
}

/// Grows one tree depth-first over the distinct rows of its bootstrap sample, each weighted by how
/// often it was drawn times its class weight (as scikit-learn does); `minimumLeaf` counts distinct rows.
/// One builder per worker grows its trees one after another; its per-bit tables are raw buffers
/// (allocated once, cleared through the list of bits a node touched), so the inner loops carry no
/// array bookkeeping.
final class TreeBuilder {
    let data: TreeData
    let bitsCount: Int
    /// For classification Σw·y² equals Σw·y exactly (labels 0/1), so only regression keeps squares.
    let regression: Bool
    var tree = RandomForest.Tree()
    /// The bits in the order of this node's draws (a partial Fisher–Yates shuffle, left as it ends).
    let order: UnsafeMutablePointer<Int32>
    /// Per-bit statistics of the set side of the current node: distinct rows, Σw, Σw·y, Σw·y².
    let setCount: UnsafeMutablePointer<Int32>
    let setWeight: UnsafeMutablePointer<Double>
    let setSum: UnsafeMutablePointer<Double>
    let setSquares: UnsafeMutablePointer<Double>
    let touched: UnsafeMutablePointer<Int32>

    init(data: TreeData, taskKind: TaskKind) {
        self.data = data
        bitsCount = data.bitsCount
        regression = taskKind == .regression
        let base = bitsCount / data.thresholds
        order = .allocate(capacity: base)
        for f in 0..<base { (order + f).initialize(to: Int32(f)) }
        setCount = .allocate(capacity: bitsCount); setCount.initialize(repeating: 0, count: bitsCount)
        setWeight = .allocate(capacity: bitsCount); setWeight.initialize(repeating: 0, count: bitsCount)
        setSum = .allocate(capacity: bitsCount); setSum.initialize(repeating: 0, count: bitsCount)
        setSquares = .allocate(capacity: bitsCount); setSquares.initialize(repeating: 0, count: bitsCount)
        touched = .allocate(capacity: bitsCount)
    }

    deinit {
        order.deallocate(); setCount.deallocate(); setWeight.deallocate(); setSum.deallocate()
        setSquares.deallocate(); touched.deallocate()
    }

    func build(counts: [Int32], generator: inout SeededGenerator) -> RandomForest.Tree {
        var index: [Int32] = []
        var weight = [Double](repeating: 0, count: counts.count)
        for r in counts.indices where counts[r] > 0 {
            index.append(Int32(r))
            weight[r] = Double(counts[r]) * data.classWeight[r]
        }
        tree = RandomForest.Tree()
        addNode()
        data.y.withUnsafeBufferPointer { y in
            data.onStart.withUnsafeBufferPointer { onStart in
                data.onBits.withUnsafeBufferPointer { onBits in
                    data.flat.withUnsafeBufferPointer { flat in
                        weight.withUnsafeBufferPointer { weight in
                            index.withUnsafeMutableBufferPointer { index in
                                grow(y: y, onStart: onStart, onBits: onBits, flat: flat, weight: weight, index: index,
                                     generator: &generator)
                            }
                        }
                    }
                }
            }
        }
        return tree
    }

    private func grow(y: UnsafeBufferPointer<Double>, onStart: UnsafeBufferPointer<Int32>, onBits: UnsafeBufferPointer<Int16>,
                      flat: UnsafeBufferPointer<UInt64>, weight: UnsafeBufferPointer<Double>, index: UnsafeMutableBufferPointer<Int32>,
                      generator: inout SeededGenerator) {
        let bitsCount = bitsCount, minimumLeaf = data.minimumLeaf, words = data.words, tryCount = data.tryCount
        let thresholds = data.thresholds, base = bitsCount / thresholds
        let regression = regression
        let setCount = setCount, setWeight = setWeight, setSum = setSum, setSquares = setSquares, touched = touched, order = order
        var stack: [(node: Int, lower: Int, upper: Int, depth: Int)] = [(0, 0, index.count, 0)]
        while let (node, lower, upper, depth) = stack.popLast() {
            let n = upper - lower
            var total = 0.0, sum = 0.0, squares = 0.0
            for k in lower..<upper {
                let r = Int(index[k]), w = weight[r], v = y[r]
                total += w; sum += w * v; squares += w * v * v
            }
            tree.value[node] = Float(sum / total)
            let error = squares - sum * sum / total
            guard n >= 2 * minimumLeaf, depth < data.maxDepth, error > 1e-12 * max(1, total) else { continue }
            // Statistics of every bit set in some row of the node.
            var touchedCount = 0
            for k in lower..<upper {
                let r = Int(index[k]), w = weight[r], v = y[r], wv = w * v, wvv = wv * v
                for p in Int(onStart[r])..<Int(onStart[r + 1]) {
                    let f = Int(onBits[p])
                    if setCount[f] == 0 { touched[touchedCount] = Int32(f); touchedCount += 1 }
                    setCount[f] += 1; setWeight[f] += w; setSum[f] += wv
                    if regression { setSquares[f] += wvv }
                }
            }
            func splitError(_ f: Int) -> Double? {
                let nSet = Int(setCount[f]), nClear = n - nSet
                guard nSet >= minimumLeaf, nClear >= minimumLeaf else { return nil }
                let wSet = setWeight[f], wClear = total - wSet
                guard wSet > 0, wClear > 0 else { return nil }
                let sumSet = setSum[f], sumClear = sum - sumSet
                let squaresSet = regression ? setSquares[f] : sumSet
                return (squaresSet - sumSet * sumSet / wSet) + (squares - squaresSet - sumClear * sumClear / wClear)
            }
            var best: (feature: Int, error: Double) = (-1, error - 1e-12 * max(1, total))
            if tryCount >= base {
                // Every bit: the best split, ties broken by a random per-node key so that equal bits
                // (always set together) are chosen evenly across trees.
                let salt = generator.next()
                var bestKey = UInt64.max
                for t in 0..<touchedCount {
                    let f = Int(touched[t])
                    guard let e = splitError(f) else { continue }
                    let key = mix(salt ^ UInt64(f))
                    if e < best.error || (best.feature >= 0 && e == best.error && key < bestKey) {
                        best = (f, e); bestKey = key
                    }
                }
            } else {
                // Bits in random order; look at `tryCount` of them, more only while no valid split is
                // found. With counts each drawn Morgan bit tries its thresholds, lowest first.
                var tried = 0, valid = false
                var position = 0
                while position < base && (tried < tryCount || !valid) {
                    let j = position + Int(generator.next() % UInt64(base - position))
                    let f = Int(order[j])
                    order[j] = order[position]; order[position] = Int32(f)
                    position += 1
                    tried += 1
                    for k in 0..<thresholds {
                        // Thresholds rise: once none of the node's rows reaches one, none reaches the next.
                        if setCount[k * base + f] == 0 { break }
                        guard let e = splitError(k * base + f) else { continue }
                        valid = true
                        if e < best.error { best = (k * base + f, e) }
                    }
                }
            }
            for t in 0..<touchedCount {
                let f = Int(touched[t])
                setCount[f] = 0; setWeight[f] = 0; setSum[f] = 0
                if regression { setSquares[f] = 0 }
            }
            guard best.feature >= 0 else { continue }
            // Partition: clear bits first, set bits after.
            let word = best.feature >> 6, shift = UInt64(best.feature & 63)
            var split = lower
            for k in lower..<upper where (flat[Int(index[k]) * words + word] >> shift) & 1 == 0 {
                index.swapAt(k, split)
                split += 1
            }
            let left = addNode(), right = addNode()
            tree.feature[node] = Int32(best.feature)
            tree.left[node] = Int32(left)
            tree.right[node] = Int32(right)
            stack.append((right, split, upper, depth + 1))
            stack.append((left, lower, split, depth + 1))
        }
    }

    /// SplitMix64's finaliser: a well-mixed key for tie-breaking.
    @inline(__always) func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @discardableResult func addNode() -> Int {
        tree.feature.append(-1); tree.left.append(-1); tree.right.append(-1); tree.value.append(0)
        return tree.feature.count - 1
    }
}
