/// A validated molecule as a plain value: struct-of-arrays atoms and bonds plus a CSR adjacency.
///
/// Hydrogens are folded into their heavy atom (`hydrogenCounts`) except where RDKit keeps them as
/// atoms (isotopic `[2H]`, `[H][H]`, bridging or isolated H). Bond orders are Kekulé orders (1, 2, 3);
/// aromaticity follows RDKit's model and is kept in `atomFlags` / `bondFlags`.
public struct MolecularGraph: Sendable, Hashable {
    public struct AtomFlags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let aromatic = AtomFlags(rawValue: 1 << 0)
        public static let inRing = AtomFlags(rawValue: 1 << 1)
        // 1 << 2 and 1 << 3 held SMILES-token chirality before stereo moved to `tetrahedralCentres`.
        public static let radical = AtomFlags(rawValue: 1 << 4)
    }

    public struct BondFlags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let aromatic = BondFlags(rawValue: 1 << 0)
        public static let inRing = BondFlags(rawValue: 1 << 1)
        /// A donor bond to a metal (RDKit's DATIVE): it adds nothing to either atom's valence.
        public static let dative = BondFlags(rawValue: 1 << 2)
    }

    // MARK: Atoms (count = atomCount)
    public var atomicNumbers: [UInt8] = []
    public var formalCharges: [Int8] = []
    /// Mass number, 0 when not given.
    public var isotopes: [UInt16] = []
    /// Implicit plus explicit hydrogens folded into the atom (H atoms kept in the graph not included).
    public var hydrogenCounts: [UInt8] = []
    /// `Int(isotope mass − average atomic weight)`, RDKit's Morgan "delta mass" (0 without isotope).
    public var deltaMasses: [Int8] = []
    public var atomFlags: [AtomFlags] = []

    // MARK: Bonds (count = bondCount)
    public var bondBegins: [Int32] = []
    public var bondEnds: [Int32] = []
    /// Kekulé order: 1, 2, 3 or 4 (quadruple, `$`).
    public var bondOrders: [UInt8] = []
    public var bondFlags: [BondFlags] = []

    // MARK: Stereo (see MolecularGraph+Stereo.swift); empty without defined stereo
    public var tetrahedralCentres: [TetrahedralCentre] = []
    public var doubleBonds: [StereoDoubleBond] = []

    // MARK: Adjacency (CSR): neighbours of atom i are at neighbourOffsets[i] ..< neighbourOffsets[i + 1]
    public var neighbourOffsets: [Int32] = [0]
    public var neighbourAtoms: [Int32] = []
    public var neighbourBonds: [Int32] = []

    public init() {}

    public var atomCount: Int { atomicNumbers.count }
    public var bondCount: Int { bondBegins.count }

    @inline(__always) public func degree(_ atom: Int) -> Int {
        Int(neighbourOffsets[atom + 1] - neighbourOffsets[atom])
    }

    /// Number of hydrogens on an atom, counting H atoms that stay in the graph as neighbours
    /// (RDKit's `getTotalNumHs(includeNeighbors: true)`).
    public func totalHydrogens(_ atom: Int) -> Int {
        var count = Int(hydrogenCounts[atom])
        for k in Int(neighbourOffsets[atom])..<Int(neighbourOffsets[atom + 1]) where atomicNumbers[Int(neighbourAtoms[k])] == 1 {
            count += 1
        }
        return count
    }

    /// Sum of Kekulé bond orders plus folded hydrogens.
    public func valence(_ atom: Int) -> Int {
        var v = Int(hydrogenCounts[atom])
        for k in Int(neighbourOffsets[atom])..<Int(neighbourOffsets[atom + 1]) {
            let bond = Int(neighbourBonds[k])
            if !bondFlags[bond].contains(.dative) { v += Int(bondOrders[bond]) }
        }
        return v
    }

    /// Builds the CSR adjacency from the bond list.
    mutating func buildAdjacency() {
        let n = atomCount
        var offsets = [Int32](repeating: 0, count: n + 1)
        for b in 0..<bondCount {
            offsets[Int(bondBegins[b]) + 1] += 1
            offsets[Int(bondEnds[b]) + 1] += 1
        }
        for i in 0..<n { offsets[i + 1] += offsets[i] }
        var fill = offsets
        var atoms = [Int32](repeating: 0, count: 2 * bondCount)
        var bonds = [Int32](repeating: 0, count: 2 * bondCount)
        for b in 0..<bondCount {
            let a = Int(bondBegins[b]), c = Int(bondEnds[b])
            atoms[Int(fill[a])] = Int32(c); bonds[Int(fill[a])] = Int32(b); fill[a] += 1
            atoms[Int(fill[c])] = Int32(a); bonds[Int(fill[c])] = Int32(b); fill[c] += 1
        }
        neighbourOffsets = offsets
        neighbourAtoms = atoms
        neighbourBonds = bonds
    }
}
