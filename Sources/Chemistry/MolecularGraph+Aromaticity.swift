/// RDKit's default aromaticity model, computed over the Kekulé graph. Open Babel's own model differs
/// for cyclobutenediones (squaric acid amides), tellurophenes and a few fused systems, so Winnow
/// perceives aromaticity itself. The model (facts from RDKit's documentation and behaviour):
///
/// - rings are the smallest set of smallest rings, symmetrised (equal-size alternatives kept);
/// - each ring atom donates 0, 1 or 2 π electrons depending on its lone pairs, charge and double
///   bonds; an exocyclic double bond to a more electronegative atom takes its electron away;
/// - a ring, or a fused combination of up to 6 rings sharing bonds, is aromatic when its electron
///   count can be 4n + 2 (or is exactly 2 for 3-rings such as the cyclopropenyl cation);
/// - atoms of aromatic rings become aromatic; bonds become aromatic when they belong to exactly one
///   ring of an aromatic combination (fusion bonds get marked through their own aromatic rings).
extension MolecularGraph {
    enum Donor: UInt8 { case vacant, one, two, any, none }


    /// Outer-shell electrons of the elements that can be aromatic in the model.
    private static func outerElectrons(_ z: Int) -> Int {
        switch z {
        case 5, 13: return 3
        case 6, 14, 32: return 4
        case 7, 15, 33: return 5
        case 8, 16, 34, 52: return 6
        default: return 0
        }
    }

    private static func defaultValence(_ z: Int) -> Int {
        guard z > 0, z < Elements.valences.count else { return -1 }
        return Elements.valences[z][0]
    }

    /// RDKit's crude electronegativity order: more outer electrons first, then the lighter element.
    private static func moreElectronegative(_ a: Int, _ b: Int) -> Bool {
        let ea = groupElectrons(a), eb = groupElectrons(b)
        if ea != eb { return ea > eb }
        return a < b
    }

    /// Outer electrons of any element the order can meet (s-block, halogens, noble gases added).
    private static func groupElectrons(_ z: Int) -> Int {
        switch z {
        case 1, 3, 11, 19, 37, 55: return 1
        case 4, 12, 20, 38, 56: return 2
        case 9, 17, 35, 53, 85: return 7
        case 2, 10, 18, 36, 54, 86: return 8
        default: return outerElectrons(z)
        }
    }

    private func bondSum(_ atom: Int) -> Int {
        var sum = 0
        for k in Int(neighbourOffsets[atom])..<Int(neighbourOffsets[atom + 1]) {
            let b = Int(neighbourBonds[k])
            if !bondFlags[b].contains(.dative) { sum += Int(bondOrders[b]) }
        }
        return sum
    }

    func donorType(_ atom: Int) -> Donor {
        let z = Int(atomicNumbers[atom])
        if z == 0 { return .any }
        // Electrons available for the π system (RDKit's countAtomElec).
        let dv = Self.defaultValence(z)
        if dv <= 1 { return .none }
        let totalDegree = degree(atom) + Int(hydrogenCounts[atom])
        if totalDegree > 3 { return .none }
        let charge = Int(formalCharges[atom])
        let lonePairElectrons = max(Self.outerElectrons(z) - dv - charge, 0)
        let radicals = atomFlags[atom].contains(.radical) ? 1 : 0
        var electrons = (dv - totalDegree) + lonePairElectrons - radicals
        let unsaturation = bondSum(atom) - degree(atom)
        if electrons > 1 && unsaturation > 1 { electrons = 1 }

        var exocyclicPartner = -1, cyclicMultiple = false
        for k in Int(neighbourOffsets[atom])..<Int(neighbourOffsets[atom + 1]) {
            let b = Int(neighbourBonds[k])
            guard bondOrders[b] >= 2, !bondFlags[b].contains(.dative) else { continue }
            if bondFlags[b].contains(.inRing) { cyclicMultiple = true } else if exocyclicPartner < 0 { exocyclicPartner = Int(neighbourAtoms[k]) }
        }
        if electrons < 0 { return .none }
        if electrons == 0 {
            if exocyclicPartner >= 0 { return .vacant }
            return cyclicMultiple ? .one : .none
        }
        if electrons == 1 {
            if exocyclicPartner >= 0 {
                return Self.moreElectronegative(Int(atomicNumbers[exocyclicPartner]), z) ? .vacant : .one
            }
            if unsaturation > 0 { return .one }
            return charge == 1 ? .vacant : .none
        }
        if exocyclicPartner >= 0, Self.moreElectronegative(Int(atomicNumbers[exocyclicPartner]), z) { electrons -= 1 }
        return electrons % 2 == 1 ? .one : .two
    }

    func isAromaticCandidate(_ atom: Int, donor: Donor) -> Bool {
        let z = Int(atomicNumbers[atom])
        if z > 18 && z != 34 && z != 52 { return false }
        if donor == .none { return false }
        let dv = Self.defaultValence(z)
        if dv > 0 {
            let shifted = Self.defaultValence(z - Int(formalCharges[atom]))
            if bondSum(atom) + Int(hydrogenCounts[atom]) > shifted { return false }
        }
        if atomFlags[atom].contains(.radical) && z != 6 { return false }
        if bondSum(atom) - degree(atom) > 1 {
            var multiple = 0
            for k in Int(neighbourOffsets[atom])..<Int(neighbourOffsets[atom + 1]) where bondOrders[Int(neighbourBonds[k])] >= 2 {
                multiple += 1
            }
            if multiple > 1 { return false }
        }
        return true
    }

    /// Replaces the aromatic flags with RDKit's perception.
    mutating func perceiveAromaticity() throws(MoleculeError) {
        for i in 0..<atomCount { atomFlags[i].remove(.aromatic) }
        for b in 0..<bondCount { bondFlags[b].remove(.aromatic) }
        guard atomFlags.contains(where: { $0.contains(.inRing) }) else { return }

        var donors = [Donor](repeating: .none, count: atomCount)
        var candidate = [Bool](repeating: false, count: atomCount)
        var anyCandidate = false
        for i in 0..<atomCount where atomFlags[i].contains(.inRing) {
            donors[i] = donorType(i)
            candidate[i] = isAromaticCandidate(i, donor: donors[i])
            anyCandidate = anyCandidate || candidate[i]
        }
        guard anyCandidate else { return }
        let rings = ringSet()
        let aw = rings.atomWords, bw = rings.bondWords
        // Candidate rings: every atom a candidate, not all dummies.
        var chosenRings: [Int] = []
        for r in 0..<rings.count {
            var all = true, real = false
            for w in 0..<aw {
                var bits = rings.atomBits[r * aw + w]
                while bits != 0 {
                    let atom = w * 64 + bits.trailingZeroBitCount
                    bits &= bits - 1
                    if !candidate[atom] { all = false; break }
                    if atomicNumbers[atom] != 0 { real = true }
                }
                if !all { break }
            }
            if all && real { chosenRings.append(r) }
        }
        let r = chosenRings.count
        guard r > 0 else { return }
        // Rings are neighbours when they share a bond; rings above 24 atoms take no part in fusion.
        var neighbours = [[Int]](repeating: [], count: r)
        for a in 0..<r where rings.sizes[chosenRings[a]] <= 24 {
            for b in (a + 1)..<max(a + 1, r) where rings.sizes[chosenRings[b]] <= 24 {
                var shared = false
                for w in 0..<bw where rings.bondBits[chosenRings[a] * bw + w] & rings.bondBits[chosenRings[b] * bw + w] != 0 { shared = true; break }
                if shared { neighbours[a].append(b); neighbours[b].append(a) }
            }
        }
        var assigned = [Bool](repeating: false, count: r)
        var once = [UInt64](repeating: 0, count: bw)
        var twice = [UInt64](repeating: 0, count: bw)
        var perimeter = [UInt64](repeating: 0, count: aw)
        for start in 0..<r where !assigned[start] {
            // The fused system containing `start` (rings connected through shared bonds).
            var system: [Int] = []
            var stack = [start]
            assigned[start] = true
            while let ring = stack.popLast() {
                system.append(ring)
                for next in neighbours[ring] where !assigned[next] { assigned[next] = true; stack.append(next) }
            }
            system.sort()
            // A system whose combinations of one size would run into the millions (about 37 fused
            // rings) is refused rather than left to run for hours (a 99-ring acene took over 100 s).
            let limit = min(system.count, 6)
            for size in 1...limit {
                let combinations = Self.binomial(system.count, size)
                if combinations > Self.maxRingCombinations {
                    throw MoleculeError(.limit, "a fused ring system of \(system.count) rings needs more than \(Self.maxRingCombinations) ring combinations for aromaticity perception")
                }
                forEachCombination(count: system.count, size: size) { combination in
                    if size > 1 && !isConnected(combination, in: system, neighbours) { return }
                    // Bonds used once are the perimeter of the combination.
                    for w in 0..<bw { once[w] = 0; twice[w] = 0 }
                    for index in combination {
                        let ring = chosenRings[system[index]]
                        for w in 0..<bw {
                            let bits = rings.bondBits[ring * bw + w]
                            twice[w] |= once[w] & bits
                            once[w] ^= bits
                        }
                    }
                    for w in 0..<bw { once[w] &= ~twice[w] }
                    // Electrons are counted on the perimeter only: an atom buried inside the fused
                    // combination (all its bonds there are fusion bonds) contributes nothing.
                    for w in 0..<aw { perimeter[w] = 0 }
                    for w in 0..<bw {
                        var bits = once[w]
                        while bits != 0 {
                            let bond = w * 64 + bits.trailingZeroBitCount
                            bits &= bits - 1
                            let a = Int(bondBegins[bond]), c = Int(bondEnds[bond])
                            perimeter[a >> 6] |= 1 << UInt64(a & 63)
                            perimeter[c >> 6] |= 1 << UInt64(c & 63)
                        }
                    }
                    var low = 0, high = 0
                    for w in 0..<aw {
                        var bits = perimeter[w]
                        while bits != 0 {
                            let atom = w * 64 + bits.trailingZeroBitCount
                            bits &= bits - 1
                            switch donors[atom] {
                            case .any: high += 2
                            case .one: low += 1; high += 1
                            case .two: low += 2; high += 2
                            case .vacant, .none: break
                            }
                        }
                    }
                    var aromatic = false
                    if high >= 6 {
                        var e = low
                        while e <= high { if (e - 2) % 4 == 0 { aromatic = true; break }; e += 1 }
                    } else if high == 2 {
                        aromatic = true
                    }
                    guard aromatic else { return }
                    for index in combination {
                        let ring = chosenRings[system[index]]
                        for w in 0..<aw {
                            var bits = rings.atomBits[ring * aw + w]
                            while bits != 0 {
                                atomFlags[w * 64 + bits.trailingZeroBitCount].insert(.aromatic)
                                bits &= bits - 1
                            }
                        }
                    }
                    for w in 0..<bw {
                        var bits = once[w]
                        while bits != 0 {
                            bondFlags[w * 64 + bits.trailingZeroBitCount].insert(.aromatic)
                            bits &= bits - 1
                        }
                    }
                }
            }
        }
    }

    /// Whether the rings `system[combination[0]]`, … form one connected piece through shared bonds
    /// (combinations have at most 6 rings: a bit mask holds what is reached).
    private func isConnected(_ combination: [Int], in system: [Int], _ neighbours: [[Int]]) -> Bool {
        var reached: UInt64 = 1, pending: UInt64 = 1
        while pending != 0 {
            let p = pending.trailingZeroBitCount
            pending &= pending - 1
            for next in neighbours[system[combination[p]]] {
                for q in 0..<combination.count where reached & (1 << UInt64(q)) == 0 && system[combination[q]] == next {
                    reached |= 1 << UInt64(q)
                    pending |= 1 << UInt64(q)
                }
            }
        }
        return reached.nonzeroBitCount == combination.count
    }

    /// Most combinations of one size tried in one fused ring system (36 rings at size 6).
    static let maxRingCombinations = 2_000_000

    /// n choose k, saturating far above `maxRingCombinations`.
    static func binomial(_ n: Int, _ k: Int) -> Int {
        guard k >= 0, k <= n else { return 0 }
        var result = 1
        for i in 0..<k {
            result = result * (n - i) / (i + 1)
            if result > 1 << 40 { return 1 << 40 }
        }
        return result
    }

    private func forEachCombination(count: Int, size: Int, _ body: ([Int]) -> Void) {
        guard size <= count else { return }
        var combination = Array(0..<size)
        while true {
            body(combination)
            var i = size - 1
            while i >= 0 && combination[i] == count - size + i { i -= 1 }
            if i < 0 { return }
            combination[i] += 1
            for j in (i + 1)..<size { combination[j] = combination[j - 1] + 1 }
        }
    }
}
