import Chemistry
import Foundation
import Learning
import Testing
import WinnowTestSupport

/// A tiny committed D-MPNN must keep giving the same scores: any change to parsing, perception,
/// featurisation, the network or the file format that would silently change predictions fails here.
/// Regenerate (and say why in the commit) with:
///   winnow train --data targets/bace1/bace.csv --label-column Class --split-column split --model dmpnn \
///     --hidden 16 --head-hidden 8 --epochs 3 --members 2 --seed 11 -o Tests/LearningTests/Fixtures/frozen_dmpnn.winnow
///   winnow predict --model … <first 20 lines of shared/data/fixtures/library_sample_1000.smi> -o …/frozen_dmpnn_scores.csv
@Suite struct FrozenModelTests {
    @Test func committedModelKeepsItsScores() throws {
        let folder = TestPaths.repository.appendingPathComponent("Tests/LearningTests/Fixtures")
        let model = try TrainedModel.read(from: folder.appendingPathComponent("frozen_dmpnn.winnow"))
        let rows = try String(contentsOf: folder.appendingPathComponent("frozen_dmpnn_scores.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(rows.count == 20)
        let parser = try MoleculeParser()
        let prediction = model.predict(try rows.map { try parser.parse(smiles: $0[1]) })
        for (i, row) in rows.enumerated() {
            #expect(String(format: "%.6f", Double(prediction.scores[i][0])) == row[2], "\(row[0])")
            #expect(String(format: "%.6f", Double(prediction.uncertainties[i][0])) == row[3], "\(row[0])")
        }
    }
}
