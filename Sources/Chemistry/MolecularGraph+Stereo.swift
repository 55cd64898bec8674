/// Stereochemistry kept on the graph in a form that does not depend on how the molecule was written.
///
/// - A tetrahedral centre stores its parity relative to the graph's own neighbour order: take the
///   centre's neighbours in `neighbourAtoms` order and, when it has three neighbours, its implicit
///   hydrogen (or lone pair) as a fourth, last. Seen from the first of these four, the other three
///   turn clockwise or anticlockwise. This is the meaning of RDKit's CW/CCW chiral tag (relative to
///   the atom's bond order, implicit H last).
/// - A stereo double bond stores one neighbour of each end (`beginReference` on `bondBegins[bond]`,
///   `endReference` on `bondEnds[bond]`) and whether those two are cis (same side) or trans.
///
/// Both lists are sorted (by atom, by bond) and empty for molecules without defined stereo. They
/// are filled from SMILES (`@`, `@@`, `/`, `\`) and from molfiles (wedges with 2D coordinates, 3D
/// coordinates, atom parities) through Open Babel's stereo perception.
extension MolecularGraph {
    public struct TetrahedralCentre: Sendable, Hashable {
        public var atom: Int32
        /// Seen from the first neighbour (graph order, implicit H last), the others turn clockwise.
        public var clockwise: Bool
        public init(atom: Int32, clockwise: Bool) { self.atom = atom; self.clockwise = clockwise }
    }

    public struct StereoDoubleBond: Sendable, Hashable {
        public var bond: Int32
        /// A neighbour of `bondBegins[bond]` other than its double-bond partner.
        public var beginReference: Int32
        /// A neighbour of `bondEnds[bond]` other than its double-bond partner.
        public var endReference: Int32
        /// The two references are on the same side of the double bond.
        public var cis: Bool
        public init(bond: Int32, beginReference: Int32, endReference: Int32, cis: Bool) {
            self.bond = bond; self.beginReference = beginReference; self.endReference = endReference; self.cis = cis
        }
    }

    /// The four stereo references of a centre in the order its parity refers to: its neighbours in
    /// graph order, then -1 for the implicit hydrogen or lone pair when it has three neighbours.
    /// Nil when the atom cannot be a tetrahedral centre (fewer than three or more than four
    /// neighbours, or two hydrogens).
    public func stereoReferences(of atom: Int) -> [Int32]? {
        let range = Int(neighbourOffsets[atom])..<Int(neighbourOffsets[atom + 1])
        let hydrogens = Int(hydrogenCounts[atom])
        switch (range.count, hydrogens) {
        case (4, 0): return Array(neighbourAtoms[range])
        case (3, 0), (3, 1): return Array(neighbourAtoms[range]) + [-1]
        default: return nil
        }
    }

    /// True when `sequence` is an even permutation of `reference` (same elements, all distinct).
    /// Nil when the two are not permutations of each other.
    static func isEvenPermutation(_ sequence: [Int32], of reference: [Int32]) -> Bool? {
        guard sequence.count == reference.count else { return nil }
        var positions = [Int](repeating: 0, count: sequence.count)
        for (i, x) in sequence.enumerated() {
            guard let j = reference.firstIndex(of: x), !positions[..<i].contains(j + 1) else { return nil }
            positions[i] = j + 1
        }
        // Count inversions (n ≤ 4).
        var inversions = 0
        for i in 0..<positions.count { for j in (i + 1)..<positions.count where positions[i] > positions[j] { inversions += 1 } }
        return inversions % 2 == 0
    }

    /// Adds a centre given as "seen from refs[0], refs[1...3] turn clockwise" (-1 = implicit H or
    /// lone pair). Returns false (and adds nothing) when the references are not the atom's.
    @discardableResult
    mutating func addTetrahedralCentre(atom: Int, seenFromFirstClockwise refs: [Int32]) -> Bool {
        guard let reference = stereoReferences(of: atom),
              let even = Self.isEvenPermutation(refs, of: reference) else { return false }
        tetrahedralCentres.append(TetrahedralCentre(atom: Int32(atom), clockwise: even))
        return true
    }

    /// The bond between two atoms, if any.
    public func bond(between a: Int, _ b: Int) -> Int? {
        for k in Int(neighbourOffsets[a])..<Int(neighbourOffsets[a + 1]) where Int(neighbourAtoms[k]) == b {
            return Int(neighbourBonds[k])
        }
        return nil
    }

    /// Adds a double bond's geometry given by any neighbours of its two ends. The stored references
    /// are the lowest-numbered neighbours, so equal molecules in equal atom order compare equal.
    /// Returns false when the bond is not a non-aromatic double bond or a reference is not a neighbour.
    @discardableResult
    mutating func addStereoDoubleBond(_ a: Int, _ b: Int, referenceOfA x: Int, referenceOfB y: Int, cis: Bool) -> Bool {
        guard let bond = bond(between: a, b), bondOrders[bond] == 2, !bondFlags[bond].contains(.aromatic),
              x != b, y != a, self.bond(between: a, x) != nil, self.bond(between: b, y) != nil else { return false }
        var isCis = cis
        func lowest(_ end: Int, _ partner: Int, _ ref: Int) -> Int {
            var best = ref
            for k in Int(neighbourOffsets[end])..<Int(neighbourOffsets[end + 1]) {
                let n = Int(neighbourAtoms[k])
                if n != partner && n < best { best = n }
            }
            if best != ref { isCis.toggle() }  // the other neighbour of an sp2 end sits on the other side
            return best
        }
        let rx = lowest(a, b, x), ry = lowest(b, a, y)
        let forward = Int(bondBegins[bond]) == a
        doubleBonds.append(StereoDoubleBond(bond: Int32(bond), beginReference: Int32(forward ? rx : ry),
                                            endReference: Int32(forward ? ry : rx), cis: isCis))
        return true
    }

    /// Atoms in the smallest ring through `bond` (nil when the bond is in no ring within `limit`).
    func smallestRingSize(through bond: Int, limit: Int) -> Int? {
        let a = Int(bondBegins[bond]), b = Int(bondEnds[bond])
        var distance: [Int: Int] = [a: 0]
        var frontier = [a]
        while !frontier.isEmpty {
            var next: [Int] = []
            for v in frontier {
                let d = distance[v] ?? 0
                guard d + 1 < limit else { continue }
                for k in Int(neighbourOffsets[v])..<Int(neighbourOffsets[v + 1]) where Int(neighbourBonds[k]) != bond {
                    let w = Int(neighbourAtoms[k])
                    if w == b { return d + 2 }
                    if distance[w] == nil { distance[w] = d + 1; next.append(w) }
                }
            }
            frontier = next
        }
        return nil
    }

    /// Sorts the stereo lists and drops duplicates, after all units were added. Double bonds in
    /// rings of fewer than 8 atoms lose their geometry (it is fixed by the ring, as RDKit treats it;
    /// Open Babel reads one from 2D coordinates). Needs ring membership perceived.
    mutating func finishStereo() {
        let fixedByRing = doubleBonds.filter { d in
            bondFlags[Int(d.bond)].contains(.inRing) && smallestRingSize(through: Int(d.bond), limit: 8) != nil
        }.map(\.bond)
        if !fixedByRing.isEmpty { doubleBonds.removeAll { fixedByRing.contains($0.bond) } }
        tetrahedralCentres.sort { $0.atom < $1.atom }
        doubleBonds.sort { $0.bond < $1.bond }
        var seenAtoms = Set<Int32>(), seenBonds = Set<Int32>()
        tetrahedralCentres.removeAll { !seenAtoms.insert($0.atom).inserted }
        doubleBonds.removeAll { !seenBonds.insert($0.bond).inserted }
    }

    public var hasStereo: Bool { !tetrahedralCentres.isEmpty || !doubleBonds.isEmpty }

    // MARK: - Invariant view (for features that must not depend on atom order)

    /// Ranks of atoms that depend only on the molecule, not on its atom order: classes refined from
    /// element, degree, hydrogens, charge, isotope and aromaticity by the ranks of neighbours and the
    /// bond types to them, until the partition stops splitting. Symmetry-equivalent atoms share a rank.
    public func invariantRanks() -> [Int32] {
        let n = atomCount
        func bondCode(_ b: Int) -> Int { bondFlags[b].contains(.aromatic) ? 12 : Int(bondOrders[b]) }
        var keys: [[Int]] = (0..<n).map { i in
            [Int(atomicNumbers[i]), degree(i), totalHydrogens(i), Int(formalCharges[i]), Int(isotopes[i]),
             atomFlags[i].contains(.aromatic) ? 1 : 0]
        }
        var ranks = [Int32](repeating: 0, count: n)
        var classes = 0
        while true {
            let sorted = Array(Set(keys.map { $0 })).sorted { $0.lexicographicallyPrecedes($1) }
            var index: [[Int]: Int32] = [:]
            for (r, key) in sorted.enumerated() { index[key] = Int32(r) }
            for i in 0..<n { ranks[i] = index[keys[i]] ?? 0 }
            if sorted.count == classes { return ranks }
            classes = sorted.count
            keys = (0..<n).map { i in
                var around: [Int] = []
                for k in Int(neighbourOffsets[i])..<Int(neighbourOffsets[i + 1]) {
                    around.append(bondCode(Int(neighbourBonds[k])) * (n + 1) + Int(ranks[Int(neighbourAtoms[k])]))
                }
                return [Int(ranks[i])] + around.sorted()
            }
        }
    }

    /// Handedness of each tetrahedral centre relative to its neighbours ordered by `invariantRanks()`
    /// (implicit hydrogen or lone pair first): 1 clockwise, 2 anticlockwise, 3 when two neighbours
    /// share a rank (the centre's handedness is then not a property of the atom alone, e.g. in
    /// cis-1,4-dimethylcyclohexane), 0 for atoms that are not centres. Equal for any atom order.
    public func invariantChirality() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: atomCount)
        guard !tetrahedralCentres.isEmpty else { return out }
        let ranks = invariantRanks()
        for centre in tetrahedralCentres {
            let atom = Int(centre.atom)
            guard let refs = stereoReferences(of: atom) else { continue }
            let keyed = refs.map { $0 < 0 ? Int32(-1) : ranks[Int($0)] }
            if Set(keyed).count < 4 { out[atom] = 3; continue }
            let byRank = refs.sorted { ($0 < 0 ? -1 : ranks[Int($0)]) < ($1 < 0 ? -1 : ranks[Int($1)]) }
            guard let even = Self.isEvenPermutation(byRank, of: refs) else { continue }
            out[atom] = (even == centre.clockwise) ? 1 : 2
        }
        return out
    }
}
