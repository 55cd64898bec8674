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

    private var current: [UInt32] = []
    private var next: [UInt32] = []
    private var neighbourhoods: [UInt64] = []
    private var nextNeighbourhoods: [UInt64] = []
    private var seen: [UInt64] = []
    private var alive: [Bool] = []
    private var candidates: [Int32] = []
    private var candidateInvariants: [UInt32] = []
    private var pairs: [(Int32, UInt32)] = []
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

    // MARK: - Environments

    /// Computes the environment identifiers of `graph` into `identifiers` (layer 0 includes every
    /// atom, repeats included; later layers only new bond neighbourhoods).
    public func environments(_ graph: MolecularGraph) {
        let n = graph.atomCount
        let words = max(1, (graph.bondCount + 63) / 64)
        identifiers.removeAll(keepingCapacity: true)
        current.removeAll(keepingCapacity: true)
        for i in 0..<n {
            let invariant = Self.atomInvariant(graph, i)
            current.append(invariant)
            identifiers.append(invariant)
        }
        guard settings.radius > 0, n > 0 else { return }
        alive = [Bool](repeating: true, count: n)
        neighbourhoods = [UInt64](repeating: 0, count: n * words)
        nextNeighbourhoods = [UInt64](repeating: 0, count: n * words)
        seen.removeAll(keepingCapacity: true)
        next = [UInt32](repeating: 0, count: n)

        for layer in 0..<settings.radius {
            candidates.removeAll(keepingCapacity: true)
            for i in 0..<n { next[i] = 0 }
            for atom in 0..<n where alive[atom] {
                let start = Int(graph.neighbourOffsets[atom]), end = Int(graph.neighbourOffsets[atom + 1])
                if start == end { alive[atom] = false; continue }
                pairs.removeAll(keepingCapacity: true)
                let base = atom * words
                for w in 0..<words { nextNeighbourhoods[base + w] = neighbourhoods[base + w] }
                for k in start..<end {
                    let other = Int(graph.neighbourAtoms[k]), bond = Int(graph.neighbourBonds[k])
                    nextNeighbourhoods[base + bond >> 6] |= 1 << UInt64(bond & 63)
                    let otherBase = other * words
                    for w in 0..<words { nextNeighbourhoods[base + w] |= neighbourhoods[otherBase + w] }
                    pairs.append((Int32(bitPattern: Self.bondInvariant(graph, bond)), current[other]))
                }
                pairs.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
                var invariant = UInt32(layer)
                Self.combine(&invariant, current[atom])
                for (bondInvariant, neighbour) in pairs {
                    Self.combine(&invariant, Self.hashPair(UInt32(bitPattern: bondInvariant), neighbour))
                }
                next[atom] = invariant
                candidates.append(Int32(atom))
            }
            // Deduplicate: sort by (bond set as an unsigned integer, invariant, atom) and keep the
            // first atom of each bond set never emitted before.
            let nn = nextNeighbourhoods
            let nextInvariants = next
            candidates.sort { a, b in
                let ba = Int(a) * words, bb = Int(b) * words
                var w = words - 1
                while w >= 0 {
                    let x = nn[ba + w], y = nn[bb + w]
                    if x != y { return x < y }
                    w -= 1
                }
                let ia = nextInvariants[Int(a)], ib = nextInvariants[Int(b)]
                if ia != ib { return ia < ib }
                return a < b
            }
            for candidate in candidates {
                let atom = Int(candidate)
                let base = atom * words
                var duplicate = false
                var s = 0
                while s < seen.count {
                    var equal = true
                    for w in 0..<words where seen[s + w] != nextNeighbourhoods[base + w] { equal = false; break }
                    if equal { duplicate = true; break }
                    s += words
                }
                if duplicate {
                    alive[atom] = false
                } else {
                    identifiers.append(next[atom])
                    for w in 0..<words { seen.append(nextNeighbourhoods[base + w]) }
                }
            }
            swap(&current, &next)
            swap(&neighbourhoods, &nextNeighbourhoods)
        }
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

    /// Count fingerprint: (bit, count) pairs in ascending bit order.
    public func counts(_ graph: MolecularGraph) -> [(bit: Int, count: Int)] {
        environments(graph)
        var folded = identifiers.map { fold($0) }
        folded.sort()
        var result: [(bit: Int, count: Int)] = []
        for bit in folded {
            if let last = result.last, last.bit == bit { result[result.count - 1].count += 1 } else { result.append((bit, 1)) }
        }
        return result
    }
}
