/// A ring as its atoms in path order and its bonds.
public struct Ring: Sendable, Hashable {
    public var atoms: [Int]
    public var bonds: [Int]
}

extension MolecularGraph {
    /// The smallest set of smallest rings, symmetrised: for every ring bond the shortest cycle
    /// through it is a candidate; candidates are taken by size while they are independent (over
    /// GF(2)) until the cycle rank is reached; dependent candidates no larger than the largest ring
    /// taken are kept too, as RDKit's symmetrised SSSR keeps equal-size alternatives (cubane's
    /// sixth face).
    public func smallestRings() -> [Ring] {
        let ringBonds = (0..<bondCount).filter { bondFlags[$0].contains(.inRing) }
        guard !ringBonds.isEmpty else { return [] }
        // Cycle rank = bonds − atoms + components, over the ring part of the graph.
        var ringAtoms = Set<Int>()
        for b in ringBonds { ringAtoms.insert(Int(bondBegins[b])); ringAtoms.insert(Int(bondEnds[b])) }
        var parent = Array(0..<atomCount)
        func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
        for b in ringBonds { let a = find(Int(bondBegins[b])), c = find(Int(bondEnds[b])); if a != c { parent[a] = c } }
        let components = Set(ringAtoms.map { find($0) }).count
        let rank = ringBonds.count - ringAtoms.count + components

        var candidates: [Ring] = []
        var keys = Set<[Int]>()
        var previous = [Int](repeating: -1, count: atomCount)
        var previousBond = [Int](repeating: -1, count: atomCount)
        for b in ringBonds {
            let source = Int(bondBegins[b]), target = Int(bondEnds[b])
            for i in 0..<atomCount { previous[i] = -1 }
            previous[source] = source
            var queue = [source]
            var head = 0
            var found = false
            while head < queue.count && !found {
                let v = queue[head]; head += 1
                for k in Int(neighbourOffsets[v])..<Int(neighbourOffsets[v + 1]) {
                    let w = Int(neighbourAtoms[k]), bond = Int(neighbourBonds[k])
                    guard bond != b, bondFlags[bond].contains(.inRing), previous[w] < 0 else { continue }
                    previous[w] = v; previousBond[w] = bond
                    if w == target { found = true; break }
                    queue.append(w)
                }
            }
            guard found else { continue }
            var atoms = [target]
            var bonds = [b]
            var v = target
            while v != source { bonds.append(previousBond[v]); v = previous[v]; atoms.append(v) }
            let key = bonds.sorted()
            if keys.insert(key).inserted { candidates.append(Ring(atoms: atoms.reversed(), bonds: bonds)) }
        }
        // Stable by size, then discovery order.
        let ordered = candidates.enumerated().sorted { ($0.element.atoms.count, $0.offset) < ($1.element.atoms.count, $1.offset) }.map { $0.element }
        let words = (bondCount + 63) / 64
        var basis: [(pivot: Int, vector: [UInt64])] = []
        var chosen: [Ring] = []
        var rejected: [Ring] = []
        for ring in ordered {
            var vector = [UInt64](repeating: 0, count: words)
            for b in ring.bonds { vector[b >> 6] |= 1 << UInt64(b & 63) }
            for (pivot, row) in basis where vector[pivot >> 6] & (1 << UInt64(pivot & 63)) != 0 {
                for w in 0..<words { vector[w] ^= row[w] }
            }
            if let w = vector.firstIndex(where: { $0 != 0 }) {
                let pivot = w * 64 + vector[w].trailingZeroBitCount
                // Keep rows reduced on their pivots.
                for i in basis.indices where basis[i].vector[pivot >> 6] & (1 << UInt64(pivot & 63)) != 0 {
                    for x in 0..<words { basis[i].vector[x] ^= vector[x] }
                }
                basis.append((pivot, vector))
                chosen.append(ring)
            } else {
                rejected.append(ring)
            }
        }
        let largest = chosen.map { $0.atoms.count }.max() ?? 0
        _ = rank
        for ring in rejected where ring.atoms.count <= largest && chosen.contains(where: { $0.atoms.count == ring.atoms.count }) {
            chosen.append(ring)
        }
        return chosen
    }
}
