import Chemistry
import Fingerprints
import Foundation
import Testing
import WinnowTestSupport

/// FCFP-like fingerprints: the same environment code as ECFP, seeded by RDKit's feature invariants.
@Suite struct FeatureMorganTests {
    private static let fixture = TestPaths.repository
        .appendingPathComponent("Tests/FingerprintsTests/Fixtures/fcfp_r2_2048_counts_rdkit.tsv").path

    /// Feature classes of single atoms, read off RDKit's definitions (mask bits: 1 donor, 2 acceptor,
    /// 4 aromatic, 8 halogen, 16 basic, 32 acidic).
    @Test func featureInvariantsOfKnownAtoms() throws {
        let parser = try MoleculeParser()
        func masks(_ smiles: String) throws -> [UInt32] {
            let graph = try parser.parse(smiles: smiles)
            var out = [UInt32](repeating: 0, count: graph.atomCount)
            out.withUnsafeMutableBufferPointer { FeatureInvariants().invariants(of: graph, into: $0.baseAddress!) }
            return out
        }
        // Acetic acid: C, carbonyl C (acidic), =O (acceptor), OH (donor + acceptor excluded by -C=O).
        #expect(try masks("CC(=O)O") == [0, 32, 2, 1])
        // Ethylamine: the NH2 is a donor, an acceptor and basic.
        #expect(try masks("CCN") == [0, 0, 1 | 2 | 16])
        // Pyridine N: aromatic acceptor; its carbons aromatic only.
        #expect(try masks("c1ccncc1") == [4, 4, 4, 2 | 4, 4, 4])
        // Pyrrole NH: aromatic donor.
        #expect(try masks("c1cc[nH]c1")[3] == 1 | 4)
        // Chlorobenzene's Cl: halogen.
        #expect(try masks("Clc1ccccc1")[0] == 8)
        // Tetramethylammonium N: basic (any positive nitrogen), not a donor.
        #expect(try masks("C[N+](C)(C)C")[1] == 16)
        // Acetamide N: donor, but neither acceptor nor basic (next to a carbonyl).
        #expect(try masks("CC(=O)N")[3] == 1)
    }

    /// Every molecule of the reference file: counts equal to RDKit's, bit for bit.
    @Test func countsMatchRDKitFeatureMorgan() throws {
        let rows = try TestPaths.tsv(Self.fixture)
        #expect(rows.count == 2241)
        let parser = try MoleculeParser()
        let generator = MorganGenerator(settings: MorganSettings(radius: 2, size: 2048, invariants: .feature))
        var differences: [String] = []
        for row in rows {
            let graph = try parser.parse(smiles: row[0])
            let mine = generator.counts(graph).map { "\($0.bit):\($0.count)" }.joined(separator: ",")
            if mine != row[1] { differences.append(row[0]) }
        }
        // No silent tolerance: the differing molecules are exactly the listed ones, each with its reason.
        let listed = try TestPaths.tsv(TestPaths.repository
            .appendingPathComponent("Tests/FingerprintsTests/Fixtures/fcfp_known_differences.tsv").path)
            .filter { !($0.first?.hasPrefix("#") ?? true) }
        #expect(listed.allSatisfy { $0.count == 2 && $0[1].count > 40 }, "every listed difference needs its reason")
        #expect(differences == listed.map { $0[0] }, "\(differences.count) differences, first: \(differences.prefix(5))")
        #expect(Double(rows.count - differences.count) / Double(rows.count) >= 0.999)
    }

    /// The feature generator changes only layer 0: with radius 0 the identifiers are the masks.
    @Test func radiusZeroIdentifiersAreTheMasks() throws {
        let graph = try MoleculeParser().parse(smiles: "OC(=O)c1ccccc1Cl")
        let generator = MorganGenerator(settings: MorganSettings(radius: 0, size: 2048, invariants: .feature))
        generator.environments(graph)
        var masks = [UInt32](repeating: 0, count: graph.atomCount)
        masks.withUnsafeMutableBufferPointer { FeatureInvariants().invariants(of: graph, into: $0.baseAddress!) }
        #expect(generator.identifiers == masks)
    }

    /// A custom invariant generator plugs into the same environment code.
    @Test func customInvariantGeneratorIsUsed() throws {
        struct ElementOnly: AtomInvariantGenerator {
            func invariants(of graph: MolecularGraph, into out: UnsafeMutablePointer<UInt32>) {
                for atom in 0..<graph.atomCount { out[atom] = UInt32(graph.atomicNumbers[atom]) }
            }
        }
        let graph = try MoleculeParser().parse(smiles: "CCO")
        let generator = MorganGenerator(settings: MorganSettings(radius: 1), atomInvariants: ElementOnly())
        generator.environments(graph)
        #expect(Array(generator.identifiers.prefix(3)) == [6, 6, 8])
        #expect(generator.identifiers.count > 3)
    }

    /// Type lines name the invariants and read back; connectivity lines are unchanged.
    @Test func typeStringsRoundTrip() {
        let ecfp = MorganSettings()
        #expect(ecfp.typeString == "Winnow-Morgan/1 radius=2 fpSize=2048 invariants=rdkit-connectivity useBondTypes=1 useChirality=0")
        let fcfp = MorganSettings(radius: 3, size: 1024, invariants: .feature)
        #expect(fcfp.typeString.contains("invariants=rdkit-feature"))
        #expect(MorganSettings(typeString: fcfp.typeString) == fcfp)
        #expect(MorganSettings(typeString: ecfp.typeString) == ecfp)
        #expect(MorganSettings(typeString: "RDKit-Morgan/1 radius=2 fpSize=2048") == nil)
        #expect(MorganSettings(typeString: ecfp.typeString.replacingOccurrences(of: "connectivity", with: "bogus")) == nil)
    }

    /// Settings written before `invariants` existed read as connectivity, and connectivity settings
    /// are written exactly as before (model files stay byte-identical).
    @Test func settingsCodingKeepsOldFiles() throws {
        let old = Data(#"{"radius":2,"size":2048}"#.utf8)
        #expect(try JSONDecoder().decode(MorganSettings.self, from: old) == MorganSettings())
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(MorganSettings()), as: UTF8.self) == #"{"radius":2,"size":2048}"#)
        let fcfp = MorganSettings(invariants: .feature)
        #expect(try JSONDecoder().decode(MorganSettings.self, from: encoder.encode(fcfp)) == fcfp)
    }
}
