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

    /// Per pattern: whether its first atom's query reads the valence or isotope (facts the Crippen
    /// candidate table does not key on).
    private(set) var firstReadsMore: [Bool] = []
    /// Per pattern: the element classes (`ElementClass.bit`) its first atom's neighbours in the
    /// pattern require (each neighbour whose query names one element); an anchor lacking one of
    /// them among its neighbours cannot match.
    private(set) var rootNeighbourElements: [UInt16] = []
    /// Per pattern: how many of its first atom's pattern bonds must be single, double, triple or
    /// aromatic (`-`, `=`, `#`, `:`); an anchor with fewer such bonds cannot match.
    private(set) var rootBonds: [BondCounts] = []

    var count: Int { atomStart.count - 1 }
    var largestPattern: Int { (0..<count).map { Int(atomStart[$0 + 1] - atomStart[$0]) }.max() ?? 1 }

    init() {}

    /// Appends a pattern; false (and nothing appended) when it uses something this form does not
    /// support (ring closures, ring or recursive primitives, a second component, a long query).
    mutating func append(_ pattern: SMARTS) -> Bool {
        let n = pattern.atoms.count
        guard n > 0, pattern.bonds.count == n - 1, pattern.recursiveCount == 0 else { return false }
        var neighbours = [[(atom: Int, bond: Int)]](repeating: [], count: n)
        for (b, bond) in pattern.bonds.enumerated() {
            neighbours[bond.begin].append((bond.end, b))
            neighbours[bond.end].append((bond.begin, b))
        }
        // Depth-first from atom 0; among an atom's children those joined by bonds that cannot be
        // aromatic come first: they are the selective ones (`[c](:a)(:a)-C` tries the `-C` first
        // and fails at once on a ring-fusion atom instead of after every order of its ring bonds).
        let masks = pattern.bonds.map { BondClass.mask($0.query) }
        var order: [(atom: Int, parentStep: Int, bond: Int)] = [(0, -1, -1)]
        var placed = [Bool](repeating: false, count: n)
        placed[0] = true
        func place(_ step: Int) {
            let atom = order[step].atom
            let children = neighbours[atom].filter { !placed[$0.atom] }
                .sorted { (masks[$0.bond] & BondClass.aromaticClasses == 0 ? 0 : 1, $0.atom) < (masks[$1.bond] & BondClass.aromaticClasses == 0 ? 0 : 1, $1.atom) }
            for c in children {
                placed[c.atom] = true
                order.append((c.atom, step, c.bond))
                place(order.count - 1)
            }
        }
        place(0)
        guard order.count == n else { return false }   // a second component
        var copy = self
        var required: UInt16 = 0
        var bonds = BondCounts()
        for entry in order {
            var program: [AtomTest] = []
            guard AtomTest.compile(pattern.atoms[entry.atom], into: &program), program.count <= 64 else { return false }
            copy.tests += program
            copy.testStart.append(Int32(copy.tests.count))
            copy.parents.append(Int32(entry.parentStep))
            copy.bondMasks.append(entry.bond < 0 ? 0 : masks[entry.bond])
            if entry.parentStep == 0 {
                if let z = SMARTS.requiredElement(pattern.atoms[entry.atom]) { required |= ElementClass.bit(Int(z)) }
                bonds.count(requiredBy: masks[entry.bond])
            }
        }
        copy.atomStart.append(Int32(copy.parents.count))
        copy.rootNeighbourElements.append(required)
        copy.rootBonds.append(bonds)
        let first = Int(copy.atomStart[copy.count - 1])
        copy.firstReadsMore.append(copy.tests[Int(copy.testStart[first])..<Int(copy.testStart[first + 1])]
            .contains { $0.op == .valence || $0.op == .isotope })
        self = copy
        return true
    }

    /// Evaluates pattern atom `a`'s compiled query on an atom's facts.
    @inline(__always) func test(_ a: Int, _ f: AtomFacts) -> Bool {
        var stack: UInt64 = 0   // bit stack, top = bit 0 (programs are at most 64 long)
        for p in Int(testStart[a])..<Int(testStart[a + 1]) {
            let t = tests[p]
            var r: Bool
            switch t.op {
            case .any: r = true
            case .aromatic: r = f.aromatic
            case .aliphatic: r = !f.aromatic
            case .element: r = f.z == t.value
            case .elementAromatic: r = f.z == t.value && f.aromatic
            case .elementAliphatic: r = f.z == t.value && !f.aromatic
            case .totalH: r = f.totalH == t.value
            // Once expanded no atom keeps folded hydrogens.
            case .implicitH: r = t.value == 0
            case .anyImplicitH: r = false
            case .degree, .totalDegree: r = f.connections == t.value
            case .valence: r = f.valence == t.value
            case .charge: r = f.charge == t.value
            case .isotope: r = f.isotope == t.value
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
}

/// Common elements as bits of a neighbour mask (others have none, so never required).
enum ElementClass {
    @inline(__always) static func bit(_ z: Int) -> UInt16 {
        switch z {
        case 1: return 1
        case 6: return 2
        case 7: return 4
        case 8: return 8
        case 9: return 16
        case 15: return 32
        case 16: return 64
        case 17: return 128
        case 35: return 256
        case 53: return 512
        default: return 0
        }
    }
}

/// What an atom query can ask of one atom of the hydrogen-expanded molecule.
struct AtomFacts: Sendable {
    var z: Int16
    var totalH: Int16
    /// Neighbours once hydrogens are explicit (SMARTS `D` and `X` alike then).
    var connections: Int16
    var valence: Int16
    var charge: Int16
    var isotope: Int16
    var aromatic: Bool

    /// A hydrogen made explicit.
    static let hydrogen = AtomFacts(z: 1, totalH: 0, connections: 1, valence: 1, charge: 0, isotope: 0, aromatic: false)
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
        for c in 0..<32 {
            var flags: MolecularGraph.BondFlags = []
            if c & 4 != 0 { flags.insert(.aromatic) }
            if c & 8 != 0 { flags.insert(.dative) }
            if c & 16 != 0 { flags.insert(.inRing) }
            if query.matches(order: UInt8(c & 3) + 1, flags: flags) { mask |= 1 << UInt32(c) }
        }
        return mask
    }

    /// A hydrogen's bond to its heavy atom once made explicit: single, not in a ring.
    static let hydrogen = 0

    /// The classes of aromatic bonds.
    static let aromaticClasses: UInt32 = {
        var mask: UInt32 = 0
        for c in 0..<32 where c & 4 != 0 { mask |= 1 << UInt32(c) }
        return mask
    }()

    /// The classes each of `-`, `=`, `#`, `:` accepts (a bond of one kind is in exactly one set,
    /// or in none: dative, quadruple).
    static let kindClasses: [UInt32] = [BondQuery.primitive(.single), .primitive(.double), .primitive(.triple), .primitive(.aromatic)]
        .map(mask)

    /// Per class, its kind (0 `-`, 1 `=`, 2 `#`, 3 `:`), or -1.
    static let kinds: [Int8] = (0..<32).map { c in Int8(kindClasses.firstIndex { $0 & (1 << UInt32(c)) != 0 } ?? -1) }
}

/// Counts of single, double, triple and aromatic bonds (one byte each), of an atom or required by a
/// pattern's first atom.
struct BondCounts: Sendable {
    var packed: UInt32 = 0

    /// Counts a pattern bond if its query accepts only one kind of bond.
    mutating func count(requiredBy mask: UInt32) {
        for (k, kind) in BondClass.kindClasses.enumerated() where mask != 0 && mask & ~kind == 0 {
            packed &+= 1 << UInt32(8 * k)
            return
        }
    }

    /// One single bond (a hydrogen's).
    static let oneSingle = BondCounts(packed: 1)

    /// Counts a molecule bond of class `c` (at most 127 of a kind).
    @inline(__always) mutating func count(bondClass c: Int) {
        let k = Int(BondClass.kinds[c])
        if k >= 0, (packed >> UInt32(8 * k)) & 255 < 127 { packed &+= 1 << UInt32(8 * k) }
    }

    /// Whether every count is at least the other's.
    @inline(__always) func covers(_ required: BondCounts) -> Bool {
        // Per byte a >= b, without borrows between bytes: (a | 0x80) - b keeps bit 7 set iff a >= b
        // when both are below 128 (counts stop at 127).
        let a = packed, b = required.packed
        return ((a | 0x8080_8080) &- b) & 0x8080_8080 == 0x8080_8080
    }
}

/// A molecule seen as if `addingHydrogens()` had run: atom ids below `atomCount` are the graph's
/// atoms; id `atomCount + parent * 256 + k` is the k-th folded hydrogen of `parent`.
struct HydrogenExpandedView {
    let graph: MolecularGraph
    let n: Int
    /// Per real atom, its facts once hydrogens are explicit.
    let facts: [AtomFacts]
    /// Per real atom, the element classes among its neighbours (hydrogens included).
    let neighbourElements: [UInt16]
    /// Per real atom, its single, double, triple and aromatic bonds (hydrogens' included).
    let bondCounts: [BondCounts]

    init(_ graph: MolecularGraph) {
        self.graph = graph
        n = graph.atomCount
        var facts: [AtomFacts] = []
        var neighbourElements = [UInt16](repeating: 0, count: n)
        var bondCounts = [BondCounts](repeating: BondCounts(), count: n)
        facts.reserveCapacity(n)
        for i in 0..<n {
            var h = Int(graph.hydrogenCounts[i])
            var elements: UInt16 = h > 0 ? 1 : 0
            var valence = h   // `MolecularGraph.valence`, in the same pass
            var bonds = BondCounts()
            for _ in 0..<min(h, 127) { bonds.count(bondClass: BondClass.hydrogen) }
            for k in Int(graph.neighbourOffsets[i])..<Int(graph.neighbourOffsets[i + 1]) {
                let z = Int(graph.atomicNumbers[Int(graph.neighbourAtoms[k])])
                if z == 1 { h += 1 }
                elements |= ElementClass.bit(z)
                let bond = Int(graph.neighbourBonds[k])
                if !graph.bondFlags[bond].contains(.dative) { valence += Int(graph.bondOrders[bond]) }
                bonds.count(bondClass: BondClass.of(order: graph.bondOrders[bond], flags: graph.bondFlags[bond]))
            }
            bondCounts[i] = bonds
            neighbourElements[i] = elements
            facts.append(AtomFacts(z: Int16(graph.atomicNumbers[i]), totalH: Int16(clamping: h),
                                   connections: Int16(clamping: graph.degree(i) + Int(graph.hydrogenCounts[i])),
                                   valence: Int16(clamping: valence), charge: Int16(graph.formalCharges[i]),
                                   isotope: Int16(clamping: graph.isotopes[i]), aromatic: graph.atomFlags[i].contains(.aromatic)))
        }
        self.facts = facts
        self.neighbourElements = neighbourElements
        self.bondCounts = bondCounts
    }

    @inline(__always) func bondCounts(of id: Int) -> BondCounts { id >= n ? .oneSingle : bondCounts[id] }

    /// The element classes among an atom id's neighbours.
    @inline(__always) func neighbourElements(of id: Int) -> UInt16 {
        id >= n ? ElementClass.bit(Int(graph.atomicNumbers[parentOfVirtual(id)])) : neighbourElements[id]
    }

    @inline(__always) func parentOfVirtual(_ id: Int) -> Int { (id - n) >> 8 }

    @inline(__always) func facts(of id: Int) -> AtomFacts { id >= n ? .hydrogen : facts[id] }

    @inline(__always) func test(_ set: AnchoredPatternSet, _ a: Int, _ id: Int) -> Bool { set.test(a, facts(of: id)) }

    /// Whether pattern `p` of `set` matches with its first atom on `anchor` (distinct atoms for
    /// distinct pattern atoms). `mapped` is scratch space of at least the pattern's size.
    func matches(_ set: AnchoredPatternSet, _ p: Int, at anchor: Int, mapped: inout [Int]) -> Bool {
        let first = Int(set.atomStart[p])
        guard test(set, first, anchor) else { return false }
        mapped[0] = anchor
        return extend(set, first, 1, Int(set.atomStart[p + 1]) - first, &mapped)
    }

    /// `matches` for an anchor known to pass the pattern's first atom query.
    func matchesBeyondFirst(_ set: AnchoredPatternSet, _ p: Int, at anchor: Int, mapped: inout [Int]) -> Bool {
        let first = Int(set.atomStart[p])
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

/// The Crippen atom types as anchored patterns, listed per element in table order, with a table
/// of which types' first atom can match an atom of given facts (so a typical atom tries 2-6 types
/// instead of ~30).
struct CrippenTyper: Sendable {
    let patterns: AnchoredPatternSet
    let logP: [Double]
    let mr: [Double]
    /// Per atomic number z (0-127): the types whose first atom can be that element are
    /// `candidates[candidateStart[z]..<candidateStart[z + 1]]`.
    let candidates: [Int16]
    let candidateStart: [Int32]
    /// For the common elements, per facts key (`Self.key`): the types whose first atom passes
    /// (and those whose first atom reads valence or isotope, tested in full) are
    /// `passing[passingStart[e + k]..<passingStart[e + k + 1]]` with `e = elementTable[z]`.
    let passing: [Int16]
    let passingStart: [Int32]
    let elementTable: [Int32]
    let largest: Int

    static let keyedElements: [Int16] = [1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 34, 35, 53]
    static let keys = 2 * 5 * 7 * 7

    /// The table key of an atom's facts: aromaticity, 0-4 hydrogens, 0-6 connections, charge
    /// -3...+3; nil outside (those atoms try every type of their element).
    @inline(__always) static func key(_ f: AtomFacts) -> Int? {
        guard f.totalH >= 0, f.totalH <= 4, f.connections >= 0, f.connections <= 6, f.charge >= -3, f.charge <= 3 else { return nil }
        return (((f.aromatic ? 1 : 0) * 5 + Int(f.totalH)) * 7 + Int(f.connections)) * 7 + Int(f.charge) + 3
    }

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
        var passing: [Int16] = [], passingStart: [Int32] = [0]
        var elementTable = [Int32](repeating: -1, count: 128)
        for (e, z) in keyedElements.enumerated() {
            elementTable[Int(z)] = Int32(e * keys)
            for aromatic in [false, true] {
                for h in 0...4 {
                    for x in 0...6 {
                        for charge in -3...3 {
                            let f = AtomFacts(z: z, totalH: Int16(h), connections: Int16(x), valence: 0, charge: Int16(charge),
                                              isotope: 0, aromatic: aromatic)
                            for c in Int(start[Int(z)])..<Int(start[Int(z) + 1]) {
                                let k = Int(candidates[c]), first = Int(patterns.atomStart[k])
                                if patterns.firstReadsMore[k] || patterns.test(first, f) { passing.append(Int16(k)) }
                            }
                            passingStart.append(Int32(passing.count))
                        }
                    }
                }
            }
        }
        return CrippenTyper(patterns: patterns, logP: types.map(\.logP), mr: types.map(\.mr), candidates: candidates,
                            candidateStart: start, passing: passing, passingStart: passingStart, elementTable: elementTable,
                            largest: patterns.largestPattern)
    }()

    /// The type index of an atom id of `view` (nil: no type matches).
    func type(of id: Int, z: Int, in view: HydrogenExpandedView, mapped: inout [Int]) -> Int? {
        let f = view.facts(of: id)
        let around = view.neighbourElements(of: id), bonds = view.bondCounts(of: id)
        // Whether the anchor has the neighbour elements and bond kinds the type's first atom needs.
        @inline(__always) func possible(_ k: Int) -> Bool {
            let required = patterns.rootNeighbourElements[k]
            return required & around == required && bonds.covers(patterns.rootBonds[k])
        }
        let e = Int(elementTable[z & 127])
        if e >= 0, let key = Self.key(f) {
            for c in Int(passingStart[e + key])..<Int(passingStart[e + key + 1]) {
                let k = Int(passing[c])
                guard possible(k) else { continue }
                if patterns.firstReadsMore[k] ? view.matches(patterns, k, at: id, mapped: &mapped)
                    : view.matchesBeyondFirst(patterns, k, at: id, mapped: &mapped) { return k }
            }
            return nil
        }
        for c in Int(candidateStart[z & 127])..<Int(candidateStart[(z & 127) + 1]) {
            let k = Int(candidates[c])
            if possible(k) && view.matches(patterns, k, at: id, mapped: &mapped) { return k }
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
