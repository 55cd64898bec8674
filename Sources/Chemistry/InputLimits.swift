/// Size limits checked by Winnow before Open Babel sees a record.
///
/// Open Babel's readers recurse (its kekulizer once per aromatic atom, its V3000 line reader once per
/// continuation line) and trust their input, so a hostile record can overflow a thread's stack and
/// take the whole library with it. Every limit is far above any drug-like molecule (those have under
/// 100 heavy atoms, a handful of rings and branches a few levels deep); a record over a limit is
/// rejected with a reason naming the limit and the option that raises it.
public struct InputLimits: Sendable, Equatable, Hashable {
    /// Atoms per record (SMILES atoms as written; molfile atoms from the counts line).
    public var maxAtoms: Int
    /// Ring closures per SMILES (each closes one ring) and rings per molecule (bonds − atoms +
    /// components) for molfiles.
    public var maxRings: Int
    /// Nesting depth of SMILES branches `(`.
    public var maxBranchDepth: Int
    /// Bytes per record: one line of a SMILES or CSV file, one SDF record up to `$$$$`.
    public var maxRecordBytes: Int
    /// Atoms per molfile record (hydrogens included), on top of `maxAtoms`. Open Babel's molfile
    /// reader perceives stereo on every record through its graph-symmetry pass, which computes
    /// topological distances with bit vectors: its time grows with atoms² × the longest path. Measured
    /// on a carbon chain in V3000 (with or without coordinates): 1,000 atoms 0.3 s, 2,000 0.8 s, 4,000
    /// 7.4 s, 10,000 over 100 s; the same chains as SMILES take milliseconds (the SMILES reader takes
    /// stereo from the string). V2000 cannot exceed 999 atoms, so this bounds V3000 records.
    public var maxMolfileAtoms: Int
    /// Not a limit but how records are read: standardise each molecule after parsing (`--standardize`,
    /// see `Standardizer`). It travels with the limits because every parser is made from them.
    public var standardize = false

    public static let defaultMaxAtoms = 10_000
    public static let defaultMaxRings = 1_000
    public static let defaultMaxBranchDepth = 1_000
    public static let defaultMaxRecordBytes = 4 << 20
    public static let defaultMaxMolfileAtoms = 2_000

    public init(maxAtoms: Int = InputLimits.defaultMaxAtoms, maxRings: Int = InputLimits.defaultMaxRings,
                maxBranchDepth: Int = InputLimits.defaultMaxBranchDepth,
                maxRecordBytes: Int = InputLimits.defaultMaxRecordBytes,
                maxMolfileAtoms: Int = InputLimits.defaultMaxMolfileAtoms) {
        self.maxAtoms = maxAtoms
        self.maxRings = maxRings
        self.maxBranchDepth = maxBranchDepth
        self.maxRecordBytes = maxRecordBytes
        self.maxMolfileAtoms = maxMolfileAtoms
    }

    /// Stack for a thread that parses records under these limits. Open Babel's deepest recursion
    /// measured is its kekulizer, about 96 bytes per atom of an aromatic chain (100,000 atoms overflow
    /// 8 MiB); its V3000 reader keeps a 32 KiB buffer per continuation line (at most
    /// `V3000Check.maxContinuationLines`). Winnow's own graph code, the SMILES writer included, keeps
    /// explicit stacks and does not recurse per atom. 1 KiB per atom covers Open Babel with room to
    /// spare; the stack is reserved address space, touched only as deep as it is used.
    public var parserStackBytes: Int {
        let perAtom = 1 << 10
        let base = 16 << 20
        let (atoms, overflow) = maxAtoms.multipliedReportingOverflow(by: perAtom)
        return overflow ? Int.max / 2 : base + atoms
    }
}

extension MolecularGraph {
    /// Connected pieces, from the bond list alone (union-find; no adjacency needed).
    func componentCount() -> Int {
        var parent = Array(0..<Int32(atomCount))
        func root(_ x: Int32) -> Int32 {
            var x = x
            while parent[Int(x)] != x {
                parent[Int(x)] = parent[Int(parent[Int(x)])]
                x = parent[Int(x)]
            }
            return x
        }
        var pieces = atomCount
        for b in 0..<bondCount {
            let a = root(bondBegins[b]), c = root(bondEnds[b])
            if a != c { parent[Int(a)] = c; pieces -= 1 }
        }
        return pieces
    }
}
