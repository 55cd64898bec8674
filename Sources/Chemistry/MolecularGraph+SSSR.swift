/// A ring as its atoms in path order and its bonds.
public struct Ring: Sendable, Hashable {
    public var atoms: [Int]
    public var bonds: [Int]
}

/// Rings as flat bit sets (ring r's atoms are words r·atomWords ..< (r+1)·atomWords), the form the
/// aromaticity perception works on without allocating per ring.
struct RingSet {
    var count = 0
    var atomWords = 1
    var bondWords = 1
    var atomBits: [UInt64] = []
    var bondBits: [UInt64] = []
    var sizes: [Int] = []

    @inline(__always) func hasAtom(_ ring: Int, _ atom: Int) -> Bool {
        atomBits[ring * atomWords + atom >> 6] & (1 << UInt64(atom & 63)) != 0
    }
}

extension MolecularGraph {
    /// The smallest set of smallest rings, symmetrised, in the order RDKit-like perception uses.
    public func smallestRings() -> [Ring] {
        let set = ringSet()
        return (0..<set.count).map { r in
            let bonds = (0..<bondCount).filter { set.bondBits[r * set.bondWords + $0 >> 6] & (1 << UInt64($0 & 63)) != 0 }
            // Walk the ring to list its atoms in path order.
            var atoms: [Int] = []
            if let first = bonds.first {
                var previousBond = first
                let start = Int(bondBegins[first])
                var current = Int(bondEnds[first])
                atoms.append(start)
                while current != start && atoms.count <= bonds.count {
                    atoms.append(current)
                    var next = -1
                    for k in Int(neighbourOffsets[current])..<Int(neighbourOffsets[current + 1]) {
                        let b = Int(neighbourBonds[k])
                        if b != previousBond, set.bondBits[r * set.bondWords + b >> 6] & (1 << UInt64(b & 63)) != 0 {
                            next = Int(neighbourAtoms[k]); previousBond = b; break
                        }
                    }
                    if next < 0 { break }
                    current = next
                }
            }
            return Ring(atoms: atoms, bonds: bonds)
        }
    }

    /// For every ring bond the shortest cycle through it is a candidate; candidates are taken by size
    /// (then discovery order) while independent over GF(2); dependent candidates of a size already
    /// taken are kept as well, as RDKit's symmetrised SSSR keeps equal-size alternatives (cubane's
    /// sixth face).
    func ringSet() -> RingSet {
        var set = RingSet()
        let n = atomCount, m = bondCount
        set.atomWords = max(1, (n + 63) / 64)
        set.bondWords = max(1, (m + 63) / 64)
        let bw = set.bondWords, aw = set.atomWords
        var previous = [Int32](repeating: -1, count: n)
        var previousBond = [Int32](repeating: -1, count: n)
        var queue = [Int32](repeating: 0, count: n)
        var ringBonds = 0
        for b in 0..<m where bondFlags[b].contains(.inRing) { ringBonds += 1 }
        var candidateBonds: [UInt64] = []
        var candidateAtoms: [UInt64] = []
        var candidateSizes: [Int] = []
        candidateBonds.reserveCapacity(ringBonds * bw)
        candidateAtoms.reserveCapacity(ringBonds * aw)
        candidateSizes.reserveCapacity(ringBonds)
        var cycleBonds = [UInt64](repeating: 0, count: bw)
        var cycleAtoms = [UInt64](repeating: 0, count: aw)
        for b in 0..<m where bondFlags[b].contains(.inRing) {
            let source = Int(bondBegins[b]), target = Int(bondEnds[b])
            for i in 0..<n { previous[i] = -1 }
            previous[source] = Int32(source)
            queue[0] = Int32(source)
            var head = 0, tail = 1
            var found = false
            search: while head < tail {
                let v = Int(queue[head]); head += 1
                for k in Int(neighbourOffsets[v])..<Int(neighbourOffsets[v + 1]) {
                    let w = Int(neighbourAtoms[k]), bond = Int(neighbourBonds[k])
                    if bond == b || previous[w] >= 0 || !bondFlags[bond].contains(.inRing) { continue }
                    previous[w] = Int32(v); previousBond[w] = Int32(bond)
                    if w == target { found = true; break search }
                    queue[tail] = Int32(w); tail += 1
                }
            }
            guard found else { continue }
            for w in 0..<bw { cycleBonds[w] = 0 }
            for w in 0..<aw { cycleAtoms[w] = 0 }
            cycleBonds[b >> 6] |= 1 << UInt64(b & 63)
            var v = target, size = 1
            cycleAtoms[v >> 6] |= 1 << UInt64(v & 63)
            while v != source {
                let bond = Int(previousBond[v])
                cycleBonds[bond >> 6] |= 1 << UInt64(bond & 63)
                v = Int(previous[v])
                cycleAtoms[v >> 6] |= 1 << UInt64(v & 63)
                size += 1
            }
            // Skip cycles already found (same bond set).
            var duplicate = false
            for c in 0..<candidateSizes.count where candidateSizes[c] == size {
                var equal = true
                for w in 0..<bw where candidateBonds[c * bw + w] != cycleBonds[w] { equal = false; break }
                if equal { duplicate = true; break }
            }
            if duplicate { continue }
            candidateBonds.append(contentsOf: cycleBonds)
            candidateAtoms.append(contentsOf: cycleAtoms)
            candidateSizes.append(size)
        }
        let count = candidateSizes.count
        guard count > 0 else { return set }
        // Stable order by size.
        var order = Array(0..<count)
        for x in 1..<max(count, 1) {
            let item = order[x]
            var y = x
            while y > 0, candidateSizes[order[y - 1]] > candidateSizes[item] { order[y] = order[y - 1]; y -= 1 }
            order[y] = item
        }
        // Gaussian elimination over GF(2) on bond vectors; basis rows stay reduced on their pivots.
        var basis: [UInt64] = []
        var pivots: [Int] = []
        var takenSizes: [Int] = []
        basis.reserveCapacity(count * bw)
        pivots.reserveCapacity(count)
        takenSizes.reserveCapacity(count)
        set.bondBits.reserveCapacity(count * bw)
        set.atomBits.reserveCapacity(count * aw)
        set.sizes.reserveCapacity(count)
        var vector = [UInt64](repeating: 0, count: bw)
        for c in order {
            for w in 0..<bw { vector[w] = candidateBonds[c * bw + w] }
            for (row, pivot) in pivots.enumerated() where vector[pivot >> 6] & (1 << UInt64(pivot & 63)) != 0 {
                for w in 0..<bw { vector[w] ^= basis[row * bw + w] }
            }
            var pivot = -1
            for w in 0..<bw where vector[w] != 0 { pivot = w * 64 + vector[w].trailingZeroBitCount; break }
            let independent = pivot >= 0
            if independent {
                for row in 0..<pivots.count where basis[row * bw + pivot >> 6] & (1 << UInt64(pivot & 63)) != 0 {
                    for w in 0..<bw { basis[row * bw + w] ^= vector[w] }
                }
                basis.append(contentsOf: vector)
                pivots.append(pivot)
                takenSizes.append(candidateSizes[c])
            } else if !takenSizes.contains(candidateSizes[c]) {
                continue
            }
            set.bondBits.append(contentsOf: candidateBonds[(c * bw)..<((c + 1) * bw)])
            set.atomBits.append(contentsOf: candidateAtoms[(c * aw)..<((c + 1) * aw)])
            set.sizes.append(candidateSizes[c])
            set.count += 1
        }
        return set
    }
}
