extension MolecularGraph {
    /// The ring count RDKit's `CalcNumRings` reports: its symmetrised SSSR, which keeps equal-size
    /// alternatives of the smallest rings (bicyclo[2.2.2]octane has 3 rings, cubane 6). Candidates
    /// are all shortest cycles through each ring bond (at most 64 per bond); they are taken by size
    /// while independent over GF(2), and a dependent candidate is kept when rings of its size were
    /// already taken (bridged, cage and macrocycle alternatives; a few cages and macrocycles still
    /// differ from RDKit, see the parity exceptions).
    public func symmetrizedRingCount() -> Int {
        let n = atomCount, m = bondCount
        let words = max(1, (m + 63) / 64)
        var candidates: [[UInt64]] = []
        var sizes: [Int] = []
        var seen = Swift.Set<[UInt64]>()
        var distance = [Int](repeating: -1, count: n)
        var queue = [Int](repeating: 0, count: n)
        for b in 0..<m where bondFlags[b].contains(.inRing) {
            let source = Int(bondBegins[b]), target = Int(bondEnds[b])
            for i in 0..<n { distance[i] = -1 }
            distance[source] = 0
            queue[0] = source
            var head = 0, tail = 1
            while head < tail, distance[target] < 0 {
                let v = queue[head]; head += 1
                for k in Int(neighbourOffsets[v])..<Int(neighbourOffsets[v + 1]) {
                    let w = Int(neighbourAtoms[k]), bond = Int(neighbourBonds[k])
                    if bond == b || distance[w] >= 0 || !bondFlags[bond].contains(.inRing) { continue }
                    distance[w] = distance[v] + 1
                    queue[tail] = w; tail += 1
                }
            }
            guard distance[target] > 0 else { continue }
            // Walk back from target along strictly decreasing distances: every shortest path.
            var paths = 0
            var stack: [(atom: Int, bits: [UInt64])] = []
            var start = [UInt64](repeating: 0, count: words)
            start[b >> 6] |= 1 << UInt64(b & 63)
            stack.append((target, start))
            while let (atom, bits) = stack.popLast(), paths < 64 {
                if atom == source {
                    paths += 1
                    if seen.insert(bits).inserted {
                        candidates.append(bits)
                        sizes.append(distance[target] + 1)
                    }
                    continue
                }
                for k in Int(neighbourOffsets[atom])..<Int(neighbourOffsets[atom + 1]) {
                    let w = Int(neighbourAtoms[k]), bond = Int(neighbourBonds[k])
                    guard bond != b, bondFlags[bond].contains(.inRing), distance[w] >= 0, distance[w] == distance[atom] - 1 else { continue }
                    var next = bits
                    next[bond >> 6] |= 1 << UInt64(bond & 63)
                    stack.append((w, next))
                }
            }
        }
        let order = Array(0..<candidates.count).sorted { sizes[$0] != sizes[$1] ? sizes[$0] < sizes[$1] : $0 < $1 }
        var basis: [[UInt64]] = []
        var pivots: [Int] = []
        var takenSizes = Swift.Set<Int>()
        var count = 0
        for c in order {
            var vector = candidates[c]
            for (row, pivot) in pivots.enumerated() where vector[pivot >> 6] & (1 << UInt64(pivot & 63)) != 0 {
                for w in 0..<words { vector[w] ^= basis[row][w] }
            }
            var pivot = -1
            for w in 0..<words where vector[w] != 0 { pivot = w * 64 + vector[w].trailingZeroBitCount; break }
            if pivot >= 0 {
                for row in 0..<basis.count where basis[row][pivot >> 6] & (1 << UInt64(pivot & 63)) != 0 {
                    for w in 0..<words { basis[row][w] ^= vector[w] }
                }
                basis.append(vector)
                pivots.append(pivot)
                takenSizes.insert(sizes[c])
                count += 1
            } else if takenSizes.contains(sizes[c]) {
                count += 1
            }
        }
        return count
    }
}
