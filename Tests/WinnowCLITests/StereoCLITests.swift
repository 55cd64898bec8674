import Chemistry
import Foundation
import Testing
import WinnowTestSupport

/// `winnow predict` on an SDF keeps stereochemistry: the SMILES it writes carry the centres and
/// double-bond geometry RDKit reads from the same file, and the committed D-MPNN (which uses
/// chirality) scores the SDF exactly as it scores RDKit's isomeric SMILES of the same records.
@Suite struct StereoCLITests {
    @Test func predictOnSDFWritesStereoSMILESAndScoresLikeTheSMILES() throws {
        let folder = try TestPaths.scratch("stereo-predict")
        let model = TestPaths.repository.appendingPathComponent("Tests/LearningTests/Fixtures/frozen_dmpnn.winnow").path
        let table = try TestPaths.tsv(TestPaths.fixture("mols_100_stereo_rdkit.tsv")).dropFirst()
        let fromSDF = folder.appendingPathComponent("sdf.csv").path
        let sdf = try runWinnow(["predict", "--model", model, TestPaths.fixture("mols_100.sdf"), "-o", fromSDF, "--quiet"])
        #expect(sdf.status == 0, "\(sdf.stderr)")

        let library = folder.appendingPathComponent("rdkit.smi").path
        try table.map { "\($0[2])\t\($0[1])" }.joined(separator: "\n").appending("\n").write(toFile: library, atomically: true, encoding: .utf8)
        let fromSMILES = folder.appendingPathComponent("smiles.csv").path
        let smi = try runWinnow(["predict", "--model", model, library, "-o", fromSMILES, "--quiet"])
        #expect(smi.status == 0, "\(smi.stderr)")

        func rows(_ path: String) throws -> [[String]] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        }
        let sdfRows = try rows(fromSDF), smilesRows = try rows(fromSMILES)
        #expect(sdfRows.count == 100 && smilesRows.count == 100)
        let parser = try MoleculeParser()
        var stereo = 0
        for (reference, (a, b)) in zip(table, zip(sdfRows, smilesRows)) {
            #expect(a[0] == reference[1] && b[0] == reference[1])
            #expect(try parser.canonicalSMILES(a[1]) == parser.canonicalSMILES(reference[2]), "\(reference[1]): wrote \(a[1])")
            if a[1].contains("@") || a[1].contains("/") || a[1].contains("\\") { stereo += 1 }
            // Atom order differs between the two inputs, so sums run in another order: equal to
            // float rounding, far below the chirality slots' effect on these scores.
            let x = try #require(Double(a[2])), y = try #require(Double(b[2]))
            #expect(abs(x - y) <= 2e-6, "\(reference[1]): \(a[2]) from SDF, \(b[2]) from SMILES")
        }
        #expect(stereo == 34)
    }
}
