/// A compact binary form of a parsed graph, so that a campaign file can keep its pool's molecules and
/// later rounds never parse the library again. Every stored array is written verbatim (atom and
/// bond indices as 16-bit numbers when they fit), so decoding gives back an equal graph.
extension MolecularGraph {
    /// Version of the byte layout below; bump it when the layout or the meaning of a field changes.
    /// 2: stereo (tetrahedral centres, double-bond geometry) after the adjacency; atom flags no
    /// longer carry SMILES-token chirality.
    public static let codingVersion: UInt8 = 2

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + atomCount * 7 + bondCount * 6 + neighbourAtoms.count * 4 + (atomCount + 1) * 2)
        let wide = atomCount > 0xFFFF || neighbourAtoms.count > 0xFFFF
        out.append(Self.codingVersion)
        out.append(wide ? 1 : 0)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out.append(contentsOf: $0) } }
        func index(_ v: Int32) {
            if wide { u32(Int(v)) } else { withUnsafeBytes(of: UInt16(v).littleEndian) { out.append(contentsOf: $0) } }
        }
        u32(atomCount); u32(bondCount); u32(neighbourAtoms.count)
        out.append(contentsOf: atomicNumbers)
        for v in formalCharges { out.append(UInt8(bitPattern: v)) }
        for v in isotopes { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        out.append(contentsOf: hydrogenCounts)
        for v in deltaMasses { out.append(UInt8(bitPattern: v)) }
        for v in atomFlags { out.append(v.rawValue) }
        for v in bondBegins { index(v) }
        for v in bondEnds { index(v) }
        out.append(contentsOf: bondOrders)
        for v in bondFlags { out.append(v.rawValue) }
        for v in neighbourOffsets { index(v) }
        for v in neighbourAtoms { index(v) }
        for v in neighbourBonds { index(v) }
        u32(tetrahedralCentres.count)
        for c in tetrahedralCentres { index(c.atom); out.append(c.clockwise ? 1 : 0) }
        u32(doubleBonds.count)
        for d in doubleBonds { index(d.bond); index(d.beginReference); index(d.endReference); out.append(d.cis ? 1 : 0) }
        return out
    }

    public enum DecodingError: Error, Equatable { case version(UInt8), truncated, inconsistent }

    /// Reads what `encoded()` wrote; a different layout version or damaged bytes throw.
    public init(encoded bytes: [UInt8]) throws(DecodingError) {
        self.init()
        var at = 0
        func take(_ n: Int) throws(DecodingError) -> ArraySlice<UInt8> {
            guard n >= 0, at + n <= bytes.count else { throw .truncated }
            defer { at += n }
            return bytes[at..<(at + n)]
        }
        func u32() throws(DecodingError) -> Int {
            let s = try take(4)
            return s.reversed().reduce(0) { $0 << 8 | Int($1) }
        }
        let header = try take(2)
        guard header.first == Self.codingVersion else { throw .version(header.first!) }
        let wide = header.last == 1
        func indices(_ n: Int) throws(DecodingError) -> [Int32] {
            let s = try take(n * (wide ? 4 : 2))
            var out = [Int32]()
            out.reserveCapacity(n)
            var i = s.startIndex
            for _ in 0..<n {
                if wide {
                    out.append(Int32(bitPattern: UInt32(s[i]) | UInt32(s[i + 1]) << 8 | UInt32(s[i + 2]) << 16 | UInt32(s[i + 3]) << 24))
                    i += 4
                } else {
                    out.append(Int32(UInt16(s[i]) | UInt16(s[i + 1]) << 8)); i += 2
                }
            }
            return out
        }
        let atoms = try u32(), bonds = try u32(), neighbours = try u32()
        guard atoms < 1 << 24, bonds < 1 << 24, neighbours == 2 * bonds else { throw .inconsistent }
        atomicNumbers = Array(try take(atoms))
        formalCharges = try take(atoms).map { Int8(bitPattern: $0) }
        let isotopeBytes = try take(2 * atoms)
        isotopes = stride(from: isotopeBytes.startIndex, to: isotopeBytes.endIndex, by: 2).map {
            UInt16(isotopeBytes[$0]) | UInt16(isotopeBytes[$0 + 1]) << 8
        }
        hydrogenCounts = Array(try take(atoms))
        deltaMasses = try take(atoms).map { Int8(bitPattern: $0) }
        atomFlags = try take(atoms).map { AtomFlags(rawValue: $0) }
        bondBegins = try indices(bonds)
        bondEnds = try indices(bonds)
        bondOrders = Array(try take(bonds))
        bondFlags = try take(bonds).map { BondFlags(rawValue: $0) }
        neighbourOffsets = try indices(atoms + 1)
        neighbourAtoms = try indices(neighbours)
        neighbourBonds = try indices(neighbours)
        let centres = try u32()
        guard centres <= atoms else { throw .inconsistent }
        for _ in 0..<centres {
            let atom = try indices(1)[0], flag = try take(1)
            tetrahedralCentres.append(TetrahedralCentre(atom: atom, clockwise: flag.first == 1))
        }
        let stereoBonds = try u32()
        guard stereoBonds <= bonds else { throw .inconsistent }
        for _ in 0..<stereoBonds {
            let refs = try indices(3), flag = try take(1)
            doubleBonds.append(StereoDoubleBond(bond: refs[0], beginReference: refs[1], endReference: refs[2], cis: flag.first == 1))
        }
        guard at == bytes.count else { throw .inconsistent }
        // Indices must point inside the graph, or later code would read out of bounds.
        guard neighbourOffsets.first == 0, neighbourOffsets.last == Int32(neighbours),
              zip(neighbourOffsets, neighbourOffsets.dropFirst()).allSatisfy({ $0 <= $1 }),
              bondBegins.allSatisfy({ $0 >= 0 && Int($0) < atoms }), bondEnds.allSatisfy({ $0 >= 0 && Int($0) < atoms }),
              neighbourAtoms.allSatisfy({ $0 >= 0 && Int($0) < atoms }), neighbourBonds.allSatisfy({ $0 >= 0 && Int($0) < bonds }),
              tetrahedralCentres.allSatisfy({ $0.atom >= 0 && Int($0.atom) < atoms }),
              doubleBonds.allSatisfy({ [$0.bond].allSatisfy { $0 >= 0 && Int($0) < bonds }
                  && [$0.beginReference, $0.endReference].allSatisfy { $0 >= 0 && Int($0) < atoms } })
        else { throw .inconsistent }
    }
}
