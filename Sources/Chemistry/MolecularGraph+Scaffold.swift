extension MolecularGraph {
    /// Which atoms belong to the Bemis–Murcko framework: ring atoms plus the linker atoms on paths
    /// between rings, plus atoms double-bonded to them (exocyclic `=O`, `=N`, `=C`, without anything
    /// beyond them), as RDKit's `MurckoScaffold.GetScaffoldForMol` keeps. Scaffold splits group
    /// molecules by this framework.
    ///
    /// Side chains are peeled off by repeatedly removing non-ring atoms with at most one remaining
    /// neighbour (degree 0 removes whole acyclic fragments such as counter-ions). A molecule without
    /// rings has an empty scaffold (all `false`).
    public func murckoScaffoldAtoms() -> [Bool] {
        let n = atomCount
        guard atomFlags.contains(where: { $0.contains(.inRing) }) else {
            return [Bool](repeating: false, count: n)
        }
        var kept = [Bool](repeating: true, count: n)
        var remainingDegree = (0..<n).map { degree($0) }
        var stack: [Int] = []
        for i in 0..<n where !atomFlags[i].contains(.inRing) && remainingDegree[i] <= 1 {
            stack.append(i)
        }
        while let atom = stack.popLast() {
            guard kept[atom] else { continue }
            kept[atom] = false
            for k in Int(neighbourOffsets[atom])..<Int(neighbourOffsets[atom + 1]) {
                let other = Int(neighbourAtoms[k])
                guard kept[other] else { continue }
                remainingDegree[other] -= 1
                // Ring atoms always keep at least two ring neighbours, so only chain atoms get here.
                if remainingDegree[other] <= 1 && !atomFlags[other].contains(.inRing) { stack.append(other) }
            }
        }
        // Add back atoms double-bonded to the framework (C=O, S=O, exocyclic C=C and C=N), but not
        // what hangs off them: RDKit keeps `C=c1...` for `CC(C)C=c1...`.
        var scaffold = kept
        for bond in 0..<bondCount where bondOrders[bond] == 2 && !bondFlags[bond].contains(.aromatic) {
            let a = Int(bondBegins[bond]), b = Int(bondEnds[bond])
            if kept[a] && !kept[b] { scaffold[b] = true } else if kept[b] && !kept[a] { scaffold[a] = true }
        }
        return scaffold
    }

    /// A canonical identity of the Bemis–Murcko scaffold: equal for two molecules with the same
    /// scaffold whatever their atom order, so it can key scaffold splits. Format `"atoms:hash"`
    /// (scaffold atom count, then 16 hex digits); `""` for a molecule without rings.
    ///
    /// Atom invariants (element, aromatic flag, formal charge, degree within the scaffold, ring flag,
    /// smallest ring through the atom, and for aromatic atoms the connections in the whole molecule
    /// counting hydrogens, which tells pyrrole-type `[nH]`/`n(R)` from pyridine-type `n` as RDKit's
    /// scaffold SMILES does, while a removed substituent and the hydrogen replacing it count the same;
    /// non-aromatic atoms need no such term, their explicit bond orders already fix it) are refined Weisfeiler–Lehman style with the sorted
    /// (bond type, neighbour invariant) lists until the number of classes stops growing; the key is
    /// 64-bit FNV-1a over the sorted final invariants and sorted bond descriptors. Bond types use the
    /// aromatic flag rather than Kekulé orders, which depend on atom order. Deterministic across runs
    /// and platforms (no `Hasher`). Like any WL hash it can in principle merge rare non-isomorphic
    /// graphs; the smallest-ring invariant removes the common case (e.g. two cyclopropanes vs
    /// cyclohexane).
    public func scaffoldKey() -> String {
        let inScaffold = murckoScaffoldAtoms()
        let atoms = (0..<atomCount).filter { inScaffold[$0] }
        guard !atoms.isEmpty else { return "" }
        var local = [Int](repeating: -1, count: atomCount)
        for (index, atom) in atoms.enumerated() { local[atom] = index }

        // Scaffold subgraph: local adjacency with a bond type code per edge.
        let m = atoms.count
        var adjacency = [[(atom: Int, bondCode: UInt64)]](repeating: [], count: m)
        var bonds: [(a: Int, b: Int, code: UInt64)] = []
        for bond in 0..<bondCount {
            let a = local[Int(bondBegins[bond])], b = local[Int(bondEnds[bond])]
            guard a >= 0 && b >= 0 else { continue }
            let code = scaffoldBondCode(bond)
            adjacency[a].append((b, code))
            adjacency[b].append((a, code))
            bonds.append((a, b, code))
        }
        let ringSizes = smallestCycleThroughEachAtom(adjacency: adjacency, ringBondCode: { $0 & 0x100 != 0 })

        var invariants = [UInt64](repeating: 0, count: m)
        for (index, atom) in atoms.enumerated() {
            var hash = FNV1a()
            hash.combine(UInt64(atomicNumbers[atom]))
            hash.combine(atomFlags[atom].contains(.aromatic) ? 1 : 0)
            hash.combine(UInt64(bitPattern: Int64(formalCharges[atom])))
            hash.combine(UInt64(adjacency[index].count))
            hash.combine(atomFlags[atom].contains(.inRing) ? 1 : 0)
            hash.combine(UInt64(ringSizes[index]))
            hash.combine(atomFlags[atom].contains(.aromatic) ? UInt64(degree(atom) + Int(hydrogenCounts[atom])) : 0)
            invariants[index] = hash.value
        }

        // Refinement: stop once a round no longer splits any class.
        var classes = Set(invariants).count
        var neighbourhood: [(UInt64, UInt64)] = []
        for _ in 0..<m {
            var next = invariants
            for index in 0..<m {
                neighbourhood.removeAll(keepingCapacity: true)
                for edge in adjacency[index] { neighbourhood.append((edge.bondCode, invariants[edge.atom])) }
                neighbourhood.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
                var hash = FNV1a()
                hash.combine(invariants[index])
                for (code, invariant) in neighbourhood {
                    hash.combine(code)
                    hash.combine(invariant)
                }
                next[index] = hash.value
            }
            invariants = next
            let newClasses = Set(invariants).count
            if newClasses <= classes { break }
            classes = newClasses
        }

        var hash = FNV1a()
        hash.combine(UInt64(m))
        for invariant in invariants.sorted() { hash.combine(invariant) }
        var descriptors = bonds.map { bond -> (UInt64, UInt64, UInt64) in
            let x = invariants[bond.a], y = invariants[bond.b]
            return (bond.code, min(x, y), max(x, y))
        }
        descriptors.sort { $0.0 != $1.0 ? $0.0 < $1.0 : ($0.1 != $1.1 ? $0.1 < $1.1 : $0.2 < $1.2) }
        hash.combine(UInt64(descriptors.count))
        for (code, x, y) in descriptors {
            hash.combine(code)
            hash.combine(x)
            hash.combine(y)
        }
        let hex = String(hash.value, radix: 16)
        return "\(m):" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Bond type independent of Kekulé assignment: aromatic bonds share one code; bit 8 marks ring bonds.
    private func scaffoldBondCode(_ bond: Int) -> UInt64 {
        let type: UInt64 = bondFlags[bond].contains(.aromatic) ? 12 : UInt64(bondOrders[bond])
        return type | (bondFlags[bond].contains(.inRing) ? 0x100 : 0)
    }

    /// Length of the shortest cycle of ring bonds through each atom (0 when none), by a BFS from each
    /// atom: a non-tree edge joining two different first-step branches closes the shortest cycle.
    private func smallestCycleThroughEachAtom(
        adjacency: [[(atom: Int, bondCode: UInt64)]], ringBondCode: (UInt64) -> Bool
    ) -> [Int] {
        let m = adjacency.count
        var result = [Int](repeating: 0, count: m)
        var distance = [Int](repeating: -1, count: m)
        var branch = [Int](repeating: -1, count: m)
        var queue: [Int] = []
        for source in 0..<m {
            guard adjacency[source].contains(where: { ringBondCode($0.bondCode) }) else { continue }
            for i in queue { distance[i] = -1; branch[i] = -1 }
            queue.removeAll(keepingCapacity: true)
            distance[source] = 0
            queue.append(source)
            var head = 0
            var best = Int.max
            while head < queue.count {
                let u = queue[head]; head += 1
                // Cycles found later can only be longer than 2·d(u)+1.
                if 2 * distance[u] + 1 >= best { break }
                for edge in adjacency[u] where ringBondCode(edge.bondCode) {
                    let w = edge.atom
                    if distance[w] < 0 {
                        distance[w] = distance[u] + 1
                        branch[w] = u == source ? w : branch[u]
                        queue.append(w)
                    } else if w != source && u != source && branch[w] != branch[u] {
                        best = min(best, distance[u] + distance[w] + 1)
                    }
                }
            }
            result[source] = best == Int.max ? 0 : best
        }
        return result
    }
}

/// 64-bit FNV-1a over little-endian 64-bit words: a fixed, platform-independent hash (Swift's
/// `Hasher` is randomly seeded per process, so it cannot give stable keys).
private struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func combine(_ word: UInt64) {
        var w = word
        for _ in 0..<8 {
            value ^= w & 0xff
            value = value &* 0x0000_0100_0000_01b3
            w >>= 8
        }
    }
}
