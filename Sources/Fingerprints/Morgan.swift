import Chemistry

/// Settings of a Morgan fingerprint. They are written into every fingerprint file's header.
public struct MorganSettings: Sendable, Hashable, Codable {
    public var radius: Int
    public var size: Int
    /// The atom invariants of layer 0: connectivity (ECFP-like, the default) or feature (FCFP-like).
    public var invariants: MorganInvariants

    public init(radius: Int = 2, size: Int = 2048, invariants: MorganInvariants = .connectivity) {
        self.radius = radius
        self.size = size
        self.invariants = invariants
    }

    /// Version of the atom-invariant definitions: bump it whenever perception or hashing changes in a
    /// way that changes any fingerprint, so files made by different versions are never mixed.
    public static let invariantVersion = 1

    /// chemfp-style type string, e.g. `Winnow-Morgan/1 radius=2 fpSize=2048 invariants=rdkit-connectivity`.
    public var typeString: String {
        "Winnow-Morgan/\(Self.invariantVersion) radius=\(radius) fpSize=\(size) invariants=\(invariants.typeName) useBondTypes=1 useChirality=0"
    }

    /// The settings whose `typeString` is exactly `typeString` (a type line Winnow wrote, of this
    /// invariant version), or nil for any other type line.
    public init?(typeString: String) {
        guard typeString.hasPrefix("Winnow-Morgan/") else { return nil }
        var radius: Int?, size: Int?, invariants: MorganInvariants?
        for field in typeString.split(separator: " ") {
            if field.hasPrefix("radius=") { radius = Int(field.dropFirst(7)) }
            if field.hasPrefix("fpSize=") { size = Int(field.dropFirst(7)) }
            if field.hasPrefix("invariants=") {
                invariants = MorganInvariants.allCases.first { $0.typeName == field.dropFirst(11) }
            }
        }
        guard let radius, let size, let invariants else { return nil }
        let settings = MorganSettings(radius: radius, size: size, invariants: invariants)
        guard settings.typeString == typeString else { return nil }
        self = settings
    }

    /// The settings that reproduce an RDKit Morgan type line as chemfp's `rdkit2fps --morgan` writes
    /// it (`RDKit-Morgan/1 radius=2 fpSize=2048 useFeatures=0 useChirality=0 useBondTypes=1`):
    /// Winnow's Morgan bits are RDKit's (README "RDKit compatibility"), so such a file can be
    /// searched with SMILES queries. Nil when a field asks for something Winnow does not compute
    /// (chirality, no bond types, redundant environments) or is unknown.
    public init?(rdkitTypeString typeString: String) {
        let fields = typeString.split(separator: " ")
        guard let family = fields.first, family == "RDKit-Morgan/1" || family == "RDKit-Morgan/2" else { return nil }
        var values: [Substring: Substring] = [:]
        for field in fields.dropFirst() {
            let parts = field.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            values[parts[0]] = parts[1]
        }
        let known: Set<Substring> = ["radius", "fpSize", "useFeatures", "useChirality", "useBondTypes", "includeRedundantEnvironments"]
        guard values.keys.allSatisfy(known.contains),
              let radiusText = values["radius"], let radius = Int(radiusText), (0...8).contains(radius),
              let sizeText = values["fpSize"], let size = Int(sizeText), size >= 1,
              (values["useChirality"] ?? "0") == "0", (values["useBondTypes"] ?? "1") == "1",
              (values["includeRedundantEnvironments"] ?? "0") == "0" else { return nil }
        let features = values["useFeatures"] ?? "0"
        guard features == "0" || features == "1" else { return nil }
        self.init(radius: radius, size: size, invariants: features == "1" ? .feature : .connectivity)
    }

    // Coded by hand so that files written before `invariants` existed (connectivity only) still
    // read, and connectivity settings are written exactly as they were (model files stay identical).
    private enum CodingKeys: String, CodingKey { case radius, size, invariants }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        radius = try container.decode(Int.self, forKey: .radius)
        size = try container.decode(Int.self, forKey: .size)
        invariants = try container.decodeIfPresent(MorganInvariants.self, forKey: .invariants) ?? .connectivity
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(radius, forKey: .radius)
        try container.encode(size, forKey: .size)
        if invariants != .connectivity { try container.encode(invariants, forKey: .invariants) }
    }
}

/// Morgan (circular) fingerprints computed exactly as RDKit's
/// `rdFingerprintGenerator.GetMorganGenerator(radius:fpSize:)` does, bit for bit: ECFP-like with
/// connectivity invariants, FCFP-like with feature invariants.
///
/// Three separate ideas, as in RDKit: atom invariants (an `AtomInvariantGenerator`, the pluggable
/// piece), bond invariants (the bond type), and environment generation (`environments`). All
/// arithmetic is wrapping `UInt32`.
///
/// A generator keeps scratch buffers; use one per thread.
public final class MorganGenerator {
    public let settings: MorganSettings

    /// Environment identifiers of the last molecule, in emission order.
    public private(set) var identifiers: [UInt32] = []

    /// Layer 0: one invariant per atom.
    public let atomInvariants: any AtomInvariantGenerator

    public init(settings: MorganSettings = MorganSettings()) {
        self.settings = settings
        self.atomInvariants = settings.invariants.generator
    }

    /// A generator seeded by other atom invariants than the two built-in kinds. `settings.invariants`
    /// then no longer describes the bits: do not write them to files under `settings.typeString`.
    public init(settings: MorganSettings, atomInvariants: any AtomInvariantGenerator) {
        self.settings = settings
        self.atomInvariants = atomInvariants
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

    /// RDKit's connectivity invariant of one atom (`ConnectivityInvariants`).
    public static func atomInvariant(_ graph: MolecularGraph, _ atom: Int) -> UInt32 {
        ConnectivityInvariants.invariant(graph, atom)
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
        atomInvariants.invariants(of: graph, into: layout.cur)
        for i in 0..<n { identifiers.append(layout.cur[i]) }
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
    /// neighbours' sets (a dead atom's set stays as it last was). Atoms are then sorted by (bond set
    /// as an unsigned integer, invariant, index); the first atom with a bond set never emitted before
    /// emits its invariant, the others die.
    public func environments(_ graph: MolecularGraph) {
        environments(graph, path: graph.bondCount <= 64 ? .oneWord : .general)
    }

    /// The two implementations of `environments`; tests run both on the same molecules.
    enum EnvironmentPath { case oneWord, general }

    func environments(_ graph: MolecularGraph, path: EnvironmentPath) {
        switch path {
        case .oneWord:
            precondition(graph.bondCount <= 64, "the one-word path holds at most 64 bonds")
            environmentsOneWord(graph)
        case .general:
            environmentsGeneral(graph)
        }
    }

    // MARK: - Bond sets of any size

    /// A bond set of the general path, stored in whichever form is smaller: a sorted list of bond
    /// indices (`listArena[start ..< start + count]`) or a bit set over all bonds
    /// (`wordArena[start ..< start + words]`). The form depends only on the set's size, so equal sets
    /// always have equal forms and compare word for word.
    private struct BondSet {
        var start: Int
        var count: Int
        var isBits: Bool
        var hash: UInt64
        static let empty = BondSet(start: 0, count: 0, isBits: false, hash: 0)
    }

    private var listArena: [Int32] = []
    private var wordArena: [UInt64] = []
    private var gathered: [Int32] = []
    private var unionWords: [UInt64] = []

    @inline(__always) private static func mix(_ h: UInt64, _ v: UInt64) -> UInt64 {
        var x = (h ^ v) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        return x
    }

    /// Stores the union of the gathered bonds (`gathered`, unsorted, repeats allowed) as a list.
    private func storeGatheredList() -> BondSet {
        gathered.sort()
        let start = listArena.count
        var hash: UInt64 = 0x51_7CC1_B727_220A
        var previous: Int32 = -1
        for bond in gathered where bond != previous {
            listArena.append(bond)
            hash = Self.mix(hash, UInt64(bond))
            previous = bond
        }
        return BondSet(start: start, count: listArena.count - start, isBits: false, hash: hash)
    }

    /// Stores the set in `unionWords` in its canonical form (list when it has at most `listLimit`
    /// bonds) and clears `unionWords`.
    private func storeUnionWords(words: Int, listLimit: Int) -> BondSet {
        var count = 0
        for w in 0..<words { count += unionWords[w].nonzeroBitCount }
        if count <= listLimit {
            gathered.removeAll(keepingCapacity: true)
            for w in 0..<words {
                var bits = unionWords[w]
                while bits != 0 {
                    gathered.append(Int32(w * 64 + bits.trailingZeroBitCount))
                    bits &= bits - 1
                }
                unionWords[w] = 0
            }
            return storeGatheredList()
        }
        let start = wordArena.count
        var hash: UInt64 = 0x2545_F491_4F6C_DD1D
        for w in 0..<words {
            wordArena.append(unionWords[w])
            hash = Self.mix(hash, unionWords[w])
            unionWords[w] = 0
        }
        return BondSet(start: start, count: count, isBits: true, hash: hash)
    }

    /// Compares two bond sets as unsigned integers (bond 0 least significant): -1, 0 or 1.
    private func compare(_ a: BondSet, _ b: BondSet, words: Int) -> Int {
        if a.isBits && b.isBits {
            var w = words - 1
            while w >= 0 {
                let x = wordArena[a.start + w], y = wordArena[b.start + w]
                if x != y { return x < y ? -1 : 1 }
                w -= 1
            }
            return 0
        }
        // Walk both sets from their highest bond down: the first difference decides.
        var ia = DescendingBonds(set: a, words: words), ib = DescendingBonds(set: b, words: words)
        while true {
            let x = ia.next(listArena, wordArena), y = ib.next(listArena, wordArena)
            if x == y {
                if x < 0 { return 0 }
                continue
            }
            return x < y ? -1 : 1
        }
    }

    /// The bonds of a set from the highest index down; -1 when exhausted.
    private struct DescendingBonds {
        var set: BondSet
        var position: Int
        var word: UInt64 = 0
        init(set: BondSet, words: Int) {
            self.set = set
            position = set.isBits ? words : set.count
        }
        mutating func next(_ list: [Int32], _ bits: [UInt64]) -> Int {
            if !set.isBits {
                guard position > 0 else { return -1 }
                position -= 1
                return Int(list[set.start + position])
            }
            while word == 0 {
                guard position > 0 else { return -1 }
                position -= 1
                word = bits[set.start + position]
            }
            let bit = 63 - word.leadingZeroBitCount
            word &= ~(1 << UInt64(bit))
            return position * 64 + bit
        }
    }

    private func equal(_ a: BondSet, _ b: BondSet, words: Int) -> Bool {
        a.hash == b.hash && a.count == b.count && a.isBits == b.isBits && compare(a, b, words: words) == 0
    }

    /// `environments` for molecules of any size. A bond set at layer L is the atom's own set, its
    /// bonds and its neighbours' sets: the union is built from short sorted lists (a bit set only
    /// when it is large), so the work per layer is the total size of the sets, near-linear for
    /// molecules of bounded degree instead of atoms × bonds. "Emitted before" is a hash-table probe
    /// with an exact comparison of the sets, as RDKit compares its bit sets exactly.
    private func environmentsGeneral(_ graph: MolecularGraph) {
        let n = graph.atomCount
        let radius = settings.radius
        var maxDegree = 0
        for atom in 0..<n { maxDegree = max(maxDegree, graph.degree(atom)) }
        let layout = prepare(graph, u64Count: maxDegree + 1)
        guard radius > 0, n > 0 else { return }
        let keys = layout.u64
        var cur = layout.cur
        var nxt = layout.nxt
        let bondInvariants = layout.bondInvariants, live = layout.live
        let words = max(1, (graph.bondCount + 63) / 64)
        // A list of more than 2 bonds per word takes more memory than the bit set.
        let listLimit = 2 * words
        listArena.removeAll(keepingCapacity: true)
        wordArena.removeAll(keepingCapacity: true)
        if unionWords.count < words { unionWords = [UInt64](repeating: 0, count: words) }
        var current = [BondSet](repeating: .empty, count: n)
        var next = current
        var emitted: [BondSet] = []
        var tableSize = 16
        while tableSize < 2 * n * radius { tableSize <<= 1 }
        var table = [Int32](repeating: -1, count: tableSize)
        let mask = tableSize - 1
        var candidates: [Int32] = []
        candidates.reserveCapacity(n)

        for layer in 0..<radius {
            candidates.removeAll(keepingCapacity: true)
            nxt.initialize(repeating: 0, count: n)
            for atom in 0..<n where live[atom] != 0 {
                let start = Int(graph.neighbourOffsets[atom]), end = Int(graph.neighbourOffsets[atom + 1])
                if start == end { live[atom] = 0; continue }
                var keyCount = 0
                // Small unions are gathered and sorted; large ones are OR-ed into a bit set.
                var estimate = current[atom].isBits ? listLimit + 1 : current[atom].count + (end - start)
                for k in start..<end {
                    let other = Int(graph.neighbourAtoms[k]), bond = Int(graph.neighbourBonds[k])
                    estimate += current[other].isBits ? listLimit + 1 : current[other].count
                    let key = UInt64(bondInvariants[bond]) << 32 | UInt64(cur[other])
                    Self.insertSorted(key, into: keys, count: &keyCount)
                }
                nxt[atom] = Self.layerInvariant(layer, cur[atom], keys: keys, count: keyCount)
                if estimate <= listLimit {
                    gathered.removeAll(keepingCapacity: true)
                    func add(_ set: BondSet) {
                        for i in set.start..<(set.start + set.count) { gathered.append(listArena[i]) }
                    }
                    add(current[atom])
                    for k in start..<end {
                        gathered.append(graph.neighbourBonds[k])
                        add(current[Int(graph.neighbourAtoms[k])])
                    }
                    next[atom] = storeGatheredList()
                } else {
                    func add(_ set: BondSet) {
                        if set.isBits {
                            for w in 0..<words { unionWords[w] |= wordArena[set.start + w] }
                        } else {
                            for i in set.start..<(set.start + set.count) {
                                let bond = Int(listArena[i])
                                unionWords[bond >> 6] |= 1 << UInt64(bond & 63)
                            }
                        }
                    }
                    add(current[atom])
                    for k in start..<end {
                        let bond = Int(graph.neighbourBonds[k])
                        unionWords[bond >> 6] |= 1 << UInt64(bond & 63)
                        add(current[Int(graph.neighbourAtoms[k])])
                    }
                    next[atom] = storeUnionWords(words: words, listLimit: listLimit)
                }
                candidates.append(Int32(atom))
            }
            // RDKit's order: (bond set, invariant, atom).
            candidates.sort { x, y in
                let c = compare(next[Int(x)], next[Int(y)], words: words)
                if c != 0 { return c < 0 }
                if nxt[Int(x)] != nxt[Int(y)] { return nxt[Int(x)] < nxt[Int(y)] }
                return x < y
            }
            for candidate in candidates {
                let atom = Int(candidate)
                let set = next[atom]
                var slot = Int(truncatingIfNeeded: set.hash >> 17) & mask
                var duplicate = false
                while table[slot] >= 0 {
                    if equal(emitted[Int(table[slot])], set, words: words) { duplicate = true; break }
                    slot = (slot + 1) & mask
                }
                if duplicate {
                    live[atom] = 0
                } else {
                    identifiers.append(nxt[atom])
                    table[slot] = Int32(emitted.count)
                    emitted.append(set)
                }
            }
            // Sets computed this layer become current; atoms that were already dead keep theirs.
            for candidate in candidates { current[Int(candidate)] = next[Int(candidate)] }
            swap(&cur, &nxt)
        }
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
                // A dead atom's set stays as it last was (RDKit keeps it for its neighbours).
                for atom in 0..<n where live[atom] == 0 { nextSets[atom] = sets[atom] }
                for atom in 0..<n where live[atom] != 0 {
                    let start = Int(offsets[atom]), end = Int(offsets[atom + 1])
                    if start == end { live[atom] = 0; nextSets[atom] = sets[atom]; continue }
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
