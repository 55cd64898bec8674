/// SMARTS patterns compiled for fast anchored matching, each a tree (no ring closures) of atom queries
/// with no ring or recursive primitives, matched with its first atom on a given atom of a molecule
/// whose folded hydrogens count as explicit H atoms ("virtual" hydrogens, RDKit's `AddHs` without
/// building the larger graph). Gives the same answer as `SubstructureTarget.matches(_:at:)` on
/// `graph.addingHydrogens()`, allocation-free and without ring perception.
///
/// Used for the Wildman–Crippen atom typing (`Descriptors.crippen`), which types every atom of every
/// molecule a `clogp` filter reads: through the general matcher that cost ~5x a plain screen.
struct AnchoredPatternSet: Sendable {
    /// Every pattern atom's query program, concatenated; atom `a`'s is `tests[testStart[a]..<testStart[a + 1]]`.
    private(set) var tests: [AtomTest] = []
    private(set) var testStart: [Int32] = [0]
    /// Per pattern atom (in matching order: depth-first from the pattern's atom 0): the position of
    /// its parent within its pattern (-1 for the root) and the bond classes accepted to it.
    private(set) var parents: [Int32] = []
    private(set) var bondMasks: [UInt32] = []
    /// Pattern `p`'s atoms are `atomStart[p]..<atomStart[p + 1]`.
    private(set) var atomStart: [Int32] = [0]

    var count: Int { atomStart.count - 1 }
    var largestPattern: Int { (0..<count).map { Int(atomStart[$0 + 1] - atomStart[$0]) }.max() ?? 1 }

    init() {}

    /// Appends a pattern; false (and nothing appended) when it uses something this form does not
    /// support (ring closures, ring or recursive primitives, a second component, a long query).
    mutating func append(_ pattern: SMARTS) -> Bool {
        let plan = pattern.plan
        guard plan.order.first == 0, plan.closures.allSatisfy(\.isEmpty), pattern.recursiveCount == 0 else { return false }
        var position = [Int](repeating: -1, count: pattern.atoms.count)
        for (step, atom) in plan.order.enumerated() { position[atom] = step }
        var copy = self
        for (step, atom) in plan.order.enumerated() {
            var program: [AtomTest] = []
            guard AtomTest.compile(pattern.atoms[atom], into: &program), program.count <= 64 else { return false }
            copy.tests += program
            copy.testStart.append(Int32(copy.tests.count))
            if let parent = plan.parent[step] {
                copy.parents.append(Int32(position[parent.atom]))
                copy.bondMasks.append(BondClass.mask(pattern.bonds[parent.bond].query))
            } else {
                guard step == 0 else { return false }   // a second component
                copy.parents.append(-1)
                copy.bondMasks.append(0)
            }
        }
        copy.atomStart.append(Int32(copy.parents.count))
        self = copy
        return true
    }
}

/// One instruction of a compiled atom query, evaluated on a stack of booleans (postfix order).
struct AtomTest: Sendable {
    enum Op: UInt8, Sendable {
        case any, aromatic, aliphatic, element, elementAromatic, elementAliphatic, totalH, implicitH, anyImplicitH
        case degree, totalDegree, valence, charge, isotope
        case not, and, or
    }
    let op: Op
    /// The primitive's number, or the operand count of `and` / `or`.
    let value: Int16

    /// Appends the postfix program of `query`; false when it uses an unsupported primitive.
    static func compile(_ query: AtomQuery, into program: inout [AtomTest]) -> Bool {
        switch query {
        case .primitive(let p):
            let test: AtomTest
            switch p {
            case .any: test = AtomTest(op: .any, value: 0)
            case .aromatic: test = AtomTest(op: .aromatic, value: 0)
            case .aliphatic: test = AtomTest(op: .aliphatic, value: 0)
            case .element(let z, let aromatic):
                switch aromatic {
                case nil: test = AtomTest(op: .element, value: Int16(z))
                case true?: test = AtomTest(op: .elementAromatic, value: Int16(z))
                case false?: test = AtomTest(op: .elementAliphatic, value: Int16(z))
                }
            case .totalHydrogens(let n): test = AtomTest(op: .totalH, value: Int16(clamping: n))
            case .implicitHydrogens(let n):
                test = n.map { AtomTest(op: .implicitH, value: Int16(clamping: $0)) } ?? AtomTest(op: .anyImplicitH, value: 0)
            case .degree(let n): test = AtomTest(op: .degree, value: Int16(clamping: n))
            case .totalDegree(let n): test = AtomTest(op: .totalDegree, value: Int16(clamping: n))
            case .valence(let n): test = AtomTest(op: .valence, value: Int16(clamping: n))
            case .charge(let n): test = AtomTest(op: .charge, value: Int16(clamping: n))
            case .isotope(let n): test = AtomTest(op: .isotope, value: Int16(clamping: n))
            case .ringCount, .ringSize, .ringConnectivity, .recursive: return false
            }
            program.append(test)
        case .not(let q):
            guard compile(q, into: &program) else { return false }
            program.append(AtomTest(op: .not, value: 0))
        case .and(let qs), .or(let qs):
            for q in qs { guard compile(q, into: &program) else { return false } }
            let isAnd: Bool
            if case .and = query { isAnd = true } else { isAnd = false }
            program.append(AtomTest(op: isAnd ? .and : .or, value: Int16(clamping: qs.count)))
        }
        return true
    }
}

/// Bond classes for compiled bond queries: Kekulé order 1-4 × aromatic × dative × ring membership
/// (32 classes); a query compiles to the set of classes it accepts.
enum BondClass {
    static func of(order: UInt8, flags: MolecularGraph.BondFlags) -> Int {
        (Int(min(max(order, 1), 4)) - 1) | (flags.contains(.aromatic) ? 4 : 0) | (flags.contains(.dative) ? 8 : 0)
            | (flags.contains(.inRing) ? 16 : 0)
    }

    static func mask(_ query: BondQuery) -> UInt32 {
        var mask: UInt32 = 0
        for c in 0..<32 where accepts(query, c) { mask |= 1 << UInt32(c) }
        return mask
    }

    /// `SubstructureTarget.bondPrimitive`'s rules on a class.
    private static func accepts(_ query: BondQuery, _ c: Int) -> Bool {
        switch query {
        case .not(let q): return !accepts(q, c)
        case .and(let qs): return qs.allSatisfy { accepts($0, c) }
        case .or(let qs): return qs.contains { accepts($0, c) }
        case .primitive(let p):
            let order = (c & 3) + 1, aromatic = c & 4 != 0, dative = c & 8 != 0, ring = c & 16 != 0
            switch p {
            case .single: return !aromatic && order == 1 && !dative
            case .double: return !aromatic && order == 2
            case .triple: return !aromatic && order == 3
            case .quadruple: return !aromatic && order == 4
            case .aromatic: return aromatic
            case .any: return true
            case .ring: return ring
            case .implicitSingleOrAromatic: return aromatic || (order == 1 && !dative)
            }
        }
    }

    /// A hydrogen's bond to its heavy atom once made explicit: single, not in a ring.
    static let hydrogen = 0
}

/// A molecule seen as if `addingHydrogens()` had run: atom ids below `atomCount` are the graph's
/// atoms; id `atomCount + parent * 256 + k` is the k-th folded hydrogen of `parent`.
struct HydrogenExpandedView {
    let graph: MolecularGraph
    let n: Int
    /// Per real atom: hydrogens (folded + explicit H neighbours) and connections once expanded.
    var totalH: [UInt8]
    var connections: [UInt8]

    init(_ graph: MolecularGraph) {
        self.graph = graph
        n = graph.atomCount
        totalH = [UInt8](repeating: 0, count: n)
        connections = [UInt8](repeating: 0, count: n)
        for i in 0..<n {
            var h = Int(graph.hydrogenCounts[i])
            for k in Int(graph.neighbourOffsets[i])..<Int(graph.neighbourOffsets[i + 1])
            where graph.atomicNumbers[Int(graph.neighbourAtoms[k])] == 1 { h += 1 }
            totalH[i] = UInt8(clamping: h)
            connections[i] = UInt8(clamping: graph.degree(i) + Int(graph.hydrogenCounts[i]))
        }
    }

    @inline(__always) func parentOfVirtual(_ id: Int) -> Int { (id - n) >> 8 }

    /// Evaluates pattern atom `a`'s compiled query on an atom id.
    @inline(__always) func test(_ set: AnchoredPatternSet, _ a: Int, _ id: Int) -> Bool {
        let virtual = id >= n
        let i = virtual ? 0 : id
        let z: Int16 = virtual ? 1 : Int16(graph.atomicNumbers[i])
        let aromatic = !virtual && graph.atomFlags[i].contains(.aromatic)
        var stack: UInt64 = 0   // bit stack, top = bit 0 (programs are at most 64 long)
        for p in Int(set.testStart[a])..<Int(set.testStart[a + 1]) {
            let t = set.tests[p]
            var r: Bool
            switch t.op {
            case .any: r = true
            case .aromatic: r = aromatic
            case .aliphatic: r = !aromatic
            case .element: r = z == t.value
            case .elementAromatic: r = z == t.value && aromatic
            case .elementAliphatic: r = z == t.value && !aromatic
            case .totalH: r = (virtual ? 0 : Int16(totalH[i])) == t.value
            // Once expanded no atom keeps folded hydrogens.
            case .implicitH: r = t.value == 0
            case .anyImplicitH: r = false
            case .degree, .totalDegree: r = (virtual ? 1 : Int16(connections[i])) == t.value
            case .valence: r = (virtual ? 1 : Int16(clamping: graph.valence(i))) == t.value
            case .charge: r = (virtual ? 0 : Int16(graph.formalCharges[i])) == t.value
            case .isotope: r = (virtual ? 0 : Int16(graph.isotopes[i])) == t.value
            case .not:
                r = stack & 1 == 0
                stack >>= 1
            case .and, .or:
                let count = Int(t.value)
                let operands = stack & ((1 << UInt64(count)) - 1)
                r = t.op == .and ? operands == (1 << UInt64(count)) - 1 : operands != 0
                stack >>= UInt64(count)
            }
            stack = (stack << 1) | (r ? 1 : 0)
        }
        return stack & 1 != 0
    }

    /// Whether pattern `p` of `set` matches with its first atom on `anchor` (distinct atoms for
    /// distinct pattern atoms). `mapped` is scratch space of at least the pattern's size.
    func matches(_ set: AnchoredPatternSet, _ p: Int, at anchor: Int, mapped: inout [Int]) -> Bool {
        let first = Int(set.atomStart[p])
        guard test(set, first, anchor) else { return false }
        mapped[0] = anchor
        return extend(set, first, 1, Int(set.atomStart[p + 1]) - first, &mapped)
    }

    private func extend(_ set: AnchoredPatternSet, _ first: Int, _ step: Int, _ size: Int, _ mapped: inout [Int]) -> Bool {
        if step == size { return true }
        let a = first + step
        let from = mapped[Int(set.parents[a])]
        let mask = set.bondMasks[a]
        func tryAtom(_ t: Int, bondClass: Int, _ mapped: inout [Int]) -> Bool {
            guard mask & (1 << UInt32(bondClass)) != 0 else { return false }
            for s in 0..<step where mapped[s] == t { return false }
            guard test(set, a, t) else { return false }
            mapped[step] = t
            return extend(set, first, step + 1, size, &mapped)
        }
        if from >= n {
            // A hydrogen's only neighbour is its heavy atom.
            return tryAtom(parentOfVirtual(from), bondClass: BondClass.hydrogen, &mapped)
        }
        let g = graph
        for k in Int(g.neighbourOffsets[from])..<Int(g.neighbourOffsets[from + 1]) {
            let b = Int(g.neighbourBonds[k])
            if tryAtom(Int(g.neighbourAtoms[k]), bondClass: BondClass.of(order: g.bondOrders[b], flags: g.bondFlags[b]), &mapped) {
                return true
            }
        }
        // Folded hydrogens are interchangeable: trying the first one not yet mapped is enough.
        let folded = Int(g.hydrogenCounts[from])
        for k in 0..<folded {
            let id = n + from << 8 + k
            if (0..<step).contains(where: { mapped[$0] == id }) { continue }
            return tryAtom(id, bondClass: BondClass.hydrogen, &mapped)
        }
        return false
    }
}

/// The Crippen atom types as anchored patterns, listed per element in table order.
struct CrippenTyper: Sendable {
    let patterns: AnchoredPatternSet
    let logP: [Double]
    let mr: [Double]
    /// Per atomic number z (0-127): the types whose first atom can be that element are
    /// `candidates[candidateStart[z]..<candidateStart[z + 1]]`.
    let candidates: [Int16]
    let candidateStart: [Int32]
    let largest: Int

    /// nil if some type does not compile to the anchored form (never with the published table;
    /// the tests check it): `Descriptors.crippen` then uses the general matcher.
    static let shared: CrippenTyper? = {
        let types = PatternTables.crippen
        var patterns = AnchoredPatternSet()
        for t in types { guard patterns.append(t.pattern) else { return nil } }
        var candidates: [Int16] = [], start: [Int32] = [0]
        for z in 0..<128 {
            candidates += types.indices.filter { types[$0].firstElement.map { Int($0) == z } ?? true }.map(Int16.init)
            start.append(Int32(candidates.count))
        }
        return CrippenTyper(patterns: patterns, logP: types.map(\.logP), mr: types.map(\.mr), candidates: candidates,
                            candidateStart: start, largest: patterns.largestPattern)
    }()

    /// The type index of an atom id of `view` (nil: no type matches).
    func type(of id: Int, z: Int, in view: HydrogenExpandedView, mapped: inout [Int]) -> Int? {
        for c in Int(candidateStart[z & 127])..<Int(candidateStart[(z & 127) + 1]) {
            let k = Int(candidates[c])
            if view.matches(patterns, k, at: id, mapped: &mapped) { return k }
        }
        return nil
    }

    func contributions(_ graph: MolecularGraph) -> (logP: Double, mr: Double) {
        let view = HydrogenExpandedView(graph)
        var mapped = [Int](repeating: -1, count: largest)
        var logP = 0.0, mr = 0.0
        // The reference's summation order, so that the sums are equal to the last bit: heavy atoms
        // first, then the added hydrogens atom by atom.
        for i in 0..<view.n {
            if let k = type(of: i, z: Int(graph.atomicNumbers[i]), in: view, mapped: &mapped) {
                logP += self.logP[k]; mr += self.mr[k]
            }
        }
        for i in 0..<view.n where graph.hydrogenCounts[i] > 0 {
            guard let k = type(of: view.n + i << 8, z: 1, in: view, mapped: &mapped) else { continue }
            for _ in 0..<Int(graph.hydrogenCounts[i]) { logP += self.logP[k]; mr += self.mr[k] }
        }
        return (logP, mr)
    }
}
