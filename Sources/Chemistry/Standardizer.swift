/// The standardiser applied when reading (`--standardize`): keep the largest fragment, preferring
/// organic ones, then neutralise the charges that adding or removing a hydrogen can neutralise.
///
/// It follows RDKit's `rdMolStandardize` (`LargestFragmentChooser(preferOrganic=True)` then
/// `Uncharger()`), written here on Winnow's graph:
///
/// - Largest fragment: a fragment with a carbon atom beats one without; then the most atoms counting
///   hydrogens (RDKit's default count: each atom plus its hydrogens); then the higher of RDKit's
///   weight score (100 × atomic number + isotope − charge / 10 + hydrogens, summed); then the
///   alphabetically first SMILES (RDKit compares its canonical SMILES, Winnow its own: they can only
///   disagree between two fragments equal in every count above).
/// - Neutralising: positive atoms with hydrogens lose one per charge, negative atoms gain one per
///   charge (atoms left of carbon — B, metals — lose one instead), while the molecule's positive
///   charges that cannot be removed (quaternary N, N+ of nitro groups and N-oxides balanced by their
///   own O−) stay balanced: as many negative charges as such positive charges are left, acids
///   (carboxylates, sulfonates, phosphates, tetrazoles) after other anions, in atom order. Positive
///   charges are removed only while the molecule's net charge is above zero. So `CC(=O)[O-]` →
///   `CC(=O)O`, `C[NH3+]` → `CN`, `[NH3+]CC(=O)[O-]` → `NCC(=O)O`, while `C[N+](C)(C)CC(=O)[O-]`,
///   nitro groups and N-oxides stay as they are.
public enum Standardizer {
    /// What standardising did to one molecule.
    public struct Changes: Sendable, Equatable {
        /// Fragments removed (salts, counter-ions, solvents).
        public var fragmentsRemoved = 0
        /// Atoms whose charge was neutralised.
        public var atomsNeutralised = 0
        public init() {}
        public var changed: Bool { fragmentsRemoved > 0 || atomsNeutralised > 0 }
        /// `removed 1 fragment; neutralised 2 charges`, or "" when nothing changed.
        public var description: String {
            var parts: [String] = []
            if fragmentsRemoved > 0 { parts.append("removed \(fragmentsRemoved) fragment\(fragmentsRemoved == 1 ? "" : "s")") }
            if atomsNeutralised > 0 { parts.append("neutralised \(atomsNeutralised) charge\(atomsNeutralised == 1 ? "" : "s")") }
            return parts.joined(separator: "; ")
        }
    }

    /// Running totals over many molecules (per parser; add them up across workers).
    public struct Totals: Sendable, Equatable, Codable {
        /// Molecules changed in any way.
        public var molecules = 0
        /// Molecules that lost at least one fragment.
        public var fragmentsStripped = 0
        /// Molecules with at least one charge neutralised.
        public var neutralised = 0
        public init() {}
        public mutating func add(_ c: Changes) {
            if c.changed { molecules += 1 }
            if c.fragmentsRemoved > 0 { fragmentsStripped += 1 }
            if c.atomsNeutralised > 0 { neutralised += 1 }
        }
        public mutating func add(_ t: Totals) {
            molecules += t.molecules; fragmentsStripped += t.fragmentsStripped; neutralised += t.neutralised
        }
        public static func - (l: Totals, r: Totals) -> Totals {
            var t = Totals()
            t.molecules = l.molecules - r.molecules
            t.fragmentsStripped = l.fragmentsStripped - r.fragmentsStripped
            t.neutralised = l.neutralised - r.neutralised
            return t
        }
        /// `standardised 12 molecules (fragments removed from 10, charges neutralised in 5)`.
        public var description: String {
            "standardised \(molecules) molecule\(molecules == 1 ? "" : "s") (fragments removed from \(fragmentsStripped), charges neutralised in \(neutralised))"
        }
    }

    /// The standardised molecule and what changed. A molecule whose neutralised form would fail the
    /// valence check keeps its charges (only the fragment choice applies).
    public static func standardize(_ graph: MolecularGraph) -> (graph: MolecularGraph, changes: Changes) {
        var changes = Changes()
        var result = graph
        let (component, count) = graph.componentLabels()
        if count > 1 {
            let best = largestFragment(graph, component: component, count: count)
            result = graph.fragment(component.map { $0 == best })
            changes.fragmentsRemoved = count - 1
        }
        var neutral = result
        let n = uncharge(&neutral)
        if n > 0 {
            // Changed hydrogens on ring atoms can change aromaticity (a ring carbocation taking a
            // hydrogen): perceive it again from the Kekulé orders, and check valences as the parser does.
            do throws(MoleculeError) {
                try neutral.perceiveAromaticity()
                try Perception.checkValences(neutral)
                if !neutral.doubleBonds.isEmpty {
                    neutral.doubleBonds.removeAll { neutral.bondFlags[Int($0.bond)].contains(.aromatic) }
                }
                result = neutral
                changes.atomsNeutralised = n
            } catch {}
        }
        return (result, changes)
    }

    // MARK: - Largest fragment

    static func largestFragment(_ graph: MolecularGraph, component: [Int32], count: Int) -> Int32 {
        var organic = [Bool](repeating: false, count: count)
        var atoms = [Int](repeating: 0, count: count)
        var weight = [Int](repeating: 0, count: count)  // RDKit's score × 10, exact in integers
        for i in 0..<graph.atomCount {
            let c = Int(component[i])
            if graph.atomicNumbers[i] == 6 { organic[c] = true }
            atoms[c] += 1 + Int(graph.hydrogenCounts[i])
            weight[c] += 1000 * Int(graph.atomicNumbers[i]) + 10 * Int(graph.isotopes[i]) - Int(graph.formalCharges[i]) + 10 * Int(graph.hydrogenCounts[i])
        }
        var best = 0
        var bestSMILES: String? = nil
        func smiles(_ c: Int) -> String { graph.fragment(component.map { $0 == Int32(c) }).canonicalSMILES() }
        for c in 1..<count {
            let key = (organic[c] ? 1 : 0, atoms[c], weight[c]), bestKey = (organic[best] ? 1 : 0, atoms[best], weight[best])
            if key > bestKey {
                best = c; bestSMILES = nil
            } else if key == bestKey {
                let s = smiles(c)
                let b = bestSMILES ?? smiles(best)
                if s < b { best = c; bestSMILES = s } else { bestSMILES = b }
            }
        }
        return Int32(best)
    }

    // MARK: - Neutralising (RDKit's Uncharger)

    /// Elements left of carbon in RDKit's sense (`isEarlyAtom`): groups 1, 2, 13 and the transition
    /// metals, plus Ge, Sn, Pb, Sb, Bi. A negative charge on them is removed by taking a hydrogen off.
    static func isEarly(_ z: Int) -> Bool {
        switch z {
        case 3, 4, 5, 11, 12, 13: return true
        case 19...32, 37...51, 55...83: return true
        case 87...112: return true
        default: return false
        }
    }

    /// Neutralises in place; returns the number of charges removed.
    static func uncharge(_ g: inout MolecularGraph) -> Int {
        let n = g.atomCount
        func neighbours(_ i: Int) -> Range<Int> { Int(g.neighbourOffsets[i])..<Int(g.neighbourOffsets[i + 1]) }
        func negativeNeighbours(_ i: Int) -> Int { neighbours(i).reduce(0) { $0 + (g.formalCharges[Int(g.neighbourAtoms[$1])] == -1 ? 1 : 0) } }
        func hasPositiveNeighbour(_ i: Int) -> Bool { neighbours(i).contains { g.formalCharges[Int(g.neighbourAtoms[$0])] > 0 } }
        guard g.formalCharges.contains(where: { $0 != 0 }) else { return 0 }

        // Positive atoms with hydrogens (not balanced by one neighbouring anion) can lose them; positive
        // atoms without hydrogens and without a neighbouring anion cannot be neutralised.
        var removablePositive: [Int] = []
        var fixedPositive = 0
        for i in 0..<n where g.formalCharges[i] > 0 && g.formalCharges[i] <= 4 {
            let negatives = negativeNeighbours(i)
            if g.hydrogenCounts[i] > 0 && (negatives == 0 || negatives >= 2) {
                removablePositive.append(i)
            } else if g.hydrogenCounts[i] == 0 && negatives == 0 {
                fixedPositive += Int(g.formalCharges[i])
            }
        }
        // Anions: those not next to a cation, and acid anions (even next to their own cation).
        var isAcid = [Bool](repeating: false, count: n)
        var acids: [Int] = [], others: [Int] = []
        for i in 0..<n where g.formalCharges[i] == -1 {
            if isAcidAnion(g, i) { isAcid[i] = true; acids.append(i) }
        }
        for i in 0..<n where g.formalCharges[i] == -1 && !hasPositiveNeighbour(i) && !isAcid[i] { others.append(i) }
        // Acid anions whose negative charge balances a neighbouring cation of their own group (nitrate's
        // first O−) are left; at most as many per cation as its charge.
        var skip = [Int](repeating: 0, count: n)
        for i in acids {
            for k in neighbours(i) {
                let w = Int(g.neighbourAtoms[k])
                let charge = Int(g.formalCharges[w])
                if charge > 0 {
                    if skip[w] < charge { skip[w] += 1; skip[i] = 1 }
                    break
                }
            }
        }
        var negatives = others
        if fixedPositive > 0 && !(negatives.isEmpty && acids.isEmpty) {
            // Which anions stay must not depend on atom order.
            let ranks = g.canonicalRanks()
            negatives.sort { ranks[$0] < ranks[$1] }
            acids.sort { ranks[$0] < ranks[$1] }
        }
        negatives += acids.filter { skip[$0] == 0 }

        var removed = 0
        // As RDKit: the surplus is the anion count minus the fixed positive charge; any non-zero
        // surplus starts the loop, which stops when it reaches zero.
        var surplus = negatives.count - fixedPositive
        if surplus != 0 {
            for i in negatives {
                let z = Int(g.atomicNumbers[i])
                if isEarly(z) {
                    guard g.hydrogenCounts[i] > 0 else { continue }
                    g.hydrogenCounts[i] -= 1
                } else {
                    g.hydrogenCounts[i] &+= 1
                }
                g.formalCharges[i] += 1
                removed += 1
                surplus -= 1
                if surplus == 0 { break }
            }
        }
        var net = g.formalCharges.reduce(0) { $0 + Int($1) }
        if net > 0 {
            for i in removablePositive {
                while g.formalCharges[i] > 0 && net > 0 {
                    let z = Int(g.atomicNumbers[i])
                    if z == 6 || isEarly(z) {
                        g.hydrogenCounts[i] &+= 1
                    } else if g.hydrogenCounts[i] > 0 {
                        g.hydrogenCounts[i] -= 1
                    } else {
                        break
                    }
                    g.formalCharges[i] -= 1
                    net -= 1
                    removed += 1
                }
                if net == 0 { break }
            }
        }
        return removed
    }

    /// RDKit's acid anions: O−/S− on a neutral C or S that has a double bond to O/S (carboxylates,
    /// carbonates, sulfonates and thio analogues); O−/S− on N+/P+ with =O/S and another O−/S−
    /// (nitrate, phosphonate); O− on a positive Cl/Br/I that has another O− (halates); the anionic N of
    /// a tetrazole.
    static func isAcidAnion(_ g: MolecularGraph, _ i: Int) -> Bool {
        let z = g.atomicNumbers[i]
        func neighbours(_ a: Int) -> [(atom: Int, bond: Int)] {
            (Int(g.neighbourOffsets[a])..<Int(g.neighbourOffsets[a + 1])).map { (Int(g.neighbourAtoms[$0]), Int(g.neighbourBonds[$0])) }
        }
        func isDouble(_ b: Int) -> Bool { g.bondOrders[b] == 2 && !g.bondFlags[b].contains(.aromatic) }
        if z == 8 || z == 16 {
            guard g.formalCharges[i] == -1 else { return false }
            for (c, b) in neighbours(i) where !isDouble(b) && g.bondOrders[b] == 1 {
                let cz = g.atomicNumbers[c], charge = g.formalCharges[c]
                let others = neighbours(c).filter { $0.atom != i }
                if (cz == 6 || cz == 16) && charge == 0,
                   others.contains(where: { isDouble($0.bond) && (g.atomicNumbers[$0.atom] == 8 || g.atomicNumbers[$0.atom] == 16) }) {
                    return true
                }
                if (cz == 7 || cz == 15) && charge == 1,
                   others.contains(where: { isDouble($0.bond) && (g.atomicNumbers[$0.atom] == 8 || g.atomicNumbers[$0.atom] == 16) }),
                   others.contains(where: { g.bondOrders[$0.bond] == 1 && !g.bondFlags[$0.bond].contains(.aromatic)
                       && (g.atomicNumbers[$0.atom] == 8 || g.atomicNumbers[$0.atom] == 16) && g.formalCharges[$0.atom] == -1 }) {
                    return true
                }
                if z == 8, (cz == 17 || cz == 35 || cz == 53), charge >= 1 && charge <= 3,
                   others.contains(where: { g.atomicNumbers[$0.atom] == 8 && g.formalCharges[$0.atom] == -1 && g.bondOrders[$0.bond] == 1 }) {
                    return true
                }
            }
            return false
        }
        if z == 7, g.formalCharges[i] == -1, g.atomFlags[i].contains(.aromatic) {
            // [n-]1nnnc1 or [n-]1ncnn1: a five-membered aromatic ring of four N and one C.
            return isTetrazoleN(g, i)
        }
        return false
    }

    private static func isTetrazoleN(_ g: MolecularGraph, _ i: Int) -> Bool {
        // Walk the five-membered aromatic rings through atom i.
        func aromaticNeighbours(_ a: Int) -> [Int] {
            (Int(g.neighbourOffsets[a])..<Int(g.neighbourOffsets[a + 1])).compactMap {
                g.bondFlags[Int(g.neighbourBonds[$0])].contains(.aromatic) ? Int(g.neighbourAtoms[$0]) : nil
            }
        }
        for a in aromaticNeighbours(i) {
            for b in aromaticNeighbours(a) where b != i {
                for c in aromaticNeighbours(b) where c != a && c != i {
                    for d in aromaticNeighbours(c) where d != b && d != a && d != i && aromaticNeighbours(d).contains(i) {
                        let ring = [i, a, b, c, d]
                        let carbons = ring.filter { g.atomicNumbers[$0] == 6 }.count
                        let nitrogens = ring.filter { g.atomicNumbers[$0] == 7 }.count
                        if carbons == 1 && nitrogens == 4 { return true }
                    }
                }
            }
        }
        return false
    }
}

extension MolecularGraph {
    /// Connected component of each atom (numbered in order of their lowest atom) and their count.
    public func componentLabels() -> (labels: [Int32], count: Int) {
        var labels = [Int32](repeating: -1, count: atomCount)
        var count: Int32 = 0
        var stack: [Int] = []
        for start in 0..<atomCount where labels[start] < 0 {
            labels[start] = count
            stack.append(start)
            while let a = stack.popLast() {
                for k in Int(neighbourOffsets[a])..<Int(neighbourOffsets[a + 1]) {
                    let w = Int(neighbourAtoms[k])
                    if labels[w] < 0 { labels[w] = count; stack.append(w) }
                }
            }
            count += 1
        }
        return (labels, Int(count))
    }

    /// The atoms marked in `keep` (whole fragments: no bond to a dropped atom) as a molecule, atoms and
    /// bonds in their old relative order, so each atom's neighbour order and its stereo carry over.
    public func fragment(_ keep: [Bool]) -> MolecularGraph {
        var (graph, newIndex) = keptAtoms(keep)
        var newBond = [Int32](repeating: -1, count: bondCount)
        for b in 0..<bondCount where keep[Int(bondBegins[b])] && keep[Int(bondEnds[b])] {
            newBond[b] = Int32(graph.bondBegins.count)
            graph.bondBegins.append(newIndex[Int(bondBegins[b])])
            graph.bondEnds.append(newIndex[Int(bondEnds[b])])
            graph.bondOrders.append(bondOrders[b])
            graph.bondFlags.append(bondFlags[b])
        }
        graph.buildAdjacency()
        for c in tetrahedralCentres where keep[Int(c.atom)] {
            graph.tetrahedralCentres.append(TetrahedralCentre(atom: newIndex[Int(c.atom)], clockwise: c.clockwise))
        }
        for d in doubleBonds where newBond[Int(d.bond)] >= 0 {
            graph.doubleBonds.append(StereoDoubleBond(bond: newBond[Int(d.bond)], beginReference: newIndex[Int(d.beginReference)],
                                                      endReference: newIndex[Int(d.endReference)], cis: d.cis))
        }
        return graph
    }
}
