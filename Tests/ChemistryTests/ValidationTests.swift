import Chemistry
import Foundation
import Testing
import WinnowTestSupport

@Suite struct ValidationTests {
    /// All 63 invalid inputs are rejected, each for the kind of reason the fixture names.
    @Test func everyInvalidFixtureIsRejectedWithItsReasonKind() throws {
        let lines = try TestPaths.lines(TestPaths.fixture("invalid.smi"))
        #expect(lines.count == 63)
        let parser = try MoleculeParser()
        let kinds: [String: MoleculeError.Kind] = [
            "empty": .empty, "syntax": .syntax, "valence": .valence, "element": .element,
            "aromatic": .aromaticity, "bytes": .bytes,
        ]
        for line in lines {
            let fields = line.split(separator: 9, omittingEmptySubsequences: false).map(Array.init)
            var smiles = fields[0]
            while smiles.first == 32 { smiles.removeFirst() }
            while smiles.last == 32 { smiles.removeLast() }
            let id = String(decoding: fields[1], as: UTF8.self)
            let expected = kinds[String(decoding: fields[2], as: UTF8.self)]
            do {
                _ = try smiles.withUnsafeBufferPointer { (buffer) throws(MoleculeError) in try parser.parse(smiles: buffer) }
                Issue.record("\(id) was accepted")
            } catch {
                #expect(error.kind == expected, "\(id): \(error.message)")
                #expect(!error.message.isEmpty)
            }
        }
    }

    /// All 243 tricky valid SMILES are accepted, with RDKit's atom, hydrogen, charge and aromatic counts.
    @Test func everyValidFixtureIsAcceptedLikeRDKit() throws {
        let rows = try TestPaths.tsv(TestPaths.fixture("valid_reference_rdkit.tsv")).dropFirst()
        #expect(rows.count == 243)
        let parser = try MoleculeParser()
        var mismatches: [String] = []
        for row in rows {
            let graph = try parser.parse(smiles: row[1])
            let heavy = graph.atomicNumbers.filter { $0 > 1 }.count
            let hydrogens = (0..<graph.atomCount).reduce(0) { $0 + Int(graph.hydrogenCounts[$1]) } + graph.atomicNumbers.filter { $0 == 1 }.count
            let charge = graph.formalCharges.reduce(0) { $0 + Int($1) }
            let aromatic = graph.atomFlags.filter { $0.contains(.aromatic) }.count
            let rings = graph.smallestRings().count
            if heavy != Int(row[3]) || hydrogens != Int(row[4]) || charge != Int(row[6]) || aromatic != Int(row[9]) {
                mismatches.append("\(row[0]) \(row[1]): heavy \(heavy)/\(row[3]) H \(hydrogens)/\(row[4]) charge \(charge)/\(row[6]) aromatic \(aromatic)/\(row[9]) rings \(rings)/\(row[8])")
            }
        }
        #expect(mismatches == [])
    }

    @Test func openBabelRepairsAreRejected() throws {
        let parser = try MoleculeParser()
        for smiles in ["C(C", "C==C", "C..C", "C(C)(C)(C)(C)C", "c1cccc1", "[NH4]", "cc", "C C"] {
            #expect(throws: MoleculeError.self, "\(smiles)") { try parser.parse(smiles: smiles) }
        }
    }

    @Test func pyridineNOxideKeepsChargeSeparation() throws {
        let graph = try MoleculeParser().parse(smiles: "O=n1ccccc1")
        #expect(graph.formalCharges[0] == -1 && graph.formalCharges[1] == 1)
        #expect(graph.atomFlags[1].contains(.aromatic))
    }

    @Test func nitroGroupIsChargeSeparatedLikeRDKit() throws {
        let graph = try MoleculeParser().parse(smiles: "CN(=O)=O")
        #expect(graph.formalCharges.sorted() == [-1, 0, 0, 1])
    }

    @Test func squaricAcidDiamideRingIsAromaticAsInRDKit() throws {
        let graph = try MoleculeParser().parse(smiles: "O=c1c(N)c(N)c1=O")
        #expect(graph.atomFlags.filter { $0.contains(.aromatic) }.count == 4)
    }

    @Test func ammineOnPlatinumBecomesDativeBond() throws {
        let graph = try MoleculeParser().parse(smiles: "Cl[Pt](Cl)([NH3])[NH3]")
        #expect(graph.bondFlags.filter { $0.contains(.dative) }.count == 2)
    }

    @Test func hydrogenAtomsFoldIntoHeavyAtomsExceptIsotopes() throws {
        let parser = try MoleculeParser()
        let methane = try parser.parse(smiles: "[H]C([H])([H])[H]")
        #expect(methane.atomCount == 1 && methane.hydrogenCounts == [4])
        let deuterated = try parser.parse(smiles: "[2H]C")
        #expect(deuterated.atomCount == 2 && deuterated.totalHydrogens(1) == 4)
    }

    @Test func longChainsDoNotOverflowTheStack() throws {
        let graph = try MoleculeParser().parse(smiles: String(repeating: "C", count: 5000))
        #expect(graph.atomCount == 5000 && !graph.atomFlags.contains { $0.contains(.inRing) })
    }
}
