import Chemistry
import Fingerprints
import Testing
import WinnowTestSupport

@Suite struct SMILESWriterTests {
    /// Writing a molecule and reading it back gives the same molecule (same Morgan counts), for the
    /// 1,243 reference molecules: tricky valid SMILES and library molecules.
    @Test func writtenSMILESReadBackToTheSameMolecule() throws {
        let rows = try TestPaths.tsv(TestPaths.fixture("morgan_r2_2048_rdkit.tsv"))
        let parser = try MoleculeParser()
        let generator = MorganGenerator()
        var failures: [String] = []
        for row in rows {
            let graph = try parser.parse(smiles: row[0])
            let written = graph.smiles()
            do {
                let again = try parser.parse(smiles: written)
                let a = generator.counts(graph).map { "\($0.bit):\($0.count)" }
                let b = generator.counts(again).map { "\($0.bit):\($0.count)" }
                if a != b || graph.formalCharges.reduce(0, +) != again.formalCharges.reduce(0, +) { failures.append("\(row[0]) → \(written)") }
            } catch {
                failures.append("\(row[0]) → \(written): \(error.message)")
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
    }

    @Test func scaffoldsDropSideChainsAndKeepLinkers() throws {
        let parser = try MoleculeParser()
        #expect(try parser.parse(smiles: "CC(=O)Nc1ccc(O)cc1").scaffoldSMILES() == "c1ccccc1")
        #expect(try parser.parse(smiles: "CCO").scaffoldSMILES() == "")
        let scaffold = try parser.parse(smiles: "Cn1ccnc1CCc1ccccc1").scaffoldSMILES()
        // The N that lost its methyl carries the hydrogen now; the ethylene linker stays.
        #expect(scaffold == "[nH]1ccnc1CCc1ccccc1")
        #expect(try parser.parse(smiles: scaffold).scaffoldKey() == parser.parse(smiles: "c1ccccc1CCc1ncc[nH]1").scaffoldKey())
    }
}
