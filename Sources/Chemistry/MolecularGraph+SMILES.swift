extension MolecularGraph {
    /// A SMILES string for the atoms marked in `keep` (all atoms when nil): aromatic atoms in lower
    /// case, brackets where charge, isotope or hydrogen count need them. Not canonical: it is for
    /// people to read (hit lists, scaffolds); identity comparisons use `scaffoldKey()`.
    ///
    /// Atoms whose neighbours were dropped get those bonds back as hydrogens, as a scaffold should.
    ///
    /// Stereo (whole molecules only, `keep` nil): `@`/`@@` are computed for the neighbour order this
    /// writer emits (preceding atom, the bracket H or lone pair, ring-closure digits, branches), and
    /// stereo double bonds get `/` `\` on one single bond at each end (see `bondDirections`).
    public func smiles(keeping keep: [Bool]? = nil) -> String {
        let kept = keep ?? [Bool](repeating: true, count: atomCount)
        var hydrogens = (0..<atomCount).map { Int(hydrogenCounts[$0]) }
        for b in 0..<bondCount {
            let a = Int(bondBegins[b]), c = Int(bondEnds[b])
            if kept[a] && !kept[c] { hydrogens[a] += Int(bondOrders[b]) }
            if kept[c] && !kept[a] { hydrogens[c] += Int(bondOrders[b]) }
        }
        var visited = [Bool](repeating: false, count: atomCount)
        var order = [Int](repeating: -1, count: atomCount)
        // First pass: DFS order and ring-closure bonds (back edges).
        var treeBond = Set<Int>()
        var counter = 0
        // Iterative (an explicit stack of frames, not one call per atom): a chain of n atoms is a path
        // n deep, and a 50,000-atom chain overflowed the main thread's 8 MiB stack when it recursed.
        func visit(_ root: Int) {
            // Each frame: the atom, the bond it was reached by, the next neighbour slot to look at.
            var stack: [(atom: Int, via: Int, next: Int)] = []
            func enter(_ v: Int, _ via: Int) {
                visited[v] = true
                order[v] = counter
                counter += 1
                stack.append((v, via, Int(neighbourOffsets[v])))
            }
            enter(root, -1)
            while let frame = stack.last {
                let end = Int(neighbourOffsets[frame.atom + 1])
                var k = frame.next
                var child: (atom: Int, bond: Int)? = nil
                while k < end, child == nil {
                    let w = Int(neighbourAtoms[k]), b = Int(neighbourBonds[k])
                    k += 1
                    if kept[w], b != frame.via, !visited[w] { child = (w, b) }
                }
                stack[stack.count - 1].next = k
                if let child {
                    treeBond.insert(child.bond)
                    enter(child.atom, child.bond)
                } else {
                    stack.removeLast()
                }
            }
        }
        var out = ""
        var usedNumbers = Set<Int>()
        var openRing: [Int: Int] = [:]  // bond → ring number
        let writeStereo = keep == nil && hasStereo
        var chiral = [UInt8](repeating: 0, count: writeStereo && !tetrahedralCentres.isEmpty ? atomCount : 0)
        for centre in tetrahedralCentres where writeStereo { chiral[Int(centre.atom)] = centre.clockwise ? 2 : 1 }
        var directions: [Int: Bool] = [:]  // bond → "/" (true) or "\\" (false)
        func atomText(_ v: Int, _ via: Int) -> String {
            let z = Int(atomicNumbers[v])
            let aromatic = atomFlags[v].contains(.aromatic)
            var symbol = Elements.symbol(z)
            if aromatic { symbol = symbol.lowercased() }
            let charge = Int(formalCharges[v])
            let organic: Set<Int> = [5, 6, 7, 8, 15, 16, 9, 17, 35, 53]
            var readerSum = 0
            for k in Int(neighbourOffsets[v])..<Int(neighbourOffsets[v + 1]) where kept[Int(neighbourAtoms[k])] {
                let b = Int(neighbourBonds[k])
                readerSum += bondFlags[b].contains(.aromatic) ? 1 : Int(bondOrders[b])
            }
            // A SMILES reader gives an organic-subset atom the hydrogens that reach its next allowed
            // valence, one fewer when it is aromatic (its share of the π bond).
            var implied = 0
            if let allowed = Elements.allowedValences(atomicNumber: z, charge: 0), let target = allowed.first(where: { $0 >= readerSum }) {
                implied = target - readerSum
                if aromatic && implied > 0 { implied -= 1 }
            }
            let h = hydrogens[v]
            let handedness = chiral.isEmpty ? 0 : chiral[v]
            if handedness == 0 && organic.contains(z) && charge == 0 && isotopes[v] == 0 && h == implied && !(aromatic && z == 7 && h > 0) {
                return symbol
            }
            var text = "["
            if isotopes[v] != 0 { text += String(isotopes[v]) }
            text += symbol
            if handedness != 0 { text += writtenChirality(v, via, clockwise: handedness == 2) }
            if h == 1 { text += "H" } else if h > 1 { text += "H\(h)" }
            if charge == 1 { text += "+" } else if charge == -1 { text += "-" } else if charge > 1 { text += "+\(charge)" } else if charge < -1 { text += "\(charge)" }
            return text + "]"
        }
        // The order in which the writer lists an atom's neighbours, as SMILES reads them: the preceding
        // atom, the bracket H or lone pair (-1), ring-closure digits in written order, then branches.
        func writtenChirality(_ v: Int, _ via: Int, clockwise: Bool) -> String {
            guard let reference = stereoReferences(of: v) else { return "" }
            var written: [Int32] = []
            let range = Int(neighbourOffsets[v])..<Int(neighbourOffsets[v + 1])
            if via >= 0, let k = range.first(where: { Int(neighbourBonds[$0]) == via }) { written.append(neighbourAtoms[k]) }
            if reference.contains(-1) { written.append(-1) }
            for k in range where Int(neighbourBonds[k]) != via && !treeBond.contains(Int(neighbourBonds[k])) {
                written.append(neighbourAtoms[k])
            }
            for k in range where Int(neighbourBonds[k]) != via && treeBond.contains(Int(neighbourBonds[k])) {
                written.append(neighbourAtoms[k])
            }
            guard let even = Self.isEvenPermutation(written, of: reference) else { return "" }
            return even == clockwise ? "@@" : "@"
        }
        func bondText(_ b: Int, _ a: Int, _ c: Int) -> String {
            if let slash = directions[b] { return slash ? "/" : "\\" }
            if bondFlags[b].contains(.aromatic) { return "" }
            switch bondOrders[b] {
            case 2: return "="
            case 3: return "#"
            case 4: return "$"
            default:
                return atomFlags[a].contains(.aromatic) && atomFlags[c].contains(.aromatic) ? "-" : ""
            }
        }
        func ringNumberText(_ n: Int) -> String { n < 10 ? String(n) : "%\(n)" }
        // Writes the atom's text and its ring-closure digits; returns its children (tree bonds to
        // later atoms) as neighbour slots, in the order they are written.
        func writeAtom(_ v: Int, _ via: Int) -> [Int] {
            out += atomText(v, via)
            // Ring closures at this atom: open new ones to later atoms, close those opened earlier.
            for k in Int(neighbourOffsets[v])..<Int(neighbourOffsets[v + 1]) {
                let w = Int(neighbourAtoms[k]), b = Int(neighbourBonds[k])
                guard kept[w], b != via, !treeBond.contains(b) else { continue }
                if let number = openRing[b] {
                    out += bondText(b, v, w) + ringNumberText(number)
                    openRing[b] = nil
                    usedNumbers.remove(number)
                } else {
                    var number = 1
                    while usedNumbers.contains(number) { number += 1 }
                    usedNumbers.insert(number)
                    openRing[b] = number
                    out += ringNumberText(number)
                }
            }
            return (Int(neighbourOffsets[v])..<Int(neighbourOffsets[v + 1])).filter { k in
                let w = Int(neighbourAtoms[k]), b = Int(neighbourBonds[k])
                return kept[w] && b != via && treeBond.contains(b) && order[w] > order[v]
            }
        }
        // Depth-first writing with an explicit stack (iterative for the same reason as `visit`):
        // every child but the last is a branch in parentheses, the last continues the chain.
        func write(_ root: Int) {
            // Each frame: the atom, its children, the next child to write, whether it is a branch.
            var stack: [(atom: Int, children: [Int], next: Int, branch: Bool)] = [(root, writeAtom(root, -1), 0, false)]
            while let frame = stack.last {
                guard frame.next < frame.children.count else {
                    stack.removeLast()
                    if frame.branch { out += ")" }
                    continue
                }
                let k = frame.children[frame.next]
                let w = Int(neighbourAtoms[k]), b = Int(neighbourBonds[k])
                let branch = frame.next < frame.children.count - 1
                stack[stack.count - 1].next += 1
                if branch { out += "(" }
                out += bondText(b, frame.atom, w)
                stack.append((w, writeAtom(w, b), 0, branch))
            }
        }
        var starts: [Int] = []
        for start in 0..<atomCount where kept[start] && !visited[start] {
            visit(start)
            starts.append(start)
        }
        if writeStereo && !doubleBonds.isEmpty {
            directions = bondDirections(order: order, treeBond: treeBond)
        }
        for (i, start) in starts.enumerated() {
            if i > 0 { out += "." }
            write(start)
        }
        return out
    }

    /// `/` (true) or `\` (false) for single bonds next to stereo double bonds, given the writing order
    /// (`order`: DFS position of each atom) and which bonds are tree bonds (the rest are ring
    /// closures, whose bond symbol this writer puts at the closing, later atom).
    ///
    /// Reading rule (OpenSMILES): a symbol between a first-written atom p and a second q says q lies
    /// above p (`/`) or below (`\`). So for double-bond end a and its neighbour x, x is "up" when the
    /// symbol is `/` and a comes first, or `\` and x comes first. The references on the two ends are
    /// cis when both are up or both down. One marked bond per end suffices; a bond already marked for a
    /// neighbouring double bond (conjugated chains) fixes this bond's choice of up and down.
    func bondDirections(order: [Int], treeBond: Set<Int>) -> [Int: Bool] {
        var directions: [Int: Bool] = [:]
        func firstWritten(_ b: Int) -> Int {
            let a = Int(bondBegins[b]), c = Int(bondEnds[b])
            let (early, late) = order[a] < order[c] ? (a, c) : (c, a)
            return treeBond.contains(b) ? early : late
        }
        // Whether neighbour x of end a is "up" given the bond's symbol.
        func isUp(_ b: Int, end a: Int, slash: Bool) -> Bool { slash != (firstWritten(b) != a) }
        func slashFor(_ b: Int, end a: Int, up: Bool) -> Bool { up != (firstWritten(b) != a) }
        for stereo in doubleBonds {
            let bond = Int(stereo.bond)
            let ends = [(Int(bondBegins[bond]), Int(stereo.beginReference)), (Int(bondEnds[bond]), Int(stereo.endReference))]
            // Candidate bonds of each end with whether their far atom is "up" when the begin reference is.
            var candidates: [[(bond: Int, sameAsReference: Bool)]] = [[], []]
            for (side, (end, reference)) in ends.enumerated() {
                let partner = side == 0 ? ends[1].0 : ends[0].0
                for k in Int(neighbourOffsets[end])..<Int(neighbourOffsets[end + 1]) {
                    let n = Int(neighbourAtoms[k]), b = Int(neighbourBonds[k])
                    guard n != partner, bondOrders[b] == 1, !bondFlags[b].contains(.aromatic), order[n] >= 0 else { continue }
                    candidates[side].append((b, n == reference))
                }
            }
            guard !candidates[0].isEmpty, !candidates[1].isEmpty else { continue }
            // up(x) for a candidate: begin reference up = u; the end reference is up = u when cis.
            func wantedUp(side: Int, sameAsReference: Bool, u: Bool) -> Bool {
                let referenceUp = side == 0 ? u : (stereo.cis ? u : !u)
                return sameAsReference ? referenceUp : !referenceUp
            }
            var u = true
            search: for side in 0..<2 {
                for c in candidates[side] {
                    guard let slash = directions[c.bond] else { continue }
                    let up = isUp(c.bond, end: ends[side].0, slash: slash)
                    // Solve wantedUp(side, same, u) == up for u.
                    u = wantedUp(side: side, sameAsReference: c.sameAsReference, u: true) == up
                    break search
                }
            }
            for side in 0..<2 {
                let end = ends[side].0
                if candidates[side].contains(where: { directions[$0.bond] != nil }) { continue }
                // Prefer the reference's bond, then tree bonds over ring closures.
                let pick = candidates[side].min { l, r in
                    (l.sameAsReference ? 0 : 1, treeBond.contains(l.bond) ? 0 : 1) < (r.sameAsReference ? 0 : 1, treeBond.contains(r.bond) ? 0 : 1)
                }
                guard let pick else { continue }
                directions[pick.bond] = slashFor(pick.bond, end: end, up: wantedUp(side: side, sameAsReference: pick.sameAsReference, u: u))
            }
        }
        return directions
    }

    /// SMILES of the Bemis–Murcko scaffold ("" for acyclic molecules).
    public func scaffoldSMILES() -> String {
        let atoms = murckoScaffoldAtoms()
        return atoms.contains(true) ? smiles(keeping: atoms) : ""
    }
}
