/// A molecule prepared for substructure matching: the per-atom facts SMARTS primitives ask about
/// (H counts, degrees, valences, ring membership from the symmetrised SSSR, as RDKit's ring info),
/// computed once and shared by every pattern matched on it. A class (immutable after `init`, so
/// `Sendable`): every search holds one reference instead of copying a dozen arrays.
public final class SubstructureTarget: Sendable {
    public let graph: MolecularGraph
    let totalHydrogens: [UInt8]
    let degrees: [UInt8]
    let valences: [UInt8]
    /// Number of SSSR rings containing the atom.
    let ringCounts: [UInt8]
    /// Size of the smallest SSSR ring containing the atom (0 when none).
    let smallestRing: [UInt8]
    let ringBondCounts: [UInt8]
    /// The SSSR rings (symmetrised), as atom lists and as bond lists.
    public let rings: [[Int]]
    public let ringBonds: [[Int]]
    /// Atoms per atomic number (index = atomic number, 0-127), for the element pre-check.
    let elementCounts: [Int32]

    public init(_ graph: MolecularGraph) {
        self.graph = graph
        let n = graph.atomCount
        totalHydrogens = (0..<n).map { UInt8(clamping: graph.totalHydrogens($0)) }
        degrees = (0..<n).map { UInt8(clamping: graph.degree($0)) }
        valences = (0..<n).map { UInt8(clamping: graph.valence($0)) }
        var ringCounts = [UInt8](repeating: 0, count: n)
        var smallestRing = [UInt8](repeating: 0, count: n)
        var ringBondCounts = [UInt8](repeating: 0, count: n)
        var elementCounts = [Int32](repeating: 0, count: 128)
        for z in graph.atomicNumbers { elementCounts[Int(z) & 127] += 1 }
        var ringList: [[Int]] = []
        var bondList: [[Int]] = []
        if graph.atomFlags.contains(where: { $0.contains(.inRing) }) {
            let set = graph.ringSet()
            for r in 0..<set.count {
                var atoms: [Int] = []
                for a in 0..<n where set.hasAtom(r, a) {
                    atoms.append(a)
                    ringCounts[a] &+= 1
                    let size = UInt8(clamping: set.sizes[r])
                    if smallestRing[a] == 0 || size < smallestRing[a] { smallestRing[a] = size }
                }
                ringList.append(atoms)
                bondList.append((0..<graph.bondCount).filter { set.bondBits[r * set.bondWords + $0 >> 6] & (1 << UInt64($0 & 63)) != 0 })
            }
            for b in 0..<graph.bondCount where graph.bondFlags[b].contains(.inRing) {
                ringBondCounts[Int(graph.bondBegins[b])] &+= 1
                ringBondCounts[Int(graph.bondEnds[b])] &+= 1
            }
        }
        rings = ringList
        ringBonds = bondList
        self.ringCounts = ringCounts
        self.smallestRing = smallestRing
        self.ringBondCounts = ringBondCounts
        self.elementCounts = elementCounts
    }

    // MARK: Public queries

    /// Whether the pattern occurs anywhere in the molecule.
    public func hasMatch(_ pattern: SMARTS) -> Bool {
        guard hasRequiredElements(pattern) else { return false }
        var search = Search(target: self, pattern: pattern, anchor: nil, stopAtFirst: true)
        search.run()
        return search.found
    }

    /// Matches as lists of target atoms indexed by pattern atom. With `unique`, matches covering
    /// the same atom set are reported once (RDKit's `uniquify`), in the order they were found.
    public func matches(_ pattern: SMARTS, unique: Bool = true, limit: Int = 1000) -> [[Int]] {
        guard hasRequiredElements(pattern) else { return [] }
        var search = Search(target: self, pattern: pattern, anchor: nil, stopAtFirst: false)
        search.unique = unique
        search.limit = limit
        search.run()
        return search.results
    }

    /// Number of unique matches (RDKit's `len(GetSubstructMatches(pattern))`).
    public func matchCount(_ pattern: SMARTS) -> Int { matches(pattern).count }

    /// Whether the pattern matches with its first atom on `atom`.
    public func matches(_ pattern: SMARTS, at atom: Int) -> Bool {
        guard hasRequiredElements(pattern) else { return false }
        var search = Search(target: self, pattern: pattern, anchor: atom, stopAtFirst: true)
        search.run()
        return search.found
    }

    /// Whether the molecule has at least as many atoms of each element as the pattern requires.
    @inline(__always) func hasRequiredElements(_ pattern: SMARTS) -> Bool {
        for (z, count) in pattern.requiredElements where Int(elementCounts[Int(z) & 127]) < count { return false }
        return true
    }

    // MARK: Query evaluation

    @inline(__always) func bondMatches(_ query: BondQuery, _ bond: Int) -> Bool {
        query.matches(order: graph.bondOrders[bond], flags: graph.bondFlags[bond])
    }

    func atomMatches(_ query: AtomQuery, _ atom: Int, _ memo: MatchMemo?) -> Bool {
        switch query {
        case .primitive(let p): return atomPrimitive(p, atom, memo)
        case .not(let q): return !atomMatches(q, atom, memo)
        case .and(let qs):
            for q in qs where !atomMatches(q, atom, memo) { return false }
            return true
        case .or(let qs):
            for q in qs where atomMatches(q, atom, memo) { return true }
            return false
        }
    }

    func atomPrimitive(_ p: AtomPrimitive, _ atom: Int, _ memo: MatchMemo?) -> Bool {
        switch p {
        case .any: return true
        case .aromatic: return graph.atomFlags[atom].contains(.aromatic)
        case .aliphatic: return !graph.atomFlags[atom].contains(.aromatic)
        case .element(let z, let aromatic):
            guard graph.atomicNumbers[atom] == z else { return false }
            guard let aromatic else { return true }
            return graph.atomFlags[atom].contains(.aromatic) == aromatic
        case .totalHydrogens(let n): return Int(totalHydrogens[atom]) == n
        case .implicitHydrogens(let n):
            let h = Int(graph.hydrogenCounts[atom])
            return n.map { h == $0 } ?? (h > 0)
        case .degree(let n): return Int(degrees[atom]) == n
        case .totalDegree(let n): return Int(degrees[atom]) + Int(graph.hydrogenCounts[atom]) == n
        case .ringCount(let n):
            guard let n else { return ringCounts[atom] > 0 }
            return Int(ringCounts[atom]) == n
        case .ringSize(let n):
            guard let n else { return smallestRing[atom] > 0 }
            return Int(smallestRing[atom]) == n
        case .ringConnectivity(let n):
            guard let n else { return ringBondCounts[atom] > 0 }
            return Int(ringBondCounts[atom]) == n
        case .valence(let n): return Int(valences[atom]) == n
        case .charge(let n): return Int(graph.formalCharges[atom]) == n
        case .isotope(let n): return Int(graph.isotopes[atom]) == n
        case .recursive(let slot, let box):
            // The memo exists whenever the top-level pattern has recursive queries (it numbers them).
            let key = slot * graph.atomCount + atom
            if let memo, key < memo.values.count {
                let known = memo.values[key]
                if known != 0 { return known > 0 }
            }
            var found = false
            if hasRequiredElements(box.pattern) {
                var search = Search(target: self, pattern: box.pattern, anchor: atom, stopAtFirst: true, memo: memo)
                search.run()
                found = search.found
            }
            if let memo, key < memo.values.count { memo.values[key] = found ? 1 : -1 }
            return found
        }
    }

    /// The bond joining two atoms, or -1.
    @inline(__always) func bond(between a: Int, _ b: Int) -> Int {
        for k in Int(graph.neighbourOffsets[a])..<Int(graph.neighbourOffsets[a + 1]) where Int(graph.neighbourAtoms[k]) == b {
            return Int(graph.neighbourBonds[k])
        }
        return -1
    }
}

/// Backtracking subgraph-monomorphism search (VF2-like: candidates are the neighbours of an
/// already-mapped atom, every pattern bond to mapped atoms is checked as soon as both ends are mapped).
/// It holds the pattern's compiled form and plan by reference and allocates only its mapping (and a
/// memo when the pattern has recursive queries): the alert sets start hundreds of searches per molecule.
struct Search {
    let target: SubstructureTarget
    let compiled: SMARTS.Compiled
    let anchor: Int?
    let stopAtFirst: Bool
    var unique = true
    var limit = 1000
    var found = false
    var results: [[Int]] = []
    var seen = Set<[Int]>()
    let memo: MatchMemo?
    /// Target atom per pattern atom (-1: not mapped); also what "used" is checked against.
    private var mapping: [Int]
    private let plan: MatchPlan

    init(target: SubstructureTarget, pattern: SMARTS, anchor: Int?, stopAtFirst: Bool, memo: MatchMemo? = nil) {
        self.target = target
        compiled = pattern.compiled
        self.anchor = anchor
        self.stopAtFirst = stopAtFirst
        self.memo = memo ?? (compiled.recursiveCount > 0 ? MatchMemo(count: compiled.recursiveCount * target.graph.atomCount) : nil)
        mapping = [Int](repeating: -1, count: compiled.atoms.count)
        plan = anchor == nil ? compiled.freePlan : compiled.plan
    }

    mutating func run() {
        guard compiled.atoms.count <= target.graph.atomCount else { return }
        _ = extend(0)
    }

    /// Whether a target atom is already mapped (patterns are small: a scan beats a per-search array).
    @inline(__always) private func used(_ t: Int) -> Bool {
        for m in mapping where m == t { return true }
        return false
    }

    /// Returns true to stop the whole search.
    private mutating func extend(_ step: Int) -> Bool {
        if step == plan.order.count {
            found = true
            if stopAtFirst { return true }
            if unique {
                let key = mapping.sorted()
                if !seen.insert(key).inserted { return false }
            }
            results.append(mapping)
            return results.count >= limit
        }
        let p = plan.order[step]
        if let parent = plan.parent[step] {
            let from = mapping[parent.atom]
            // Read through the target each time: a local copy of the graph would retain and
            // release each of its arrays on every call.
            for k in Int(target.graph.neighbourOffsets[from])..<Int(target.graph.neighbourOffsets[from + 1]) {
                let t = Int(target.graph.neighbourAtoms[k])
                if used(t) { continue }
                if !target.bondMatches(compiled.bonds[parent.bond].query, Int(target.graph.neighbourBonds[k])) { continue }
                if try_(p, t, step) { return true }
            }
        } else if step == 0, let anchor {
            if anchor < target.graph.atomCount, try_(p, anchor, step) { return true }
        } else {
            for t in 0..<target.graph.atomCount where !used(t) {
                if try_(p, t, step) { return true }
            }
        }
        return false
    }

    private mutating func try_(_ p: Int, _ t: Int, _ step: Int) -> Bool {
        let z = compiled.atomElements[p]
        if z != 0 && target.graph.atomicNumbers[t] != z { return false }
        if !target.atomMatches(compiled.atoms[p], t, memo) { return false }
        for closure in plan.closures[step] {
            let other = mapping[closure.atom]
            let b = target.bond(between: t, other)
            if b < 0 || !target.bondMatches(compiled.bonds[closure.bond].query, b) { return false }
        }
        mapping[p] = t
        let stop = extend(step + 1)
        mapping[p] = -1
        return stop
    }
}

/// The order in which pattern atoms are mapped: depth-first from atom 0, so each atom after a
/// component's first is reached through a bond from an atom already mapped (`parent`); the other
/// bonds to mapped atoms are `closures`, checked when the atom is placed.
final class MatchPlan: Sendable {
    let order: [Int]
    let parent: [(atom: Int, bond: Int)?]
    let closures: [[(atom: Int, bond: Int)]]

    init(atomCount: Int, bonds: [PatternBond], firstRoot: Int = 0) {
        var order: [Int] = [], parent: [(atom: Int, bond: Int)?] = [], closures: [[(atom: Int, bond: Int)]] = []
        var neighbours = [[(atom: Int, bond: Int)]](repeating: [], count: atomCount)
        for (i, b) in bonds.enumerated() {
            neighbours[b.begin].append((b.end, i))
            neighbours[b.end].append((b.begin, i))
        }
        var placed = [Bool](repeating: false, count: atomCount)
        for root in [firstRoot] + Array(0..<atomCount) where root < atomCount && !placed[root] {
            var stack: [(atom: Int, via: (atom: Int, bond: Int)?)] = [(root, nil)]
            while let (atom, via) = stack.popLast() {
                if placed[atom] { continue }
                placed[atom] = true
                order.append(atom)
                parent.append(via)
                var close: [(atom: Int, bond: Int)] = []
                for nb in neighbours[atom] where placed[nb.atom] && nb.bond != via?.bond {
                    close.append(nb)
                }
                closures.append(close)
                for nb in neighbours[atom].reversed() where !placed[nb.atom] {
                    stack.append((nb.atom, (atom, nb.bond)))
                }
            }
        }
        self.order = order
        self.parent = parent
        self.closures = closures
    }
}

/// Answers of recursive `$(...)` queries per (query, atom): 0 unknown, 1 yes, -1 no. One table per
/// top-level search, shared by the nested searches it starts; never shared across threads.
final class MatchMemo {
    var values: [Int8]
    init(count: Int) { values = [Int8](repeating: 0, count: count) }
}

extension BondQuery {
    /// Whether a bond of this Kekulé order and these flags matches: RDKit's semantics, the one place
    /// they are written (the general matcher and `BondClass` both ask here).
    @inline(__always) func matches(order: UInt8, flags: MolecularGraph.BondFlags) -> Bool {
        switch self {
        case .primitive(let p): return p.matches(order: order, flags: flags)
        case .not(let q): return !q.matches(order: order, flags: flags)
        case .and(let qs): return qs.allSatisfy { $0.matches(order: order, flags: flags) }
        case .or(let qs): return qs.contains { $0.matches(order: order, flags: flags) }
        }
    }
}

extension BondPrimitive {
    @inline(__always) func matches(order: UInt8, flags: MolecularGraph.BondFlags) -> Bool {
        let aromatic = flags.contains(.aromatic)
        switch self {
        case .single: return !aromatic && order == 1 && !flags.contains(.dative)
        case .double: return !aromatic && order == 2
        case .triple: return !aromatic && order == 3
        case .quadruple: return !aromatic && order == 4
        case .aromatic: return aromatic
        case .any: return true
        case .ring: return flags.contains(.inRing)
        case .implicitSingleOrAromatic: return aromatic || (order == 1 && !flags.contains(.dative))
        }
    }
}
