import Foundation
import Testing
import WinnowTestSupport

/// Labels over Float32's range used to train to a `-nan` loss, exit 0, and a model whose every
/// prediction printed `-nan`.
@Suite struct NonFiniteCLITests {
    @Test func anOutOfRangeLabelIsRejectedWithItsRowAndValue() throws {
        let folder = try TestPaths.scratch("nonfinite-labels")
        let bace = try String(contentsOfFile: TestPaths.repository.appendingPathComponent("targets/bace1/bace.csv").path, encoding: .utf8)
        var text = "smiles,y\n"
        for (i, line) in bace.split(whereSeparator: \.isNewline).dropFirst().prefix(80).enumerated() {
            let smiles = line.split(separator: ",")[0]
            text += "\(smiles),\(i == 6 ? "1e39" : String(Double(i % 9) / 2 - 2))\n"
        }
        let data = folder.appendingPathComponent("logp.csv").path
        try text.write(toFile: data, atomically: true, encoding: .utf8)
        let model = folder.appendingPathComponent("m.winnow").path
        let train = try runWinnow(["train", "--data", data, "--label-column", "y", "--model", "mlp", "--hidden", "16", "--head-hidden", "8",
                                   "--epochs", "2", "--split", "random", "-o", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("row 7") && train.stderr.contains("'1e39'") && train.stderr.contains("outside ±1e12"), "\(train.stderr)")
        #expect(!train.stderr.contains("nan"), "\(train.stderr)")
        let predict = try runWinnow(["predict", "--model", model, TestPaths.fixture("valid.smi"), "--quiet"])
        #expect(predict.status == 0, "\(predict.stderr)")
        let lines = predict.stdout.split(separator: "\n")
        // Counted from the end (ids may hold commas): score, uncertainty, then what the standardiser
        // changed (the model was trained standardised, so predict standardises).
        #expect(lines.first == "id,smiles,score,uncertainty,standardized")
        let scores = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(scores.count > 200)
        #expect(scores.allSatisfy { Double($0[$0.count - 3]).map(\.isFinite) ?? false })
    }
}
