extension MolecularGraph {
    /// Marks ring atoms and ring bonds: a bond is in a ring exactly when it is not a bridge, and an
    /// atom when one of its bonds is. Iterative Tarjan low-link, O(atoms + bonds), no recursion so
    /// that 1,000-atom chains cannot overflow the stack.
    mutating func perceiveRingMembership() {
        let n = atomCount
        guard bondCount > 0 else { return }
        var order = [Int32](repeating: -1, count: n)
        var low = [Int32](repeating: 0, count: n)
        var isBridge = [Bool](repeating: false, count: bondCount)
        // Stack frames: (atom, bond used to enter it, next neighbour slot to visit)
        var stack: [(atom: Int32, viaBond: Int32, slot: Int32)] = []
        stack.reserveCapacity(n)
        var counter: Int32 = 0
        for root in 0..<n where order[root] < 0 {
            order[root] = counter; low[root] = counter; counter += 1
            stack.append((Int32(root), -1, neighbourOffsets[root]))
            while let top = stack.last {
                let v = Int(top.atom)
                if top.slot < neighbourOffsets[v + 1] {
                    stack[stack.count - 1].slot += 1
                    let k = Int(top.slot)
                    let w = Int(neighbourAtoms[k]), bond = neighbourBonds[k]
                    if bond == top.viaBond { continue }
                    if order[w] < 0 {
                        order[w] = counter; low[w] = counter; counter += 1
                        stack.append((Int32(w), bond, neighbourOffsets[w]))
                    } else {
                        low[v] = min(low[v], order[w])
                    }
                } else {
                    stack.removeLast()
                    if let parent = stack.last {
                        let p = Int(parent.atom)
                        low[p] = min(low[p], low[v])
                        if low[v] > order[p] { isBridge[Int(top.viaBond)] = true }
                    }
                }
            }
        }
        for b in 0..<bondCount where !isBridge[b] {
            bondFlags[b].insert(.inRing)
            atomFlags[Int(bondBegins[b])].insert(.inRing)
            atomFlags[Int(bondEnds[b])].insert(.inRing)
        }
    }
}
