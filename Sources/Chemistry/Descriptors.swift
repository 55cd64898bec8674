/// Molecular descriptors with RDKit's definitions (function names in the comments), computed on
/// Winnow's graph, whose H counts, charges and aromaticity already follow RDKit's sanitised molecule.
public struct MolecularDescriptors: Sendable, Equatable {
    /// `Descriptors.MolWt`: average masses (isotope masses where an isotope is given).
    public var molWt: Double = 0
    /// `Descriptors.ExactMolWt`: monoisotopic masses, less one electron mass per positive charge.
    public var exactMass: Double = 0
    /// `GetNumHeavyAtoms`: atoms heavier than hydrogen.
    public var heavyAtoms = 0
    /// `Crippen.MolLogP` / `Crippen.MolMR` (Wildman & Crippen 1999 atom types).
    public var clogp: Double = 0
    public var mr: Double = 0
    /// `CalcTPSA` with N and O only (Ertl 2000).
    public var tpsa: Double = 0
    /// `CalcNumHBD` / `CalcNumHBA` (SMARTS definitions).
    public var hbd = 0
    public var hba = 0
    /// `CalcNumLipinskiHBD` (H on N and O) / `CalcNumLipinskiHBA` (N and O atoms).
    public var lipinskiHBD = 0
    public var lipinskiHBA = 0
    /// `CalcNumRotatableBonds`, strict definition (RDKit's default).
    public var rotatableBonds = 0
    /// `CalcNumRings` (symmetrised SSSR) and `CalcNumAromaticRings`.
    public var rings = 0
    public var aromaticRings = 0
    /// `CalcFractionCSP3`: carbons with four connections (H included) over all carbons.
    public var fractionCSP3: Double = 0
    public var formalCharge = 0
    /// `QED.qed` (Bickerton 2012, mean weights); nil where it cannot be computed.
    public var qed: Double? = nil

    public init() {}

    /// Column names, in the order of the reference files.
    public static let columnNames = Descriptor.allCases.map(\.rawValue)

    /// A descriptor's value (nil for a QED that is not defined).
    public subscript(_ descriptor: Descriptor) -> Double? {
        switch descriptor {
        case .molWt: return molWt
        case .exactMass: return exactMass
        case .heavyAtoms: return Double(heavyAtoms)
        case .clogp: return clogp
        case .mr: return mr
        case .tpsa: return tpsa
        case .hbd: return Double(hbd)
        case .hba: return Double(hba)
        case .lipinskiHBD: return Double(lipinskiHBD)
        case .lipinskiHBA: return Double(lipinskiHBA)
        case .rotatableBonds: return Double(rotatableBonds)
        case .rings: return Double(rings)
        case .aromaticRings: return Double(aromaticRings)
        case .fractionCSP3: return fractionCSP3
        case .formalCharge: return Double(formalCharge)
        case .qed: return qed
        }
    }
}

/// One descriptor column, by its reference-file name.
public enum Descriptor: String, CaseIterable, Sendable, Hashable {
    case molWt = "mol_wt", exactMass = "exact_mass", heavyAtoms = "heavy_atoms", clogp, mr, tpsa, hbd, hba
    case lipinskiHBD = "lipinski_hbd", lipinskiHBA = "lipinski_hba", rotatableBonds = "rotatable_bonds", rings
    case aromaticRings = "aromatic_rings", fractionCSP3 = "fraction_csp3", formalCharge = "formal_charge", qed

    /// Short names accepted in filters and `--properties` next to the column names.
    public static let aliases: [String: Descriptor] = ["mw": .molWt, "logp": .clogp, "rotb": .rotatableBonds, "hac": .heavyAtoms]

    /// A column name or alias (case-insensitive), nil when unknown.
    public init?(name: String) {
        let lower = name.lowercased()
        if let d = Descriptor(rawValue: lower) { self = d } else if let d = Descriptor.aliases[lower] { self = d } else { return nil }
    }

    /// The computation that yields it (several columns come from one).
    var group: Descriptors.Group {
        switch self {
        case .molWt, .exactMass, .heavyAtoms, .lipinskiHBD, .lipinskiHBA, .fractionCSP3, .formalCharge: return .atoms
        case .clogp, .mr: return .crippen
        case .tpsa: return .tpsa
        case .hbd: return .hbd
        case .hba: return .hba
        case .rotatableBonds: return .rotatable
        case .rings: return .rings
        case .aromaticRings: return .aromaticRings
        case .qed: return .qed
        }
    }
}

/// Descriptors of one molecule computed on demand, each computation once: a filter that rejects a
/// molecule on its mass never pays for Crippen or QED, and one that reads only the mass, atom
/// counts, Crippen or ring count never pays for the substructure target (its SSSR ring sets).
public struct LazyDescriptors {
    public let graph: MolecularGraph
    public private(set) var values = MolecularDescriptors()
    private var done: Descriptors.Group = []
    private var prepared: SubstructureTarget?

    public init(_ target: SubstructureTarget) { graph = target.graph; prepared = target }
    public init(_ graph: MolecularGraph) { self.graph = graph }

    /// The molecule prepared for SMARTS matching, made on first use and kept.
    public var target: SubstructureTarget {
        mutating get {
            if let prepared { return prepared }
            let made = SubstructureTarget(graph)
            prepared = made
            return made
        }
    }

    public mutating func value(_ descriptor: Descriptor) -> Double? {
        ensure(descriptor.group)
        return values[descriptor]
    }

    /// Every descriptor.
    public mutating func all() -> MolecularDescriptors {
        ensure(.all)
        return values
    }

    mutating func ensure(_ wanted: Descriptors.Group) {
        var missing = wanted.subtracting(done)
        guard !missing.isEmpty else { return }
        if missing.contains(.qed) { missing.formUnion(Descriptors.Group.qedInputs.subtracting(done)) }
        let needsTarget = !missing.subtracting(Descriptors.Group.graphOnly).isEmpty
        Descriptors.compute(missing, graph: graph, target: needsTarget ? target : nil, into: &values)
        done.formUnion(missing)
    }
}

public enum Descriptors {
    static let electronMass = 0.00054857990946
    static let hydrogenExactMass = 1.007825032

    static let hbdPattern = try? SMARTS("[N&!H0&v3,N&!H0&+1&v4,O&H1&+0,S&H1&+0,n&H1&+0]")
    static let hbaPattern = try? SMARTS("[$([O,S;H1;v2]-[!$(*=[O,N,P,S])]),$([O,S;H0;v2]),$([O,S;-]),$([N;v3;!$(N-*=!@[O,N,P,S])]),$([nH0X2,o,s;+0])]")
    static let rotatablePattern = try? SMARTS("[!$(*#*)&!D1&!$(C(F)(F)F)&!$(C(Cl)(Cl)Cl)&!$(C(Br)(Br)Br)&!$(C([CH3])([CH3])[CH3])&!$([CD3](=[N,O,S])-!@[#7,O,S!D1])&!$([#7,O,S!D1]-!@[CD3]=[N,O,S])&!$([CD3](=[N+])-!@[#7!D1])&!$([#7!D1]-!@[CD3]=[N+])]-!@[!$(*#*)&!D1&!$(C(F)(F)F)&!$(C(Cl)(Cl)Cl)&!$(C(Br)(Br)Br)&!$(C([CH3])([CH3])[CH3])]")
    static let aliphaticRingAtomPattern = try? SMARTS("[$([A;R][!a])]")

    /// The SMARTS literals above compiled (the tests check that none is nil).
    static var builtInPatternsCompile: Bool {
        hbdPattern != nil && hbaPattern != nil && rotatablePattern != nil && aliphaticRingAtomPattern != nil
    }

    /// The separately computed parts of `MolecularDescriptors`.
    struct Group: OptionSet {
        let rawValue: UInt16
        static let atoms = Group(rawValue: 1), crippen = Group(rawValue: 2), tpsa = Group(rawValue: 4), hbd = Group(rawValue: 8)
        static let hba = Group(rawValue: 16), rotatable = Group(rawValue: 32), rings = Group(rawValue: 64)
        static let aromaticRings = Group(rawValue: 128), qed = Group(rawValue: 256)
        static let all = Group(rawValue: 511)
        /// What QED reads from the other descriptors.
        static let qedInputs: Group = [.atoms, .crippen, .tpsa, .hbd, .rotatable]
        /// Computed from the graph alone, without a `SubstructureTarget`.
        static let graphOnly: Group = [.atoms, .crippen, .rings]
    }

    /// All descriptors of a molecule.
    public static func compute(_ graph: MolecularGraph) -> MolecularDescriptors {
        compute(SubstructureTarget(graph))
    }

    public static func compute(_ target: SubstructureTarget) -> MolecularDescriptors {
        var lazy = LazyDescriptors(target)
        return lazy.all()
    }

    /// Fills the groups asked for (QED's inputs must be among them or already filled); `target` may
    /// be nil only when every group is in `Group.graphOnly`.
    static func compute(_ groups: Group, graph g: MolecularGraph, target: SubstructureTarget?, into d: inout MolecularDescriptors) {
        if groups.contains(.atoms) {
            d.molWt = 0; d.exactMass = 0; d.formalCharge = 0; d.heavyAtoms = 0; d.lipinskiHBA = 0; d.lipinskiHBD = 0
            var carbons = 0, sp3 = 0
            for i in 0..<g.atomCount {
                let z = Int(g.atomicNumbers[i])
                let h = Int(g.hydrogenCounts[i])
                d.molWt += atomMass(z, isotope: Int(g.isotopes[i]), exact: false) + Double(h) * Elements.averageWeight(1)
                d.exactMass += atomMass(z, isotope: Int(g.isotopes[i]), exact: true) + Double(h) * hydrogenExactMass
                d.formalCharge += Int(g.formalCharges[i])
                if z > 1 { d.heavyAtoms += 1 }
                if z == 7 || z == 8 {
                    d.lipinskiHBA += 1
                    d.lipinskiHBD += g.totalHydrogens(i)
                }
                if z == 6 {
                    carbons += 1
                    if g.degree(i) + h == 4 { sp3 += 1 }
                }
            }
            d.exactMass -= Double(d.formalCharge) * electronMass
            d.fractionCSP3 = carbons == 0 ? 0 : Double(sp3) / Double(carbons)
        }
        if groups.contains(.crippen) { (d.clogp, d.mr) = crippen(g) }
        if groups.contains(.rings) { d.rings = g.symmetrizedRingCount() }
        guard let target else {
            precondition(groups.isSubset(of: .graphOnly), "descriptors other than Group.graphOnly need a SubstructureTarget")
            return
        }
        if groups.contains(.tpsa) { d.tpsa = tpsa(target) }
        if groups.contains(.hbd) { d.hbd = hbdPattern.map(target.matchCount) ?? 0 }
        if groups.contains(.hba) { d.hba = hbaPattern.map(target.matchCount) ?? 0 }
        if groups.contains(.rotatable) { d.rotatableBonds = rotatablePattern.map(target.matchCount) ?? 0 }
        if groups.contains(.aromaticRings) {
            d.aromaticRings = target.ringBonds.filter { bonds in bonds.allSatisfy { g.bondFlags[$0].contains(.aromatic) } }.count
        }
        if groups.contains(.qed) { d.qed = qed(target, descriptors: d) }
    }

    static func atomMass(_ z: Int, isotope: Int, exact: Bool) -> Double {
        if isotope > 0 { return Elements.isotopeMass(z, isotope) }
        return exact ? Elements.monoisotopicMass(z) : Elements.averageWeight(z)
    }

    // MARK: Crippen

    /// Wildman–Crippen logP and MR: every atom (hydrogens made explicit) takes the first atom type
    /// in table order whose pattern matches with the atom as its first atom. The patterns run as
    /// `AnchoredPattern`s on the molecule with its hydrogens seen as explicit (no larger graph, no
    /// ring perception); `crippenReference` is the same through the general matcher.
    public static func crippen(_ graph: MolecularGraph) -> (logP: Double, mr: Double) {
        guard let typer = CrippenTyper.shared else { return crippenReference(graph) }
        return typer.contributions(graph)
    }

    /// Crippen through `SubstructureTarget` on `graph.addingHydrogens()` (the tests compare).
    public static func crippenReference(_ graph: MolecularGraph) -> (logP: Double, mr: Double) {
        let expanded = graph.addingHydrogens()
        let target = SubstructureTarget(expanded)
        var logP = 0.0, mr = 0.0
        let types = PatternTables.crippen
        for atom in 0..<expanded.atomCount {
            let z = expanded.atomicNumbers[atom]
            for k in types.indices {
                // Cheap pre-check: the type's first atom must allow this element.
                if let required = types[k].firstElement, required != z { continue }
                if target.matches(types[k].pattern, at: atom) {
                    logP += types[k].logP
                    mr += types[k].mr
                    break
                }
            }
        }
        return (logP, mr)
    }

    // MARK: TPSA

    /// Topological polar surface area from N and O contributions (Ertl et al. 2000, RDKit's table).
    public static func tpsa(_ target: SubstructureTarget) -> Double {
        let g = target.graph
        var total = 0.0
        for i in 0..<g.atomCount {
            let z = g.atomicNumbers[i]
            guard z == 7 || z == 8 else { continue }
            var hs = Int(g.hydrogenCounts[i])
            var neighbours = 0, single = 0, double = 0, triple = 0, aromatic = 0
            for k in Int(g.neighbourOffsets[i])..<Int(g.neighbourOffsets[i + 1]) {
                let other = Int(g.neighbourAtoms[k]), b = Int(g.neighbourBonds[k])
                if g.atomicNumbers[other] == 1 { hs += 1; continue }
                neighbours += 1
                let flags = g.bondFlags[b]
                if flags.contains(.aromatic) { aromatic += 1 }
                else if flags.contains(.dative) { continue }
                else {
                    switch g.bondOrders[b] {
                    case 1: single += 1
                    case 2: double += 1
                    case 3: triple += 1
                    default: break
                    }
                }
            }
            let charge = Int(g.formalCharges[i])
            let inThreeRing = target.rings.contains { $0.count == 3 && $0.contains(i) }
            var contribution: Double? = nil
            if z == 7 {
                switch neighbours {
                case 1:
                    if hs == 0 && charge == 0 && triple == 1 { contribution = 23.79 }
                    else if hs == 1 && charge == 0 && double == 1 { contribution = 23.85 }
                    else if hs == 2 && charge == 0 && single == 1 { contribution = 26.02 }
                    else if hs == 2 && charge == 1 && double == 1 { contribution = 25.59 }
                    else if hs == 3 && charge == 1 && single == 1 { contribution = 27.64 }
                case 2:
                    if hs == 0 && charge == 0 && single == 1 && double == 1 { contribution = 12.36 }
                    else if hs == 0 && charge == 0 && triple == 1 && double == 1 { contribution = 13.60 }
                    else if hs == 1 && charge == 0 && single == 2 { contribution = inThreeRing ? 21.94 : 12.03 }
                    else if hs == 0 && charge == 1 && single == 1 && triple == 1 { contribution = 4.36 }
                    else if hs == 1 && charge == 1 && double == 1 && single == 1 { contribution = 13.97 }
                    else if hs == 2 && charge == 1 && single == 2 { contribution = 16.61 }
                    else if hs == 0 && charge == 0 && aromatic == 2 { contribution = 12.89 }
                    else if hs == 1 && charge == 0 && aromatic == 2 { contribution = 15.79 }
                    else if hs == 1 && charge == 1 && aromatic == 2 { contribution = 14.14 }
                case 3:
                    if hs == 0 && charge == 0 && single == 3 { contribution = inThreeRing ? 3.01 : 3.24 }
                    else if hs == 0 && charge == 0 && single == 1 && double == 2 { contribution = 11.68 }
                    else if hs == 0 && charge == 1 && single == 2 && double == 1 { contribution = 3.01 }
                    else if hs == 1 && charge == 1 && single == 3 { contribution = 4.44 }
                    else if hs == 0 && charge == 0 && aromatic == 3 { contribution = 4.41 }
                    else if hs == 0 && charge == 0 && single == 1 && aromatic == 2 { contribution = 4.93 }
                    else if hs == 0 && charge == 0 && double == 1 && aromatic == 2 { contribution = 8.39 }
                    else if hs == 0 && charge == 1 && aromatic == 3 { contribution = 4.10 }
                    else if hs == 0 && charge == 1 && single == 1 && aromatic == 2 { contribution = 3.88 }
                case 4:
                    if hs == 0 && charge == 1 && single == 4 { contribution = 0 }
                default: break
                }
                total += contribution ?? max(0, 30.5 - Double(neighbours) * 8.2 + Double(hs) * 1.5)
            } else {
                switch neighbours {
                case 1:
                    if hs == 0 && charge == 0 && double == 1 { contribution = 17.07 }
                    else if hs == 1 && charge == 0 && single == 1 { contribution = 20.23 }
                    else if hs == 0 && charge == -1 && single == 1 { contribution = 23.06 }
                case 2:
                    if hs == 0 && charge == 0 && single == 2 { contribution = inThreeRing ? 12.53 : 9.23 }
                    else if hs == 0 && charge == 0 && aromatic == 2 { contribution = 13.14 }
                default: break
                }
                total += contribution ?? max(0, 28.5 - Double(neighbours) * 8.6 + Double(hs) * 1.5)
            }
        }
        return total
    }

    // MARK: QED

    /// QED with mean weights (`QED.qed`), from its eight properties.
    static func qed(_ target: SubstructureTarget, descriptors d: MolecularDescriptors) -> Double? {
        let ads = PatternTables.qedADS
        guard ads.count == 8, ads.allSatisfy({ $0.count == 7 }) else { return nil }
        var acceptors = 0
        for p in PatternTables.qedAcceptors { acceptors += target.matchCount(p) }
        let alerts = PatternTables.qedAlerts.reduce(0) { $0 + (target.hasMatch($1) ? 1 : 0) }
        let properties: [Double] = [d.molWt, d.clogp, Double(acceptors), Double(d.hbd), d.tpsa,
                                    Double(d.rotatableBonds), Double(qedAromaticRings(target)), Double(alerts)]
        let weights = [0.66, 0.46, 0.05, 0.61, 0.06, 0.65, 0.48, 0.95]
        var t = 0.0
        for (k, x) in properties.enumerated() {
            let p = ads[k]
            let (a, b, c, dd, e, f, dmax) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6])
            let exp1 = 1 + _exp(-1 * (x - c + dd / 2) / e)
            let exp2 = 1 + _exp(-1 * (x - c - dd / 2) / f)
            let value = (a + b / exp1 * (1 - 1 / exp2)) / dmax
            guard value > 0 else { return nil }
            t += weights[k] * _log(value)
        }
        return _exp(t / weights.reduce(0, +))
    }

    /// QED's AROM: rings left after deleting aliphatic ring atoms bonded to a non-aromatic atom
    /// (`[$([A;R][!a])]`), counted as the SSSR of what remains.
    static func qedAromaticRings(_ target: SubstructureTarget) -> Int {
        let g = target.graph
        guard !target.rings.isEmpty else { return 0 }
        var keep = [Bool](repeating: true, count: g.atomCount)
        guard let pattern = aliphaticRingAtomPattern else { return 0 }
        for i in 0..<g.atomCount where target.matches(pattern, at: i) { keep[i] = false }
        let sub = g.subgraph(keeping: keep)
        // SSSR size = bonds − atoms + components on the ring part (cycle rank).
        return sub.cycleRank()
    }
}

// Foundation-free libm access.
@inline(__always) func _exp(_ x: Double) -> Double { x.isNaN ? x : exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { log(x) }

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension MolecularGraph {
    /// The same molecule with every folded hydrogen as an explicit H atom (RDKit's `AddHs`),
    /// appended after the heavy atoms.
    public func addingHydrogens() -> MolecularGraph {
        var g = self
        let n = atomCount
        for i in 0..<n {
            let count = Int(hydrogenCounts[i])
            guard count > 0 else { continue }
            g.hydrogenCounts[i] = 0
            for _ in 0..<count {
                g.atomicNumbers.append(1)
                g.formalCharges.append(0)
                g.isotopes.append(0)
                g.hydrogenCounts.append(0)
                g.deltaMasses.append(0)
                g.atomFlags.append([])
                g.bondBegins.append(Int32(i))
                g.bondEnds.append(Int32(g.atomicNumbers.count - 1))
                g.bondOrders.append(1)
                g.bondFlags.append([])
            }
        }
        if g.atomCount != n { g.buildAdjacency() }
        return g
    }

    /// The atoms where `keep` is true and the bonds between them (flags kept as they were).
    func subgraph(keeping keep: [Bool]) -> MolecularGraph {
        var (g, index) = keptAtoms(keep)
        for b in 0..<bondCount {
            let a = index[Int(bondBegins[b])], c = index[Int(bondEnds[b])]
            guard a >= 0, c >= 0 else { continue }
            g.bondBegins.append(a)
            g.bondEnds.append(c)
            g.bondOrders.append(bondOrders[b])
            g.bondFlags.append(bondFlags[b])
        }
        g.buildAdjacency()
        return g
    }

    /// Number of independent cycles: bonds − atoms + connected components (the SSSR size).
    func cycleRank() -> Int {
        var parent = Array(0..<atomCount)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        var components = atomCount
        for b in 0..<bondCount {
            let r1 = find(Int(bondBegins[b])), r2 = find(Int(bondEnds[b]))
            if r1 != r2 { parent[r1] = r2; components -= 1 }
        }
        return bondCount - atomCount + components
    }
}
