import Chemistry

/// Chemprop-style atom and bond features as sparse one-hot indices.
///
/// Atom (134): element (1–100, other) 101 · total degree 0–5, other 7 · formal charge −1, −2, +1,
/// +2, 0, other 6 · chirality none, clockwise, anticlockwise, other 4 + other 1 · H count 0–4, other 6 ·
/// hybridisation s, sp, sp2, sp3, sp3d, sp3d2, other 7 · aromatic 1 · mass / 100 1.
/// Bond (13): single, double, triple, aromatic · conjugated · in ring · stereo (none only; 7 slots).
///
/// Chirality uses RDKit's CW/CCW tag meaning (seen from the first neighbour, the others turn
/// clockwise or anticlockwise), but with the neighbours taken in an order that depends only on the
/// molecule (`MolecularGraph.invariantChirality()`: invariant ranks, implicit H first), not on the
/// order the input file listed atoms in. RDKit's tag follows the input's bond order, so the same
/// molecule read from an SDF and from a SMILES string could get opposite tags; here it cannot.
/// A centre whose neighbours are not all distinguishable by rank gets "other".
public enum GraphFeatures {
    /// Bump when the features change: models record it and refuse other versions.
    /// 2: chirality from the order-independent stereo representation (SDF input carries it too).
    public static let version = 2
    /// Versions whose models this Winnow still reads. Version 1 differed only in the chirality slot
    /// of stereocentres (token order of the SMILES as written, none for SDF input), an artefact of
    /// how a molecule was written rather than a property of it, so its models are scored with the
    /// order-independent chirality.
    public static let readableVersions: Set<Int> = [1, 2]
    public static let atomWidth = 101 + 7 + 6 + 5 + 6 + 7 + 1 + 1
    public static let bondWidth = 4 + 1 + 1 + 7

    enum Hybridisation: Int { case s = 0, sp, sp2, sp3, sp3d, sp3d2, other }

    static func hybridisation(_ g: MolecularGraph, _ atom: Int) -> Hybridisation {
        let z = Int(g.atomicNumbers[atom])
        if z == 1 { return .s }
        if g.atomFlags[atom].contains(.aromatic) { return .sp2 }
        var doubles = 0, triples = 0
        var conjugatedNeighbour = false
        for k in Int(g.neighbourOffsets[atom])..<Int(g.neighbourOffsets[atom + 1]) {
            let b = Int(g.neighbourBonds[k])
            switch g.bondOrders[b] {
            case 2: doubles += 1
            case 3: triples += 1
            default: break
            }
            let other = Int(g.neighbourAtoms[k])
            if g.atomFlags[other].contains(.aromatic) || hasMultipleBond(g, other) { conjugatedNeighbour = true }
        }
        if triples > 0 || doubles > 1 { return .sp }
        if doubles == 1 { return .sp2 }
        let steric = g.degree(atom) + Int(g.hydrogenCounts[atom])
        // A lone-pair donor next to a π system (amide N, aniline N, enol O) is planar: sp2, as RDKit.
        if (z == 7 || z == 8 || z == 16) && conjugatedNeighbour && steric <= 3 { return .sp2 }
        switch steric {
        case 0...4 where z <= 10 || z == 14 || z == 15 || z == 16 || z == 17 || z == 35 || z == 53: return .sp3
        case 5: return .sp3d
        case 6: return .sp3d2
        default: return .other
        }
    }

    static func hasMultipleBond(_ g: MolecularGraph, _ atom: Int) -> Bool {
        for k in Int(g.neighbourOffsets[atom])..<Int(g.neighbourOffsets[atom + 1])
        where g.bondOrders[Int(g.neighbourBonds[k])] >= 2 || g.bondFlags[Int(g.neighbourBonds[k])].contains(.aromatic) {
            return true
        }
        return false
    }

    /// `chirality`: the atom's entry of `g.invariantChirality()` (0 none, 1 clockwise, 2 anticlockwise,
    /// 3 other); computed once per molecule by the caller.
    public static func atomFeatures(_ g: MolecularGraph, _ atom: Int, chirality: UInt8 = 0, into out: inout [(Int, Float)]) {
        out.removeAll(keepingCapacity: true)
        let z = Int(g.atomicNumbers[atom])
        out.append((z >= 1 && z <= 100 ? z - 1 : 100, 1))
        var offset = 101
        let degree = g.degree(atom) + Int(g.hydrogenCounts[atom])
        out.append((offset + min(degree, 6), 1)); offset += 7
        let charges: [Int8: Int] = [-1: 0, -2: 1, 1: 2, 2: 3, 0: 4]
        out.append((offset + (charges[g.formalCharges[atom]] ?? 5), 1)); offset += 6
        let flags = g.atomFlags[atom]
        out.append((offset + Int(min(chirality, 3)), 1)); offset += 5
        out.append((offset + min(g.totalHydrogens(atom), 5), 1)); offset += 6
        out.append((offset + hybridisation(g, atom).rawValue, 1)); offset += 7
        if flags.contains(.aromatic) { out.append((offset, 1)) }
        offset += 1
        let mass = g.isotopes[atom] != 0 ? Double(g.isotopes[atom]) : Elements.averageWeight(z)
        out.append((offset, Float(mass * 0.01)))
    }

    public static func bondFeatures(_ g: MolecularGraph, _ bond: Int, into out: inout [(Int, Float)]) {
        out.removeAll(keepingCapacity: true)
        let flags = g.bondFlags[bond]
        if flags.contains(.aromatic) { out.append((3, 1)) } else {
            out.append((max(0, min(Int(g.bondOrders[bond]), 3) - 1), 1))
        }
        let a = Int(g.bondBegins[bond]), c = Int(g.bondEnds[bond])
        let conjugated = flags.contains(.aromatic)
            || (g.bondOrders[bond] >= 2 && (hasOtherMultiple(g, a, bond) || hasOtherMultiple(g, c, bond)))
            || (g.bondOrders[bond] == 1 && hasMultipleBond(g, a) && hasMultipleBond(g, c))
        if conjugated { out.append((4, 1)) }
        if flags.contains(.inRing) { out.append((5, 1)) }
        out.append((6, 1))  // stereo: none
    }

    static func hasOtherMultiple(_ g: MolecularGraph, _ atom: Int, _ except: Int) -> Bool {
        for k in Int(g.neighbourOffsets[atom])..<Int(g.neighbourOffsets[atom + 1]) {
            let b = Int(g.neighbourBonds[k])
            if b != except && (g.bondOrders[b] >= 2 || g.bondFlags[b].contains(.aromatic)) { return true }
        }
        return false
    }
}

/// Many molecules as one disconnected graph with directed bonds, the D-MPNN's input.
/// Edge e runs source[e] → target[e]; reverse[e] is the opposite direction of the same bond.
public struct GraphBatch: Sendable {
    public var atomInputs = SparseRows(width: GraphFeatures.atomWidth)
    /// Per directed edge: features of its source atom followed by the bond's.
    public var edgeInputs = SparseRows(width: GraphFeatures.atomWidth + GraphFeatures.bondWidth)
    public var source: [Int32] = []
    public var target: [Int32] = []
    public var reverse: [Int32] = []
    public var atomMolecule: [Int32] = []
    public var atomsPerMolecule: [Int32] = []

    public var moleculeCount: Int { atomsPerMolecule.count }
    public var atomCount: Int { atomMolecule.count }
    public var edgeCount: Int { source.count }

    public init(_ graphs: [MolecularGraph]) {
        var atom: [(Int, Float)] = [], bond: [(Int, Float)] = []
        var atomCache: [[(Int, Float)]] = []
        for (m, g) in graphs.enumerated() {
            let base = Int32(atomMolecule.count)
            atomCache.removeAll(keepingCapacity: true)
            let chirality = g.tetrahedralCentres.isEmpty ? [] : g.invariantChirality()
            for i in 0..<g.atomCount {
                GraphFeatures.atomFeatures(g, i, chirality: chirality.isEmpty ? 0 : chirality[i], into: &atom)
                atomCache.append(atom)
                atomInputs.append(atom)
                atomMolecule.append(Int32(m))
            }
            atomsPerMolecule.append(Int32(g.atomCount))
            for b in 0..<g.bondCount {
                GraphFeatures.bondFeatures(g, b, into: &bond)
                let u = Int(g.bondBegins[b]), v = Int(g.bondEnds[b])
                let e = Int32(source.count)
                for (from, to) in [(u, v), (v, u)] {
                    edgeInputs.append(atomCache[from] + bond.map { ($0.0 + GraphFeatures.atomWidth, $0.1) })
                    source.append(base + Int32(from))
                    target.append(base + Int32(to))
                }
                reverse.append(e + 1)
                reverse.append(e)
            }
        }
    }

    /// Concatenates batches (molecule order kept), copying the arrays in bulk.
    public init(joining parts: [GraphBatch]) {
        var atoms = 0, edges = 0, atomEntries = 0, edgeEntries = 0
        for part in parts {
            atoms += part.atomCount; edges += part.edgeCount
            atomEntries += part.atomInputs.indices.count; edgeEntries += part.edgeInputs.indices.count
        }
        atomInputs.offsets.reserveCapacity(atoms + 1); atomInputs.indices.reserveCapacity(atomEntries)
        atomInputs.values.reserveCapacity(atomEntries)
        edgeInputs.offsets.reserveCapacity(edges + 1); edgeInputs.indices.reserveCapacity(edgeEntries)
        edgeInputs.values.reserveCapacity(edgeEntries)
        source.reserveCapacity(edges); target.reserveCapacity(edges); reverse.reserveCapacity(edges)
        atomMolecule.reserveCapacity(atoms); atomsPerMolecule.reserveCapacity(parts.count)
        for part in parts {
            let atomBase = Int32(atomMolecule.count), edgeBase = Int32(source.count), moleculeBase = Int32(moleculeCount)
            Self.appendRows(part.atomInputs, to: &atomInputs)
            Self.appendRows(part.edgeInputs, to: &edgeInputs)
            for x in part.source { source.append(x + atomBase) }
            for x in part.target { target.append(x + atomBase) }
            for x in part.reverse { reverse.append(x + edgeBase) }
            for x in part.atomMolecule { atomMolecule.append(x + moleculeBase) }
            atomsPerMolecule.append(contentsOf: part.atomsPerMolecule)
        }
    }

    private static func appendRows(_ rows: SparseRows, to out: inout SparseRows) {
        let base = Int32(out.indices.count)
        for k in 1..<rows.offsets.count { out.offsets.append(rows.offsets[k] + base) }
        out.indices.append(contentsOf: rows.indices)
        out.values.append(contentsOf: rows.values)
    }
}
