import Chemistry

/// Settings of a Morgan fingerprint. They are written into every fingerprint file's header.
public struct MorganSettings: Sendable, Hashable, Codable {
    public var radius: Int
    public var size: Int

    public init(radius: Int = 2, size: Int = 2048) {
        self.radius = radius
        self.size = size
    }

    /// Version of the atom-invariant definition: bump it whenever perception or hashing changes in a
    /// way that changes any fingerprint, so files made by different versions are never mixed.
    public static let invariantVersion = 1

    /// chemfp-style type string, e.g. `Winnow-Morgan/1 radius=2 fpSize=2048 invariants=rdkit-connectivity`.
    public var typeString: String {
        "Winnow-Morgan/\(Self.invariantVersion) radius=\(radius) fpSize=\(size) invariants=rdkit-connectivity useBondTypes=1 useChirality=0"
    }
}

/// Morgan (circular, ECFP-like) fingerprints computed exactly as RDKit's
/// `rdFingerprintGenerator.GetMorganGenerator(radius:fpSize:)` does, bit for bit.
///
/// Three separate ideas, as in RDKit: atom invariants (`atomInvariants`), bond invariants (the bond
/// type), and environment generation (`environments`). All arithmetic is wrapping `UInt32`.
///
/// A generator keeps scratch buffers; use one per thread.
public final class MorganGenerator {
    public let settings: MorganSettings

    /// Environment identifiers of the last molecule, in emission order.
    public private(set) var identifiers: [UInt32] = []

    public init(settings: MorganSettings = MorganSettings()) {
        self.settings = settings
    }

    // MARK: - Hashing (boost::hash_combine on 32-bit values, as RDKit uses it)

    @inline(__always) static func combine(_ seed: inout UInt32, _ value: UInt32) {
        seed ^= value &+ 0x9e37_79b9 &+ (seed << 6) &+ (seed >> 2)
    }

    @inline(__always) static func hashPair(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var seed: UInt32 = 0
        combine(&seed, a)
        combine(&seed, b)
        return seed
    }

    static func hash<S: Sequence>(_ values: S) -> UInt32 where S.Element == Int32 {
        var seed: UInt32 = 0
        for v in values { combine(&seed, UInt32(bitPattern: v)) }
        return seed
    }

    // MARK: - Invariants

    /// RDKit's connectivity invariant: hash of [atomic number, total degree, total H, formal charge,
    /// delta mass] plus [1] for ring atoms.
    public static func atomInvariant(_ graph: MolecularGraph, _ atom: Int) -> UInt32 {
        let hydrogens = Int32(graph.totalHydrogens(atom))
        var seed: UInt32 = 0
        combine(&seed, UInt32(graph.atomicNumbers[atom]))
        combine(&seed, UInt32(bitPattern: Int32(graph.degree(atom)) + Int32(graph.hydrogenCounts[atom])))
        combine(&seed, UInt32(bitPattern: hydrogens))
        combine(&seed, UInt32(bitPattern: Int32(graph.formalCharges[atom])))
        combine(&seed, UInt32(bitPattern: Int32(graph.deltaMasses[atom])))
        if graph.atomFlags[atom].contains(.inRing) { combine(&seed, 1) }
        return seed
    }

    /// RDKit's bond type numbers: single 1, double 2, triple 3, quadruple 4, aromatic 12, dative 17.
    @inline(__always) static func bondInvariant(_ graph: MolecularGraph, _ bond: Int) -> UInt32 {
        let flags = graph.bondFlags[bond]
        if flags.isEmpty || flags == .inRing { return UInt32(graph.bondOrders[bond]) }
        if flags.contains(.aromatic) { return 12 }
        if flags.contains(.dative) { return 17 }
        return UInt32(graph.bondOrders[bond])
    }

    /// Inserts a (bond invariant, neighbour invariant) key into the sorted keys of an atom.
    @inline(__always) static func insertSorted(_ key: UInt64, into keys: UnsafeMutablePointer<UInt64>, count: inout Int) {
        var y = count
        while y > 0, keys[y - 1] > key { keys[y] = keys[y - 1]; y -= 1 }
        keys[y] = key
        count += 1
    }

    /// An atom's invariant at the next layer: the layer, its current invariant and its sorted
    /// (bond invariant, neighbour invariant) pairs, hash-combined in that order.
    @inline(__always) static func layerInvariant(_ layer: Int, _ current: UInt32, keys: UnsafeMutablePointer<UInt64>, count: Int) -> UInt32 {
        var invariant = UInt32(layer)
        combine(&invariant, current)
        for x in 0..<count {
            let key = keys[x]
            combine(&invariant, hashPair(UInt32(truncatingIfNeeded: key >> 32), UInt32(truncatingIfNeeded: key)))
        }
        return invariant
    }

    // MARK: - Environments

    /// Scratch memory, grown as needed and reused across molecules (raw memory: this loop runs once
    /// per molecule of a million-compound library, and Swift arrays captured by closures would pay
    /// for boxing and exclusivity checks on every access).
    private var scratch = UnsafeMutableRawPointer.allocate(byteCount: 0, alignment: 8)
    private var scratchBytes = 0

    deinit { scratch.deallocate() }

    private func reserveScratch(_ bytes: Int) {
        if bytes > scratchBytes {
            scratch.deallocate()
            scratchBytes = max(bytes, scratchBytes * 2)
            scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 8)
        }
    }

    /// Scratch pointers of one molecule's environment loop: `u64Count` 64-bit words first, then the
    /// current and next invariants, bond invariants, candidate order and live flags.
    private struct Layout {
        var u64: UnsafeMutablePointer<UInt64>
        var cur: UnsafeMutablePointer<UInt32>
        var nxt: UnsafeMutablePointer<UInt32>
        var bondInvariants: UnsafeMutablePointer<UInt32>
        var order: UnsafeMutablePointer<Int32>
        var live: UnsafeMutablePointer<UInt8>
    }

    /// Lays out the scratch memory and writes layer 0: every atom's invariant (into `identifiers` and
    /// `cur`), every bond's invariant, every atom live.
    private func prepare(_ graph: MolecularGraph, u64Count: Int) -> Layout {
        let n = graph.atomCount
        let u32Count = 2 * n + graph.bondCount + n
        reserveScratch(u64Count * 8 + u32Count * 4 + n + 64)
        let u32 = (scratch + u64Count * 8).bindMemory(to: UInt32.self, capacity: u32Count)
        let layout = Layout(u64: scratch.bindMemory(to: UInt64.self, capacity: u64Count), cur: u32, nxt: u32 + n,
                            bondInvariants: u32 + 2 * n,
                            order: UnsafeMutableRawPointer(u32 + 2 * n + graph.bondCount).bindMemory(to: Int32.self, capacity: n),
                            live: (scratch + u64Count * 8 + u32Count * 4).bindMemory(to: UInt8.self, capacity: n))
        identifiers.removeAll(keepingCapacity: true)
        for i in 0..<n {
            let invariant = Self.atomInvariant(graph, i)
            layout.cur[i] = invariant
            identifiers.append(invariant)
        }
        for b in 0..<graph.bondCount { layout.bondInvariants[b] = Self.bondInvariant(graph, b) }
        layout.live.initialize(repeating: 1, count: n)
        return layout
    }

    /// Computes the environment identifiers of `graph` into `identifiers` (layer 0 includes every
    /// atom, repeats included; later layers only bond neighbourhoods never seen before).
    ///
    /// Per layer L (0 ..< radius), for each live atom in index order: an atom without neighbours
    /// dies; otherwise its new invariant is `L` combined with its current invariant and the sorted
    /// (bond invariant, neighbour invariant) pairs, and its bond set grows by its bonds and its
    /// neighbours' sets. Atoms are then sorted by (bond set as an unsigned integer, invariant, index);
    /// the first atom with a bond set never emitted before emits its invariant, the others die.
    public func environments(_ graph: MolecularGraph) {
        if graph.bondCount <= 64 {
            environmentsOneWord(graph)
            return
        }
        let n = graph.atomCount
        let radius = settings.radius
        let words = max(1, (graph.bondCount + 63) / 64)
        // Layout: sets, nextSets, seen (n*words*radius + 1), keys (u64: max degree),
        // cur, nxt (u32), bondInvariants (u32), order (i32), live (u8)
        let setWords = n * words
        let seenWords = n * words * max(radius, 1)
        let degreeCap = n + 1
        let layout = prepare(graph, u64Count: 2 * setWords + seenWords + degreeCap)
        guard radius > 0, n > 0 else { return }
        let sets0 = layout.u64
        var sets = sets0
        var nextSets = sets0 + setWords
        let seenSets = sets0 + 2 * setWords
        let keys = seenSets + seenWords
        var cur = layout.cur
        var nxt = layout.nxt
        let bondInvariants = layout.bondInvariants, order = layout.order, live = layout.live
        sets.initialize(repeating: 0, count: setWords)
        var seenCount = 0

        graph.neighbourOffsets.withUnsafeBufferPointer { offsets in
        graph.neighbourAtoms.withUnsafeBufferPointer { neighbourAtoms in
        graph.neighbourBonds.withUnsafeBufferPointer { neighbourBonds in
            for layer in 0..<radius {
                var candidates = 0
                nxt.initialize(repeating: 0, count: n)
                for atom in 0..<n where live[atom] != 0 {
                    let start = Int(offsets[atom]), end = Int(offsets[atom + 1])
                    if start == end { live[atom] = 0; continue }
                    let base = atom * words
                    for w in 0..<words { nextSets[base + w] = sets[base + w] }
                    var keyCount = 0
                    for k in start..<end {
                        let other = Int(neighbourAtoms[k]), bond = Int(neighbourBonds[k])
                        nextSets[base + bond >> 6] |= 1 << UInt64(bond & 63)
                        let otherBase = other * words
                        for w in 0..<words { nextSets[base + w] |= sets[otherBase + w] }
                        // (bond invariant, neighbour invariant) as one key that sorts like the pair.
                        let key = UInt64(bondInvariants[bond]) << 32 | UInt64(cur[other])
                        Self.insertSorted(key, into: keys, count: &keyCount)
                    }
                    let invariant = Self.layerInvariant(layer, cur[atom], keys: keys, count: keyCount)
                    nxt[atom] = invariant
                    // Insert into candidates sorted by (bond set, invariant, atom).
                    var y = candidates
                    while y > 0 {
                        let other = Int(order[y - 1])
                        let ba = other * words
                        var greater = false
                        var decided = false
                        var w = words - 1
                        while w >= 0 {
                            let x = nextSets[ba + w], z = nextSets[base + w]
                            if x != z { greater = x > z; decided = true; break }
                            w -= 1
                        }
                        if !decided { greater = nxt[other] > invariant }  // equal invariants: index order holds
                        if !greater { break }
                        order[y] = order[y - 1]
                        y -= 1
                    }
                    order[y] = Int32(atom)
                    candidates += 1
                }
                for c in 0..<candidates {
                    let atom = Int(order[c])
                    let base = atom * words
                    var duplicate = false
                    var s = 0
                    while s < seenCount * words {
                        var equal = true
                        for w in 0..<words where seenSets[s + w] != nextSets[base + w] { equal = false; break }
                        if equal { duplicate = true; break }
                        s += words
                    }
                    if duplicate {
                        live[atom] = 0
                    } else {
                        identifiers.append(nxt[atom])
                        for w in 0..<words { seenSets[seenCount * words + w] = nextSets[base + w] }
                        seenCount += 1
                    }
                }
                swap(&cur, &nxt)
                swap(&sets, &nextSets)
            }
        }}}
    }

    /// `environments` for molecules of at most 64 bonds (nearly all of a screening library): each
    /// bond set is one `UInt64`, and the "bond set emitted before" test is a hash-set probe instead
    /// of a scan over every earlier set. Same identifiers, same order.
    private func environmentsOneWord(_ graph: MolecularGraph) {
        let n = graph.atomCount
        let radius = settings.radius
        // Every emitted set is non-zero (it holds the atom's own bonds), so 0 marks an empty slot.
        var tableSize = 16
        while tableSize < 2 * n * max(radius, 1) { tableSize <<= 1 }
        let layout = prepare(graph, u64Count: 2 * n + tableSize + n + 1)
        guard radius > 0, n > 0 else { return }
        var sets = layout.u64
        var nextSets = layout.u64 + n
        let table = layout.u64 + 2 * n
        let keys = table + tableSize
        var cur = layout.cur
        var nxt = layout.nxt
        let bondInvariants = layout.bondInvariants, order = layout.order, live = layout.live
        sets.initialize(repeating: 0, count: n)
        table.initialize(repeating: 0, count: tableSize)
        let mask = tableSize - 1

        graph.neighbourOffsets.withUnsafeBufferPointer { offsets in
        graph.neighbourAtoms.withUnsafeBufferPointer { neighbourAtoms in
        graph.neighbourBonds.withUnsafeBufferPointer { neighbourBonds in
            for layer in 0..<radius {
                var candidates = 0
                nxt.initialize(repeating: 0, count: n)
                for atom in 0..<n where live[atom] != 0 {
                    let start = Int(offsets[atom]), end = Int(offsets[atom + 1])
                    if start == end { live[atom] = 0; continue }
                    var set = sets[atom]
                    var keyCount = 0
                    for k in start..<end {
                        let other = Int(neighbourAtoms[k]), bond = Int(neighbourBonds[k])
                        set |= (1 << UInt64(bond)) | sets[other]
                        let key = UInt64(bondInvariants[bond]) << 32 | UInt64(cur[other])
                        Self.insertSorted(key, into: keys, count: &keyCount)
                    }
                    nextSets[atom] = set
                    let invariant = Self.layerInvariant(layer, cur[atom], keys: keys, count: keyCount)
                    nxt[atom] = invariant
                    // Insert into candidates sorted by (bond set, invariant, atom).
                    var y = candidates
                    while y > 0 {
                        let other = Int(order[y - 1])
                        let otherSet = nextSets[other]
                        let greater = otherSet != set ? otherSet > set : nxt[other] > invariant
                        if !greater { break }
                        order[y] = order[y - 1]
                        y -= 1
                    }
                    order[y] = Int32(atom)
                    candidates += 1
                }
                for c in 0..<candidates {
                    let atom = Int(order[c])
                    let set = nextSets[atom]
                    // Open addressing on a multiplicative hash of the set.
                    var slot = Int(truncatingIfNeeded: (set &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
                    var duplicate = false
                    while table[slot] != 0 {
                        if table[slot] == set { duplicate = true; break }
                        slot = (slot + 1) & mask
                    }
                    if duplicate {
                        live[atom] = 0
                    } else {
                        identifiers.append(nxt[atom])
                        table[slot] = set
                    }
                }
                swap(&cur, &nxt)
                swap(&sets, &nextSets)
            }
        }}}
    }

    // MARK: - Folding

    /// Folds identifiers to `settings.size` bits. This is the only place folding happens: bit =
    /// identifier mod size, as RDKit does, so the same identifier always lands on the same bit.
    @inline(__always) func fold(_ identifier: UInt32) -> Int { Int(identifier % UInt32(settings.size)) }

    /// Bit fingerprint as 64-bit words; bit b is bit (b % 64) of word b / 64.
    public func bits(_ graph: MolecularGraph, into words: inout [UInt64]) {
        environments(graph)
        let count = (settings.size + 63) / 64
        if words.count != count { words = [UInt64](repeating: 0, count: count) } else {
            for i in 0..<count { words[i] = 0 }
        }
        for identifier in identifiers {
            let bit = fold(identifier)
            words[bit >> 6] |= 1 << UInt64(bit & 63)
        }
    }

    public func bits(_ graph: MolecularGraph) -> [UInt64] {
        var words: [UInt64] = []
        bits(graph, into: &words)
        return words
    }

    /// Folded identifiers of the last molecule, sorted (scratch for `appendCounts` and `appendBits`).
    private var folded: [UInt32] = []

    /// Fills `folded` with the molecule's identifiers folded to bits, ascending (repeats kept).
    private func foldSorted(_ graph: MolecularGraph) {
        environments(graph)
        folded.removeAll(keepingCapacity: true)
        for identifier in identifiers { folded.append(UInt32(fold(identifier))) }
        folded.sort()
    }

    /// Appends the count fingerprint of `graph` to a CSR row store: its bits in ascending order to
    /// `bits`, their counts to `counts` (no per-molecule arrays: this runs once per screened molecule).
    public func appendCounts(_ graph: MolecularGraph, bits: inout [Int32], counts: inout [Float]) {
        foldSorted(graph)
        var i = 0
        while i < folded.count {
            let bit = folded[i]
            var j = i + 1
            while j < folded.count, folded[j] == bit { j += 1 }
            bits.append(Int32(bit))
            counts.append(Float(j - i))
            i = j
        }
    }

    /// Count fingerprint: (bit, count) pairs in ascending bit order.
    public func counts(_ graph: MolecularGraph) -> [(bit: Int, count: Int)] {
        var bits: [Int32] = [], counts: [Float] = []
        appendCounts(graph, bits: &bits, counts: &counts)
        return zip(bits, counts).map { (Int($0), Int($1)) }
    }

    /// Appends the on bits of `graph`, ascending, to `bits` (each with value 1 in `values`).
    public func appendBits(_ graph: MolecularGraph, bits: inout [Int32], values: inout [Float]) {
        foldSorted(graph)
        var previous: UInt32? = nil
        for bit in folded where bit != previous {
            bits.append(Int32(bit))
            values.append(1)
            previous = bit
        }
    }
}
