/// Canonical atom order, canonical SMILES and a 128-bit structure key, computed in Swift on Winnow's
/// own graph (RDKit's aromaticity and charge conventions), so that equal structures give equal
/// strings whatever order their atoms were written in.
///
/// Ranks come from a partition refinement: atoms start in classes of (degree, element, isotope,
/// charge, hydrogens, aromaticity, radical, ring membership), ordered by that tuple; each round sorts
/// atoms by (class, stereo code, sorted list of (bond type, neighbour class)) and renumbers, until
/// no class splits. Stereo codes are the handedness of a tetrahedral centre relative to its
/// neighbours' classes (and of a stereo double bond relative to its ends' highest-ranked
/// neighbours), defined once those neighbours are in distinct classes. When refinement stops with
/// tied atoms, the first atom of the lowest tied class is set apart and refinement goes on, until
/// every atom has its own rank (ties left by refinement are, for molecules, symmetry-equivalent
/// atoms, so the choice does not change the result).
///
/// Cost: a few refinement rounds of sorting n atoms, then writing the renumbered graph — about the
/// cost of one SMILES write and a Morgan fingerprint, small next to parsing.
extension MolecularGraph {
    /// One rank per atom, 0..<atomCount, all distinct, independent of the input atom order.
    public func canonicalRanks() -> [Int32] {
        let n = atomCount
        guard n > 1 else { return n == 1 ? [0] : [] }
        // Initial classes from the atom's own properties, packed into one sortable word: degree,
        // element, isotope, charge, hydrogens, aromatic, radical, ring (in that order of significance).
        var atomKeys = [UInt64](repeating: 0, count: n)
        for i in 0..<n {
            var key = UInt64(min(degree(i), 255))
            key = key << 8 | UInt64(atomicNumbers[i])
            key = key << 16 | UInt64(isotopes[i])
            key = key << 8 | UInt64(UInt8(bitPattern: formalCharges[i] &+ 64))
            key = key << 8 | UInt64(min(totalHydrogens(i), 255))
            key = key << 1 | (atomFlags[i].contains(.aromatic) ? 1 : 0)
            key = key << 1 | (atomFlags[i].contains(.radical) ? 1 : 0)
            key = key << 1 | (atomFlags[i].contains(.inRing) ? 1 : 0)
            atomKeys[i] = key
        }
        var order = Array(0..<n)
        order.sort { atomKeys[$0] < atomKeys[$1] }
        var ranks = [Int32](repeating: 0, count: n)
        var classes = 0
        for (position, atom) in order.enumerated() {
            if position > 0, atomKeys[atom] != atomKeys[order[position - 1]] { classes += 1 }
            ranks[atom] = Int32(classes)
        }
        classes = refine(&ranks, classes: classes + 1)
        // Without stereo, atoms still tied after refinement are symmetry-equivalent for molecules:
        // any of them can be set apart. With stereo, setting apart one or the other can write the
        // same molecule two ways (meso compounds, cis/trans rings): each choice is tried and the one
        // with the smallest SMILES kept, within a budget of trial writes.
        var budget = hasStereo ? 64 : 0
        return completeRanks(ranks, classes: classes, budget: &budget)
    }

    /// Sets tied atoms apart until every atom has its own rank (see `canonicalRanks`).
    private func completeRanks(_ start: [Int32], classes startClasses: Int, budget: inout Int) -> [Int32] {
        let n = atomCount
        var ranks = start
        var classes = startClasses
        var count = [Int](repeating: 0, count: n)
        while classes < n {
            // The lowest class with more than one atom.
            for r in 0..<n { count[r] = 0 }
            for r in ranks { count[Int(r)] += 1 }
            guard let tiedRank = (0..<n).first(where: { count[$0] > 1 }) else { break }
            let members = (0..<n).filter { Int(ranks[$0]) == tiedRank }
            if budget > 0 {
                var best: (ranks: [Int32], smiles: String)? = nil
                for member in members.prefix(8) where budget > 0 {
                    budget -= 1
                    var trial = ranks
                    let trialClasses = refine(&trial, classes: setApart(member, in: &trial, classes: classes))
                    let full = completeRanks(trial, classes: trialClasses, budget: &budget)
                    let written = renumbered(full).smiles()
                    if let current = best, current.smiles <= written { continue }
                    best = (full, written)
                }
                if let best { return best.ranks }
            }
            classes = refine(&ranks, classes: setApart(members[0], in: &ranks, classes: classes))
        }
        return ranks
    }

    /// Gives `atom` a rank of its own just below the rest of its class (dense ranks stay dense);
    /// returns the class count.
    private func setApart(_ atom: Int, in ranks: inout [Int32], classes: Int) -> Int {
        let rank = ranks[atom]
        for i in 0..<ranks.count where ranks[i] > rank || (ranks[i] == rank && i != atom) { ranks[i] += 1 }
        return classes + 1
    }

    /// Refines `ranks` (dense classes, `classes` of them) until no class splits: atoms sorted by
    /// (class, stereo code, sorted (neighbour class, bond type) list). Returns the class count.
    private func refine(_ ranks: inout [Int32], classes start: Int) -> Int {
        let n = atomCount
        var classes = start
        let slots = neighbourAtoms.count
        // Bond type per neighbour slot (aromatic bonds share one code, whatever their Kekulé order).
        var codes = [UInt64](repeating: 0, count: slots)
        for k in 0..<slots {
            let b = Int(neighbourBonds[k])
            codes[k] = bondFlags[b].contains(.aromatic) ? 12 : UInt64(bondOrders[b])
        }
        // Each atom's sorted (neighbour class, bond type) words, in its own CSR slice.
        var signature = [UInt64](repeating: 0, count: slots)
        var stereo = [UInt8](repeating: 0, count: n)
        var order = Array(0..<n)
        var next = [Int32](repeating: 0, count: n)
        while true {
            computeStereoCodes(ranks: ranks, into: &stereo)
            for i in 0..<n {
                let lo = Int(neighbourOffsets[i]), hi = Int(neighbourOffsets[i + 1])
                for k in lo..<hi { signature[k] = UInt64(ranks[Int(neighbourAtoms[k])]) << 8 | codes[k] }
                if hi - lo > 1 { signature[lo..<hi].sort() }
            }
            // -1, 0, 1 for a before, equal to, after b.
            func compare(_ a: Int, _ b: Int) -> Int {
                if ranks[a] != ranks[b] { return ranks[a] < ranks[b] ? -1 : 1 }
                if stereo[a] != stereo[b] { return stereo[a] < stereo[b] ? -1 : 1 }
                let la = Int(neighbourOffsets[a]), ha = Int(neighbourOffsets[a + 1])
                let lb = Int(neighbourOffsets[b]), hb = Int(neighbourOffsets[b + 1])
                var x = la, y = lb
                while x < ha && y < hb {
                    if signature[x] != signature[y] { return signature[x] < signature[y] ? -1 : 1 }
                    x += 1; y += 1
                }
                return (ha - la) == (hb - lb) ? 0 : ((ha - la) < (hb - lb) ? -1 : 1)
            }
            order.sort { a, b in
                let c = compare(a, b)
                return c != 0 ? c < 0 : a < b
            }
            var count = 0
            for (position, atom) in order.enumerated() {
                if position > 0 && compare(order[position - 1], atom) != 0 { count += 1 }
                next[atom] = Int32(count)
            }
            count += 1
            swap(&ranks, &next)
            if count == classes { return classes }
            classes = count
        }
    }

    /// Stereo codes per atom for the current ranks: a tetrahedral centre is 1 or 2 (handedness seen
    /// with its neighbours sorted by rank, implicit hydrogen first) once its neighbours have distinct
    /// ranks, else 3; both ends of a stereo double bond are 4 (cis) or 5 (trans) for their
    /// highest-ranked neighbours once each end's neighbours are distinct, else 6.
    private func computeStereoCodes(ranks: [Int32], into codes: inout [UInt8]) {
        guard hasStereo else { return }
        for centre in tetrahedralCentres {
            let atom = Int(centre.atom)
            guard let refs = stereoReferences(of: atom) else { continue }
            func rank(_ r: Int32) -> Int32 { r < 0 ? -1 : ranks[Int(r)] }
            if Set(refs.map(rank)).count < refs.count { codes[atom] = 3; continue }
            let byRank = refs.sorted { rank($0) < rank($1) }
            guard let even = Self.isEvenPermutation(byRank, of: refs) else { continue }
            codes[atom] = even == centre.clockwise ? 1 : 2
        }
        for stereoBond in doubleBonds {
            let bond = Int(stereoBond.bond)
            let a = Int(bondBegins[bond]), b = Int(bondEnds[bond])
            // Highest-ranked neighbour of an end other than its partner, and whether it is the reference.
            func best(_ end: Int, _ partner: Int, _ reference: Int) -> (isReference: Bool, distinct: Bool)? {
                var top = -1, topRank: Int32 = -1, distinct = true
                for k in Int(neighbourOffsets[end])..<Int(neighbourOffsets[end + 1]) {
                    let w = Int(neighbourAtoms[k])
                    guard w != partner else { continue }
                    if ranks[w] == topRank { distinct = false }
                    if ranks[w] > topRank { top = w; topRank = ranks[w]; distinct = true }
                }
                return top < 0 ? nil : (top == reference, distinct)
            }
            guard let x = best(a, b, Int(stereoBond.beginReference)), let y = best(b, a, Int(stereoBond.endReference)) else { continue }
            let code: UInt8
            if !x.distinct || !y.distinct {
                code = 6
            } else {
                // Each end whose best neighbour is not the reference flips the relation.
                let cis = stereoBond.cis == (x.isReference == y.isReference)
                code = cis ? 4 : 5
            }
            codes[a] = code
            codes[b] = code
        }
    }

    /// The same molecule with atom i moved to position `newIndex[i]` (a permutation); bonds sorted by
    /// their new end atoms, stereo carried over (a centre's parity is relative to its neighbour order,
    /// which the renumbering changes).
    public func renumbered(_ newIndex: [Int32]) -> MolecularGraph {
        let n = atomCount
        var old = [Int](repeating: 0, count: n)
        for i in 0..<n { old[Int(newIndex[i])] = i }
        var graph = MolecularGraph()
        graph.atomicNumbers = old.map { atomicNumbers[$0] }
        graph.formalCharges = old.map { formalCharges[$0] }
        graph.isotopes = old.map { isotopes[$0] }
        graph.hydrogenCounts = old.map { hydrogenCounts[$0] }
        graph.deltaMasses = old.map { deltaMasses[$0] }
        graph.atomFlags = old.map { atomFlags[$0] }
        var bonds = (0..<bondCount).map { b -> (begin: Int32, end: Int32, old: Int) in
            let x = newIndex[Int(bondBegins[b])], y = newIndex[Int(bondEnds[b])]
            return (min(x, y), max(x, y), b)
        }
        bonds.sort { $0.begin != $1.begin ? $0.begin < $1.begin : $0.end < $1.end }
        var newBond = [Int32](repeating: 0, count: bondCount)
        for (index, bond) in bonds.enumerated() {
            newBond[bond.old] = Int32(index)
            graph.bondBegins.append(bond.begin)
            graph.bondEnds.append(bond.end)
            graph.bondOrders.append(bondOrders[bond.old])
            graph.bondFlags.append(bondFlags[bond.old])
        }
        graph.buildAdjacency()
        for centre in tetrahedralCentres {
            let atom = Int(centre.atom)
            guard let refs = stereoReferences(of: atom), let newRefs = graph.stereoReferences(of: Int(newIndex[atom])) else { continue }
            let mapped = refs.map { $0 < 0 ? Int32(-1) : newIndex[Int($0)] }
            guard let even = Self.isEvenPermutation(mapped, of: newRefs) else { continue }
            graph.tetrahedralCentres.append(TetrahedralCentre(atom: newIndex[atom], clockwise: even == centre.clockwise))
        }
        for d in doubleBonds {
            let bond = Int(newBond[Int(d.bond)])
            let x = newIndex[Int(d.beginReference)], y = newIndex[Int(d.endReference)]
            let forward = graph.bondBegins[bond] == newIndex[Int(bondBegins[Int(d.bond)])]
            // References become each end's lowest-numbered neighbour (the other one of an sp2 end sits
            // on the other side), so the written bond symbols depend on the new order alone.
            let a = Int(graph.bondBegins[bond]), b = Int(graph.bondEnds[bond])
            var cis = d.cis
            func lowest(_ end: Int, _ partner: Int, _ reference: Int32) -> Int32 {
                var best = reference
                for k in Int(graph.neighbourOffsets[end])..<Int(graph.neighbourOffsets[end + 1]) {
                    let w = graph.neighbourAtoms[k]
                    if Int(w) != partner && w < best { best = w }
                }
                if best != reference { cis.toggle() }
                return best
            }
            let rx = lowest(a, b, forward ? x : y), ry = lowest(b, a, forward ? y : x)
            graph.doubleBonds.append(StereoDoubleBond(bond: Int32(bond), beginReference: rx, endReference: ry, cis: cis))
        }
        graph.tetrahedralCentres.sort { $0.atom < $1.atom }
        graph.doubleBonds.sort { $0.bond < $1.bond }
        return graph
    }

    /// Canonical SMILES: the SMILES writer's output for the atoms in canonical order (each fragment
    /// starts at its lowest-ranked atom and branches follow rank order). Stereo is kept. Equal
    /// structures (same graph, charges, isotopes, hydrogens and stereo) give equal strings.
    public func canonicalSMILES() -> String {
        guard atomCount > 1 else { return smiles() }
        return renumbered(canonicalRanks()).smiles()
    }

    /// Canonical SMILES of the Bemis–Murcko scaffold ("" for acyclic molecules): the scaffold's atoms
    /// taken out as a molecule of their own (removed neighbours become hydrogens), then written canonically.
    public func canonicalScaffoldSMILES() -> String {
        let keep = murckoScaffoldAtoms()
        guard keep.contains(true) else { return "" }
        return cappedSubgraph(keeping: keep).canonicalSMILES()
    }

    /// The atoms marked in `keep` as a molecule of their own: a bond to a dropped atom becomes that
    /// many hydrogens on the kept end (as `smiles(keeping:)` writes them). Stereo is dropped (as the
    /// scaffold writer does).
    public func cappedSubgraph(keeping keep: [Bool]) -> MolecularGraph {
        var (graph, newIndex) = keptAtoms(keep)
        for b in 0..<bondCount {
            let a = Int(bondBegins[b]), c = Int(bondEnds[b])
            switch (keep[a], keep[c]) {
            case (true, true):
                graph.bondBegins.append(newIndex[a])
                graph.bondEnds.append(newIndex[c])
                graph.bondOrders.append(bondOrders[b])
                graph.bondFlags.append(bondFlags[b])
            case (true, false):
                graph.hydrogenCounts[Int(newIndex[a])] &+= bondOrders[b]
            case (false, true):
                graph.hydrogenCounts[Int(newIndex[c])] &+= bondOrders[b]
            default: break
            }
        }
        graph.buildAdjacency()
        return graph
    }

    /// The atoms marked in `keep`, in order, as a graph without bonds, and each old atom's new index
    /// (-1 when dropped): the shared first step of `cappedSubgraph` and `fragment`.
    func keptAtoms(_ keep: [Bool]) -> (graph: MolecularGraph, newIndex: [Int32]) {
        var newIndex = [Int32](repeating: -1, count: atomCount)
        var graph = MolecularGraph()
        for i in 0..<atomCount where keep[i] {
            newIndex[i] = Int32(graph.atomicNumbers.count)
            graph.atomicNumbers.append(atomicNumbers[i])
            graph.formalCharges.append(formalCharges[i])
            graph.isotopes.append(isotopes[i])
            graph.hydrogenCounts.append(hydrogenCounts[i])
            graph.deltaMasses.append(deltaMasses[i])
            graph.atomFlags.append(atomFlags[i])
        }
        return (graph, newIndex)
    }

    /// A 128-bit key of the structure in canonical order: equal for equal structures (it follows the
    /// canonical SMILES: the same atoms, bonds and stereo in the same canonical numbering), for dedupe
    /// in bounded memory. Hashed from the canonically numbered graph directly (each atom's element,
    /// isotope, charge, hydrogens, degree and flags with its stereo code relative to the final ranks,
    /// then every bond as (rank, rank, type)) instead of writing the SMILES, which costs as much again.
    public func canonicalKey() -> StructureKey {
        let n = atomCount
        let ranks = canonicalRanks()
        var byRank = [Int](repeating: 0, count: n)
        for i in 0..<n { byRank[Int(ranks[i])] = i }
        var stereo = [UInt8](repeating: 0, count: n)
        computeStereoCodes(ranks: ranks, into: &stereo)
        var words: [UInt64] = []
        words.reserveCapacity(2 + 2 * n + bondCount)
        words.append(UInt64(n))
        words.append(UInt64(bondCount))
        for i in byRank {
            // Two words an atom, so no field is shifted out: element and isotope (24 bits), then charge,
            // hydrogens, degree, flags and stereo code (8 + 8 + 32 + 8 + 8 bits).
            words.append(UInt64(atomicNumbers[i]) << 16 | UInt64(isotopes[i]))
            var word = UInt64(UInt8(bitPattern: formalCharges[i]))
            word = word << 8 | UInt64(hydrogenCounts[i])
            word = word << 32 | UInt64(UInt32(clamping: degree(i)))
            word = word << 8 | UInt64(atomFlags[i].rawValue)
            word = word << 8 | UInt64(stereo[i])
            words.append(word)
        }
        var bonds = (0..<bondCount).map { b -> UInt64 in
            let x = UInt64(ranks[Int(bondBegins[b])]), y = UInt64(ranks[Int(bondEnds[b])])
            let code: UInt64 = bondFlags[b].contains(.aromatic) ? 12 : UInt64(bondOrders[b])
            // Ranks below 2^28 (atom counts are limited far below that): 28 + 28 + 8 bits.
            return min(x, y) << 36 | max(x, y) << 8 | code << 1 | (bondFlags[b].contains(.dative) ? 1 : 0)
        }
        bonds.sort()
        words += bonds
        return StructureKey(words: words)
    }
}

/// 128 bits identifying a structure (see `MolecularGraph.canonicalKey()`); deterministic across
/// runs and platforms (no `Hasher` seed). Two different structures share a key with probability
/// about 2^-128 per pair for a good hash: far below anything a library of millions can meet.
public struct StructureKey: Hashable, Sendable, Codable, Comparable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }

    /// Two independent 64-bit hashes of the words (FNV-1a style multiply-xor and a multiply-rotate
    /// stream), each finished with splitmix64's mixer.
    public init(words: [UInt64]) {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x8422_2325_cbf2_9ce4
        for w in words {
            a = (a ^ w) &* 0x0000_0100_0000_01b3
            a ^= a >> 32
            b = (b &+ w) &* 0x9e37_79b9_7f4a_7c15
            b = (b << 27) | (b >> 37)
        }
        high = Self.mix(a)
        low = Self.mix(b ^ UInt64(words.count))
    }

    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    public static func < (l: StructureKey, r: StructureKey) -> Bool { (l.high, l.low) < (r.high, r.low) }

    public var hex: String {
        func pad(_ x: UInt64) -> String { let s = String(x, radix: 16); return String(repeating: "0", count: 16 - s.count) + s }
        return pad(high) + pad(low)
    }
}
