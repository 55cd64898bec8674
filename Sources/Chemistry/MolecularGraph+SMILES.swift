extension MolecularGraph {
    /// A SMILES string for the atoms marked in `keep` (all atoms when nil): aromatic atoms in lower
    /// case, brackets where charge, isotope or hydrogen count need them. Not canonical: it is for
    /// people to read (hit lists, scaffolds); identity comparisons use `scaffoldKey()`.
    ///
    /// Atoms whose neighbours were dropped get those bonds back as hydrogens, as a scaffold should.
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
        var closures: [Int: [(bond: Int, number: Int)]] = [:]
        var treeBond = Set<Int>()
        var counter = 0
        func visit(_ v: Int, _ via: Int) {
            visited[v] = true
            order[v] = counter
            counter += 1
            for k in Int(neighbourOffsets[v])..<Int(neighbourOffsets[v + 1]) {
                let w = Int(neighbourAtoms[k]), b = Int(neighbourBonds[k])
                guard kept[w], b != via else { continue }
                if !visited[w] { treeBond.insert(b); visit(w, b) }
            }
        }
        var out = ""
        var usedNumbers = Set<Int>()
        var openRing: [Int: Int] = [:]  // bond → ring number
        func atomText(_ v: Int) -> String {
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
            if organic.contains(z) && charge == 0 && isotopes[v] == 0 && h == implied && !(aromatic && z == 7 && h > 0) {
                return symbol
            }
            var text = "["
            if isotopes[v] != 0 { text += String(isotopes[v]) }
            text += symbol
            if h == 1 { text += "H" } else if h > 1 { text += "H\(h)" }
            if charge == 1 { text += "+" } else if charge == -1 { text += "-" } else if charge > 1 { text += "+\(charge)" } else if charge < -1 { text += "\(charge)" }
            return text + "]"
        }
        func bondText(_ b: Int, _ a: Int, _ c: Int) -> String {
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
        func write(_ v: Int, _ via: Int) {
            out += atomText(v)
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
            let children = (Int(neighbourOffsets[v])..<Int(neighbourOffsets[v + 1])).filter { k in
                let w = Int(neighbourAtoms[k]), b = Int(neighbourBonds[k])
                return kept[w] && b != via && treeBond.contains(b) && order[w] > order[v]
            }
            for (i, k) in children.enumerated() {
                let w = Int(neighbourAtoms[k]), b = Int(neighbourBonds[k])
                let branch = i < children.count - 1
                if branch { out += "(" }
                out += bondText(b, v, w)
                write(w, b)
                if branch { out += ")" }
            }
        }
        var first = true
        for start in 0..<atomCount where kept[start] && !visited[start] {
            visit(start, -1)
            if !first { out += "." }
            first = false
            write(start, -1)
        }
        return out
    }

    /// SMILES of the Bemis–Murcko scaffold ("" for acyclic molecules).
    public func scaffoldSMILES() -> String {
        let atoms = murckoScaffoldAtoms()
        return atoms.contains(true) ? smiles(keeping: atoms) : ""
    }
}
