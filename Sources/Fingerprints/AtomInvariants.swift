import Chemistry

/// The first layer of a Morgan fingerprint: one 32-bit invariant per atom. Everything after it (the
/// environment layers, bond invariants, duplicate removal, folding) is the same for every kind of
/// invariant, so a new fingerprint flavour is a new `AtomInvariantGenerator`, not a new code path.
///
/// `invariants(of:into:)` runs once per molecule on a worker thread; an implementation must not
/// share mutable state between calls made from different threads.
public protocol AtomInvariantGenerator: Sendable {
    /// Writes `graph.atomCount` invariants to `out`, atom by atom.
    func invariants(of graph: MolecularGraph, into out: UnsafeMutablePointer<UInt32>)
}

/// Which atom invariants seed a Morgan fingerprint. Written into every fingerprint file's type line
/// and every model file that computes fingerprints.
public enum MorganInvariants: String, Sendable, Hashable, Codable, CaseIterable {
    /// ECFP-like: RDKit's connectivity invariants (element, degree, hydrogens, charge, isotope, ring
    /// membership). RDKit's `GetMorganGenerator` default.
    case connectivity
    /// FCFP-like: RDKit's feature invariants, six pharmacophoric classes (donor, acceptor, aromatic,
    /// halogen, basic, acidic) after Gobbi and Poppinger, Biotechnol. Bioeng. 61, 47–54 (1998).
    /// RDKit's `GetMorganGenerator(atomInvariantsGenerator=GetMorganFeatureAtomInvGen())`.
    case feature

    /// The name in the chemfp-style type line (`invariants=rdkit-feature`).
    public var typeName: String { "rdkit-\(rawValue)" }

    public var generator: any AtomInvariantGenerator {
        switch self {
        case .connectivity: return ConnectivityInvariants()
        case .feature: return FeatureInvariants()
        }
    }
}

/// RDKit's connectivity invariant: the boost hash of [atomic number, total degree, total H, formal
/// charge, delta mass] with [1] appended for ring atoms.
public struct ConnectivityInvariants: AtomInvariantGenerator {
    public init() {}

    public func invariants(of graph: MolecularGraph, into out: UnsafeMutablePointer<UInt32>) {
        for atom in 0..<graph.atomCount { out[atom] = Self.invariant(graph, atom) }
    }

    @inline(__always) public static func invariant(_ graph: MolecularGraph, _ atom: Int) -> UInt32 {
        let hydrogens = Int32(graph.totalHydrogens(atom))
        var seed: UInt32 = 0
        MorganGenerator.combine(&seed, UInt32(graph.atomicNumbers[atom]))
        MorganGenerator.combine(&seed, UInt32(bitPattern: Int32(graph.degree(atom)) + Int32(graph.hydrogenCounts[atom])))
        MorganGenerator.combine(&seed, UInt32(bitPattern: hydrogens))
        MorganGenerator.combine(&seed, UInt32(bitPattern: Int32(graph.formalCharges[atom])))
        MorganGenerator.combine(&seed, UInt32(bitPattern: Int32(graph.deltaMasses[atom])))
        if graph.atomFlags[atom].contains(.inRing) { MorganGenerator.combine(&seed, 1) }
        return seed
    }
}

/// RDKit's feature invariant: a 6-bit mask, bit i set when the atom matches feature class i
/// (0 donor, 1 acceptor, 2 aromatic, 3 halogen, 4 basic, 5 acidic). The classes are the SMARTS
/// RDKit uses for its feature Morgan fingerprints (its adaptation of Gobbi and Poppinger's
/// definitions), matched with Winnow's SMARTS matcher on RDKit's aromaticity; the invariant is the
/// mask itself, not a hash of it, as in RDKit.
public struct FeatureInvariants: AtomInvariantGenerator {
    public init() {}

    /// Donor, acceptor, aromatic, halogen, basic, acidic, in mask-bit order.
    public static let classNames = ["donor", "acceptor", "aromatic", "halogen", "basic", "acidic"]

    public static let definitions: [String] = [
        "[$([N;!H0;v3,v4&+1]),$([O,S;H1;+0]),n&H1&+0]",
        "[$([O,S;H1;v2;!$(*-*=[O,N,P,S])]),$([O,S;H0;v2]),$([O,S;-]),$([N;v3;!$(N-*=[O,N,P,S])]),n&H0&+0,$([o,s;+0;!$([o,s]:n);!$([o,s]:c:n)])]",
        "[a]",
        "[F,Cl,Br,I]",
        "[#7;+,$([N;H2&+0][$([C,a]);!$([C,a](=O))]),$([N;H1&+0]([$([C,a]);!$([C,a](=O))])[$([C,a]);!$([C,a](=O))]),$([N;H0&+0]([C;!$(C(=O))])([C;!$(C(=O))])[C;!$(C(=O))])]",
        "[$([C,S](=[O,S,P])-[O;H1,-1])]",
    ]

    /// The definitions compiled once; each is a single (possibly recursive) atom, so a match is
    /// one atom and "the atom matches class i" is a match anchored on it.
    public static let patterns: [SMARTS] = definitions.map { text in
        do { return try SMARTS(text) } catch {
            preconditionFailure("built-in feature SMARTS \(text) does not parse: \(error)")
        }
    }

    public func invariants(of graph: MolecularGraph, into out: UnsafeMutablePointer<UInt32>) {
        let target = SubstructureTarget(graph)
        for atom in 0..<graph.atomCount {
            var mask: UInt32 = 0
            for (i, pattern) in Self.patterns.enumerated() where target.matches(pattern, at: atom) {
                mask |= 1 << UInt32(i)
            }
            out[atom] = mask
        }
    }
}
